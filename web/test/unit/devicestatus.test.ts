// The status key and the status reports (BRE-2, BRE-4, BRE-5), on a real IndexedDB
// implementation and Node's WebCrypto Ed25519, with the API and the unlocked session stood
// in for: the key is made non-extractable and kept outside the vault, survives a reload and
// goes with a wipe; reports are signed over exactly the contract's message, locked or not,
// naming what the outbox holds by id; a wipe order is signed, then erased, then confirmed;
// a recalled share is dropped and its deletion confirmed, signed.
import "fake-indexeddb/auto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { encodeManifest, manifestHeader } from "../../src/lib/canonical";
import { utf8 } from "../../src/lib/bytes";
import { verify } from "../../src/lib/keys";
import { Outbox } from "../../src/lib/outbox";
import { deviceStatusMessage, shareDeletedMessage, wipeConfirmationMessage } from "../../src/lib/protocol";

const api = {
  registerStatusKey: vi.fn(),
  deviceStatus: vi.fn(),
  deleteConfirmation: vi.fn(),
  wipeConfirmation: vi.fn(),
};
let held: { secrets: { deviceId: string } } | null = null;

vi.mock("../../src/app/api", () => {
  class ApiError extends Error {
    constructor(
      readonly status: number,
      readonly code: string,
      message: string,
    ) {
      super(message);
    }
  }
  return { ApiError, api };
});
vi.mock("../../src/app/session", () => ({ unlocked: () => held, need: () => held, drop: () => undefined }));

type StatusModule = typeof import("../../src/app/devicestatus");
type WipeModule = typeof import("../../src/app/wipe");
let ds: StatusModule;
let wipe: WipeModule;

const DEVICE = "d".repeat(32);
const PATIENT = "a".repeat(32);
const ENCOUNTER = "b".repeat(32);
const ANSWER = { wipe: null, delete_shares: [], next_poll_seconds: 300 };

/** Let IndexedDB (which runs on real setImmediate, not the faked timers) catch up. */
async function settled(done: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) await new Promise((r) => setImmediate(r));
  expect(done()).toBe(true);
}

async function databases(): Promise<string[]> {
  return (await indexedDB.databases()).map((d) => d.name ?? "").sort();
}

async function dropAll(): Promise<void> {
  for (const name of await databases()) {
    await new Promise<void>((resolve) => {
      const r = indexedDB.deleteDatabase(name);
      r.onsuccess = r.onerror = r.onblocked = () => resolve();
    });
  }
}

/** This device's status key, made and registered (with a session stood in for, then locked). */
async function registered() {
  const key = (await ds.ensureStatusKey(DEVICE))!;
  held = { secrets: { deviceId: DEVICE } };
  api.registerStatusKey.mockResolvedValue(null);
  expect(await ds.registerStatusKey(key)).toBe(true);
  held = null;
  return key;
}

/** An outbox item as the app queues it: age ciphertext and the signed manifest's header. */
async function queue(objectId: string): Promise<void> {
  const manifest = { v: 1, object_id: objectId, kind: "photo", patient_id: PATIENT, encounter_id: ENCOUNTER };
  const o = await Outbox.open();
  await o.add({
    id: objectId,
    path: "/v1/media",
    manifestHeader: manifestHeader(encodeManifest(manifest)),
    signature: "s",
    ciphertext: utf8("age-encryption.org/v1\n-> X25519 stanza\nciphertext"),
    label: "photo",
  });
}

/** localStorage as the browser has it: stored keys are the object's own keys. */
class MemoryStorage {
  [key: string]: unknown;
  getItem(k: string): string | null {
    return Object.hasOwn(this, k) ? (this[k] as string) : null;
  }
  setItem(k: string, v: string): void {
    this[k] = String(v);
  }
  removeItem(k: string): void {
    delete this[k];
  }
}

