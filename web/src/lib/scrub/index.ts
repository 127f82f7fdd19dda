// The browser's scrubber for imported pictures (DEI-1, issue 9): JPEG and PNG files are
// rewritten by the same rules as the server's src/clinphoto/imaging/ scrubber, and the output
// is byte-identical to its output (tests/corpus/test_web_scrub_parity.py holds it to that).
// Every other format is refused: the app imports JPEG and PNG pictures only. Pure TypeScript,
// synchronous, no DOM: it runs in a Worker.
import { ScrubError } from "./errors";
import { scrubJpeg } from "./jpeg";
import { DEFAULT_LIMITS, type Limits } from "./limits";
import { scrubPng } from "./png";
import { HEAD_BYTES, KIND_NAMES, sniff } from "./sniff";

export { REASONS, ScrubError, type Reason } from "./errors";
export { DEFAULT_LIMITS, type Limits } from "./limits";

export interface Scrubbed {
  readonly data: Uint8Array;
  readonly mediaType: "image/jpeg" | "image/png";
}

/**
 * The picture in `data` without identifying metadata (EXIF, GPS, XMP, IPTC, maker notes,
 * comments, thumbnails, text chunks), its pixels untouched; the EXIF orientation is kept as
 * a one-tag EXIF block when it is not 1. The format is judged by the bytes, never by a
 * name or a declared type.
 *
 * Throws ScrubError, whose `reason` is the server's reason code for the same bytes (and
 * "unsupported-format" for the formats the server accepts but the app does not import).
 */
export function scrubImage(data: Uint8Array, limits: Limits = DEFAULT_LIMITS): Scrubbed {
  if (data.length > limits.maxImageBytes) {
    throw new ScrubError(
      `input is ${data.length} bytes, over the ${limits.maxImageBytes}-byte limit for an image`,
      "too-large",
    );
  }
  const kind = sniff(data.subarray(0, HEAD_BYTES));
  if (kind === "jpeg") return { data: scrubJpeg(data, limits), mediaType: "image/jpeg" };
  if (kind === "png") return { data: scrubPng(data, limits), mediaType: "image/png" };
  throw new ScrubError(
    `${KIND_NAMES[kind]} files cannot be imported: the app imports JPEG and PNG pictures only`,
    "unsupported-format",
  );
}
