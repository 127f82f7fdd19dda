// The Web Worker behind the shutter (picture.ts): it turns what the camera gave into the JPEG
// that is sealed, off the page's thread, so the screen stays responsive and the next photo
// can be framed while this one is made. Two jobs:
//  - "still": the camera's own JPEG (ImageCapture.takePhoto, Chrome on Android) cleaned
//    byte for byte by lib/scrub, the rules of imaging/ (DEI-1): no decoding, no re-encoding,
//    the pixels as the camera wrote them, the EXIF orientation kept as its one tag;
//  - "encode": a frame or a still in another format drawn on an OffscreenCanvas and encoded
//    as JPEG, which writes no EXIF.
// Pixels pass through here only: nothing is stored, and each reply hands its buffer over.
import { scrubImage } from "../../lib/scrub";

export type PictureJob =
  | { id: number; op: "still"; blob: Blob }
  | { id: number; op: "encode"; source: Blob | VideoFrame | ImageBitmap; width?: number; height?: number; quality: number };

export type PictureReply = { id: number; ok: true; data: Uint8Array } | { id: number; ok: false; error: string };

const scope = self as unknown as DedicatedWorkerGlobalScope;

/** The camera's JPEG without its metadata; throws (ScrubError) for anything else. */
function scrubStill(bytes: Uint8Array): Uint8Array {
  const out = scrubImage(bytes);
  if (out.mediaType !== "image/jpeg") throw new TypeError("the camera's still is not a JPEG");
  return out.data;
}

async function encode(job: Extract<PictureJob, { op: "encode" }>): Promise<Uint8Array> {
  const source = job.source instanceof Blob ? await createImageBitmap(job.source) : job.source;
  try {
    // A frame is drawn at the size the page showed it; a still at its own.
    const width = job.width ?? ("displayWidth" in source ? source.displayWidth : source.width);
    const height = job.height ?? ("displayHeight" in source ? source.displayHeight : source.height);
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("no canvas");
    ctx.drawImage(source, 0, 0, width, height);
    const blob = await canvas.convertToBlob({ type: "image/jpeg", quality: job.quality });
    canvas.width = 0;
    canvas.height = 0;
    return new Uint8Array(await blob.arrayBuffer());
  } finally {
    source.close();
  }
}

async function run(job: PictureJob): Promise<Uint8Array> {
  if (job.op === "still") return scrubStill(new Uint8Array(await job.blob.arrayBuffer()));
  return encode(job);
}

scope.onmessage = async (e: MessageEvent<PictureJob>) => {
  const job = e.data;
  try {
    const data = await run(job);
    const reply: PictureReply = { id: job.id, ok: true, data };
    scope.postMessage(reply, [data.buffer]);
  } catch (err) {
    const reply: PictureReply = { id: job.id, ok: false, error: err instanceof Error ? err.message : String(err) };
    scope.postMessage(reply);
  }
};