beforeEach(async () => {
  vi.resetModules();
  vi.useRealTimers();
  for (const f of Object.values(api)) f.mockReset();
  held = null;
  (globalThis as Record<string, unknown>).localStorage = new MemoryStorage();
  await dropAll();
  ds = await import("../../src/app/devicestatus");
  wipe = await import("../../src/app/wipe");
});

afterEach(() => {
  ds.stop();
  delete (globalThis as Record<string, unknown>).localStorage;
});

describe("the status key", () => {
  it("is a non-extractable Ed25519 key in its own database, kept across a reload", async () => {
    const key = await ds.ensureStatusKey(DEVICE);
    expect(key).not.toBeNull();
    expect(key!.privateKey.extractable).toBe(false);
    expect(key!.privateKey.algorithm.name).toBe("Ed25519");
    expect(await databases()).toEqual([ds.STATUS_DB]); // never in the vault's database
    vi.resetModules();
    const again = await import("../../src/app/devicestatus");
    const loaded = await again.loadStatusKey();
    expect(loaded?.publicKey).toBe(key!.publicKey);
    expect(loaded?.deviceId).toBe(DEVICE);
    const message = utf8("anything");
    expect(await verify(key!.publicKey, message, await again.signStatus(loaded!, message))).toBe(true);
    expect((await ds.ensureStatusKey(DEVICE))?.publicKey).toBe(key!.publicKey);
  });

  it("is made again for another device id (a new enrolment)", async () => {
    const first = await ds.ensureStatusKey(DEVICE);
    const second = await ds.ensureStatusKey("e".repeat(32));
    expect(second?.publicKey).not.toBe(first?.publicKey);
  });

  it("reading it on a phone without one makes no database", async () => {
    expect(await ds.loadStatusKey()).toBeNull();
    expect(await ds.heldItems()).toEqual([]);
    await ds.reportStatus();
    expect(await databases()).toEqual([]);
    expect(api.deviceStatus).not.toHaveBeenCalled();
  });

  it("sends no report while the server does not have the key", async () => {
    await ds.ensureStatusKey(DEVICE);
    await ds.reportStatus(); // locked: cannot register it
    expect(api.deviceStatus).not.toHaveBeenCalled();
  });

  it("is registered only with a session, and once", async () => {
    const key = (await ds.ensureStatusKey(DEVICE))!;
    expect(await ds.registerStatusKey(key)).toBe(false); // locked: no session
    held = { secrets: { deviceId: DEVICE } };
    api.registerStatusKey.mockRejectedValueOnce(new Error("offline"));
    expect(await ds.registerStatusKey(key)).toBe(false);
    expect((await ds.loadStatusKey())?.registered).toBe(false);
    api.registerStatusKey.mockResolvedValue(null);
    expect(await ds.registerStatusKey(key)).toBe(true);
    expect(api.registerStatusKey).toHaveBeenLastCalledWith(key.publicKey);
    expect((await ds.loadStatusKey())?.registered).toBe(true);
    expect(await ds.registerStatusKey((await ds.loadStatusKey())!)).toBe(true);
    expect(api.registerStatusKey).toHaveBeenCalledTimes(2);
  });
});

