// The canonical bytes of a manifest: what the author's device signs and the server verifies.
// Byte for byte the text of Python's protocol.encode_manifest, i.e.
//   json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
// - keys sorted by Unicode code point (Python's str order), NOT by UTF-16 unit: an emoji key
//   sorts after U+FF01 even though its first UTF-16 unit (0xD83D) is smaller;
// - every character outside ASCII 0x20-0x7E written as \uXXXX (lower-case hex), astral
//   characters as their two surrogates; \" \\ \b \f \n \r \t in short form;
// - numbers: integers only, within +-(2**53 - 1). A JavaScript number cannot tell 1 from
//   1.0 (Python writes "1.0"), so anything else is refused rather than signed differently.
// The shared vectors in tests/vectors/canonical.json hold the traps.

import { b64urlDecode, b64urlEncode } from "./b64";
import { fromUtf8, utf8 } from "./bytes";

const MAX_DEPTH = 64;

/** Compare two strings by Unicode code point, as Python compares str. */
export function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(j)!;
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  if (i >= a.length) return j >= b.length ? 0 : -1;
  return 1;
}

const SHORT: Record<number, string> = {
  0x22: '\\"',
  0x5c: "\\\\",
  0x08: "\\b",
  0x0c: "\\f",
  0x0a: "\\n",
  0x0d: "\\r",
  0x09: "\\t",
};

function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const short = SHORT[c];
    if (short !== undefined) out += short;
    else if (c >= 0x20 && c <= 0x7e) out += s[i];
    else out += "\\u" + c.toString(16).padStart(4, "0");
  }
  return out + '"';
}

function write(value: unknown, out: string[], depth: number): void {
  if (depth > MAX_DEPTH) throw new TypeError("canonical JSON: nested too deeply");
  if (value === null) {
    out.push("null");
  } else if (value === true || value === false) {
    out.push(value ? "true" : "false");
  } else if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new TypeError("canonical JSON: only integers within +-(2**53 - 1)");
    }
    out.push(String(value)); // -0 is written "0", as Python writes int(-0)
  } else if (typeof value === "string") {
    out.push(quote(value));
  } else if (Array.isArray(value)) {
    out.push("[");
    value.forEach((item, i) => {
      if (i > 0) out.push(",");
      if (item === undefined) throw new TypeError("canonical JSON: undefined in an array");
      write(item, out, depth + 1);
    });
    out.push("]");
  } else if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError("canonical JSON: only plain objects, arrays and primitives");
    }
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).sort(compareCodePoints);
    out.push("{");
    keys.forEach((key, i) => {
      const item = obj[key];
      if (item === undefined) throw new TypeError(`canonical JSON: ${key} is undefined`);
      if (i > 0) out.push(",");
      out.push(quote(key), ":");
      write(item, out, depth + 1);
    });
    out.push("}");
  } else {
    throw new TypeError(`canonical JSON: cannot encode a ${typeof value}`);
  }
}

/** The canonical JSON text of a value: equal to Python's encode_manifest(value).decode(). */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out, 0);
  return out.join("");
}

/** The canonical bytes of a manifest: what the device signs (ASCII only). */
export function encodeManifest(m: Record<string, unknown>): Uint8Array<ArrayBuffer> {
  return utf8(canonicalJson(m));
}

/** The X-Clinphoto-Manifest header value: base64url with padding of the manifest bytes. */
export function manifestHeader(bytes: Uint8Array): string {
  return b64urlEncode(bytes);
}

/** The signed bytes and the parsed manifest of a header value; throws a TypeError when it is
 * not base64url of a JSON object. */
export function readManifestHeader(value: string): {
  bytes: Uint8Array<ArrayBuffer>;
  manifest: Record<string, unknown>;
} {
  const bytes = b64urlDecode(value);
  const parsed = JSON.parse(fromUtf8(bytes)) as unknown;
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new TypeError("the manifest is not an object");
  }
  return { bytes, manifest: parsed as Record<string, unknown> };
}
