// Structural check of ICC colour profiles, the one embedded block kept from the input (as
// src/clinphoto/imaging/icc.py): its declared size is its real size, it carries the `acsp`
// signature, and its tag table points inside the profile. Anything else is dropped.
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
  for (let index = 0; index < count; index++) {
    const entry = HEADER + 4 + 12 * index;
    const offset = u32be(profile, entry + 4);
    const length = u32be(profile, entry + 8);
    if (offset < HEADER + 4 || offset + length > size) return false;
  }
  return true;
}
