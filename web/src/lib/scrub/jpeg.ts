// Lossless JPEG metadata scrubbing by segment rewrite: the browser's twin of the server's
// src/clinphoto/imaging/jpeg.py, whose output it must equal byte for byte (DEI-1).
//
// Pixels are never decoded. The marker segments of a baseline, progressive, arithmetic-coded
// or lossless JPEG are walked and the file is rebuilt from only what a decoder needs:
//  - SOI, a fresh minimal JFIF APP0 (no thumbnail) when it cannot change the colours, and,
//    only when the input's EXIF Orientation is not 1, a minimal EXIF APP1 with that one tag;
//  - the frame header (SOFn) and the table and restart segments a scan uses (DHT, DAC, DQT,
//    DRI), each parsed field by field: a segment its fields do not fill exactly is refused;
//    table definitions no scan reads are left out;
//  - ICC profiles (APP2 ICC_PROFILE) that assemble into a valid profile, its text blanked in
//    place (icc.ts), and the Adobe APP14 segment decoders read (the last one before the
//    first scan, its 12 bytes only);
//  - every SOS header with its entropy-coded data, byte for byte; and EOI.
// Everything else (EXIF, XMP, IPTC, MPF, maker notes, thumbnails, comments, DNL, data after
// the EOI) is dropped. See docs/decisions/009-scrub-speed.md for what this cannot see.
import { ascii, putU16be, startsWith, u16be } from "./bytes";
import { ScrubError, type Reason } from "./errors";
import { EXIF_HEADER, orientationFromTiff, orientationTiff } from "./exif";
import { cleanIcc } from "./icc";
import { DEFAULT_LIMITS, checkSize, type Limits } from "./limits";

const SOI = Uint8Array.of(0xff, 0xd8);
const EOI = Uint8Array.of(0xff, 0xd9);
// APP0 "JFIF\0", version 1.01, units 0 (aspect ratio only), density 1:1, no thumbnail.
// prettier-ignore
const JFIF_APP0 = Uint8Array.of(0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01,
  0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00);
const ICC_HEADER = ascii("ICC_PROFILE\x00");
const ADOBE_HEADER = ascii("Adobe");
const JFIF_HEADER = ascii("JFIF\x00");
const RGB = [0x52, 0x47, 0x42];

