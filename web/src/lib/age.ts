// age v1 sealing with X25519 recipients only (age1...), the kind the server's library (rage)
// reads. Sealing needs only public keys, so it works while the app is locked.

import { Decrypter, Encrypter } from "age-encryption";
import { CryptoError } from "./errors";

const X25519_RECIPIENT = /^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/;
const X25519_IDENTITY = /^AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}$/;

/** True when r is an X25519 age recipient (age1 + 58 bech32 characters). */
export function isAgeRecipient(r: string): boolean {
  return X25519_RECIPIENT.test(r);
}

/** age v1 encryption of plain to every X25519 recipient; a CryptoError for no recipient or
 * any other kind of recipient. */
export async function seal(plain: Uint8Array, recipients: string[]): Promise<Uint8Array> {
  if (recipients.length === 0 || !recipients.every(isAgeRecipient)) throw new CryptoError();
  const e = new Encrypter();
  try {
    for (const r of recipients) e.addRecipient(r);
  } catch {
    throw new CryptoError();
  }
  return await e.encrypt(plain);
}

/** The plaintext of an age file sealed to ageSecret's recipient; a CryptoError otherwise. */
export async function openSealed(ciphertext: Uint8Array, ageSecret: string): Promise<Uint8Array> {
  if (!X25519_IDENTITY.test(ageSecret)) throw new CryptoError();
  try {
    const d = new Decrypter();
    d.addIdentity(ageSecret);
    return await d.decrypt(ciphertext);
  } catch {
    throw new CryptoError();
  }
}