describe("status reports", () => {
  it("a locked phone reports what its outbox holds, by id, signed over the contract's message", async () => {
    const key = await registered();
    await queue("c".repeat(32));
    await queue("f".repeat(32));
    ds.markLocked();
    const since = localStorage.getItem("clinphoto.locked-since");
    expect(since).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    api.deviceStatus.mockResolvedValue(ANSWER);
    await ds.reportStatus();
    expect(api.deviceStatus).toHaveBeenCalledTimes(1);
    const r = api.deviceStatus.mock.calls[0]![0];
    expect(r.device_id).toBe(DEVICE);
    expect(r.locked).toBe(true);
    expect(r.locked_since).toBe(since);
    expect(r.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(r.holding).toEqual([
      { patient_id: PATIENT, encounter_id: ENCOUNTER, media_id: "c".repeat(32) },
      { patient_id: PATIENT, encounter_id: ENCOUNTER, media_id: "f".repeat(32) },
    ]);
    const message = deviceStatusMessage(DEVICE, r.time, true, since, r.holding);
    expect(await verify(key.publicKey, message, r.signature)).toBe(true);
    // The bytes the server checks: a changed field does not verify.
    expect(await verify(key.publicKey, deviceStatusMessage(DEVICE, r.time, false, since, r.holding), r.signature)).toBe(false);
  });

  it("an unlocked phone reports unlocked, no lock time, and an empty outbox as []", async () => {
    const key = await registered();
    held = { secrets: { deviceId: DEVICE } };
    api.deviceStatus.mockResolvedValue(ANSWER);
    ds.markLocked();
    await ds.afterUnlockReport(DEVICE);
    const r = api.deviceStatus.mock.calls[0]![0];
    expect([r.locked, r.locked_since, r.holding]).toEqual([false, null, []]);
    expect(await verify(key.publicKey, deviceStatusMessage(DEVICE, r.time, false, null, []), r.signature)).toBe(true);
  });

  it("spaces reports that follow one another, so the server keeps the latest", async () => {
    await registered();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    api.deviceStatus.mockResolvedValue(ANSWER);
    await ds.reportStatus();
    await ds.reportStatus(); // right after: waits
    await ds.reportStatus();
    expect(api.deviceStatus).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(api.deviceStatus).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1_500);
    await settled(() => api.deviceStatus.mock.calls.length === 2); // one, for both
    await ds.reportStatus(true); // a wipe may be waiting: at once
    expect(api.deviceStatus).toHaveBeenCalledTimes(3);
    // ...and, being too soon for the server to keep, once more when it will.
    await vi.advanceTimersByTimeAsync(31_500);
    await settled(() => api.deviceStatus.mock.calls.length === 4);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(api.deviceStatus).toHaveBeenCalledTimes(4); // then the server's poll delay
  });

  it("tries again soon when the server could not be reached", async () => {
    await registered();
    const { ApiError } = await import("../../src/app/api");
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    api.deviceStatus.mockRejectedValueOnce(new ApiError(0, "unreachable", "cannot reach the server")).mockResolvedValue(ANSWER);
    await ds.reportStatus();
    expect(api.deviceStatus).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(31_500);
    await settled(() => api.deviceStatus.mock.calls.length === 2);
  });

  it("keeps reporting every next_poll_seconds, and after a failure", async () => {
    await registered();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] }); // IndexedDB keeps its own
    api.deviceStatus.mockResolvedValueOnce({ ...ANSWER, next_poll_seconds: 60 }).mockRejectedValueOnce(new Error("offline"));
    api.deviceStatus.mockResolvedValue(ANSWER);
    await ds.reportStatus();
    expect(api.deviceStatus).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(api.deviceStatus).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(2_000);
    await settled(() => api.deviceStatus.mock.calls.length === 2); // failed: the default delay next
    await vi.advanceTimersByTimeAsync(299_000);
    expect(api.deviceStatus).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(2_000);
    await settled(() => api.deviceStatus.mock.calls.length === 3);
  });

  it("drops a recalled share and confirms its deletion, signed, once", async () => {
    const key = await registered();
    const share = "5".repeat(32);
    const dropped: string[] = [];
    const off = ds.onShareRecalled((id) => dropped.push(id));
    api.deviceStatus.mockResolvedValue({ ...ANSWER, delete_shares: [share] });
    api.deleteConfirmation.mockResolvedValue(null);
    await ds.reportStatus();
    expect(dropped).toEqual([share]);
    const c = api.deleteConfirmation.mock.calls[0]![0];
    expect(c.device_id).toBe(DEVICE);
    expect(c.share_id).toBe(share);
    expect(await verify(key.publicKey, shareDeletedMessage(DEVICE, share, c.deleted_at), c.signature)).toBe(true);
    await ds.reportStatus(true);
    expect(api.deleteConfirmation).toHaveBeenCalledTimes(1);
    off();
  });

  it("a deletion confirmation that failed is sent at the next report", async () => {
    await registered();
    api.deviceStatus.mockResolvedValue({ ...ANSWER, delete_shares: ["6".repeat(32)] });
    api.deleteConfirmation.mockRejectedValueOnce(new Error("offline")).mockResolvedValue(null);
    await ds.reportStatus();
    await ds.reportStatus(true);
    expect(api.deleteConfirmation).toHaveBeenCalledTimes(2);
  });
});

