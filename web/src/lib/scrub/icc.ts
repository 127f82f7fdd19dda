// Structural check of ICC colour profiles, the one embedded block kept from the input (as
// src/clinphoto/imaging/icc.py): its declared size is its real size, it carries the `acsp`
// signature, its tag table points inside the profile, and every byte that is not zero
// belongs to the header, the tag table or a tag. Anything else is dropped.
import { u32be } from "./bytes";

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
