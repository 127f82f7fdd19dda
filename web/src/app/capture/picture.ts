// The picture behind the shutter, made off the page's thread where the browser allows it.
//
// Where the browser gives the camera's own still (ImageCapture.takePhoto: Chrome on Android),
// and it is a JPEG, the camera's JPEG is kept and only cleaned, byte for byte, by lib/scrub
// (the rules of imaging/, DEI-1): no 12 MP decode and re-encode, the pixels as the camera
// wrote them, and the EXIF orientation kept as its one tag, as the server's scrubber keeps
// it. A still in another format, or the preview's frame where there is no ImageCapture
// (Safari), is drawn and encoded as JPEG on an OffscreenCanvas in the worker. Where the
// worker cannot (no Worker, no OffscreenCanvas or VideoFrame, or it failed), the page does
// the same on a canvas, as before. Every route yields a JPEG free of metadata.
import { scrubImage } from "../../lib/scrub";
import type { PictureJob, PictureReply } from "./picture-worker";

/** The JPEG quality of every encoded photo. */
export const JPEG_QUALITY = 0.92;

/** How the picture was made (User Timing detail of `clinphoto:picture`, for the bench):
 * the camera's JPEG scrubbed, a still or a frame encoded in the worker, or on the page. */
export type PictureRoute = "still-scrubbed" | "still-encoded" | "frame-worker" | "page";

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

  /** Start the worker ahead of the first shot (when the camera opens). */
  warm(): void {
    this.retired = false;
    if (PictureWorker.supported()) this.get();
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

export const pictureWorker = new PictureWorker();

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

/** The preview's current frame as JPEG, at the size the page shows it. */
export async function fromFrame(video: HTMLVideoElement): Promise<Picture> {
  const width = video.videoWidth;
  const height = video.videoHeight;
  if (PictureWorker.supported() && typeof VideoFrame !== "undefined") {
    let frame: VideoFrame | null = null;
    try {
      frame = new VideoFrame(video);
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
