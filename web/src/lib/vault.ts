// The device's secrets at rest (STO-3): its age identity, Ed25519 seed, ids and session
// token, sealed with AES-256-GCM under a key derived from the app passcode by Argon2id.
//
// The record is the same document the CLI writes to vault.json (client/profile.py), kept in
// IndexedDB ("clinphoto", store "vault", key "device"); either client opens the other's.
// Nothing else is stored: no passcode verifier (a wrong passcode is an AES-GCM failure), no
// CryptoKey (Safari cannot read some back, and a stored key is a stored key), no plaintext.
// While unlocked, the derived key is held in memory only, as a non-extractable CryptoKey, so
// a new session token can be re-sealed without asking for the passcode again; lock() drops it.
//
// The count of wrong passcodes sits beside the ciphertext: it deters guessing through the
// app (the 10th wrong one wipes the database), not someone who copies the files, whom the
// Argon2id cost and KDF_FLOOR slow down. An attempt is counted before the slow derivation
// starts, so closing the page mid-attempt does not reset it.

import { b64Decode, b64Encode } from "./b64";
import { buf, concat, fromUtf8, randomBytes, utf8 } from "./bytes";
import { deleteDatabase, openDb } from "./db";
import { CryptoError } from "./errors";
import { deriveVaultKey, KDF_FLOOR, meetsFloor, WEB_KDF, type KdfParams } from "./kdf";
import { deriveInWorker } from "./kdf-worker";

export { deriveVaultKey, KDF_FLOOR, WEB_KDF, type KdfParams };

/** Wrong passcodes in a row after which the vault (the whole database) is wiped. */
export const MAX_FAILED_UNLOCKS = 10;
/** The shortest passcode accepted, as the CLI's check_passcode. */
export const MIN_PASSCODE_LENGTH = 6;
/** The AES-GCM associated data of the vault, as the CLI's. */
export const VAULT_CONTEXT = utf8("clinphoto-device-vault-v1");
const FORMAT = "clinphoto-device-vault-v1";
const RECORD_KEY = "device";

/** What the vault seals: everything the app needs to act as this device. */
export interface DeviceSecrets {
  server: string;
  userId: string;
  email: string;
  deviceId: string;
  ageSecret: string;
  signingSeed: string; // base64 of the 32-byte Ed25519 seed
  token: string;
}

/** The stored record: the CLI's vault.json document. */
export interface VaultRecord {
  format: typeof FORMAT;
  kdf: { time_cost: number; memory_kib: number; parallelism: number };
  salt: string; // base64, 16 bytes
  sealed: string; // base64 of nonce(12) || AES-256-GCM ciphertext and tag
  failed_unlocks: number;
}

/** The passcode was wrong; `remaining` more wrong ones wipe the vault. */
export class WrongPasscode extends Error {
  constructor(readonly remaining: number) {
    super(`wrong passcode (${remaining} attempts left before wipe)`);
    this.name = "WrongPasscode";
  }
}

/** The last allowed wrong passcode was entered: the vault and the outbox are gone. */
export class VaultWiped extends Error {
  constructor() {
    super(`wrong passcode ${MAX_FAILED_UNLOCKS} times: the device vault was wiped`);
    this.name = "VaultWiped";
  }
}

/** There is no vault on this device (never enrolled, or wiped). */
export class NoVault extends Error {
  constructor() {
    super("no device vault: enrol this device");
    this.name = "NoVault";
  }
}

/** The vault's Argon2id setting is below the floor: it was tampered with, and is refused. */
export class KdfRefused extends Error {
  constructor() {
    super("the vault's key derivation setting is weaker than this app accepts");
    this.name = "KdfRefused";
  }
}

/** The passcode breaks the device's rule (too short); says what to change. */
export class PasscodeRule extends Error {
  constructor() {
    super(`the passcode must be at least ${MIN_PASSCODE_LENGTH} characters`);
    this.name = "PasscodeRule";
  }
}

