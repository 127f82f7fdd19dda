// From a camera's VideoFrame to the encoder's YUV 4:2:0 planes (encode.ts): which frames it
// takes, how their colours are read, and how a frame is cut into bands of MCU rows that
// workers encode apart.
import { MCU, mcuRows, type Plane, type Yuv420 } from "./encode";

/** What the encoder needs to know of a frame besides its samples. */
export interface FramePlan {
  format: "I420" | "I420A" | "NV12";
  width: number;
  height: number;
  /** Where the picture sits in the frame's coded samples. */
  x: number;
  y: number;
  videoRange: boolean;
  matrix: "bt601" | "bt709";
}

/** The part of a VideoFrame this module reads (so tests can describe one). */
export interface FrameLike {
  format: string | null;
  codedWidth: number;
  codedHeight: number;
  displayWidth: number;
  displayHeight: number;
  visibleRect: { x: number; y: number; width: number; height: number } | null;
  colorSpace: { fullRange: boolean | null; matrix: string | null };
  rotation?: number;
  flip?: boolean;
}

// The matrices of JPEG's own (BT.601: "smpte170m", "bt470bg") and of HD video.
const MATRICES: Record<string, "bt601" | "bt709"> = { smpte170m: "bt601", bt470bg: "bt601", bt709: "bt709" };

/**
 * How to encode `frame` from its YUV, or null when it must be drawn instead: another pixel
 * format (RGB, 4:2:2, 4:4:4, high bit depth), a colour matrix other than BT.601 or BT.709, a
 * picture shown at another size than its samples (`width` x `height`, the video element's),
 * turned or mirrored, or placed at an odd offset.
 *
 * A frame that does not say its range or matrix is read as video range and BT.601, as
 * Chromium draws it (the same picture the preview showed).
 */
export function planFrame(frame: FrameLike, width: number, height: number): FramePlan | null {
  const format = frame.format;
  if (format !== "I420" && format !== "I420A" && format !== "NV12") return null;
  const rect = frame.visibleRect;
  if (!rect) return null;
  if (rect.width !== width || rect.height !== height) return null;
  if (frame.displayWidth !== width || frame.displayHeight !== height) return null;
  if ((frame.rotation ?? 0) !== 0 || frame.flip === true) return null;
  if (rect.x % 2 !== 0 || rect.y % 2 !== 0) return null;
  const named = frame.colorSpace.matrix;
  const matrix = named === null ? "bt601" : MATRICES[named];
  if (matrix === undefined) return null;
  return { format, width, height, x: rect.x, y: rect.y, videoRange: frame.colorSpace.fullRange !== true, matrix };
}

/** One band: MCU rows `first` to `end - 1`, pixel rows `top` to `bottom - 1`. */
export interface Band {
  first: number;
  end: number;
  top: number;
  bottom: number;
}

/** The frame's MCU rows in `count` bands of whole rows, as even as can be. */
export function bands(height: number, count: number): Band[] {
  const rows = mcuRows(height);
  const n = Math.max(1, Math.min(count, rows));
  const out: Band[] = [];
  let first = 0;
  for (let i = 0; i < n; i++) {
    const end = first + Math.floor(rows / n) + (i < rows % n ? 1 : 0);
    out.push({ first, end, top: first * MCU, bottom: Math.min(height, end * MCU) });
    first = end;
  }
  return out;
}

/** The rectangle of coded samples that holds `band` (what VideoFrame.copyTo is asked for). */
export function bandRect(plan: FramePlan, band: Band): { x: number; y: number; width: number; height: number } {
  return { x: plan.x, y: plan.y + band.top, width: plan.width, height: band.bottom - band.top };
}

/** The planes of a band copied out of a frame (`layout` as VideoFrame.copyTo returns it). */
export function bandPlanes(
  plan: FramePlan,
  band: Band,
  data: Uint8Array,
  layout: readonly { offset: number; stride: number }[],
): Yuv420 {
  const plane = (i: number, step: number, shift = 0): Plane => {
    const p = layout[i];
    if (!p) throw new RangeError("a plane of the frame is missing");
    return { data, offset: p.offset + shift, stride: p.stride, step };
  };
  const semi = plan.format === "NV12";
  return {
    width: plan.width,
    height: band.bottom - band.top,
    y: plane(0, 1),
    u: semi ? plane(1, 2) : plane(1, 1),
    v: semi ? plane(1, 2, 1) : plane(2, 1),
    videoRange: plan.videoRange,
    matrix: plan.matrix,
  };
}
