// The app's sender for the outbox (STO-1): what it does with each answer of the server, on a
// real IndexedDB implementation, with the API and the unlocked session stood in for. Above
// all the lost receipt: an upload the server stored but whose 201 never came back is sent
// again, answered 409, and counts as received only when the server's record has the same
// ciphertext hash.
import "fake-indexeddb/auto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { deleteDatabase } from "../../src/lib/db";
import { sha256Hex } from "../../src/lib/keys";
import { utf8 } from "../../src/lib/bytes";

const upload = vi.fn();
const media = vi.fn();

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
  return { ApiError, api: { upload: (...a: unknown[]) => upload(...a), media: (...a: unknown[]) => media(...a) } };
});
vi.mock("../../src/app/session", () => ({ unlocked: () => ({}), need: () => ({}) }));

const { ApiError } = await import("../../src/app/api");
const { outbox, forgetOutbox, syncOutbox } = await import("../../src/app/outbox");

const CT = utf8("age-encryption.org/v1\n-> X25519 stanza\nciphertext bytes");

async function queued(): Promise<void> {
  await (await outbox()).add({ id: "m1", path: "/v1/media", manifestHeader: "h", signature: "s", ciphertext: CT, label: "photo" });
}

beforeEach(async () => {
  forgetOutbox();
  await deleteDatabase();
  upload.mockReset();
  media.mockReset();
  (globalThis as { navigator?: unknown }).navigator = { onLine: true };
});

afterEach(() => {
  delete (globalThis as { navigator?: unknown }).navigator;
});

describe("the app's outbox sender", () => {
  it("deletes an item on the server's receipt", async () => {
    await queued();
    upload.mockResolvedValue({});
    expect(await syncOutbox()).toEqual({ sent: 1, failed: 0 });
    expect(await (await outbox()).list()).toEqual([]);
  });

  it("takes a 409 for a receipt when the stored ciphertext is the same (a lost receipt)", async () => {
    await queued();
    upload.mockRejectedValue(new ApiError(409, "conflict", "already stored"));
    media.mockResolvedValue({ ciphertext_sha256: await sha256Hex(CT) });
    expect(await syncOutbox()).toEqual({ sent: 1, failed: 0 });
    expect(media).toHaveBeenCalledWith("m1", "clinical_care");
    expect(await (await outbox()).list()).toEqual([]);
  });

  it("keeps the item when the stored object under that id is something else", async () => {
    await queued();
    upload.mockRejectedValue(new ApiError(409, "conflict", "already stored"));
    media.mockResolvedValue({ ciphertext_sha256: "0".repeat(64) });
    expect(await syncOutbox()).toEqual({ sent: 0, failed: 1 });
    const [kept] = await (await outbox()).list();
    expect(kept?.lastError).toBe("conflict: already stored");
    expect(kept?.permanent).toBe(true);
  });

  it("keeps the item, to try again, when offline or the server fails", async () => {
    await queued();
    upload.mockRejectedValue(new ApiError(0, "offline", "no network"));
    expect(await syncOutbox()).toEqual({ sent: 0, failed: 1 });
    upload.mockRejectedValue(new ApiError(503, "unavailable", "down"));
    expect(await syncOutbox()).toEqual({ sent: 0, failed: 1 });
    const [kept] = await (await outbox()).list();
    expect([kept?.attempts, kept?.lastError, kept?.permanent]).toEqual([2, "error_server", false]);
  });

  it("sends nothing while offline", async () => {
    await queued();
    (globalThis as { navigator?: unknown }).navigator = { onLine: false };
    expect(await syncOutbox()).toEqual({ sent: 0, failed: 0 });
    expect(upload).not.toHaveBeenCalled();
  });
});
