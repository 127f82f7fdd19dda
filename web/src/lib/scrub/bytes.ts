// Small helpers over Uint8Array used by the JPEG and PNG scrubbers.

/** The bytes of an ASCII string (Latin-1 for code points under 256). */
export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** Whether `data` holds `prefix` at offset `at` (Python's `bytes.startswith(prefix, at)`). */
export function startsWith(data: Uint8Array, prefix: Uint8Array, at = 0): boolean {
  if (at < 0 || at + prefix.length > data.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[at + i] !== prefix[i]) return false;
  return true;
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && startsWith(a, b, 0);
}

export function u16be(data: Uint8Array, at: number): number {
  return (data[at]! << 8) | data[at + 1]!;
}

export function u32be(data: Uint8Array, at: number): number {
  return ((data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!) >>> 0;
}

export function u16le(data: Uint8Array, at: number): number {
  return data[at]! | (data[at + 1]! << 8);
}

export function u32le(data: Uint8Array, at: number): number {
  return (data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24)) >>> 0;
}

export function putU16be(value: number): Uint8Array {
  return Uint8Array.of((value >>> 8) & 0xff, value & 0xff);
}

export function putU32be(value: number): Uint8Array {
  return Uint8Array.of((value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}

/** The pieces one after the other in one new array. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
