// The picture behind the shutter, made off the page's thread where the browser allows it.
//
// Where the browser gives the camera's own still (ImageCapture.takePhoto: Chrome on Android),
// and it is a JPEG, the camera's JPEG is kept and only cleaned, byte for byte, by lib/scrub
// (the rules of imaging/, DEI-1): no 12 MP decode and re-encode, the pixels as the camera
// wrote them, and the EXIF orientation kept as its one tag, as the server's scrubber keeps
// it. Where there is no ImageCapture (Safari), the photo is the preview's frame: its YUV
// planes are encoded as JPEG by lib/jpeg, with no canvas, in bands of rows shared among a few
// workers (one per core, up to four) and joined here. A frame lib/jpeg does not take (RGB,
// turned, another colour matrix) or a still in another format is drawn and encoded as JPEG
// on an OffscreenCanvas in a worker. Where the workers cannot (no Worker, no OffscreenCanvas
// or VideoFrame, or they failed), the page does the same on a canvas, as before. Every route
// yields a JPEG free of metadata. docs/decisions/016-frame-jpeg-encoder.md says why.
import { assemble, header } from "../../lib/jpeg/encode";
import { bands, planFrame, type FrameLike } from "../../lib/jpeg/frame";
import { scrubImage } from "../../lib/scrub";
import type { PictureJob, PictureReply } from "./picture-worker";

/** The JPEG quality of every encoded photo. */
export const JPEG_QUALITY = 0.92;

/** The same quality on libjpeg's scale (1-100), as lib/jpeg takes it. */
const JPEG_QUALITY_100 = Math.round(JPEG_QUALITY * 100);

/** How the picture was made (User Timing detail of `clinphoto:picture`, for the bench):
 * the camera's JPEG scrubbed, a still encoded in a worker, a frame's YUV encoded in the
 * workers, a frame drawn and encoded in a worker, or on the page. */
export type PictureRoute = "still-scrubbed" | "still-encoded" | "frame-yuv" | "frame-worker" | "page";

export interface Picture {
  data: Uint8Array;
  route: PictureRoute;
}

type Job = PictureJob extends infer J ? (J extends PictureJob ? Omit<J, "id"> : never) : never;

interface Waiting {
  resolve: (data: Uint8Array) => void;
  reject: (err: Error) => void;
}

/** One long-lived worker while the camera is open, so a shot pays no start-up; it is let go
 * only once it has no job left, so a photo being made is never cut short by a lock. */
class PictureWorker {
  private worker: Worker | null = null;
  private next = 1;
  private readonly pending = new Map<number, Waiting>();
  private retired = true;

  static supported(): boolean {
    return typeof Worker !== "undefined" && typeof OffscreenCanvas !== "undefined";
  }

  /** Start the worker ahead of the first shot (when the camera opens), and with `encoder`
   * run lib/jpeg's encoder once there so that it is compiled before the first frame. */
  warm(encoder = false): void {
    this.retired = false;
    if (!PictureWorker.supported()) return;
    this.get();
    if (encoder) this.run({ op: "warm" }).catch(() => undefined);
  }

  /** Let the worker go once its jobs are done (when the camera closes). */
  release(): void {
    this.retired = true;
    this.settle();
  }

  run(job: Job, transfer: Transferable[] = []): Promise<Uint8Array> {
    const worker = this.get();
    const id = this.next++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        worker.postMessage({ ...job, id }, transfer);
      } catch (err) {
        // Not sent (a frame this browser cannot hand to a worker): the page does it.
        this.pending.delete(id);
        this.settle();
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  private get(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL("./picture-worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (e: MessageEvent<PictureReply>) => {
      const reply = e.data;
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiting.resolve(reply.data);
      else waiting.reject(new Error(reply.error));
      this.settle();
    };
    worker.onerror = () => {
      // A worker that fails to load or crashes: its jobs fail over to the page.
      for (const waiting of this.pending.values()) waiting.reject(new Error("the picture worker stopped"));
      this.pending.clear();
      worker.terminate();
      if (this.worker === worker) this.worker = null;
    };
    this.worker = worker;
    return worker;
  }

  private settle(): void {
    if (this.retired && this.pending.size === 0 && this.worker) {
      this.worker.terminate();
      this.worker = null;
    }
  }
}

/** How many workers share a frame's bands: one per core, two at least, four at most. */
function lanes(): number {
  const cores = typeof navigator !== "undefined" ? navigator.hardwareConcurrency || 2 : 2;
  return Math.max(2, Math.min(4, cores));
}

/** The workers behind the shutter: the first does every job; the others only share the
 * bands of a frame. All start when the camera opens and go when it closes. */
class PicturePool {
  private readonly workers: PictureWorker[] = [];
  private open = false;

  /** Worker `i`, started if need be; kept while the camera is open. */
  private lane(i: number): PictureWorker {
    while (this.workers.length <= i) {
      const worker = new PictureWorker();
      if (this.open) worker.warm(); // a lane first used for a frame stays for the next one
      this.workers.push(worker);
    }
    return this.workers[i]!;
  }

