// Argon2id for the device vault (STO-3), as Python's crypto.derive_vault_key: a raw 32-byte
// key from the passcode (UTF-8, not normalised) and a 16-byte salt. hash-wasm computes it
// in WebAssembly, single-threaded (so p=1 costs least for the same memory). It is imported
// when a key is derived, not with this module: the app's first load does not carry it
// (the unlock runs it in kdf-worker-entry.ts, whose own bundle holds it).

import { CryptoError } from "./errors";

/** Argon2id cost: t passes, m KiB of memory, p lanes. */
export interface KdfParams {
  t: number;
  m: number;
  p: number;
}

/** The web app's setting: 3 passes over 64 MiB, one lane (webapp research, section 1.3). */
export const WEB_KDF: KdfParams = { t: 3, m: 65536, p: 1 };

/** The weakest stored setting an unlock accepts: a vault record whose parameters fall below
 * this was downgraded by someone else, and is refused. 46 MiB allows a slower phone to trade
 * memory for passes; nothing accepts fewer than 3 passes. */
export const KDF_FLOOR: KdfParams = { t: 3, m: 46 * 1024, p: 1 };

/** True when p is a valid Argon2id setting at least as costly as floor in every dimension. */
export function meetsFloor(p: KdfParams, floor: KdfParams): boolean {
  const ints = [p.t, p.m, p.p].every((v) => Number.isSafeInteger(v) && v > 0);
  return ints && p.m >= 8 * p.p && p.t >= floor.t && p.m >= floor.m && p.p >= floor.p;
}

/** A 32-byte key from the passcode (STO-3); the key itself is never stored. */
export async function deriveVaultKey(passcode: string, salt: Uint8Array, p: KdfParams): Promise<Uint8Array> {
  if (salt.length < 16 || !meetsFloor(p, { t: 1, m: 8, p: 1 })) throw new CryptoError();
  const { argon2id } = await import("./kdf-argon2");
  return await argon2id({
    password: passcode,
    salt,
    iterations: p.t,
    memorySize: p.m,
    parallelism: p.p,
    hashLength: 32,
    outputType: "binary",
  });
}
