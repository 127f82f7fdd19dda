// The one error the scrubber throws, with the same stable reason codes as the server's
// scrubber (src/clinphoto/imaging/errors.py), so a refusal reads the same on both sides.

/** Every reason code the server's scrubber can give; the browser's gives a subset. */
export const REASONS = [
  "empty", // no bytes at all
  "unsupported-format", // not a format we import (unknown magic, or not JPEG/PNG here)
  "unsupported-feature", // a format we accept, but a variant we cannot scrub safely
  "too-large", // more bytes than the limit
  "too-many-pixels", // declared width, height or pixel count over the limit
  "decompression-bomb", // decoded data would dwarf the input (frames x pixels, zlib bombs)
  "malformed", // broken structure: bad lengths, checksums, order
  "truncated", // the data ends before the format says it should
  "timeout",
  "decoder-crashed",
  "unsupported-codec",
  "no-video",
  "io-error",
] as const;

export type Reason = (typeof REASONS)[number];

/**
 * The input cannot be scrubbed safely; nothing of it may be used.
 *
 * `reason` is stable for programs (and equal to the server's for the same bytes);
 * `message` is for people and names the problem, never file contents.
 */
export class ScrubError extends Error {
  readonly reason: Reason;

  constructor(message: string, reason: Reason = "malformed") {
    super(message);
    this.name = "ScrubError";
    this.reason = reason;
  }
}
