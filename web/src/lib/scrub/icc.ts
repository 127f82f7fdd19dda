// Structural check of ICC colour profiles, the one embedded block kept from the input (as
// src/clinphoto/imaging/icc.py): its declared size is its real size, it carries the `acsp`
// signature, its tag table points inside the profile, and every byte that is not zero
// belongs to the header, the tag table or a tag. Anything else is dropped. What is kept is
// the colour, not the words: cleanIcc blanks every text in place, as clean_icc does, byte for
// byte (the parity test in tests/corpus/test_web_scrub_parity.py compares the two).
import { ascii, u32be } from "./bytes";

export const MAX_ICC_BYTES = 16 * 1024 * 1024;
const HEADER = 128;

export function validIcc(profile: Uint8Array): boolean {
  if (profile.length < HEADER + 4 || profile.length > MAX_ICC_BYTES) return false;
  const size = u32be(profile, 0);
  if (size !== profile.length) return false;
  if (profile[36] !== 0x61 || profile[37] !== 0x63 || profile[38] !== 0x73 || profile[39] !== 0x70) {
    return false; // "acsp"
  }
  const count = u32be(profile, HEADER);
  if (HEADER + 4 + 12 * count > size) return false;
  const spans: [number, number][] = [[0, HEADER + 4 + 12 * count]];
  for (let index = 0; index < count; index++) {
    const entry = HEADER + 4 + 12 * index;
    const offset = u32be(profile, entry + 4);
    const length = u32be(profile, entry + 8);
    if (offset < HEADER + 4 || offset + length > size) return false;
    spans.push([offset, offset + length]);
  }
  return !stray(profile, spans);
}

/** Whether a byte outside `spans` (the header, the table, the tags) is not zero. */
function stray(profile: Uint8Array, spans: [number, number][]): boolean {
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let covered = 0;
  for (const [start, stop] of spans) {
    for (let i = covered; i < start; i++) if (profile[i] !== 0) return true;
    covered = Math.max(covered, stop);
  }
  for (let i = covered; i < profile.length; i++) if (profile[i] !== 0) return true;
  return false;
}

const types = (names: string): Set<number> => new Set(names.split(",").map((name) => u32be(ascii(name), 0)));
// Tag types made of numbers that colour engines read: kept as they are (as _NUMERIC_TYPES).
const NUMERIC_TYPES = types(
  "XYZ ,curv,para,sf32,uf32,ui08,ui16,ui32,ui64,meas,sig ,mft1,mft2,mAB ,mBA ,view,chrm,clro,mpet,cicp,vcgt,ndin,scrn,rcs2",
);
// Tag types that hold text, dates or a device's identity: blanked (as _TEXT_TYPES).
const TEXT_TYPES = types("desc,text,mluc,data,dtim,mmod,utf8,ut16,zut8,dict,ncl2,clrt,pseq,psid,crdi,devs,bfd ");
const MLUC = u32be(ascii("mluc"), 0);
const DESC = u32be(ascii("desc"), 0);

/**
 * `profile` with its text blanked, or null when it is not kept (as clean_icc in
 * src/clinphoto/imaging/icc.py): null unless it is valid, every tag starts after the tag
 * table, holds at least its type and reserved bytes, and is of a numeric or a text type,
 * and no text tag overlaps another tag (other than the very same bytes).
 * Zeros in the creation date, the profile ID and the header's reserved bytes, every tag's
 * reserved bytes, and the content of every text tag.
 */
export function cleanIcc(profile: Uint8Array): Uint8Array | null {
  if (!validIcc(profile)) return null;
  const count = u32be(profile, HEADER);
  const tableEnd = HEADER + 4 + 12 * count;
  const tags: [number, number, number][] = [];
  for (let index = 0; index < count; index++) {
    const entry = HEADER + 4 + 12 * index;
    const offset = u32be(profile, entry + 4);
    const length = u32be(profile, entry + 8);
    if (offset < tableEnd || length < 8) return null;
    const kind = u32be(profile, offset);
    if (!NUMERIC_TYPES.has(kind) && !TEXT_TYPES.has(kind)) return null;
    tags.push([offset, length, kind]);
  }
  if (textOverlaps(tags)) return null;
  const out = profile.slice();
  out.fill(0, 24, 36); // the creation date
  out.fill(0, 84, 128); // the profile ID and the reserved bytes
  for (const [offset, length, kind] of tags) {
    out.fill(0, offset + 4, offset + 8);
    if (TEXT_TYPES.has(kind)) blank(out, offset, length, kind);
  }
  return out;
}

/** Whether a text tag's bytes overlap another tag's, other than the very same bytes (as
 * _text_overlaps): of the distinct spans in order of start then end, one overlaps another
 * when one before it reaches past its start, or the next one starts before its end. */
function textOverlaps(tags: readonly [number, number, number][]): boolean {
  const text = new Set(tags.filter(([, , kind]) => TEXT_TYPES.has(kind)).map(([o, n]) => `${o},${o + n}`));
  const spans = tags.map(([o, n]): [number, number] => [o, o + n]);
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const distinct = spans.filter((span, i) => i === 0 || span[0] !== spans[i - 1]![0] || span[1] !== spans[i - 1]![1]);
  let reach = 0;
  for (let i = 0; i < distinct.length; i++) {
    const [start, end] = distinct[i]!;
    const next = distinct[i + 1];
    if (text.has(`${start},${end}`) && (reach > start || (next !== undefined && next[0] < end))) return true;
    reach = Math.max(reach, end);
  }
  return false;
}

/** Zero a text tag's content, leaving an empty text of its type (as _blank). */
function blank(out: Uint8Array, offset: number, length: number, kind: number): void {
  const end = offset + length;
  if (kind === MLUC && length >= 16) {
    const count = u32be(out, offset + 8);
    const size = u32be(out, offset + 12);
    const tableEnd = offset + 16 + 12 * count;
    if (size === 12 && tableEnd <= end) {
      for (let record = offset + 16; record < tableEnd; record += 12) out.fill(0, record, record + 4);
      out.fill(0, tableEnd, end);
      return;
    }
  }
  out.fill(0, offset + 8, end);
  if (kind === DESC && length >= 13) out[offset + 11] = 1;
}
