// Small byte helpers shared by the crypto modules.

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 bytes of a string (lone surrogates become U+FFFD, as TextEncoder does). */
export function utf8(s: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(s);
}

/** A string from UTF-8 bytes; throws a TypeError on invalid UTF-8. */
export function fromUtf8(b: Uint8Array): string {
  return decoder.decode(b);
}

/** The bytes as a WebCrypto BufferSource (copied only when not backed by an ArrayBuffer). */
export function buf(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b.buffer instanceof ArrayBuffer ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b);
}

/** The concatenation of byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** n bytes from the platform's CSPRNG. */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** True when a starts with the bytes of prefix. */
export function startsWith(a: Uint8Array, prefix: Uint8Array): boolean {
  return a.length >= prefix.length && prefix.every((v, i) => a[i] === v);
}
