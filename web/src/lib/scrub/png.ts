// Lossless PNG metadata scrubbing by chunk rewrite: the browser's twin of the server's
// src/clinphoto/imaging/png.py, whose output it must equal byte for byte (DEI-1).
//
// Pixels are never decoded: IDAT (and fdAT) is copied byte for byte. Every chunk's CRC is
// checked and the chunk order validated; a file that fails is refused, not repaired.
// Kept: IHDR, PLTE, IDAT, IEND, tRNS, cHRM, gAMA, iCCP (its free-text name replaced by a
// fixed one, the profile kept only when valid, its text blanked), sBIT, sRGB, cICP, mDCV,
// cLLI, bKGD, pHYs, acTL, fcTL, fdAT. Dropped: text (tEXt, zTXt, iTXt), tIME, eXIf (a minimal one with only the
// Orientation is written back when it is not 1), sPLT, hIST, every unknown ancillary chunk,
// and anything after IEND. An unknown critical chunk (e.g. Apple's CgBI) is refused.
import { ascii, concat, equal, putU32be, u32be } from "./bytes";
import { ScrubError, type Reason } from "./errors";
import { orientationFromTiff, orientationTiff } from "./exif";
import { MAX_ICC_BYTES, cleanIcc } from "./icc";
import { adler32, inflateCapped } from "./inflate";
import { DEFAULT_LIMITS, checkAnimation, checkSize, type Limits } from "./limits";

export const SIGNATURE = ascii("\x89PNG\r\n\x1a\n");

const KEEP = new Set([
  "PLTE", "IDAT", "tRNS", "cHRM", "gAMA", "sBIT", "sRGB", "cICP", "mDCV", "cLLI", "bKGD",
  "pHYs", "acTL", "fcTL", "fdAT",
]); // prettier-ignore
const ICC_NAME = ascii("ICC profile");
// colour type -> allowed bit depths (PNG specification, table 11.1)
const DEPTHS: ReadonlyMap<number, readonly number[]> = new Map([
  [0, [1, 2, 4, 8, 16]],
  [2, [8, 16]],
  [3, [1, 2, 4, 8]],
  [4, [8, 16]],
  [6, [8, 16]],
]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256 * 4);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let t = 1; t < 4; t++) {
      const prev = table[(t - 1) * 256 + n]!;
      table[t * 256 + n] = (table[prev & 0xff]! ^ (prev >>> 8)) >>> 0;
    }
  }
  return table;
})();

/** CRC-32 (ISO 3309, as zlib.crc32) of `data`, continuing from `crc`. */
export function crc32(data: Uint8Array, crc = 0): number {
  const t = CRC_TABLE;
  let c = ~crc >>> 0;
  let i = 0;
  const n = data.length;
  for (; i + 4 <= n; i += 4) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
  }
  for (; i < n; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function fail(message: string, reason: Reason = "malformed"): ScrubError {
  return new ScrubError(`PNG: ${message}`, reason);
}

function chunk(kind: string, payload: Uint8Array): Uint8Array {
  const name = ascii(kind);
  const out = new Uint8Array(12 + payload.length);
  out.set(putU32be(payload.length));
  out.set(name, 4);
  out.set(payload, 8);
  out.set(putU32be(crc32(payload, crc32(name))), 8 + payload.length);
  return out;
}

interface Chunk {
  readonly kind: string;
  readonly start: number; // payload start
  readonly end: number; // payload end
}

const isLetter = (byte: number): boolean => (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);

/** Every chunk up to IEND, CRCs checked. */
function chunks(data: Uint8Array): Chunk[] {
  if (data.length < SIGNATURE.length || !SIGNATURE.every((b, i) => data[i] === b)) {
    throw fail("the data does not start with the PNG signature", "unsupported-format");
  }
  const out: Chunk[] = [];
  let pos = SIGNATURE.length;
  const n = data.length;
  for (;;) {
    if (pos + 12 > n) throw fail("the data ends before the IEND chunk", "truncated");
    const length = u32be(data, pos);
    const name = data.subarray(pos + 4, pos + 8);
    if (length > 0x7fffffff || !name.every(isLetter)) throw fail(`invalid chunk header at offset ${pos}`);
    const kind = String.fromCharCode(...name);
    const start = pos + 8;
    const end = start + length;
    if (end + 4 > n) throw fail(`chunk '${kind}' at offset ${pos} runs past the end of the data`, "truncated");
    if (crc32(data.subarray(start, end), crc32(name)) !== u32be(data, end)) {
      throw fail(`chunk '${kind}' at offset ${pos} fails its CRC check`);
    }
    out.push({ kind, start, end });
    pos = end + 4;
    if (kind === "IEND") return out;
  }
}

function checkIhdr(payload: Uint8Array, limits: Limits): [number, number] {
  if (payload.length !== 13) throw fail("IHDR chunk has the wrong length");
  const width = u32be(payload, 0);
  const height = u32be(payload, 4);
  const depth = payload[8]!;
  const colour = payload[9]!;
  const [compression, filtering, interlace] = [payload[10]!, payload[11]!, payload[12]!];
  if (!(DEPTHS.get(colour) ?? []).includes(depth) || compression || filtering || interlace > 1) {
    throw fail("IHDR declares an invalid bit depth, colour type or method");
  }
  checkSize(width, height, limits, "the PNG header");
  return [width, height];
}

/**
 * iCCP with a fixed profile name and the profile with its text blanked (cleanIcc); null if
 * the profile is not kept. One that inflates beyond 16 MiB makes the file a decompression
 * bomb. When blanking changed nothing the compressed stream is copied as it is (nothing
 * after its end); otherwise the profile is stored uncompressed (storedZlib), as the server
 * writes it (png._icc_chunk).
 */
function iccChunk(payload: Uint8Array): Uint8Array | null {
  const nul = payload.subarray(0, 80).indexOf(0);
  if (nul < 1 || payload.length < nul + 2 || payload[nul + 1] !== 0) return null;
  const compressed = payload.subarray(nul + 2);
  const inflated = inflateCapped(compressed, MAX_ICC_BYTES);
  if (inflated.status === "over-cap") throw fail("iCCP profile inflates beyond 16 MiB", "decompression-bomb");
  if (inflated.status === "bad") return null;
  const cleaned = cleanIcc(inflated.data);
  if (cleaned === null) return null;
  // Only the zlib stream itself: bytes after its end could carry any text (DEI-1).
  const stream = equal(cleaned, inflated.data) ? compressed.subarray(0, inflated.consumed) : storedZlib(cleaned);
  return chunk("iCCP", concat([ICC_NAME, Uint8Array.of(0, 0), stream]));
}

/** `data` as a zlib stream of stored deflate blocks: the same bytes whoever writes them. */
function storedZlib(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(0x78, 0x01)];
  let start = 0;
  do {
    const block = data.subarray(start, start + 0xffff);
    const final = start + 0xffff >= data.length ? 1 : 0;
    const n = block.length;
    parts.push(Uint8Array.of(final, n & 0xff, n >>> 8, ~n & 0xff, (~n >>> 8) & 0xff), block);
    start += 0xffff;
  } while (start < data.length);
  parts.push(putU32be(adler32(data, data.length)));
  return concat(parts);
}

