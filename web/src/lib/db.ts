// The app's one IndexedDB database, "clinphoto". It holds only the wrapped vault (STO-3) and
// the outbox of ciphertext (STO-1): never a CryptoKey, a plaintext key, photo or identifier.
// Every connection closes itself when another asks to delete or upgrade the database, so a
// wipe (Vault.wipe) is never blocked by an open tab.

import { deleteDB, openDB, type DBSchema, type IDBPDatabase } from "idb";
import type { OutboxItem } from "./outbox";
import type { VaultRecord } from "./vault";

/** The database's name. */
export const DB_NAME = "clinphoto";
/** The schema version; raise it with a migration in upgrade() when the stores change. */
export const DB_VERSION = 1;

/** The stores: "vault" (one record, key "device") and "outbox" (by id, with createdAt). */
export interface ClinphotoDB extends DBSchema {
  vault: { key: string; value: VaultRecord };
  outbox: { key: string; value: OutboxItem; indexes: { createdAt: number } };
}

let cached: Promise<IDBPDatabase<ClinphotoDB>> | null = null;

/** The shared connection, opened (and the stores made) on first use. */
export function openDb(): Promise<IDBPDatabase<ClinphotoDB>> {
  if (cached !== null) return cached;
  const opening: Promise<IDBPDatabase<ClinphotoDB>> = openDB<ClinphotoDB>(DB_NAME, DB_VERSION, {
    upgrade(db) {
      if (!db.objectStoreNames.contains("vault")) db.createObjectStore("vault");
      if (!db.objectStoreNames.contains("outbox")) {
        db.createObjectStore("outbox", { keyPath: "id" }).createIndex("createdAt", "createdAt");
      }
    },
    blocking() {
      if (cached === opening) cached = null;
      void opening.then((db) => db.close());
    },
    terminated() {
      if (cached === opening) cached = null;
    },
  });
  cached = opening;
  opening.catch(() => {
    if (cached === opening) cached = null;
  });
  return opening;
}

/** Delete the whole database: the vault, the outbox, everything (BRE-4, remote wipe). */
export async function deleteDatabase(): Promise<void> {
  const open = cached;
  cached = null;
  if (open !== null) {
    try {
      (await open).close();
    } catch {
      // it never opened: nothing to close
    }
  }
  await deleteDB(DB_NAME);
}
