// Device grants on the phone (decision 011), byte for byte as the Python client writes them
// (crypto/_agehdr.py, crypto/_primitives.py grant_header and file_key, client/grants.py).
//
// An age file is a header and a payload; every stanza of the header wraps the same 16-byte
// file key, and the payload depends only on that key. A device that can open an object
// unwraps the file key from its own X25519 stanza and writes a grant: a new header wrapping
// the key for another device of the same user, with the header MAC. The server puts the
// grant in front of the stored payload when that device downloads the object. No photo is
// downloaded, decrypted or uploaded again.
//
// Followed to the letter (C2SP age.md, "age-encryption.org/v1"): stanza bodies in unpadded
// standard base64 in lines of 64 columns ended by a shorter line; X25519 stanza body =
// ChaCha20-Poly1305 (zero nonce) of the file key under HKDF-SHA256(shared secret,
// salt = ephemeral share || recipient, info "age-encryption.org/v1/X25519"); MAC =
// HMAC-SHA256 under HKDF-SHA256(file key, no salt, info "header") over the header through
// "---". Every failure is a CryptoError, which says nothing about why.

import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { b64Decode, b64Encode } from "./b64";
import { buf, concat, utf8 } from "./bytes";
import { CryptoError } from "./errors";

const INTRO = utf8("age-encryption.org/v1\n");
const X25519_LABEL = utf8("age-encryption.org/v1/X25519");
const HEADER_LABEL = utf8("header");
const MAC_MARK = utf8("\n--- ");
const NL = 0x0a;
const COLUMNS = 64;
/** Bounds for reading a header someone else wrote, as the Python side's. */
export const MAX_HEADER_BYTES = 16 * 1024;
const MAX_STANZAS = 64;
export const FILE_KEY_BYTES = 16;
const ZERO_NONCE = new Uint8Array(12);
const B64_CHARS = /^[A-Za-z0-9+/]*$/;

// --- encodings ----------------------------------------------------------------------------

/** Unpadded standard base64, as age writes it. */
export function ageB64Encode(data: Uint8Array): string {
  return b64Encode(data).replace(/=+$/, "");
}

/** Canonical unpadded standard base64, as age requires; anything else is refused. */
export function ageB64Decode(text: string): Uint8Array {
  if (!B64_CHARS.test(text) || text.length % 4 === 1) throw new CryptoError();
  let data: Uint8Array;
  try {
    data = b64Decode(text + "=".repeat((4 - (text.length % 4)) % 4));
  } catch {
    throw new CryptoError();
  }
  if (ageB64Encode(data) !== text) throw new CryptoError(); // non-zero trailing bits
  return data;
}

const BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BECH32_GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = (((chk & 0x1ffffff) << 5) ^ v) >>> 0;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk = (chk ^ BECH32_GEN[i]!) >>> 0;
  }
  return chk;
}

/** The bytes a Bech32 string (BIP 173 without its length limit, as age uses it) holds under
 * human-readable part hrp. */
export function bech32Decode(text: string, hrp: string): Uint8Array {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) throw new CryptoError();
  const low = text.toLowerCase();
  const sep = low.lastIndexOf("1");
  const prefix = low.slice(0, Math.max(sep, 0));
  const rest = low.slice(sep + 1);
  if (sep < 0 || prefix !== hrp || rest.length < 6 || [...rest].some((c) => !BECH32.includes(c))) {
    throw new CryptoError();
  }
  const data = [...rest].map((c) => BECH32.indexOf(c));
  const expanded = [...prefix].map((c) => c.charCodeAt(0) >> 5);
  expanded.push(0, ...[...prefix].map((c) => c.charCodeAt(0) & 31));
  if (polymod([...expanded, ...data]) !== 1) throw new CryptoError();
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  for (const v of data.slice(0, -6)) {
    acc = ((acc << 5) | v) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  if (bits >= 5 || acc & ((1 << bits) - 1)) throw new CryptoError(); // padding too long or not zero
  return new Uint8Array(out);
}

/** The 32-byte public key of an age1... recipient. */
export function recipientBytes(recipient: string): Uint8Array {
  const raw = bech32Decode(recipient, "age");
  if (raw.length !== 32) throw new CryptoError();
  return raw;
}