describe("a remote wipe", () => {
  const ORDER = { wipe_id: "7".repeat(32), requested_at: "2026-11-30T06:00:00Z" };

  async function wiped(send: "ok" | "offline") {
    const key = await registered();
    await queue("c".repeat(32));
    if (send === "ok") api.wipeConfirmation.mockResolvedValue(null);
    else api.wipeConfirmation.mockRejectedValue(new Error("offline"));
    // The vault stands in: it exists, and its wipe deletes the database as Vault.wipe does.
    const vault = { exists: () => true, wipe: async () => undefined } as never;
    localStorage.setItem("clinphoto.lang", "fr");
    localStorage.setItem("clinphoto.recipients.x", "[]");
    api.deviceStatus.mockResolvedValue({ ...ANSWER, wipe: ORDER });
    ds.onWipeOrder((order, k) => wipe.remoteWipe(order, k, vault));
    (globalThis as Record<string, unknown>).navigator = {};
    try {
      await ds.reportStatus();
    } finally {
      delete (globalThis as Record<string, unknown>).navigator;
    }
    return key;
  }

  it("is signed before erasing, erases every database, and is confirmed", async () => {
    const key = await wiped("ok");
    expect(ds.wipedByOrder()).toBe(true);
    expect(await databases()).toEqual([]);
    expect(await ds.loadStatusKey()).toBeNull();
    const c = api.wipeConfirmation.mock.calls[0]![0];
    expect(c).toMatchObject({ device_id: DEVICE, wipe_id: ORDER.wipe_id });
    expect(c.erased).toEqual({ vault: true, outbox_items: 1, databases: 2, caches: 0 });
    const message = wipeConfirmationMessage(DEVICE, ORDER.wipe_id, c.wiped_at, c.erased);
    expect(await verify(key.publicKey, message, c.signature)).toBe(true);
    expect(localStorage.getItem(wipe.WIPE_CONFIRMATION)).toBeNull(); // sent: not kept
    expect(localStorage.getItem("clinphoto.lang")).toBe("fr");
    expect(localStorage.getItem("clinphoto.recipients.x")).toBeNull();
    // No more reports from a wiped phone.
    await ds.reportStatus(true);
    expect(api.deviceStatus).toHaveBeenCalledTimes(1);
  });

  it("keeps the signed confirmation until the server has it", async () => {
    await wiped("offline");
    expect(await databases()).toEqual([]);
    const kept = JSON.parse(localStorage.getItem(wipe.WIPE_CONFIRMATION)!);
    expect(kept.wipe_id).toBe(ORDER.wipe_id);
    expect(JSON.stringify(kept)).not.toContain(PATIENT); // no patient in browser storage
    api.wipeConfirmation.mockReset().mockRejectedValueOnce(new Error("offline")).mockResolvedValue(null);
    await wipe.sendWipeConfirmation();
    expect(localStorage.getItem(wipe.WIPE_CONFIRMATION)).not.toBeNull();
    await wipe.sendWipeConfirmation();
    expect(api.wipeConfirmation).toHaveBeenLastCalledWith(kept);
    expect(localStorage.getItem(wipe.WIPE_CONFIRMATION)).toBeNull();
    await wipe.sendWipeConfirmation();
    expect(api.wipeConfirmation).toHaveBeenCalledTimes(2);
  });
});
