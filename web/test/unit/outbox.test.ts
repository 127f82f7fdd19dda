// The outbox (STO-1) on a real IndexedDB implementation (fake-indexeddb).

import "fake-indexeddb/auto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deleteDatabase, openDb } from "../../src/lib/db";
import { Outbox, type OutboxItem, type SendResult } from "../../src/lib/outbox";
import { utf8 } from "../../src/lib/bytes";

const CT = utf8("age-encryption.org/v1\n-> X25519 stanza\nciphertext bytes");

function item(id: string, createdAt: number): Parameters<Outbox["add"]>[0] {
  return { id, path: "/v1/media", manifestHeader: `header-${id}`, signature: `sig-${id}`, ciphertext: CT, label: "photo", createdAt };
}

async function ids(box: Outbox): Promise<string[]> {
  return (await box.list()).map((i) => i.id);
}

beforeEach(async () => {
  await deleteDatabase();
});

afterEach(() => {
  delete (globalThis as { navigator?: unknown }).navigator;
});

describe("Outbox", () => {
  it("adds in one transaction and lists oldest first", async () => {
    const box = await Outbox.open();
    await box.add(item("b", 200));
    await box.add(item("a", 100));
    await box.add({ ...item("c", 0), createdAt: undefined as unknown as number });
    const list = await box.list();
    expect(list.map((i) => i.id)).toEqual(["a", "b", "c"]);
    expect(list[0]).toEqual({ ...item("a", 100), attempts: 0 });
    expect(list[2]!.createdAt).toBeGreaterThan(1_600_000_000_000);
  });

  it("holds only age ciphertext, and never overwrites an item", async () => {
    const box = await Outbox.open();
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]);
    await expect(box.add({ ...item("x", 1), ciphertext: jpeg })).rejects.toThrow(TypeError);
    await box.add(item("x", 1));
    await expect(box.add({ ...item("x", 2), label: "other" })).rejects.toThrow();
    expect((await box.list()).map((i) => [i.id, i.label])).toEqual([["x", "photo"]]);
    const stored = (await (await openDb()).getAll("outbox"))[0]!;
    expect(Object.keys(stored).sort()).toEqual(
      ["attempts", "ciphertext", "createdAt", "id", "label", "manifestHeader", "path", "signature"].sort(),
    );
  });

  it("deletes an item only after the server's receipt; a failure is recorded and ends the pass", async () => {
    const box = await Outbox.open();
    for (const [id, t] of [["a", 1], ["b", 2], ["c", 3]] as const) await box.add(item(id, t));
    const sent: string[] = [];
    const result = await box.sync(async (i: OutboxItem): Promise<SendResult> => {
      sent.push(i.id);
      return i.id === "b" ? { ok: false, error: "network down", permanent: false } : { ok: true };
    });
    expect(result).toEqual({ sent: 1, failed: 1 });
    expect(sent).toEqual(["a", "b"]); // c waits for the next pass
    const left = await box.list();
    expect(left.map((i) => i.id)).toEqual(["b", "c"]);
    expect(left[0]).toMatchObject({ attempts: 1, lastError: "network down", permanent: false });
    expect(left[1]).toMatchObject({ attempts: 0 });
    expect(left[1]!.lastError).toBeUndefined();
    expect(await box.sync(async () => ({ ok: true }))).toEqual({ sent: 2, failed: 0 });
    expect(await box.list()).toEqual([]);
  });

  it("keeps an item the server refused for good, and goes on with the next", async () => {
    const box = await Outbox.open();
    await box.add(item("bad", 1));
    await box.add(item("good", 2));
    const result = await box.sync(async (i) =>
      i.id === "bad" ? { ok: false, error: "manifest refused", permanent: true } : { ok: true },
    );
    expect(result).toEqual({ sent: 1, failed: 1 });
    expect(await box.list()).toEqual([{ ...item("bad", 1), attempts: 1, lastError: "manifest refused", permanent: true }]);
  });

  it("keeps an item when the sender throws", async () => {
    const box = await Outbox.open();
    await box.add(item("a", 1));
    expect(await box.sync(async () => Promise.reject(new Error("TypeError: Failed to fetch")))).toEqual({ sent: 0, failed: 1 });
    expect(await box.list()).toMatchObject([{ id: "a", attempts: 1, lastError: "TypeError: Failed to fetch" }]);
  });

  it("runs one sync at a time: a second call joins the first, each item is sent once", async () => {
    const box = await Outbox.open();
    const other = await Outbox.open();
    await box.add(item("a", 1));
    await box.add(item("b", 2));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const calls: string[] = [];
    const send = async (i: OutboxItem): Promise<SendResult> => {
      calls.push(i.id);
      await gate;
      return { ok: true };
    };
    const first = box.sync(send);
    const second = other.sync(send);
    release();
    expect(await first).toEqual({ sent: 2, failed: 0 });
    expect(await second).toEqual({ sent: 2, failed: 0 });
    expect(calls).toEqual(["a", "b"]);
  });

  it("does nothing while another tab holds the sync lock (Web Locks)", async () => {
    const box = await Outbox.open();
    await box.add(item("a", 1));
    const requested: string[] = [];
    (globalThis as { navigator?: unknown }).navigator = {
      locks: {
        request: async (name: string, opts: { ifAvailable?: boolean }, cb: (lock: unknown) => Promise<unknown>) => {
          requested.push(`${name} ifAvailable=${opts.ifAvailable}`);
          return cb(null); // held elsewhere
        },
      },
    };
    let called = false;
    expect(await box.sync(async () => ((called = true), { ok: true }))).toEqual({ sent: 0, failed: 0 });
    expect(called).toBe(false);
    expect(requested).toEqual(["clinphoto-outbox-sync ifAvailable=true"]);
    expect(await ids(box)).toEqual(["a"]);
  });

  it("purges, oldest first, what is too old and what is over the count", async () => {
    const box = await Outbox.open();
    const day = 86_400_000;
    const now = 100 * day;
    for (let i = 0; i < 6; i++) await box.add(item(`n${i}`, now - i * day)); // n0 newest
    expect(await box.purge({ maxCount: 10, maxAgeMs: 3 * day, now })).toBe(2); // n4, n5
    expect(await ids(box)).toEqual(["n3", "n2", "n1", "n0"]);
    expect(await box.purge({ maxCount: 2, maxAgeMs: 30 * day, now })).toBe(2); // n3, n2
    expect(await ids(box)).toEqual(["n1", "n0"]);
    expect(await box.purge({ maxCount: 2, maxAgeMs: 30 * day, now })).toBe(0);
    expect(await box.purge({ maxCount: 0, maxAgeMs: 30 * day, now })).toBe(2);
    expect(await box.list()).toEqual([]);
  });
});