  get size(): number {
    return lanes();
  }

  warm(): void {
    // Only the frame route needs the extra workers and the encoder compiled: a browser with
    // ImageCapture hands over the camera's JPEG.
    this.open = true;
    const frames = typeof (globalThis as { ImageCapture?: unknown }).ImageCapture === "undefined";
    for (let i = 0; i < (frames ? this.size : 1); i++) this.lane(i).warm(frames);
  }

  release(): void {
    this.open = false;
    for (const w of this.workers) w.release();
  }

  run(job: Job, transfer: Transferable[] = [], lane = 0): Promise<Uint8Array> {
    return this.lane(lane).run(job, transfer);
  }
}

export const pictureWorker = new PicturePool();

/** The camera's JPEG still without its metadata, cleaned in place (no worker): the same
 * scrubber. Throws when it is not a JPEG the scrubber accepts. */
export async function scrubStillHere(still: Blob): Promise<Uint8Array> {
  const out = scrubImage(new Uint8Array(await still.arrayBuffer()));
  if (out.mediaType !== "image/jpeg") throw new TypeError("the camera's still is not a JPEG");
  return out.data;
}

/** A frame or a still encoded as JPEG on the page's own canvas: the fallback of every route. */
export async function encodeHere(source: CanvasImageSource, width: number, height: number): Promise<Uint8Array> {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no canvas");
  ctx.drawImage(source, 0, 0, width, height);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
  canvas.width = 0;
  canvas.height = 0;
  if (!blob) throw new Error("the photo could not be encoded");
  return new Uint8Array(await blob.arrayBuffer());
}

/** The picture from the camera's still: its JPEG scrubbed, or another format encoded as
 * JPEG; null when neither worked (the caller takes the preview's frame instead). */
export async function fromStill(still: Blob): Promise<Picture | null> {
  const worker = PictureWorker.supported();
  if (still.type === "image/jpeg") {
    try {
      const data = worker ? await pictureWorker.run({ op: "still", blob: still }) : await scrubStillHere(still);
      return { data, route: "still-scrubbed" };
    } catch {
      /* not a JPEG the scrubber accepts: encoded afresh below */
    }
  }
  if (worker) {
    try {
      return { data: await pictureWorker.run({ op: "encode", source: still, quality: JPEG_QUALITY }), route: "still-encoded" };
    } catch {
      /* the page tries below */
    }
  }
  try {
    const bitmap = await createImageBitmap(still);
    try {
      return { data: await encodeHere(bitmap, bitmap.width, bitmap.height), route: "page" };
    } finally {
      bitmap.close();
    }
  } catch {
    return null;
  }
}

/** The frame's YUV encoded by lib/jpeg in bands, one per worker, joined; null when
 * lib/jpeg does not take this frame. Throws when a worker failed. */
async function fromYuv(frame: VideoFrame, width: number, height: number): Promise<Uint8Array | null> {
  const plan = planFrame(frame as unknown as FrameLike, width, height);
  if (!plan) return null;
  const parts = bands(height, pictureWorker.size);
  const clones: VideoFrame[] = parts.map(() => frame.clone());
  try {
    const encoded = await Promise.all(
      parts.map((band, i) => {
        const clone = clones[i]!;
        return pictureWorker.run({ op: "band", frame: clone, plan, band, quality: JPEG_QUALITY_100 }, [clone], i);
      }),
    );
    return assemble(
      header(width, height, JPEG_QUALITY_100),
      encoded,
      parts.map((b) => b.first),
    );
  } finally {
    for (const clone of clones) clone.close(); // those not handed over (closing twice is harmless)
  }
}

/** The preview's current frame as JPEG, at the size the page shows it. */
export async function fromFrame(video: HTMLVideoElement): Promise<Picture> {
  const width = video.videoWidth;
  const height = video.videoHeight;
  if (PictureWorker.supported() && typeof VideoFrame !== "undefined") {
    let frame: VideoFrame | null = null;
    try {
      frame = new VideoFrame(video);
      try {
        const data = await fromYuv(frame, width, height);
        if (data) return { data, route: "frame-yuv" };
      } catch {
        /* a worker failed: the frame is drawn below */
      }
      // A frame whose size differs from the page's (a rotation not applied) is left to the
      // page's canvas, which draws the video as shown.
      if (frame.displayWidth === width && frame.displayHeight === height) {
        const source = frame;
        frame = null; // handed over: the worker closes it
        const data = await pictureWorker.run({ op: "encode", source, width, height, quality: JPEG_QUALITY }, [source]);
        return { data, route: "frame-worker" };
      }
    } catch {
      /* the page encodes it below */
    } finally {
      frame?.close();
    }
  }
  return { data: await encodeHere(video, width, height), route: "page" };
}
