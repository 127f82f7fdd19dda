// Erase what the app keeps on this phone: the vault and outbox (IndexedDB), the status key's
// database, the app shell's caches, the service worker and the app's local settings. Used
// when the device is revoked and when the server orders a remote wipe (BRE-4); the 10th
// wrong passcode wipes the vault the same way (lib/vault).
//
// A remote wipe is signed, then erased, then confirmed (docs/wire/device-status.md): the
// confirmation is signed with the status key BEFORE erasing (the key goes with everything
// else), kept in localStorage (it names no patient) and sent, again at each opening of the
// app until the server answers 204.
import { wipeConfirmationMessage, statusTime, type Erased } from "../lib/protocol";
import type { Vault } from "../lib/vault";
import { api } from "./api";
import { heldItems, signStatus, stop, type StatusKey, type WipeOrder } from "./devicestatus";
import { forgetOutbox } from "./outbox";
import { drop } from "./session";

/** Where the signed wipe confirmation waits until the server has it. */
export const WIPE_CONFIRMATION = "clinphoto.wipe-confirmation";
const KEPT = new Set(["clinphoto.lang", WIPE_CONFIRMATION]);

export async function wipeEverything(vault: Vault | null): Promise<void> {
  drop();
  forgetOutbox();
  if (vault) await vault.wipe().catch(() => undefined);
  // Every other database of this origin: the status key's, and any a newer version made.
  const dbs = (await indexedDB.databases?.().catch(() => [])) ?? [];
  await Promise.all(
    dbs.map(
      (d) =>
        new Promise<void>((resolve) => {
          if (!d.name) return resolve();
          const r = indexedDB.deleteDatabase(d.name);
          r.onsuccess = r.onerror = r.onblocked = () => resolve();
        }),
    ),
  );
  if ("caches" in globalThis) {
    for (const key of await caches.keys()) await caches.delete(key);
  }
  if ("serviceWorker" in navigator) {
    for (const reg of await navigator.serviceWorker.getRegistrations()) await reg.unregister();
  }
  try {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith("clinphoto.") && !KEPT.has(key)) localStorage.removeItem(key);
    }
  } catch {
    /* nothing stored */
  }
}

interface Confirmation {
  device_id: string;
  wipe_id: string;
  wiped_at: string;
  erased: Erased;
  signature: string;
}

let unsent: Confirmation | null = null; // where localStorage cannot keep it

/** What a wipe will erase, counted before it starts (the signed confirmation says it). */
async function whatWillGo(vault: Vault | null): Promise<Erased> {
  const dbs = (await indexedDB.databases?.().catch(() => [])) ?? [];
  const cached = "caches" in globalThis ? await caches.keys().catch(() => []) : [];
  return {
    vault: vault?.exists() ?? false,
    outbox_items: (await heldItems())?.length ?? 0,
    databases: dbs.length,
    caches: cached.length,
  };
}

/** Wait until the page has loaded and the service worker it registers at load (main.tsx) is
 * active, at most a few seconds: a wipe ordered at the app's first report must not be
 * followed by the worker's install filling Cache Storage again. */
async function pageSettled(): Promise<void> {
  if (document.readyState !== "complete") {
    await new Promise<void>((resolve) => addEventListener("load", () => resolve(), { once: true }));
  }
  if (!("serviceWorker" in navigator)) return;
  await Promise.race([navigator.serviceWorker.ready, new Promise((resolve) => setTimeout(resolve, 5000))]);
}

/** Obey the server's wipe order: sign the confirmation, erase everything, keep the signed
 * confirmation and send it. */
export async function remoteWipe(order: WipeOrder, key: StatusKey, vault: Vault | null): Promise<void> {
  stop();
  if (typeof document !== "undefined") await pageSettled();
  const erased = await whatWillGo(vault);
  const wipedAt = statusTime(new Date());
  const signature = await signStatus(key, wipeConfirmationMessage(key.deviceId, order.wipe_id, wipedAt, erased));
  unsent = { device_id: key.deviceId, wipe_id: order.wipe_id, wiped_at: wipedAt, erased, signature };
  try {
    localStorage.setItem(WIPE_CONFIRMATION, JSON.stringify(unsent));
  } catch {
    /* kept in memory for this visit */
  }
  await wipeEverything(vault);
  await sendWipeConfirmation();
}

/** Send a signed wipe confirmation still waiting (at each opening of the app and when the
 * network comes back); removed once the server answered 204. */
export async function sendWipeConfirmation(): Promise<void> {
  let c = unsent;
  try {
    const saved = localStorage.getItem(WIPE_CONFIRMATION);
    if (saved) c = JSON.parse(saved) as Confirmation;
  } catch {
    /* unreadable: what memory holds, if anything */
  }
  if (c === null) return;
  try {
    await api.wipeConfirmation(c);
  } catch {
    return; // offline or refused: kept, sent again at the next opening
  }
  unsent = null;
  try {
    localStorage.removeItem(WIPE_CONFIRMATION);
  } catch {
    /* nothing stored */
  }
}
