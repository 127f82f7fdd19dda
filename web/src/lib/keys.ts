// The device's keys: an age X25519 identity (what photos are sealed to) and an Ed25519
// signing key (manifests, sign-in, receipts), as the Python client makes them.
// Signing uses WebCrypto Ed25519 where the browser has it and @noble/curves otherwise; both
// follow RFC 8032, and only RFC 8032 verification is accepted (S below the group order, no
// ZIP-215 leniency), as Python's `cryptography` does. Safari's WebCrypto adds randomness to
// Ed25519 signatures (still valid RFC 8032 signatures, verified the same way), so signature
// bytes are compared with Python's only in the test suites, which run on Node.

import { ed25519 } from "@noble/curves/ed25519.js";
import { generateX25519Identity, identityToRecipient } from "age-encryption";
import { b64urlDecode, b64urlEncode, hex } from "./b64";
import { buf, concat, randomBytes, utf8 } from "./bytes";
import { CryptoError } from "./errors";

/** A device's keys as they are made at enrolment; only the secrets go into the Vault. */
export interface DeviceKeys {
  ageSecret: string; // AGE-SECRET-KEY-1...
  ageRecipient: string; // age1...
  signingSeed: Uint8Array; // the raw 32-byte Ed25519 seed
  signingPublic: string; // base64url of the raw 32-byte public key
}

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): WebCrypto imports private keys only so.
const PKCS8_ED25519 = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/** Make a new device identity: an X25519 age identity (never the post-quantum kind, which
 * the server's age library cannot read) and an Ed25519 seed. */
export async function generateDeviceKeys(): Promise<DeviceKeys> {
  const ageSecret = await generateX25519Identity();
  const ageRecipient = await identityToRecipient(ageSecret);
  const signingSeed = randomBytes(32);
  return { ageSecret, ageRecipient, signingSeed, signingPublic: signingPublic(signingSeed) };
}

/** The base64url public key of a 32-byte Ed25519 seed. */
export function signingPublic(seed: Uint8Array): string {
  if (seed.length !== 32) throw new CryptoError();
  return b64urlEncode(ed25519.getPublicKey(seed));
}

/** Ed25519 signature (base64url with padding) of message under the 32-byte seed. */
export async function sign(seed: Uint8Array, message: Uint8Array): Promise<string> {
  if (seed.length !== 32) throw new CryptoError();
  let key: CryptoKey | null = null;
  try {
    key = await crypto.subtle.importKey("pkcs8", concat(PKCS8_ED25519, seed), { name: "Ed25519" }, false, [
      "sign",
    ]);
  } catch {
    key = null; // no WebCrypto Ed25519 here: RFC 8032 in JavaScript gives the same bytes
  }
  if (key === null) return b64urlEncode(ed25519.sign(message, seed));
  return b64urlEncode(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, buf(message))));
}

/** True only for a valid Ed25519 signature; malformed input of any kind is simply false. */
export async function verify(publicKey: string, message: Uint8Array, signature: string): Promise<boolean> {
  let pub: Uint8Array;
  let sig: Uint8Array;
  try {
    pub = b64urlDecode(publicKey);
    sig = b64urlDecode(signature);
  } catch {
    return false;
  }
  if (pub.length !== 32 || sig.length !== 64) return false;
  let key: CryptoKey | null = null;
  try {
    key = await crypto.subtle.importKey("raw", buf(pub), { name: "Ed25519" }, false, ["verify"]);
  } catch {
    key = null; // no WebCrypto Ed25519, or a key it cannot parse: the JavaScript check decides
  }
  if (key !== null) {
    try {
      return await crypto.subtle.verify({ name: "Ed25519" }, key, buf(sig), buf(message));
    } catch {
      return false;
    }
  }
  try {
    return ed25519.verify(sig, message, pub, { zip215: false });
  } catch {
    return false;
  }
}

/** SHA-256 of data, lower-case hex. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", buf(data))));
}

/** A human-comparable fingerprint of a device's public keys (shown before sharing): the
 * first 32 hex digits of SHA-256 over the keys joined by newlines, upper case, in fours. */
export async function fingerprint(...publicKeys: string[]): Promise<string> {
  const digest = (await sha256Hex(utf8(publicKeys.join("\n")))).slice(0, 32).toUpperCase();
  return digest.match(/.{4}/g)!.join(" ");
}

/** The server's keyed lookup token for an identifier: HMAC-SHA256(key, kind 0x1F value),
 * hex. The app never holds the server's key; this is here so both suites check one rule. */
export async function blindIndex(key: Uint8Array, kind: string, value: string): Promise<string> {
  const k = await crypto.subtle.importKey("raw", buf(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", k, concat(utf8(kind), new Uint8Array([0x1f]), utf8(value)));
  return hex(new Uint8Array(mac));
}
