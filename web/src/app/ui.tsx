// Small accessible building blocks: labelled fields with hints and errors, the screen
// heading that takes focus on arrival, a busy-aware submit button, and the alert dialog.
import type { ComponentChildren } from "preact";
import { useId, useLayoutEffect, useRef } from "preact/hooks";
import { t } from "./i18n";

/** The screen's title; focused when the screen appears, so screen readers start there. */
export function ScreenTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useLayoutEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** A text-like input with its label, an optional hint and the app's large touch target. */
export function Field(props: {
  label: string;
  hint?: string;
  value: string;
  onValue: (v: string) => void;
  type?: "text" | "search" | "password" | "date";
  autocomplete?: string;
  autocapitalize?: string;
  spellcheck?: boolean;
  required?: boolean;
}) {
  const { label, hint, value, onValue } = props;
  const id = useId();
  const hintId = `${id}-hint`;
  const input: Record<string, unknown> = {
    id,
    type: props.type ?? "text",
    value,
    required: props.required ?? false,
    onInput: (e: Event) => onValue((e.currentTarget as HTMLInputElement).value),
  };
  if (hint) input["aria-describedby"] = hintId;
  if (props.autocomplete) input["autocomplete"] = props.autocomplete;
  if (props.autocapitalize) input["autocapitalize"] = props.autocapitalize;
  if (props.spellcheck !== undefined) input["spellcheck"] = props.spellcheck;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {hint ? (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      <input {...input} />
    </div>
  );
}

/** A form error, announced at once. */
export function FormError({ message }: { message: string | null }) {
  return message ? (
    <p class="error" role="alert">
      {t("errorPrefix", { message })}
    </p>
  ) : null;
}

/** The form's main button; shows it is working and cannot be pressed twice. */
export function Submit({ busy, label, busyLabel }: { busy: boolean; label: string; busyLabel?: string }) {
  return (
    <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
      {busy ? (busyLabel ?? t("busy")) : label}
    </button>
  );
}

/** A modal alert dialog: focus moves into it as it appears (to the button marked
 * `data-safe`, the choice that loses nothing), Tab cycles through its buttons, Escape does
 * what `onEscape` does, and focus goes back where it was when it closes (WCAG 2.4.3). */
export function AlertDialog({
  title,
  body,
  onEscape,
  testId,
  children,
}: {
  title: string;
  body: string;
  onEscape: () => void;
  testId?: string;
  children: ComponentChildren;
}) {
  const box = useRef<HTMLDivElement>(null);
  const id = useId();
  // A layout effect: the focus moves before the next paint.
  useLayoutEffect(() => {
    const before = document.activeElement;
    const buttons = box.current?.querySelectorAll<HTMLButtonElement>("button");
    (box.current?.querySelector<HTMLButtonElement>("button[data-safe]") ?? buttons?.[0])?.focus();
    return () => {
      if (before instanceof HTMLElement && before.isConnected) before.focus();
    };
  }, []);
  return (
    <div class="backdrop">
      <div
        ref={box}
        class="dialog"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby={`${id}-title`}
        aria-describedby={`${id}-body`}
        data-testid={testId}
        onKeyDown={(e) => {
          if (e.key === "Escape") onEscape();
          if (e.key === "Tab") {
            const buttons = [...(e.currentTarget as HTMLElement).querySelectorAll("button")];
            const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
            buttons[(i + (e.shiftKey ? buttons.length - 1 : 1)) % buttons.length]?.focus();
            e.preventDefault();
          }
        }}
      >
        <h2 id={`${id}-title`}>{title}</h2>
        <p id={`${id}-body`}>{body}</p>
        {children}
      </div>
    </div>
  );
}
