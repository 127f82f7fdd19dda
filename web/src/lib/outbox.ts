// The outbox (STO-1): sealed objects waiting for the server, in IndexedDB store "outbox".
// It holds only what the server itself receives: age ciphertext, the signed manifest header
// and its signature, the upload path. An item is deleted only after the server confirmed it;
// a failed attempt is recorded on the item and it stays. Sync runs only while the app is open
// (no Background Sync outside Chromium) and one at a time: across tabs through the Web Locks
// API where the browser has it, and within a page through a shared promise.

import { startsWith, utf8 } from "./bytes";
import { openDb } from "./db";
import { AGE_MAGIC } from "./protocol";

/** One queued upload. */
export interface OutboxItem {
  id: string; // the object id
  path: string; // where to send it, e.g. /v1/media
  manifestHeader: string;
  signature: string;
  ciphertext: Uint8Array;
  label: string; // what the screen shows: a kind ("photo"), never an identifier
  createdAt: number; // ms since the epoch
  attempts: number;
  lastError?: string;
  permanent?: boolean; // the server refused it for good; it stays until the user acts
}

/** What a sender reports for one item: sent (the server's receipt), or why not. */
export type SendResult = { ok: true } | { ok: false; error: string; permanent: boolean };

const LOCK_NAME = "clinphoto-outbox-sync";
const MAGIC = utf8(AGE_MAGIC);
let running: Promise<{ sent: number; failed: number }> | null = null;

/** The outbox of this device. */
export class Outbox {
  private constructor() {}

  /** The outbox (the database is opened, and made on first use). */
  static async open(): Promise<Outbox> {
    await openDb();
    return new Outbox();
  }

  /** Queue a sealed object in one transaction; refuses anything that is not an age file
   * (the queue never holds a plaintext photo) and an id already queued. */
  async add(item: Omit<OutboxItem, "attempts" | "createdAt"> & { createdAt?: number }): Promise<void> {
    if (!startsWith(item.ciphertext, MAGIC)) throw new TypeError("the outbox holds only age ciphertext");
    const db = await openDb();
    await db.add("outbox", { ...item, createdAt: item.createdAt ?? Date.now(), attempts: 0 });
  }

  /** Every queued item, oldest first. */
  async list(): Promise<OutboxItem[]> {
    const db = await openDb();
    return db.getAllFromIndex("outbox", "createdAt");
  }

  /** Send queued items, oldest first, through send. An item is deleted only after
   * {ok: true}; otherwise its attempts, error and permanence are recorded and it stays. A
   * temporary failure (or send throwing) ends the pass: the network is likely down. A sync
   * already running in this page is joined; one running in another tab makes this a no-op. */
  async sync(send: (item: OutboxItem) => Promise<SendResult>): Promise<{ sent: number; failed: number }> {
    if (running !== null) return running;
    const pass = (async () => {
      const locks = (globalThis as { navigator?: Navigator }).navigator?.locks;
      if (locks === undefined) return this.pass(send);
      let result = { sent: 0, failed: 0 };
      await locks.request(LOCK_NAME, { ifAvailable: true }, async (lock) => {
        if (lock !== null) result = await this.pass(send);
      });
      return result;
    })();
    running = pass;
    try {
      return await pass;
    } finally {
      running = null;
    }
  }

  private async pass(send: (item: OutboxItem) => Promise<SendResult>): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    let failed = 0;
    for (const item of await this.list()) {
      let result: SendResult;
      try {
        result = await send(item);
      } catch (e) {
        result = { ok: false, error: e instanceof Error ? e.message : String(e), permanent: false };
      }
      const db = await openDb();
      if (result.ok) {
        await db.delete("outbox", item.id);
        sent++;
        continue;
      }
      failed++;
      const tx = db.transaction("outbox", "readwrite");
      const stored = await tx.store.get(item.id);
      if (stored !== undefined) {
        await tx.store.put({
          ...stored,
          attempts: stored.attempts + 1,
          lastError: result.error,
          permanent: result.permanent,
        });
      }
      await tx.done;
      if (!result.permanent) break;
    }
    return { sent, failed };
  }

  /** Delete, oldest first, what is older than maxAgeMs and what is beyond the newest
   * maxCount items (STO-1's cap); the number deleted. */
  async purge(o: { maxCount: number; maxAgeMs: number; now?: number }): Promise<number> {
    const now = o.now ?? Date.now();
    const db = await openDb();
    const tx = db.transaction("outbox", "readwrite");
    const items = await tx.store.index("createdAt").getAll();
    const tooOld = items.filter((i) => now - i.createdAt > o.maxAgeMs);
    const kept = items.filter((i) => now - i.createdAt <= o.maxAgeMs);
    const overCount = kept.slice(0, Math.max(0, kept.length - Math.max(0, o.maxCount)));
    const doomed = [...tooOld, ...overCount];
    for (const i of doomed) await tx.store.delete(i.id);
    await tx.done;
    return doomed.length;
  }
}
