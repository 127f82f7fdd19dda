// The device's status key and its status reports (BRE-2, BRE-4, BRE-5;
// docs/wire/device-status.md). The device's own Ed25519 key is sealed in the vault, so a
// locked phone cannot sign with it; a second key pair, the *status key*, is made here with
// WebCrypto as non-extractable and kept in a small IndexedDB database of its own
// ("clinphoto-status", outside the vault). It signs only status reports and the wipe and
// deletion confirmations. It survives lock and reload and is erased by any wipe.
//
// The phone reports at start (even locked), on unlock, after the outbox changes, when the
// network comes back, and every next_poll_seconds while open; the answer may carry a remote
// wipe (obeyed by the handler app.tsx sets, see wipe.ts) and recalled shares whose copies
// this phone deletes and confirms. This module is part of the first load: keep it small.
import { openDB, type IDBPDatabase } from "idb";
import { b64urlEncode } from "../lib/b64";
import { readManifestHeader } from "../lib/canonical";
import {
  deviceStatusMessage,
  MAX_STATUS_HOLDING,
  shareDeletedMessage,
  statusTime,
  type HeldItem,
} from "../lib/protocol";
import { ApiError, api } from "./api";
import { unlocked } from "./session";

/** The status key's own database: one record, never inside the vault's database. */
export const STATUS_DB = "clinphoto-status";
const STORE = "key";
const RECORD = "status";
const LOCKED_SINCE = "clinphoto.locked-since";
const DEFAULT_POLL_SECONDS = 300;
// The server stores at most one report per device per 30 s (the others are answered but
// not kept): reports that follow one another are spaced by a little more, so the phone's
// latest state is the one the server keeps.
const SPACING_MS = 31_000;
const ANSWER_WITHIN_MS = 20_000;

/** The stored status key: this device's id (a random id, as on the wire), the private key
 * (a non-extractable CryptoKey), its public key as sent, and whether the server has it. */
export interface StatusKey {
  deviceId: string;
  privateKey: CryptoKey;
  publicKey: string;
  registered: boolean;
}

/** A remote wipe the server asks for. */
export interface WipeOrder {
  wipe_id: string;
  requested_at: string;
}

// Open a database only if it exists (`create` false): opening a missing one would make an
// empty one, and a wiped phone must keep none. Callers close the connection at once, so a
// wipe's deleteDatabase is never blocked by it.
async function openIfThere(name: string, create: boolean, make?: (db: IDBPDatabase) => void): Promise<IDBPDatabase | null> {
  try {
    return await openDB(name, create ? 1 : undefined, {
      upgrade(db, oldVersion, _v, tx) {
        if (oldVersion === 0 && !create) {
          tx.done.catch(() => undefined); // the abort below is the answer, not an error
          tx.abort();
        }
        else make?.(db);
      },
    });
  } catch {
    return null;
  }
}

/** The stored status key, or null (never made, wiped, or no IndexedDB). */
export async function loadStatusKey(): Promise<StatusKey | null> {
  const db = await openIfThere(STATUS_DB, false);
  if (db === null) return null;
  try {
    return ((await db.get(STORE, RECORD)) as StatusKey | undefined) ?? null;
  } catch {
    return null;
  } finally {
    db.close();
  }
}

async function storeStatusKey(key: StatusKey): Promise<void> {
  const db = await openIfThere(STATUS_DB, true, (d) => d.createObjectStore(STORE));
  if (db === null) throw new Error("no IndexedDB");
  try {
    await db.put(STORE, key, RECORD);
  } finally {
    db.close();
  }
}

/** The status key of this device, made now if it has none (or one of another device, left
 * from an earlier enrolment); null where the browser has no WebCrypto Ed25519. */
export async function ensureStatusKey(deviceId: string): Promise<StatusKey | null> {
  const have = await loadStatusKey();
  if (have !== null && have.deviceId === deviceId) return have;
  let pair: CryptoKeyPair;
  try {
    pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"])) as CryptoKeyPair;
  } catch {
    return null; // no Ed25519 in this browser's WebCrypto: no status reports from it
  }
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const key: StatusKey = { deviceId, privateKey: pair.privateKey, publicKey: b64urlEncode(raw), registered: false };
  await storeStatusKey(key);
  return key;
}

/** Register the status key with the server (needs the session: call while unlocked). True
 * once the server has it; false offline or when the server holds another key. */
export async function registerStatusKey(key: StatusKey): Promise<boolean> {
  if (key.registered) return true;
  if (!unlocked()) return false;
  try {
    await api.registerStatusKey(key.publicKey);
  } catch {
    return false; // offline (tried again at the next unlock), or 409 status_key_set
  }
  key.registered = true;
  await storeStatusKey(key);
  return true;
}

/** Ed25519 signature (base64url with padding) by the status key. */
export async function signStatus(key: StatusKey, message: Uint8Array<ArrayBuffer>): Promise<string> {
  return b64urlEncode(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, message)));
}

/** What the outbox holds, by id only: read from the items' manifest headers, which the
 * outbox keeps in the clear (random ids, no identifier), so this works while locked too.
 * [] when there is no outbox; null when it cannot be read. */
export async function heldItems(): Promise<HeldItem[] | null> {
  const db = await openIfThere("clinphoto", false);
  if (db === null) return [];
  try {
    if (!db.objectStoreNames.contains("outbox")) return [];
    const items = (await db.getAll("outbox")) as { manifestHeader: string }[];
    const held: HeldItem[] = [];
    for (const item of items) {
      const m = readManifestHeader(item.manifestHeader).manifest;
      const [p, e, o] = [m.patient_id, m.encounter_id, m.object_id];
      if (typeof p === "string" && typeof e === "string" && typeof o === "string") {
        held.push({ patient_id: p, encounter_id: e, media_id: o });
      }
    }
    return held.slice(0, MAX_STATUS_HOLDING);
  } catch {
    return null;
  } finally {
    db.close();
  }
}

