// Erase what the app keeps on this phone: the vault and outbox (IndexedDB), the app shell's
// caches, the service worker and the app's local settings. Used when the device is revoked
// (BRE-4); the 10th wrong passcode wipes the vault the same way (lib/vault).
import type { Vault } from "../lib/vault";
import { forgetOutbox } from "./outbox";
import { drop } from "./session";

export async function wipeEverything(vault: Vault | null): Promise<void> {
  drop();
  forgetOutbox();
  if (vault) await vault.wipe().catch(() => undefined);
  // Any other database of this origin (a newer version of the app may have made one).
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
      if (key.startsWith("clinphoto.") && key !== "clinphoto.lang") localStorage.removeItem(key);
    }
  } catch {
    /* nothing stored */
  }
}
