// The one camera controller: the rear camera at the highest resolution its track offers,
// started and stopped one request at a time (two getUserMedia calls at once freeze the
// preview on some phones), re-acquired idempotently when the app returns to the
// foreground (iOS stops the stream in the background, sometimes without a visibilitychange).
// Frames become JPEG through a canvas, which writes no EXIF; nothing is ever saved to the
// camera roll or the downloads folder.

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

  /** One photo as JPEG bytes with no metadata: the full-resolution still where the browser
   * offers one (ImageCapture), else the preview's current frame; both re-encoded by a
   * canvas, which writes a bare JFIF header and nothing else. */
  async shoot(video: HTMLVideoElement): Promise<Uint8Array> {
    const tr = this.track();
    if (!tr) throw new Error("camera not started");
    let source: CanvasImageSource | null = null;
    let width = video.videoWidth;
    let height = video.videoHeight;
    const Ctor = (globalThis as { ImageCapture?: ImageCaptureCtor }).ImageCapture;
    if (Ctor) {
      try {
        const still = await new Ctor(tr).takePhoto();
        const bitmap = await createImageBitmap(still);
        source = bitmap;
        width = bitmap.width;
        height = bitmap.height;
      } catch {
        source = null;
      }
    }
    if (source === null) {
      source = video;
      width = video.videoWidth;
      height = video.videoHeight;
    }
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("no canvas");
    ctx.drawImage(source, 0, 0, width, height);
    if ("close" in source && typeof source.close === "function") source.close();
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
    canvas.width = 0;
    canvas.height = 0;
    if (!blob) throw new Error("the photo could not be encoded");
    return new Uint8Array(await blob.arrayBuffer());
  }
}

/** The app's only camera. */
export const camera = new CameraController();