/** The vault is locked: unlock() it first. */
export class VaultLocked extends Error {
  constructor() {
    super("the vault is locked");
    this.name = "VaultLocked";
  }
}

async function aesKey(kek: Uint8Array, usage: KeyUsage[]): Promise<CryptoKey> {
  if (kek.length !== 32) throw new CryptoError();
  return crypto.subtle.importKey("raw", buf(kek), { name: "AES-GCM" }, false, usage);
}

async function sealWith(key: CryptoKey, secret: Uint8Array, context: Uint8Array): Promise<Uint8Array> {
  const nonce = randomBytes(12);
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: buf(context) }, key, buf(secret));
  return concat(nonce, new Uint8Array(ct));
}

async function openWith(key: CryptoKey, wrapped: Uint8Array, context: Uint8Array): Promise<Uint8Array> {
  if (wrapped.length < 12 + 16) throw new CryptoError();
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: buf(wrapped.slice(0, 12)), additionalData: buf(context) },
      key,
      buf(wrapped.slice(12)),
    );
    return new Uint8Array(plain);
  } catch {
    throw new CryptoError();
  }
}

/** Seal secret under a 32-byte key-encryption key: nonce(12) || AES-256-GCM(secret), with
 * context bound as associated data (Python's crypto.wrap_key). */
export async function wrapKey(kek: Uint8Array, secret: Uint8Array, context: Uint8Array): Promise<Uint8Array> {
  return sealWith(await aesKey(kek, ["encrypt"]), secret, context);
}

/** The secret sealed by wrapKey; a CryptoError for a wrong key, context or a damaged blob
 * (for the vault: a wrong passcode). */
export async function unwrapKey(kek: Uint8Array, wrapped: Uint8Array, context: Uint8Array): Promise<Uint8Array> {
  return openWith(await aesKey(kek, ["decrypt"]), wrapped, context);
}

function paramsOf(record: VaultRecord): KdfParams {
  return { t: record.kdf.time_cost, m: record.kdf.memory_kib, p: record.kdf.parallelism };
}

// The sealed JSON uses the CLI's field names (client/profile.py DeviceSecrets).
function encodeSecrets(s: DeviceSecrets): Uint8Array {
  return utf8(
    JSON.stringify({
      server: s.server,
      user_id: s.userId,
      email: s.email,
      device_id: s.deviceId,
      age_secret: s.ageSecret,
      signing_key: s.signingSeed,
      token: s.token,
    }),
  );
}

function decodeSecrets(plain: Uint8Array): DeviceSecrets {
  const o = JSON.parse(fromUtf8(plain)) as Record<string, unknown>;
  const str = (k: string): string => {
    const v = o[k];
    if (typeof v !== "string") throw new CryptoError();
    return v;
  };
  return {
    server: str("server"),
    userId: str("user_id"),
    email: str("email"),
    deviceId: str("device_id"),
    ageSecret: str("age_secret"),
    signingSeed: str("signing_key"),
    token: str("token"),
  };
}

/** The device vault. Load it, then create() at enrolment or unlock() with the passcode. */
export class Vault {
  private key: CryptoKey | null = null;

  private constructor(
    private record: VaultRecord | null,
    private readonly kdf: KdfParams,
    private readonly floor: KdfParams,
    private readonly derive: typeof deriveVaultKey,
  ) {}

  /** The vault as stored. kdf: the setting for create(); floor: the weakest setting unlock()
   * accepts (tests use a lower one); derive: how to run Argon2id (a Web Worker by default). */
  static async load(opts: { kdf?: KdfParams; floor?: KdfParams; derive?: typeof deriveVaultKey } = {}): Promise<Vault> {
    const db = await openDb();
    const record = (await db.get("vault", RECORD_KEY)) ?? null;
    return new Vault(record, opts.kdf ?? WEB_KDF, opts.floor ?? KDF_FLOOR, opts.derive ?? deriveInWorker);
  }

  /** True when this device holds a vault. */
  exists(): boolean {
    return this.record !== null;
  }