const M_SOS = 0xda;
const M_EOI = 0xd9;
const M_SOI = 0xd8;
const M_TEM = 0x01;
const M_APP0 = 0xe0;
const M_APP1 = 0xe1;
const M_APP2 = 0xe2;
const M_APP14 = 0xee;
const M_DHP = 0xde;
const M_DHT = 0xc4;
const M_DAC = 0xcc;
const M_DQT = 0xdb;
const M_DRI = 0xdd;
const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
const PROGRESSIVE = new Set([0xc2, 0xc6, 0xca, 0xce]);
const LOSSLESS = new Set([0xc3, 0xc7, 0xcb, 0xcf]);
const ARITHMETIC = new Set([0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
// What a scan reads. (DNL, the height given after the first scan, is dropped: the frame must.)
const TABLE_MARKERS = new Set([M_DHT, M_DAC, M_DQT, M_DRI]);
const ADOBE_LENGTH = 12; // "Adobe", version, flags0, flags1, transform: all that decoders read

function segmentName(marker: number): string {
  switch (marker) {
    case M_DHT:
      return "Huffman table segment (DHT)";
    case M_DAC:
      return "arithmetic conditioning segment (DAC)";
    case M_DQT:
      return "quantisation table segment (DQT)";
    case M_DRI:
      return "restart interval segment (DRI)";
    case M_SOS:
      return "scan header (SOS)";
    default:
      return `frame header (SOF${marker - 0xc0})`;
  }
}

const hex = (marker: number): string => marker.toString(16).toUpperCase().padStart(2, "0");

/**
 * Offset of the first marker at or after `pos` in entropy-coded data, or -1 if none.
 *
 * Inside entropy-coded data 0xFF is followed by 0x00 (stuffing), 0xD0-0xD7 (a restart marker)
 * or 0xFF (a fill byte); an 0xFF followed by anything else is a marker, and its offset is
 * returned. Every 0xFF at or after `pos` is looked at (found by indexOf), none is skipped.
 */
export function entropyEnd(data: Uint8Array, pos: number): number {
  const last = data.length - 1;
  let at = data.indexOf(0xff, pos);
  while (at >= 0 && at < last) {
    const after = data[at + 1]!;
    if (after === 0x00) {
      at = data.indexOf(0xff, at + 2); // stuffing: the 0x00 cannot start a marker
    } else if (after === 0xff || (after >= 0xd0 && after <= 0xd7)) {
      at = data.indexOf(0xff, at + 1); // fill byte or RSTn: look at the next byte
    } else {
      return at;
    }
  }
  return -1;
}

function fail(message: string, reason: Reason = "malformed"): ScrubError {
  return new ScrubError(message, reason);
}

function checkInput(data: Uint8Array, limits: Limits): void {
  if (data.length > limits.maxImageBytes) {
    throw fail(
      `input is ${data.length} bytes, over the ${limits.maxImageBytes}-byte limit for an image`,
      "too-large",
    );
  }
  if (data.length < 2 || data[0] !== 0xff || data[1] !== 0xd8) {
    throw fail(
      "not a JPEG: the data does not start with the SOI marker FF D8",
      data.length === 0 ? "empty" : "unsupported-format",
    );
  }
}

/** The marker at `pos` (after any fill bytes) and the offset after it. */
function readMarker(data: Uint8Array, pos: number): [number, number] {
  const n = data.length;
  if (pos >= n) throw fail("truncated JPEG: the data ends before the EOI marker", "truncated");
  if (data[pos] !== 0xff) throw fail(`malformed JPEG: expected a marker at offset ${pos}`);
  while (pos < n && data[pos] === 0xff) pos++;
  if (pos >= n) throw fail("truncated JPEG: the data ends before the EOI marker", "truncated");
  const marker = data[pos]!;
  if (marker === 0x00) {
    throw fail(`malformed JPEG: stray FF 00 outside entropy-coded data at offset ${pos}`);
  }
  if (marker === M_SOI) throw fail(`malformed JPEG: unexpected second SOI marker at offset ${pos}`);
  return [marker, pos + 1];
}

/** Given `pos` just past a marker with a length field, the segment's end. */
function segmentEnd(data: Uint8Array, pos: number, marker: number): number {
  if (pos + 2 > data.length) {
    throw fail(`truncated JPEG: segment FF ${hex(marker)} at offset ${pos - 2} is cut off`, "truncated");
  }
  const length = u16be(data, pos);
  if (length < 2) {
    throw fail(`malformed JPEG: segment FF ${hex(marker)} at offset ${pos - 2} has invalid length ${length}`);
  }
  const end = pos + length;
  if (end > data.length) {
    throw fail(
      `malformed JPEG: segment FF ${hex(marker)} at offset ${pos - 2} declares ${length} bytes, running past the end of the data`,
      "truncated",
    );
  }
  return end;
}

function isStandalone(marker: number): boolean {
  return marker === M_TEM || (marker >= 0xd0 && marker <= 0xd7);
}

/** A minimal EXIF APP1 whose IFD0 holds only the Orientation tag. */
function exifApp1(orientation: number): Uint8Array {
  const tiff = orientationTiff(orientation);
  const out = new Uint8Array(4 + EXIF_HEADER.length + tiff.length);
  out.set([0xff, 0xe1]);
  out.set(putU16be(2 + EXIF_HEADER.length + tiff.length), 2);
  out.set(EXIF_HEADER, 4);
  out.set(tiff, 4 + EXIF_HEADER.length);
  return out;
}

/**
 * Whether adding a JFIF APP0 leaves the decoder's colour-space guess unchanged: libjpeg
 * treats a 3-component JFIF file as YCbCr even when Adobe APP14 (or R, G, B ids) says RGB.
 */
function wantsJfif(hadJfif: boolean, hasAdobe: boolean, ids: readonly number[]): boolean {
  if (hadJfif) return true;
  if (hasAdobe) return false;
  if (ids.length === 1) return true;
  return ids.length === 3 && !(ids[0] === RGB[0] && ids[1] === RGB[1] && ids[2] === RGB[2]);
}

/** What the scans need from the frame header: the coding process and the components. */
interface Frame {
  readonly marker: number;
  readonly precision: number;
  readonly ids: readonly number[]; // component ids in frame order (not always distinct)
  readonly quant: readonly number[]; // each component's quantisation table
  readonly latched: boolean[]; // whether a scan has taken in the component yet
}

function bad(marker: number, offset: number, problem: string): ScrubError {
  return fail(`malformed JPEG: ${segmentName(marker)} at offset ${offset} ${problem}`);
}

/** Parse a frame header (SOFn): it must hold exactly its components, each in range. */
function parseFrame(data: Uint8Array, marker: number, body: number, end: number, limits: Limits): Frame {
  const size = end - body;
  if (size < 6) throw bad(marker, body - 4, "is too short");
  const precision = data[body]!;
  const height = u16be(data, body + 1);
  const width = u16be(data, body + 3);
  const count = data[body + 5]!;
  if (size !== 6 + 3 * count) {
    throw bad(marker, body - 4, `declares ${size + 2} bytes for ${count} components, not ${8 + 3 * count}`);
  }
  if (count === 0) throw bad(marker, body - 4, "declares no components");
  if (count > 4) throw fail(`JPEG with ${count} components is not supported (1 to 4)`, "unsupported-feature");
  const precisionOk = LOSSLESS.has(marker) ? precision >= 2 && precision <= 16 : precision === 8 || precision === 12;
  if (!precisionOk) throw bad(marker, body - 4, `declares ${precision}-bit samples`);
  if (height === 0) {
    throw fail("JPEG with the height deferred to a DNL segment is not supported", "unsupported-feature");
  }
  checkSize(width, height, limits, "the JPEG frame header");
  const ids: number[] = [];
  const quant: number[] = [];
  for (let at = body + 6; at < end; at += 3) {
    const h = data[at + 1]! >> 4;
    const v = data[at + 1]! & 15;
    if (h < 1 || h > 4 || v < 1 || v > 4) throw bad(marker, body - 4, "gives a sampling factor outside 1 to 4");
    ids.push(data[at]!);
    quant.push(data[at + 2]!);
  }
  if (Math.max(...quant) > 3) throw bad(marker, body - 4, "names a quantisation table outside 0 to 3");
  return { marker, precision, ids, quant, latched: ids.map(() => false) };
}

/**
 * A kept DHT, DAC, DQT or DRI segment: where each definition in it lies, and whether a scan
 * has used it. Definitions no scan uses are left out of the output.
 */
class Tables {
  readonly spans: Array<[number, number]> = [];
  readonly used: boolean[] = [];

  constructor(
    readonly start: number, // offset of the marker
    readonly end: number,
  ) {}

  /** The segment as it is when every definition is used, without the unused ones otherwise,
   * or null when none is used (or it defines nothing). */
  output(data: Uint8Array): Uint8Array | null {
    if (!this.used.some(Boolean)) return null;
    if (this.used.every(Boolean)) return data.subarray(this.start, this.end);
    let size = 4;
    this.spans.forEach(([a, b], i) => {
      if (this.used[i]) size += b - a;
    });
    const out = new Uint8Array(size);
    out.set(data.subarray(this.start, this.start + 2));
    out.set(putU16be(size - 2), 2);
    let at = 4;
    this.spans.forEach(([a, b], i) => {
      if (this.used[i]) {
        out.set(data.subarray(a, b), at);
        at += b - a;
      }
    });
    return out;
  }
}

/**
 * Table definitions waiting for the first scan that reads them. A key names a table slot
 * (marker << 8 | slot); a definition is used when a scan reads its slot before the slot is
 * defined again. Decoders parse but never apply one that is replaced first or that no scan
 * reads, so such a definition could carry anything: it is not kept.
 */
class Definitions {
  private readonly waiting = new Map<number, [Tables, number]>();

  define(key: number, segment: Tables, start: number, end: number): void {
    segment.spans.push([start, end]);
    segment.used.push(false);
    this.waiting.set(key, [segment, segment.used.length - 1]); // replaces any unused one
  }

  use(keys: readonly number[]): void {
    for (const key of keys) {
      const found = this.waiting.get(key);
      if (found !== undefined) {
        this.waiting.delete(key);
        found[0].used[found[1]] = true;
      }
    }
  }
}

const key = (marker: number, slot: number): number => (marker << 8) | slot;

/** Whether code-length counts make a Huffman code with no all-ones code (libjpeg's check). */
function huffmanCodesFit(counts: Uint8Array): boolean {
  let code = 0;
  for (let length = 1; length <= counts.length; length++) {
    code += counts[length - 1]!;
    if (code >= 2 ** length) return false;
    code *= 2;
  }
  return true;
}

/** Parse a DHT, DAC, DQT or DRI segment: its definitions must fill it exactly. */
function parseTables(data: Uint8Array, marker: number, start: number, end: number, definitions: Definitions): Tables {
  const segment = new Tables(start, end);
  let at = start + 4; // a segment that defines nothing is dropped (see Tables.output)
  if (marker === M_DRI) {
    if (end - at !== 2) throw bad(marker, start, `declares ${end - start - 2} bytes, not 4`);
    definitions.define(key(marker, 0), segment, at, end);
    return segment;
  }
  while (at < end) {
    let slot = data[at]!;
    if (slot & 0xec) {
      // class or precision over 1, or table number over 3
      const kind = marker === M_DQT ? "of 8- or 16-bit values" : "for DC or AC";
      throw bad(marker, start, `defines a table other than 0 to 3 ${kind}`);
    }
    let after: number;
    if (marker === M_DQT) {
      after = at + 1 + (64 << (slot >> 4));
      slot &= 15; // the precision is not part of the table's number
    } else if (marker === M_DHT) {
      const counts = data.subarray(at + 1, at + 17);
      let sum = 0;
      for (const count of counts) sum += count;
      after = at + 17 + sum;
      if (counts.length === 16 && after <= end) {
        if (after - at > 17 + 256 || !huffmanCodesFit(counts)) {
          throw bad(marker, start, "has code lengths that do not fit");
        }
        if (slot < 0x10 && after > at + 17 && Math.max(...data.subarray(at + 17, after)) > 16) {
          throw bad(marker, start, "has a DC symbol over 16");
        }
      }
    } else {
      // DAC: a DC pair of bounds L <= U, or an AC threshold 1..63
      after = at + 2;
      const value = after <= end ? data[at + 1]! : 1;
      const ok = slot >> 4 ? value >= 1 && value <= 63 : (value & 15) <= value >> 4;
      if (!ok) throw bad(marker, start, "has a conditioning value out of range");
    }
    if (after > end) {
      throw bad(marker, start, `declares ${end - start - 2} bytes, which its tables do not fill`);
    }
    definitions.define(key(marker, slot), segment, at, after);
    at = after;
  }
  return segment;
}

/**
 * Parse a scan header (SOS) and mark the table definitions the scan reads as used. It must
 * hold exactly its components, each one of the frame's, with table numbers and spectral and
 * successive-approximation parameters that decoders accept.
 */
function parseScan(data: Uint8Array, body: number, end: number, frame: Frame, definitions: Definitions): void {
  const size = end - body;
  const count = size ? data[body]! : 0;
  if (size !== 4 + 2 * count) {
    throw bad(M_SOS, body - 4, `declares ${size + 2} bytes for ${count} components, not ${6 + 2 * count}`);
  }
  if (count < 1 || count > 4) throw bad(M_SOS, body - 4, `declares ${count} components, not 1 to 4`);
  const selectors: number[] = [];
  const tables: number[] = [];
  for (let i = 0; i < count; i++) {
    selectors.push(data[body + 1 + 2 * i]!);
    tables.push(data[body + 2 + 2 * i]!);
  }
  if (tables.some((pair) => pair & 0xcc)) throw bad(M_SOS, body - 4, "names a table outside 0 to 3");
  const members: number[] = [];
  const ids = frame.ids;
  for (const selector of selectors) {
    // The first frame component with this id not already in the scan, as libjpeg picks.
    let index = ids.indexOf(selector);
    while (members.includes(index)) index = ids.indexOf(selector, index + 1);
    if (index < 0) throw bad(M_SOS, body - 4, "names a component the frame does not have");
    members.push(index);
  }
  const ss = data[end - 3]!;
  const se = data[end - 2]!;
  const ah = data[end - 1]! >> 4;
  const al = data[end - 1]! & 15;
  const marker = frame.marker;
  let isBad: boolean;
  let dc: boolean;
  let ac: boolean;
  if (LOSSLESS.has(marker)) {
    isBad = ss < 1 || ss > 7 || se !== 0 || ah !== 0 || al >= frame.precision;
    [dc, ac] = [true, false];
  } else if (PROGRESSIVE.has(marker)) {
    // as libjpeg checks them
    isBad = ss === 0 ? se !== 0 : ss > se || se > 63 || count !== 1;
    isBad = isBad || (ah !== 0 && al !== ah - 1) || al > 13;
    [dc, ac] = [ss === 0 && ah === 0, ss > 0];
  } else {
    // sequential: decoders only warn about odd Ss, Se, Ah, Al (some phones write them)
    isBad = false;
    [dc, ac] = [true, true];
  }
  if (isBad) throw bad(M_SOS, body - 4, "has spectral or approximation values out of range");
  const coding = ARITHMETIC.has(marker) ? M_DAC : M_DHT;
  const read = [key(M_DRI, 0)];
  if (dc) for (const pair of tables) read.push(key(coding, pair >> 4));
  if (ac) for (const pair of tables) read.push(key(coding, 0x10 | (pair & 15)));
  if (!LOSSLESS.has(marker)) {
    for (const index of members) {
      if (!frame.latched[index]) {
        frame.latched[index] = true; // decoders take the quantisation table in now
        read.push(key(M_DQT, frame.quant[index]!));
      }
    }
  }
  definitions.use(read);
}

/**
 * The APP2 ICC_PROFILE segments again, in the same order and of the same sizes, holding the
 * profile they assemble into with its text blanked (cleanIcc); null when they do not form
 * one complete profile that is kept (as _icc_cleaned).
 */
function iccCleaned(segments: readonly Uint8Array[]): Uint8Array[] | null {
  const header = 4 + ICC_HEADER.length; // marker, length, "ICC_PROFILE\0"
  const parts = new Map<number, Uint8Array>();
  const counts = new Set<number>();
  for (const segment of segments) {
    if (segment.length < header + 2) return null;
    parts.set(segment[header]!, segment.subarray(header + 2));
    counts.add(segment[header + 1]!);
  }
  if (counts.size !== 1 || parts.size !== segments.length) return null;
  for (let i = 1; i <= parts.size; i++) if (!parts.has(i)) return null;
  if ([...counts][0] !== parts.size) return null;
  const starts = new Map<number, number>();
  let size = 0;
  for (let i = 1; i <= parts.size; i++) {
    starts.set(i, size);
    size += parts.get(i)!.length;
  }
  const joined = new Uint8Array(size);
  for (let i = 1; i <= parts.size; i++) joined.set(parts.get(i)!, starts.get(i)!);
  const profile = cleanIcc(joined);
  if (profile === null) return null;
  return segments.map((segment) => {
    const index = segment[header]!;
    const start = starts.get(index)!;
    const out = segment.slice();
    out.set(profile.subarray(start, start + parts.get(index)!.length), header + 2);
    return out;
  });
}

type Kept = Uint8Array | Tables | null;

/**
 * `data` rewritten losslessly without identifying metadata (see the top of this file).
 * Throws ScrubError for input that is not a JPEG, is truncated or malformed, or is over
 * `limits` (bytes, or the frame's declared width, height and pixel count).
 */
export function scrubJpeg(data: Uint8Array, limits: Limits = DEFAULT_LIMITS): Uint8Array {
  checkInput(data, limits);
  const kept: Kept[] = [];
  let orientation: number | null = null;
  let hadJfif = false;
  let adobe: number | null = null; // index in kept of the Adobe segment decoders will read
  let frame: Frame | null = null;
  const definitions = new Definitions();
  let seenSos = false;
  const icc: [number, Uint8Array][] = []; // where in kept, the segment
  let pos = 2;
  for (;;) {
    let marker: number;
    [marker, pos] = readMarker(data, pos);
    if (marker === M_EOI) break;
    if (isStandalone(marker)) continue;
    let end = segmentEnd(data, pos, marker);
    const body = pos + 2;
    if (SOF_MARKERS.has(marker)) {
      if (frame !== null) throw fail("malformed JPEG: a second frame header (SOF) in one image");
      frame = parseFrame(data, marker, body, end, limits);
      kept.push(data.subarray(pos - 2, end));
    } else if (TABLE_MARKERS.has(marker)) {
      kept.push(parseTables(data, marker, pos - 2, end, definitions));
    } else if (marker === M_SOS) {
      if (frame === null) throw fail("malformed JPEG: a scan (SOS) comes before any frame header (SOF)");
      parseScan(data, body, end, frame, definitions);
      seenSos = true;
      const found = entropyEnd(data, end);
      if (found < 0) throw fail("truncated JPEG: scan data runs to the end without an EOI marker", "truncated");
      let stop = found;
      while (stop > end && data[stop - 1] === 0xff) stop--; // fill bytes before the next marker
      kept.push(data.subarray(pos - 2, stop));
      end = found;
    } else if (marker === M_DHP) {
      throw fail("hierarchical JPEG (DHP) is not supported", "unsupported-feature");
    } else if (marker === M_APP2 && startsWith(data, ICC_HEADER, body)) {
      const segment = data.subarray(pos - 2, end);
      icc.push([kept.length, segment]);
      kept.push(segment);
    } else if (marker === M_APP14 && !seenSos && end - body >= ADOBE_LENGTH && startsWith(data, ADOBE_HEADER, body)) {
      // Decoders read the first 12 bytes of the last one before the first scan.
      if (adobe !== null) kept[adobe] = null;
      adobe = kept.length;
      if (end - body === ADOBE_LENGTH) {
        kept.push(data.subarray(pos - 2, end));
      } else {
        const cut = new Uint8Array(4 + ADOBE_LENGTH);
        cut.set([0xff, 0xee, 0x00, 0x0e]);
        cut.set(data.subarray(body, body + ADOBE_LENGTH), 4);
        kept.push(cut);
      }
    } else if (marker === M_APP1 && orientation === null && startsWith(data, EXIF_HEADER, body)) {
      orientation = orientationFromTiff(data.subarray(body + EXIF_HEADER.length, end));
    } else if (marker === M_APP0 && startsWith(data, JFIF_HEADER, body)) {
      hadJfif = true;
    }
    // Every other segment (APPn, COM, DNL, JPGn, reserved) is dropped.
    pos = end;
  }
  if (frame === null) throw fail("malformed JPEG: no frame header (SOF) before EOI");
  if (!seenSos) throw fail("malformed JPEG: no scan (SOS) before EOI");
  if (icc.length) {
    // the profile's text blanked; a broken profile is dropped, as decoders ignore it
    const cleaned = iccCleaned(icc.map(([, segment]) => segment));
    icc.forEach(([at], n) => (kept[at] = cleaned === null ? null : cleaned[n]!));
  }
  const out: Uint8Array[] = [SOI];
  if (wantsJfif(hadJfif, adobe !== null, frame.ids)) out.push(JFIF_APP0);
  if (orientation !== null && orientation !== 1) out.push(exifApp1(orientation));
  for (const part of kept) {
    const bytes = part instanceof Tables ? part.output(data) : part;
    if (bytes !== null) out.push(bytes);
  }
  out.push(EOI);
  let size = 0;
  for (const part of out) size += part.length;
  const result = new Uint8Array(size);
  let at = 0;
  for (const part of out) {
    result.set(part, at);
    at += part.length;
  }
  return result;
}
