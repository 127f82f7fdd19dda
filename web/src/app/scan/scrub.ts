// Cleans an imported JPEG or PNG in a Worker (scrub-worker.ts), or in place where there is
// no Worker. The result is the picture without identifying metadata, or the reason it
// cannot be used (the server scrubber's reason code for the same bytes).
import { ScrubError, scrubImage } from "../../lib/scrub";

export type ScrubResult =
  | { ok: true; data: Uint8Array; mediaType: "image/jpeg" | "image/png" }
  | { ok: false; reason: string; message: string };

export async function scrubInWorker(input: Uint8Array): Promise<ScrubResult> {
  if (typeof Worker === "undefined") {
    try {
      const out = scrubImage(input);
      return { ok: true, data: out.data, mediaType: out.mediaType };
    } catch (error) {
      if (error instanceof ScrubError) return { ok: false, reason: error.reason, message: error.message };
      throw error;
    }
  }
  const worker = new Worker(new URL("./scrub-worker.ts", import.meta.url), { type: "module" });
  try {
    return await new Promise<ScrubResult>((resolve) => {
      worker.onmessage = (e: MessageEvent<ScrubResult>) => resolve(e.data);
      worker.onerror = () => resolve({ ok: false, reason: "decoder-crashed", message: "the cleaner stopped" });
      worker.postMessage({ data: input }, [input.buffer]);
    });
  } finally {
    worker.terminate();
  }
}