/** The 32-byte scalar of an AGE-SECRET-KEY-1... identity. */
export function identityBytes(secret: string): Uint8Array {
  const raw = bech32Decode(secret, "age-secret-key-");
  if (raw.length !== 32) throw new CryptoError();
  return raw;
}

// --- parsing ------------------------------------------------------------------------------

/** One recipient stanza: its type (X25519), further arguments, and decoded body. */
export interface Stanza {
  type: string;
  args: string[];
  body: Uint8Array;
}

/** A parsed header: its stanzas, its MAC, and the bytes the MAC covers. */
export interface AgeHeader {
  stanzas: Stanza[];
  mac: Uint8Array;
  macInput: Uint8Array;
}

function ascii(b: Uint8Array): string {
  let s = "";
  for (const v of b) s += String.fromCharCode(v);
  return s;
}

function argOk(arg: string): boolean {
  return arg.length > 0 && [...arg].every((c) => c.charCodeAt(0) >= 0x21 && c.charCodeAt(0) <= 0x7e);
}

function indexOf(data: Uint8Array, needle: Uint8Array, from: number, end: number): number {
  outer: for (let i = from; i + needle.length <= end; i++) {
    for (let j = 0; j < needle.length; j++) if (data[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Check that header is exactly one age v1 header (ending with its MAC line) and return its
 * parts. With x25519Only (what a grant may hold) any other stanza type is refused; without
 * it, other types (age's "grease") are kept as read. The MAC is checked by fileKey. */
export function parseHeader(header: Uint8Array, x25519Only = true): AgeHeader {
  if (header.length > MAX_HEADER_BYTES || indexOf(header, INTRO, 0, INTRO.length) !== 0) throw new CryptoError();
  if (header[header.length - 1] !== NL) throw new CryptoError();
  const text = ascii(header.subarray(0, header.length - 1));
  const lines = text.split("\n");
  const stanzas: Stanza[] = [];
  let i = 1;
  while (i < lines.length && lines[i]!.startsWith("-> ")) {
    const args = lines[i]!.slice(3).split(" ");
    let body = "";
    for (;;) {
      i += 1;
      const line = lines[i];
      if (line === undefined || line.length > COLUMNS) throw new CryptoError();
      body += line;
      if (line.length < COLUMNS) break;
    }
    if (!args.every(argOk)) throw new CryptoError();
    const [type, ...rest] = args as [string, ...string[]];
    const decoded = ageB64Decode(body);
    if (type === "X25519" && (rest.length !== 1 || ageB64Decode(rest[0]!).length !== 32 || decoded.length !== 32)) {
      throw new CryptoError();
    }
    stanzas.push({ type, args: rest, body: decoded });
    i += 1;
  }
  const last = lines[i];
  if (stanzas.length === 0 || stanzas.length > MAX_STANZAS || i !== lines.length - 1 || !last?.startsWith("--- ")) {
    throw new CryptoError();
  }
  if (x25519Only && stanzas.some((s) => s.type !== "X25519")) throw new CryptoError();
  const mac = ageB64Decode(last.slice(4));
  if (mac.length !== 32) throw new CryptoError();
  const macInput = header.subarray(0, header.length - last.length - 1 + 3);
  return { stanzas, mac, macInput };
}

/** An age file's header (through its MAC line's newline) and its payload. Only the header's
 * outline is found here; parseHeader checks it. */
export function splitAge(data: Uint8Array): [Uint8Array, Uint8Array] {
  if (indexOf(data, INTRO, 0, INTRO.length) !== 0) throw new CryptoError();
  const limit = Math.min(data.length, MAX_HEADER_BYTES);
  const mark = indexOf(data, MAC_MARK, 0, limit);
  const end = mark >= 0 ? data.subarray(0, limit).indexOf(NL, mark + 1) : -1;
  if (end < 0) throw new CryptoError();
  return [data.subarray(0, end + 1), data.subarray(end + 1)];
}

// --- the cryptography -----------------------------------------------------------------------

function headerMac(fileKey: Uint8Array, macInput: Uint8Array): Uint8Array {
  return hmac(sha256, hkdf(sha256, fileKey, new Uint8Array(0), HEADER_LABEL, 32), macInput);
}

// X25519 through WebCrypto where the browser has it (Chromium 133, Safari 17, Firefox 130,
// Node 20): native, some fifty times faster than JavaScript, which matters for a user with
// thousands of photos; @noble/curves otherwise. Both follow RFC 7748 and give the same bytes.
const PKCS8_X25519 = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);
let webX25519: Promise<boolean> | null = null;

function hasWebX25519(): Promise<boolean> {
  webX25519 ??= crypto.subtle.generateKey({ name: "X25519" }, false, ["deriveBits"]).then(
    () => true,
    () => false,
  );
  return webX25519;
}

/** Tests only: force the JavaScript X25519 (false), WebCrypto's (true), or probe again (null). */
export function useWebCryptoX25519(on: boolean | null): void {
  webX25519 = on === null ? null : Promise.resolve(on);
}

/** Agree with public keys from one private key: a scalar, or a WebCrypto key. */
type Agree = (publicKey: Uint8Array) => Promise<Uint8Array>;

async function agreeFrom(secret: Uint8Array | CryptoKey): Promise<Agree> {
  if (secret instanceof Uint8Array && !(await hasWebX25519())) {
    return async (pub) => x25519.getSharedSecret(secret, pub);
  }
  const key =
    secret instanceof Uint8Array
      ? await crypto.subtle.importKey("pkcs8", concat(PKCS8_X25519, secret), { name: "X25519" }, false, ["deriveBits"])
      : secret;
  return async (pub) => {
    const other = await crypto.subtle.importKey("raw", buf(pub), { name: "X25519" }, false, []);
    return new Uint8Array(await crypto.subtle.deriveBits({ name: "X25519", public: other }, key, 256));
  };
}

async function exchange(agree: Agree, publicKey: Uint8Array): Promise<Uint8Array> {
  let shared: Uint8Array;
  try {
    shared = await agree(publicKey);
  } catch {
    throw new CryptoError(); // a low-order point, or a key that is not one
  }
  if (shared.every((b) => b === 0)) throw new CryptoError();
  return shared;
}

/** A fresh ephemeral key pair: the function that agrees with it, and its public share. */
async function ephemeral(fixed: Uint8Array | undefined): Promise<[Agree, Uint8Array]> {
  if (fixed === undefined && (await hasWebX25519())) {
    const pair = (await crypto.subtle.generateKey({ name: "X25519" }, false, ["deriveBits"])) as CryptoKeyPair;
    return [await agreeFrom(pair.privateKey), new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey))];
  }
  const scalar = fixed ?? x25519.utils.randomSecretKey();
  return [await agreeFrom(scalar), x25519.getPublicKey(scalar)];
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** The public key of an age identity (one X25519 multiplication: compute it once per run). */
export function identityPublic(ageSecret: string): Uint8Array {
  return x25519.getPublicKey(identityBytes(ageSecret));
}

/** The 16-byte file key of an age header, unwrapped from ageSecret's X25519 stanza and
 * checked against the header's MAC; a CryptoError when no stanza is for it or anything fails
 * to check (what a grant re-wraps). `own` is identityPublic(ageSecret), when known. */
export async function fileKey(header: Uint8Array, ageSecret: string, own?: Uint8Array): Promise<Uint8Array> {
  const parsed = parseHeader(header, false);
  const scalar = identityBytes(ageSecret);
  const pub = own ?? x25519.getPublicKey(scalar);
  const agree = await agreeFrom(scalar);
  for (const stanza of parsed.stanzas) {
    if (stanza.type !== "X25519") continue;
    const share = ageB64Decode(stanza.args[0]!);
    const wrap = hkdf(sha256, await exchange(agree, share), concat(share, pub), X25519_LABEL, 32);
    let key: Uint8Array;
    try {
      key = chacha20poly1305(wrap, ZERO_NONCE).decrypt(stanza.body);
    } catch {
      continue; // addressed to somebody else
    }
    if (key.length !== FILE_KEY_BYTES || !equal(headerMac(key, parsed.macInput), parsed.mac)) throw new CryptoError();
    return key;
  }
  throw new CryptoError();
}

/** A new age v1 header wrapping fileKey for each X25519 recipient (a fresh ephemeral key for
 * each stanza), with its MAC: put it in front of the original payload. `ephemerals` fixes the
 * ephemeral scalars, for test vectors only. */
export async function grantHeader(
  fileKey: Uint8Array,
  recipients: string[],
  ephemerals?: Uint8Array[],
): Promise<Uint8Array> {
  if (fileKey.length !== FILE_KEY_BYTES || recipients.length === 0) throw new CryptoError();
  if (ephemerals !== undefined && ephemerals.length !== recipients.length) throw new CryptoError();
  const lines = ["age-encryption.org/v1"];
  for (const [n, recipient] of recipients.entries()) {
    const pub = recipientBytes(recipient);
    const [agree, share] = await ephemeral(ephemerals?.[n]);
    const wrap = hkdf(sha256, await exchange(agree, pub), concat(share, pub), X25519_LABEL, 32);
    const body = chacha20poly1305(wrap, ZERO_NONCE).encrypt(fileKey);
    // 32 bytes of body are 43 columns: always one line, shorter than 64.
    lines.push(`-> X25519 ${ageB64Encode(share)}`, ageB64Encode(body));
  }
  const macInput = utf8(`${lines.join("\n")}\n---`);
  return concat(macInput, utf8(` ${ageB64Encode(headerMac(fileKey, macInput))}\n`));
}

// --- the flow: what a new device is missing, granted from this one ---------------------------

export type GrantField = "content" | "caption_sealed" | "message_sealed" | "patient_sealed";

/** An object the new device cannot open, as GET /v1/devices/{id}/missing-grants lists it. */
export interface MissingGrant {
  kind: "media" | "share";
  object_id: string;
  media_kind: string;
  fields: GrantField[];
  headers: Partial<Record<GrantField, string>>; // base64 (standard, padded) of each header
}

/** One grant as POST /v1/devices/{id}/grants takes it. */
export interface GrantIn {
  object_id: string;
  kind: "media" | "share";
  field: GrantField;
  header: string;
}

/** The two grant routes, as the app's API client provides them. */
export interface GrantsApi {
  missingGrants(deviceId: string, after: string | null, limit: number): Promise<{ items: MissingGrant[]; next_after: string | null }>;
  postGrants(deviceId: string, grants: GrantIn[]): Promise<{ granted: number; existing: number }>;
}

export interface GrantReport {
  granted: number;
  existing: number;
  objects: number; // objects examined that needed something
  unopenable: string[]; // "kind id" of objects this device cannot open either
}

export const PAGE = 100;
/** A batch stays well inside the API's JSON body limit (64 KiB by default), as the CLI's. */
export const BATCH = 100;

/** The grants for one listed object, and whether every field could be unwrapped. */
export async function grantsFor(
  item: MissingGrant,
  ageSecret: string,
  recipient: string,
  own?: Uint8Array,
): Promise<[GrantIn[], boolean]> {
  const grants: GrantIn[] = [];
  let complete = true;
  for (const [name, headerB64] of Object.entries(item.headers) as [GrantField, string][]) {
    let key: Uint8Array;
    try {
      key = await fileKey(b64Decode(headerB64), ageSecret, own);
    } catch {
      complete = false; // sealed before this device existed too, or not to it
      continue;
    }
    const header = await grantHeader(key, [recipient]);
    key.fill(0);
    grants.push({ object_id: item.object_id, kind: item.kind, field: name, header: b64Encode(header) });
  }
  return [grants, complete];
}

/** Page through what deviceId is missing and grant all this device can open; safe to run
 * again (the server counts what it already holds as "existing"). */
export async function grantDevice(
  api: GrantsApi,
  o: { deviceId: string; recipient: string; ageSecret: string; onProgress?: (r: GrantReport) => void },
): Promise<GrantReport> {
  recipientBytes(o.recipient); // refuse a malformed recipient before anything is sent
  const own = identityPublic(o.ageSecret);
  const report: GrantReport = { granted: 0, existing: 0, objects: 0, unopenable: [] };
  let after: string | null = null;
  for (;;) {
    const page = await api.missingGrants(o.deviceId, after, PAGE);
    const pending: GrantIn[] = [];
    for (const item of page.items) {
      report.objects += 1;
      const [grants, complete] = await grantsFor(item, o.ageSecret, o.recipient, own);
      if (!complete) report.unopenable.push(`${item.kind} ${item.object_id}`);
      pending.push(...grants);
    }
    for (let i = 0; i < pending.length; i += BATCH) {
      const done = await api.postGrants(o.deviceId, pending.slice(i, i + BATCH));
      report.granted += done.granted;
      report.existing += done.existing;
    }
    o.onProgress?.({ ...report, unopenable: [...report.unopenable] });
    after = page.next_after;
    if (after === null) return report;
  }
}
