// The device vault (STO-3) on a real IndexedDB implementation (fake-indexeddb): create,
// unlock, wrong passcodes counted and the 10th wiping everything, the KDF floor, and what is
// actually stored.

import "fake-indexeddb/auto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { b64Encode } from "../../src/lib/b64";
import { deleteDatabase, DB_NAME, openDb } from "../../src/lib/db";
import { Outbox } from "../../src/lib/outbox";
import { generateDeviceKeys } from "../../src/lib/keys";
import {
  deriveVaultKey,
  KdfRefused,
  MAX_FAILED_UNLOCKS,
  NoVault,
  PasscodeRule,
  Vault,
  VaultLocked,
  VaultWiped,
  WrongPasscode,
  type DeviceSecrets,
  type KdfParams,
} from "../../src/lib/vault";
import { KDF_FLOOR, WEB_KDF } from "../../src/lib/kdf";
import { utf8 } from "../../src/lib/bytes";

const FAST: KdfParams = { t: 1, m: 8, p: 1 };
const fast = { kdf: FAST, floor: FAST };
const PASSCODE = "482913";

async function secrets(): Promise<DeviceSecrets> {
  const k = await generateDeviceKeys();
  return {
    server: "https://clinphoto.example",
    userId: "1234567890abcdef1234567890abcdef",
    email: "alice@example.ca",
    deviceId: "0d3f6c1e8a7b4c2d9e0f1a2b3c4d5e6f",
    ageSecret: k.ageSecret,
    signingSeed: b64Encode(k.signingSeed),
    token: "session-token-1",
  };
}

async function databases(): Promise<string[]> {
  return (await indexedDB.databases()).map((d) => d.name ?? "");
}

/** Every value in every store of the database, as structured-cloned. */
async function everythingStored(): Promise<unknown[]> {
  const db = await openDb();
  return [...(await db.getAll("vault")), ...(await db.getAll("outbox"))];
}

beforeEach(async () => {
  await deleteDatabase();
});