/** The app was locked now (kept if it was already: a reload keeps the earlier time). */
export function markLocked(): void {
  try {
    if (!localStorage.getItem(LOCKED_SINCE)) localStorage.setItem(LOCKED_SINCE, statusTime(new Date()));
  } catch {
    /* no storage: reported as locked since unknown */
  }
}

/** The app was unlocked. */
export function markUnlocked(): void {
  try {
    localStorage.removeItem(LOCKED_SINCE);
  } catch {
    /* nothing stored */
  }
}

function lockedSince(): string | null {
  try {
    return localStorage.getItem(LOCKED_SINCE);
  } catch {
    return null;
  }
}

// --- reports ----------------------------------------------------------------------------------

let wipeHandler: (order: WipeOrder, key: StatusKey) => Promise<void> = async () => undefined;
const recallListeners = new Set<(shareId: string) => void>();
const confirmed = new Set<string>(); // share copies whose deletion the server has confirmed
let timer: ReturnType<typeof setTimeout> | null = null;
let running: Promise<void> | null = null;
let again: false | "now" | "later" = false;
let wiped = false;
let lastSent = -Infinity;

/** Who erases this phone when the server asks for a wipe (app.tsx, through wipe.ts). */
export function onWipeOrder(f: (order: WipeOrder, key: StatusKey) => Promise<void>): void {
  wipeHandler = f;
}

/** Call `f` with each recalled share whose copy this phone must drop from memory now (the
 * seeing screens); returns the unsubscribe function. */
export function onShareRecalled(f: (shareId: string) => void): () => void {
  recallListeners.add(f);
  return () => recallListeners.delete(f);
}

/** True once a status answer made this phone wipe itself. */
export function wipedByOrder(): boolean {
  return wiped;
}

/** Delete this phone's copy of a recalled share and confirm it, signed. Nothing of a share
 * is ever stored on the phone (it is opened in memory only), so deleting is dropping it from
 * the screens that hold it. */
async function deleteShare(key: StatusKey, shareId: string): Promise<void> {
  for (const f of recallListeners) f(shareId);
  const deletedAt = statusTime(new Date());
  const signature = await signStatus(key, shareDeletedMessage(key.deviceId, shareId, deletedAt));
  await api.deleteConfirmation({ device_id: key.deviceId, share_id: shareId, deleted_at: deletedAt, signature });
  confirmed.add(shareId);
}

async function reportOnce(): Promise<void> {
  const key = await loadStatusKey();
  // A key the server does not have yet cannot be checked there: nothing to send until then.
  if (key === null || !(await registerStatusKey(key))) return;
  const time = statusTime(new Date());
  const locked = unlocked() === null;
  const since = locked ? lockedSince() : null;
  const holding = await heldItems();
  const signature = await signStatus(key, deviceStatusMessage(key.deviceId, time, locked, since, holding));
  let answer;
  const previous = lastSent;
  lastSent = Date.now();
  // Sent within 31 s of the one before (at once, for a wipe order): the server may not have
  // kept it, so the same state is reported again when it will.
  const followUp = lastSent - previous < SPACING_MS ? SPACING_MS / 1000 : null;
  try {
    // Bounded: a request caught in a network change can hang, and would hold up every
    // report after it (one runs at a time).
    answer = await Promise.race([
      api.deviceStatus({ device_id: key.deviceId, time, locked, locked_since: since, holding, signature }),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new ApiError(0, "unreachable", "no answer")), ANSWER_WITHIN_MS),
      ),
    ]);
  } catch (err) {
    // Unreachable (a network that is just coming back, say): again soon; refused: later.
    const unreachable = err instanceof ApiError && err.status === 0;
    schedule(unreachable ? SPACING_MS / 1000 : DEFAULT_POLL_SECONDS);
    return;
  }
  if (answer.wipe) {
    stop();
    wiped = true;
    await wipeHandler(answer.wipe, key);
    return;
  }
  schedule(followUp ?? answer.next_poll_seconds);
  for (const id of answer.delete_shares) {
    if (!confirmed.has(id)) await deleteShare(key, id).catch(() => undefined); // again next time
  }
}

function schedule(seconds: number): void {
  if (timer !== null) clearTimeout(timer);
  const s = Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_POLL_SECONDS;
  timer = setTimeout(() => void reportStatus(true), s * 1000);
}

/** Stop the periodic reports (after a wipe). */
export function stop(): void {
  if (timer !== null) clearTimeout(timer);
  timer = null;
}

/** Report this phone's status (one report at a time; a call during one makes one more after
 * it). Within 31 s of the last report it is sent when those have passed, unless `now` (the
 * first report, and whenever a wipe order may be waiting). Never throws. */
export function reportStatus(now = false): Promise<void> {
  if (wiped) return Promise.resolve();
  if (running !== null) {
    again = again || "later";
    if (now) again = "now";
    return running;
  }
  const wait = lastSent + SPACING_MS - Date.now();
  if (!now && wait > 0) {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => void reportStatus(true), wait);
    return Promise.resolve();
  }
  running = (async () => {
    try {
      await reportOnce().catch(() => undefined);
    } finally {
      running = null;
    }
    const next = again;
    again = false;
    if (next) await reportStatus(next === "now");
  })();
  return running;
}

/** On unlock (and right after enrolment): make the status key if this phone has none,
 * register it, then report. */
export async function afterUnlockReport(deviceId: string): Promise<void> {
  markUnlocked();
  await ensureStatusKey(deviceId).catch(() => null);
  await reportStatus();
}
