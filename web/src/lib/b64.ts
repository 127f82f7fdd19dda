// Base64 and hex exactly as the Python side writes them: base64url WITH padding for keys,
// signatures and manifest headers (base64.urlsafe_b64encode), standard base64 for sealed
// text and the device vault (base64.b64encode).

const STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function encode(b: Uint8Array, alphabet: string): string {
  let out = "";
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + alphabet[n & 63]!;
  }
  const rest = b.length - i;
  if (rest === 1) {
    const n = b[i]! << 16;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + "==";
  } else if (rest === 2) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8);
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + "=";
  }
  return out;
}

function decode(s: string, alphabet: string): Uint8Array<ArrayBuffer> {
  const body = s.endsWith("==") ? s.slice(0, -2) : s.endsWith("=") ? s.slice(0, -1) : s;
  if (body.length % 4 === 1 || (body.length !== s.length && s.length % 4 !== 0)) {
    throw new TypeError("not base64: wrong length or padding");
  }
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let at = 0;
  for (const ch of body) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new TypeError("not base64: unexpected character");
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** base64url with padding, like Python's base64.urlsafe_b64encode. */
export function b64urlEncode(b: Uint8Array): string {
  return encode(b, URL);
}

/** Bytes of base64url text (padding optional); throws a TypeError on anything else. */
export function b64urlDecode(s: string): Uint8Array<ArrayBuffer> {
  return decode(s, URL);
}

/** Standard base64 with padding, like Python's base64.b64encode. */
export function b64Encode(b: Uint8Array): string {
  return encode(b, STD);
}

/** Bytes of standard base64 text (padding optional); throws a TypeError on anything else. */
export function b64Decode(s: string): Uint8Array<ArrayBuffer> {
  return decode(s, STD);
}

/** Lower-case hex, like Python's bytes.hex(). */
export function hex(b: Uint8Array): string {
  let out = "";
  for (const v of b) out += v.toString(16).padStart(2, "0");
  return out;
}

/** Bytes of hex text (either case); throws a TypeError on anything else. */
export function fromHex(s: string): Uint8Array<ArrayBuffer> {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new TypeError("not hex");
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}