  /** Wrong passcodes in a row so far (an attempt in progress counts). */
  failedUnlocks(): number {
    return this.record?.failed_unlocks ?? 0;
  }

  /** True while the key from the last create() or unlock() is held in memory. */
  isUnlocked(): boolean {
    return this.key !== null;
  }

  /** Seal secrets under a new passcode (at enrolment, or to change the passcode); replaces
   * any vault and leaves this one unlocked. */
  async create(passcode: string, secrets: DeviceSecrets): Promise<void> {
    if ([...passcode].length < MIN_PASSCODE_LENGTH) throw new PasscodeRule();
    if (!meetsFloor(this.kdf, this.floor)) throw new KdfRefused();
    const salt = randomBytes(16);
    const kek = await this.derive(passcode, salt, this.kdf);
    const key = await aesKey(kek, ["encrypt", "decrypt"]);
    kek.fill(0);
    const record: VaultRecord = {
      format: FORMAT,
      kdf: { time_cost: this.kdf.t, memory_kib: this.kdf.m, parallelism: this.kdf.p },
      salt: b64Encode(salt),
      sealed: b64Encode(await sealWith(key, encodeSecrets(secrets), VAULT_CONTEXT)),
      failed_unlocks: 0,
    };
    const db = await openDb();
    await db.put("vault", record, RECORD_KEY);
    this.record = record;
    this.key = key;
  }

  /** The secrets, with the right passcode. Throws WrongPasscode (with the attempts left),
   * VaultWiped on the last allowed wrong one, NoVault, or KdfRefused. */
  async unlock(passcode: string): Promise<DeviceSecrets> {
    const db = await openDb();
    const tx = db.transaction("vault", "readwrite");
    const current = (await tx.store.get(RECORD_KEY)) ?? null;
    if (current === null) {
      await tx.done;
      this.record = null;
      throw new NoVault();
    }
    const params = paramsOf(current);
    if (current.format !== FORMAT || !meetsFloor(params, this.floor)) {
      await tx.done;
      throw new KdfRefused();
    }
    const counted: VaultRecord = { ...current, failed_unlocks: (current.failed_unlocks || 0) + 1 };
    await tx.store.put(counted, RECORD_KEY);
    await tx.done;
    this.record = counted;

    let key: CryptoKey;
    let plain: Uint8Array;
    try {
      const kek = await this.derive(passcode, b64Decode(counted.salt), params);
      key = await aesKey(kek, ["encrypt", "decrypt"]);
      kek.fill(0);
      plain = await openWith(key, b64Decode(counted.sealed), VAULT_CONTEXT);
    } catch {
      if (counted.failed_unlocks >= MAX_FAILED_UNLOCKS) {
        await this.wipe();
        throw new VaultWiped();
      }
      throw new WrongPasscode(MAX_FAILED_UNLOCKS - counted.failed_unlocks);
    }
    const secrets = decodeSecrets(plain);
    plain.fill(0);
    const reset: VaultRecord = { ...counted, failed_unlocks: 0 };
    await db.put("vault", reset, RECORD_KEY);
    this.record = reset;
    this.key = key;
    return secrets;
  }

  /** Re-seal changed secrets (e.g. a new session token) under the key held since unlock. */
  async save(secrets: DeviceSecrets): Promise<void> {
    if (this.key === null || this.record === null) throw new VaultLocked();
    const record: VaultRecord = {
      ...this.record,
      sealed: b64Encode(await sealWith(this.key, encodeSecrets(secrets), VAULT_CONTEXT)),
      failed_unlocks: 0,
    };
    const db = await openDb();
    await db.put("vault", record, RECORD_KEY);
    this.record = record;
  }

  /** Forget the key held in memory; the next use needs the passcode. */
  lock(): void {
    this.key = null;
  }

  /** Delete the whole IndexedDB database "clinphoto": vault, outbox, everything (BRE-4). */
  async wipe(): Promise<void> {
    this.key = null;
    this.record = null;
    await deleteDatabase();
  }
}