function checkApng(data: Uint8Array, all: readonly Chunk[], size: [number, number], limits: Limits): void {
  const frames = all.filter((c) => c.kind === "fcTL");
  const actl = all.filter((c) => c.kind === "acTL");
  if (actl.length === 0) return;
  if (actl.length > 1 || actl[0]!.end - actl[0]!.start !== 8) throw fail("APNG acTL chunk is malformed");
  const declared = u32be(data, actl[0]!.start);
  checkAnimation(Math.max(declared, frames.length), frames.length * size[0] * size[1], limits, "APNG");
  for (const { start, end } of frames) {
    if (end - start !== 26) throw fail("APNG fcTL chunk is malformed");
    const width = u32be(data, start + 4);
    const height = u32be(data, start + 8);
    const x = u32be(data, start + 12);
    const y = u32be(data, start + 16);
    if (width === 0 || height === 0 || x + width > size[0] || y + height > size[1]) {
      throw fail("APNG frame lies outside the image");
    }
  }
  const firstIdat = all.findIndex((c) => c.kind === "IDAT");
  if (!all.slice(0, firstIdat).some((c) => c.kind === "fcTL")) {
    throw fail("APNG whose default image is not part of the animation (a hidden picture)", "unsupported-feature");
  }
}

/** `data` rewritten without metadata; see the top of this file. */
export function scrubPng(data: Uint8Array, limits: Limits = DEFAULT_LIMITS): Uint8Array {
  if (data.length > limits.maxImageBytes) {
    throw fail(`input is over the ${limits.maxImageBytes}-byte limit`, "too-large");
  }
  const all = chunks(data);
  const ihdr = all[0]!;
  if (ihdr.kind !== "IHDR") throw fail("the first chunk is not IHDR");
  const size = checkIhdr(data.subarray(ihdr.start, ihdr.end), limits);
  const out: Uint8Array[] = [SIGNATURE, data.subarray(ihdr.start - 8, ihdr.end + 4)];
  let orientation = 1;
  let seenIdat = false;
  let seenIccp = false;
  let seenExif = false;
  let idatRunOver = false;
  for (let index = 1; index < all.length; index++) {
    const { kind, start, end } = all[index]!;
    const whole = data.subarray(start - 8, end + 4);
    if (kind === "IHDR") throw fail("a second IHDR chunk");
    if (kind === "IDAT") {
      if (idatRunOver) throw fail("IDAT chunks are not consecutive");
      if (!seenIdat && orientation !== 1) out.push(chunk("eXIf", orientationTiff(orientation)));
      seenIdat = true;
      out.push(whole);
      continue;
    }
    if (seenIdat) idatRunOver = true;
    if (kind === "IEND") {
      if (end !== start) throw fail("IEND chunk has content");
      if (index !== all.length - 1) throw fail("IEND is not the last chunk");
    } else if (kind === "PLTE" && seenIdat) {
      throw fail("PLTE comes after the image data");
    } else if (kind === "iCCP") {
      if (seenIccp || seenIdat) throw fail("iCCP is repeated or comes after the image data");
      seenIccp = true;
      const icc = iccChunk(data.subarray(start, end));
      if (icc !== null) out.push(icc);
    } else if (kind === "eXIf") {
      if (!seenExif && !seenIdat) orientation = orientationFromTiff(data.subarray(start, end));
      seenExif = true;
    } else if (KEEP.has(kind)) {
      out.push(whole);
    } else if (kind.charCodeAt(0) <= 0x5a) {
      throw fail(
        `unknown critical chunk '${kind}': a decoder could not show the picture without it`,
        "unsupported-feature",
      );
    }
    // Every other chunk - text, time, EXIF, sPLT, hIST, unknown ancillary - is dropped.
  }
  if (!seenIdat) throw fail("no image data (IDAT)");
  checkApng(data, all, size, limits);
  out.push(chunk("IEND", new Uint8Array(0)));
  let total = 0;
  for (const part of out) total += part.length;
  const result = new Uint8Array(total);
  let at = 0;
  for (const part of out) {
    result.set(part, at);
    at += part.length;
  }
  return result;
}
