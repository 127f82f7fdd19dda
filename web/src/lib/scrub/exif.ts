// The only EXIF the scrubber writes: a TIFF block whose IFD0 holds the Orientation tag alone
// (as src/clinphoto/imaging/exif.py). Pixels are kept exactly, so the picture still displays
// upright only if the orientation travels with it; one SHORT from 1 to 8 names no person,
// device or time.
import { ascii, startsWith, u16be, u16le, u32be, u32le } from "./bytes";

export const EXIF_HEADER = ascii("Exif\x00\x00");

const TAG_ORIENTATION = 0x0112;
const TIFF_SHORT = 3;
const TIFF_LONG = 4;

/**
 * Orientation (1..8) from a TIFF/EXIF block in either byte order; 1 if absent or invalid.
 * An `Exif\0\0` prefix (as JPEG APP1 and some PNG writers put it) is skipped.
 */
export function orientationFromTiff(block: Uint8Array): number {
  const tiff = startsWith(block, EXIF_HEADER) ? block.subarray(EXIF_HEADER.length) : block;
  if (tiff.length < 8) return 1;
  let u16: typeof u16be;
  let u32: typeof u32be;
  if (tiff[0] === 0x49 && tiff[1] === 0x49) {
    [u16, u32] = [u16le, u32le];
  } else if (tiff[0] === 0x4d && tiff[1] === 0x4d) {
    [u16, u32] = [u16be, u32be];
  } else {
    return 1;
  }
  const ifd0 = u32(tiff, 4);
  if (u16(tiff, 2) !== 42 || ifd0 + 2 > tiff.length) return 1;
  const count = u16(tiff, ifd0);
  for (let index = 0; index < count; index++) {
    const entry = ifd0 + 2 + 12 * index;
    if (entry + 12 > tiff.length) return 1;
    if (u16(tiff, entry) !== TAG_ORIENTATION) continue;
    const kind = u16(tiff, entry + 2);
    if (u32(tiff, entry + 4) < 1) return 1;
    let value: number;
    if (kind === TIFF_SHORT) value = u16(tiff, entry + 8);
    else if (kind === TIFF_LONG) value = u32(tiff, entry + 8);
    else return 1;
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/** A minimal big-endian TIFF block whose IFD0 holds only `orientation` (1..8). */
export function orientationTiff(orientation: number): Uint8Array {
  if (!Number.isInteger(orientation) || orientation < 1 || orientation > 8) {
    throw new RangeError(`EXIF orientation is 1..8, not ${orientation}`);
  }
  // prettier-ignore
  return Uint8Array.of(
    0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, // "MM", 42, IFD0 at 8
    0x00, 0x01, // one entry
    0x01, 0x12, 0x00, TIFF_SHORT, 0x00, 0x00, 0x00, 0x01, 0x00, orientation, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, // no next IFD
  );
}
