// What one input may cost: the server's default limits (src/clinphoto/imaging/limits.py),
// checked from headers before anything is decoded (DEI-1: bombs never hang the app).
import { ScrubError } from "./errors";

export const MIB = 1024 * 1024;

export interface Limits {
  readonly maxImageBytes: number;
  readonly maxPixels: number; // per picture (width x height)
  readonly maxWidth: number;
  readonly maxHeight: number;
  readonly maxFrames: number; // frames of an APNG
  readonly maxTotalPixels: number; // sum over the frames of an animation
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxImageBytes: 100 * MIB,
  maxPixels: 100_000_000,
  maxWidth: 30_000,
  maxHeight: 30_000,
  maxFrames: 1_000,
  maxTotalPixels: 1_000_000_000,
});

/** Refuse a picture whose declared size is empty or over the limits, before decoding it. */
export function checkSize(width: number, height: number, limits: Limits, what: string): void {
  if (width <= 0 || height <= 0) {
    throw new ScrubError(`${what} declares an empty ${width}x${height} picture`, "malformed");
  }
  if (width > limits.maxWidth || height > limits.maxHeight) {
    throw new ScrubError(
      `${what} declares ${width}x${height} pixels; the limit is ${limits.maxWidth}x${limits.maxHeight}`,
      "too-many-pixels",
    );
  }
  if (width * height > limits.maxPixels) {
    throw new ScrubError(
      `${what} declares ${width}x${height} = ${width * height} pixels; the limit is ${limits.maxPixels}`,
      "too-many-pixels",
    );
  }
}

/** Refuse an animation whose frames would decode to far more than its bytes suggest. */
export function checkAnimation(
  frames: number,
  totalPixels: number,
  limits: Limits,
  what: string,
): void {
  if (frames > limits.maxFrames) {
    throw new ScrubError(`${what} has more than ${limits.maxFrames} frames`, "decompression-bomb");
  }
  if (totalPixels > limits.maxTotalPixels) {
    throw new ScrubError(
      `${what} frames add up to more than ${limits.maxTotalPixels} pixels`,
      "decompression-bomb",
    );
  }
}