describe("Vault", () => {
  it("is created, found again, and unlocked with the passcode", async () => {
    const s = await secrets();
    expect((await Vault.load(fast)).exists()).toBe(false);
    const v = await Vault.load(fast);
    await v.create(PASSCODE, s);
    expect(v.exists()).toBe(true);
    expect(v.isUnlocked()).toBe(true);
    const again = await Vault.load(fast);
    expect(again.exists()).toBe(true);
    expect(again.isUnlocked()).toBe(false);
    expect(await again.unlock(PASSCODE)).toEqual(s);
    expect(again.isUnlocked()).toBe(true);
  });

  it("stores no secret, no CryptoKey, only the CLI's record of base64 and numbers", async () => {
    const s = await secrets();
    const v = await Vault.load(fast);
    await v.create(PASSCODE, s);
    const stored = await everythingStored();
    expect(stored).toHaveLength(1);
    const record = stored[0] as Record<string, unknown>;
    expect(Object.keys(record).sort()).toEqual(["failed_unlocks", "format", "kdf", "salt", "sealed"]);
    const walk = (x: unknown): void => {
      expect(x instanceof CryptoKey).toBe(false);
      expect(x instanceof Uint8Array).toBe(false);
      if (x !== null && typeof x === "object") Object.values(x).forEach(walk);
      else expect(["string", "number"]).toContain(typeof x);
    };
    walk(record);
    const text = JSON.stringify(record);
    for (const secret of [s.ageSecret, s.signingSeed, s.token, s.email, s.userId, s.deviceId, PASSCODE]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toContain("AGE-SECRET-KEY");
  });

  it("counts wrong passcodes, says how many are left, and resets on the right one", async () => {
    const s = await secrets();
    await (await Vault.load(fast)).create(PASSCODE, s);
    const v = await Vault.load(fast);
    for (let i = 1; i <= 3; i++) {
      const err = await v.unlock("wrong-" + i).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WrongPasscode);
      expect((err as WrongPasscode).remaining).toBe(MAX_FAILED_UNLOCKS - i);
      expect(v.isUnlocked()).toBe(false);
    }
    expect((await Vault.load(fast)).failedUnlocks()).toBe(3); // survives a reload
    expect(await v.unlock(PASSCODE)).toEqual(s);
    expect(v.failedUnlocks()).toBe(0);
    expect((await Vault.load(fast)).failedUnlocks()).toBe(0);
  });

  it("wipes the whole database at the 10th wrong passcode in a row", async () => {
    const s = await secrets();
    await (await Vault.load(fast)).create(PASSCODE, s);
    const box = await Outbox.open();
    await box.add({ id: "a", path: "/v1/media", manifestHeader: "h", signature: "s", ciphertext: utf8("age-encryption.org/v1\n..."), label: "photo" });
    const v = await Vault.load(fast);
    for (let i = 1; i < MAX_FAILED_UNLOCKS; i++) {
      await expect(v.unlock("nope-" + i)).rejects.toBeInstanceOf(WrongPasscode);
    }
    expect(await databases()).toContain(DB_NAME);
    await expect(v.unlock("nope-last")).rejects.toBeInstanceOf(VaultWiped);
    expect(await databases()).not.toContain(DB_NAME);
    expect(v.exists()).toBe(false);
    const after = await Vault.load(fast);
    expect(after.exists()).toBe(false);
    await expect(after.unlock(PASSCODE)).rejects.toBeInstanceOf(NoVault);
    expect(await (await Outbox.open()).list()).toEqual([]);
  });

  it("counts an attempt before the slow derivation, so closing the page does not reset it", async () => {
    await (await Vault.load(fast)).create(PASSCODE, await secrets());
    let started!: () => void;
    const begun = new Promise<void>((r) => (started = r));
    const hanging = await Vault.load({
      ...fast,
      derive: () => {
        started();
        return new Promise<Uint8Array>(() => undefined); // the page goes away mid-derivation
      },
    });
    void hanging.unlock("whatever");
    await begun;
    expect((await Vault.load(fast)).failedUnlocks()).toBe(1);
  });

  it("refuses a stored setting below the floor (a downgraded record)", async () => {
    const s = await secrets();
    await (await Vault.load(fast)).create(PASSCODE, s);
    const strict = await Vault.load({ floor: { t: 1, m: 16, p: 1 } });
    await expect(strict.unlock(PASSCODE)).rejects.toBeInstanceOf(KdfRefused);
    expect(strict.failedUnlocks()).toBe(0); // refused before anything was tried
    // The app's own floor refuses the test setting; its own setting meets it.
    await expect((await Vault.load()).unlock(PASSCODE)).rejects.toBeInstanceOf(KdfRefused);
    await expect((await Vault.load({ kdf: FAST })).create(PASSCODE, s)).rejects.toBeInstanceOf(KdfRefused);
    expect(WEB_KDF.t).toBeGreaterThanOrEqual(KDF_FLOOR.t);
    expect(WEB_KDF.m).toBeGreaterThanOrEqual(KDF_FLOOR.m);
  });

  it("refuses a record tampered to a weaker setting", async () => {
    await (await Vault.load({ kdf: { t: 2, m: 16, p: 1 }, floor: { t: 2, m: 16, p: 1 } })).create(PASSCODE, await secrets());
    const db = await openDb();
    const record = (await db.get("vault", "device"))!;
    await db.put("vault", { ...record, kdf: { time_cost: 1, memory_kib: 8, parallelism: 1 } }, "device");
    const v = await Vault.load({ floor: { t: 2, m: 16, p: 1 } });
    await expect(v.unlock(PASSCODE)).rejects.toBeInstanceOf(KdfRefused);
  });

  it("refuses a passcode shorter than 6 characters (code points)", async () => {
    const v = await Vault.load(fast);
    await expect(v.create("12345", await secrets())).rejects.toBeInstanceOf(PasscodeRule);
    await expect(v.create("\u{1F512}\u{1F512}\u{1F512}", await secrets())).rejects.toBeInstanceOf(PasscodeRule);
    expect(v.exists()).toBe(false);
  });

  it("re-seals a new session token with the key held since unlock; locked, it cannot", async () => {
    const s = await secrets();
    await (await Vault.load(fast)).create(PASSCODE, s);
    const v = await Vault.load(fast);
    await expect(v.save({ ...s, token: "t2" })).rejects.toBeInstanceOf(VaultLocked);
    await v.unlock(PASSCODE);
    await v.save({ ...s, token: "t2" });
    v.lock();
    expect(v.isUnlocked()).toBe(false);
    await expect(v.save({ ...s, token: "t3" })).rejects.toBeInstanceOf(VaultLocked);
    expect((await (await Vault.load(fast)).unlock(PASSCODE)).token).toBe("t2");
  });

  it("opens the vault record the CLI writes (tests/vectors/vault.json)", async () => {
    const doc = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../../tests/vectors/vault.json"), "utf8"));
    const { record, passcode, secrets: py } = doc.device_vault;
    const db = await openDb();
    await db.put("vault", record, "device");
    const floor = { t: record.kdf.time_cost, m: record.kdf.memory_kib, p: record.kdf.parallelism };
    const opened = await (await Vault.load({ floor })).unlock(passcode);
    expect(opened).toEqual({
      server: py.server,
      userId: py.user_id,
      email: py.email,
      deviceId: py.device_id,
      ageSecret: py.age_secret,
      signingSeed: py.signing_key,
      token: py.token,
    });
  });

  it("derives with the record's own parameters and salt", async () => {
    const seen: { salt: number; p: KdfParams }[] = [];
    const spy = async (passcode: string, salt: Uint8Array, p: KdfParams) => {
      seen.push({ salt: salt.length, p });
      return deriveVaultKey(passcode, salt, p);
    };
    await (await Vault.load({ kdf: { t: 2, m: 16, p: 1 }, floor: FAST, derive: spy })).create(PASSCODE, await secrets());
    await (await Vault.load({ kdf: FAST, floor: FAST, derive: spy })).unlock(PASSCODE);
    expect(seen).toEqual([
      { salt: 16, p: { t: 2, m: 16, p: 1 } },
      { salt: 16, p: { t: 2, m: 16, p: 1 } },
    ]);
  });
});
