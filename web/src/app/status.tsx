// The status live region: what the app did ("Photo sent."), read out by screen readers
// without moving focus (WCAG 4.1.3). It stays in the page from the start so that every
// change is announced.
import { useEffect, useState } from "preact/hooks";

let setter: ((m: string) => void) | null = null;
let last = "";

/** Say something in the status region (and show it). */
export function announce(message: string): void {
  last = message;
  setter?.(message);
}

/** Clear the status region (on lock: it may have named what was done). */
export function clearStatus(): void {
  announce("");
}

export function StatusRegion() {
  const [message, setMessage] = useState(last);
  useEffect(() => {
    setter = setMessage;
    return () => {
      setter = null;
    };
  }, []);
  return (
    <div class="status" role="status" aria-live="polite" aria-atomic="true">
      {message}
    </div>
  );
}
