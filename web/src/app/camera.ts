// The one camera controller: the rear camera at the highest resolution its track offers,
// started and stopped one request at a time (two getUserMedia calls at once freeze the
// preview on some phones), re-acquired idempotently when the app returns to the
// foreground (iOS stops the stream in the background, sometimes without a visibilitychange).
// A photo is the camera's own JPEG scrubbed of its metadata, or a frame encoded as JPEG
// (capture/picture.ts), made in a worker; nothing is ever saved to the camera roll or the
// downloads folder.

import { fromFrame, fromStill, pictureWorker, type Picture } from "./capture/picture";

// Parts of MediaStreamTrack capabilities that TypeScript's DOM types do not yet name.
interface ExtraCapabilities extends MediaTrackCapabilities {
  torch?: boolean;
  focusMode?: string[];
}
interface ImageCaptureLike {
  takePhoto(settings?: { imageWidth?: number; imageHeight?: number }): Promise<Blob>;
}
type ImageCaptureCtor = new (track: MediaStreamTrack) => ImageCaptureLike;

export class CameraController {
  private stream: MediaStream | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private torchOn = false;

  /** Serialize start/stop: each waits for the previous one to finish. */
  private serial<T>(f: () => Promise<T>): Promise<T> {
    const next = this.queue.then(f, f);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private track(): MediaStreamTrack | null {
    return this.stream?.getVideoTracks()[0] ?? null;
  }

  /** True while the stream delivers frames. */
  live(): boolean {
    const tr = this.track();
    return tr !== null && tr.readyState === "live" && !tr.muted;
  }

  /** Start the camera into ``video``, or keep the live stream it already has. */
  start(video: HTMLVideoElement): Promise<void> {
    return this.serial(async () => {
      if (this.live() && video.srcObject === this.stream) return;
      this.release();
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 4032 }, height: { ideal: 3024 } },
      });
      this.stream = stream;
      const tr = this.track();
      if (tr && typeof tr.getCapabilities === "function") {
        const caps = tr.getCapabilities() as ExtraCapabilities;
        const wanted: MediaTrackConstraints = {};
        if (caps.width?.max) wanted.width = { ideal: caps.width.max };
        if (caps.height?.max) wanted.height = { ideal: caps.height.max };
        const advanced: Record<string, unknown>[] = [];
        if (caps.focusMode?.includes("continuous")) advanced.push({ focusMode: "continuous" });
        if (advanced.length) wanted.advanced = advanced as MediaTrackConstraintSet[];
        try {
          await tr.applyConstraints(wanted);
        } catch {
          /* the camera keeps the resolution it opened with */
        }
      }
      video.srcObject = stream;
      video.muted = true;
      video.playsInline = true;
      await video.play().catch(() => undefined);
    });
  }

  /** Stop the camera (on leaving the screen, locking, or going to the background). */
  stop(): Promise<void> {
    return this.serial(async () => this.release());
  }

  private release(): void {
    pictureWorker.release(); // once the photo it may be making is done
    for (const tr of this.stream?.getTracks() ?? []) tr.stop();
    this.stream = null;
    this.torchOn = false;
  }

  /** Whether the camera has a light this page may switch on. */
  hasTorch(): boolean {
    const tr = this.track();
    if (!tr || typeof tr.getCapabilities !== "function") return false;
    return (tr.getCapabilities() as ExtraCapabilities).torch === true;
  }

  /** Switch the light on or off; returns the new state. */
  async toggleTorch(): Promise<boolean> {
    const tr = this.track();
    if (!tr) return false;
    const on = !this.torchOn;
    await tr.applyConstraints({ advanced: [{ torch: on } as MediaTrackConstraintSet] });
    this.torchOn = on;
    return on;
  }

  /** One photo as JPEG bytes with no metadata (capture/picture.ts): the camera's own JPEG
   * still, scrubbed, where the browser offers one (ImageCapture); else the preview's current
   * frame, encoded. Marks `clinphoto:picture` (User Timing, with the route as its detail). */
  async shoot(video: HTMLVideoElement): Promise<Uint8Array> {
    const tr = this.track();
    if (!tr) throw new Error("camera not started");
    let picture: Picture | null = null;
    const Ctor = (globalThis as { ImageCapture?: ImageCaptureCtor }).ImageCapture;
    if (Ctor) {
      try {
        picture = await fromStill(await new Ctor(tr).takePhoto());
      } catch {
        picture = null; // no still this time: the preview's frame
      }
    }
    picture ??= await fromFrame(video);
    performance.mark("clinphoto:picture", { detail: picture.route });
    return picture.data;
  }
}

/** The app's only camera. */
export const camera = new CameraController();
