// The Web Worker that cleans an imported picture (lib/scrub: the same rules and output as the
// server's imaging/ scrubber), off the main thread so the screen stays responsive on a large
// file. One file per worker; the caller terminates it afterwards.
import { ScrubError, scrubImage } from "../../lib/scrub";

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = (e: MessageEvent<{ data: Uint8Array }>) => {
  try {
    const out = scrubImage(e.data.data);
    const data = out.data.slice(); // its own buffer, handed over without a copy
    scope.postMessage({ ok: true, data, mediaType: out.mediaType }, [data.buffer]);
  } catch (error) {
    const reason = error instanceof ScrubError ? error.reason : "decoder-crashed";
    const message = error instanceof Error ? error.message : String(error);
    scope.postMessage({ ok: false, reason, message });
  }
};
