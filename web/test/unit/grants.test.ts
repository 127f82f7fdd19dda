// Device grants (decision 011) in the app's library, against tests/vectors/grant.json (made
// by `python -m tools.grant_vectors`, checked against the Python code by
// tests/unit/test_grant_vectors.py): the same header bytes for the same ephemeral keys, the
// same file keys unwrapped, the same refusals, and grants that open Python's age files.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSealed } from "../../src/lib/age";
import { b64Decode, b64Encode, fromHex, hex } from "../../src/lib/b64";
import { concat } from "../../src/lib/bytes";
import { CryptoError } from "../../src/lib/errors";
import {
  bech32Decode,
  fileKey,
  grantDevice,
  grantHeader,
  identityBytes,
  identityPublic,
  parseHeader,
  recipientBytes,
  splitAge,
  type GrantIn,
  type GrantsApi,
  type MissingGrant,
  useWebCryptoX25519,
} from "../../src/lib/grants";
import { sha256Hex } from "../../src/lib/keys";

type Json = any; // the vector file is checked field by field below
const doc: Json = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../../tests/vectors/grant.json"), "utf8"));
const secrets: string[] = doc.identities.map((i: Json) => i.secret);
const recipients: string[] = doc.identities.map((i: Json) => i.recipient);

async function opensTo(data: Uint8Array, secret: string): Promise<string | null> {
  try {
    return await sha256Hex(await openSealed(data, secret));
  } catch {
    return null;
  }
}

// Every vector under both X25519 implementations: WebCrypto's (Node has it, as do current
// browsers) and the JavaScript one the app falls back to.
describe.each([
  ["WebCrypto", true],
  ["JavaScript", false],
])("X25519 by %s", (_name, web) => {
  beforeAll(() => useWebCryptoX25519(web));
  afterAll(() => useWebCryptoX25519(null));

  describe("grant headers with fixed ephemeral keys: Python's bytes", () => {
    for (const h of doc.headers) {
      it(h.name, async () => {
        const header = await grantHeader(fromHex(h.file_key_hex), h.recipients, h.ephemerals_hex.map(fromHex));
        expect(b64Encode(header)).toBe(h.header_b64);
        for (const i of h.identities) expect(hex(await fileKey(header, secrets[i]!))).toBe(h.file_key_hex);
      });
    }
  });

  describe("Python's age files: the file key, Python's grant and ours", () => {
    for (const f of doc.files) {
      it(f.name, async () => {
        const ct = b64Decode(f.ciphertext_b64);
        const [header, payload] = splitAge(ct);
        expect(header.length + payload.length).toBe(ct.length);
        const key = await fileKey(header, secrets[f.granter]!, identityPublic(secrets[f.granter]!));
        expect(hex(key)).toBe(f.file_key_hex);
        const target = secrets[f.target]!;
        expect(await opensTo(ct, target)).toBeNull(); // the original is not for the target
        const python = concat(b64Decode(f.grant_header_b64), payload);
        expect(await opensTo(python, target)).toBe(f.plaintext_sha256);
        const ours = await grantHeader(key, [recipients[f.target]!]);
        expect(await opensTo(concat(ours, payload), target)).toBe(f.plaintext_sha256);
        // Only the target: the grant holds no stanza for anyone else.
        await expect(fileKey(ours, secrets[f.granter]!)).rejects.toThrow(CryptoError);
        expect(hex(await fileKey(ours, target))).toBe(f.file_key_hex);
      });
    }
  });

  describe("headers with no key for the identity", () => {
    for (const r of doc.refused) {
      it(r.why, async () => {
        const header = b64Decode(r.header_b64);
        if (r.opens) expect((await fileKey(header, secrets[r.identity]!)).length).toBe(16);
        else await expect(fileKey(header, secrets[r.identity]!)).rejects.toThrow(CryptoError);
      });
    }
  });

  it("refuses a low-order share (an all-zero shared secret)", async () => {
    const f = doc.files[0];
    const [header] = splitAge(b64Decode(f.ciphertext_b64));
    const text = new TextDecoder().decode(header);
    const zero = text.replace(/^-> X25519 \S+$/m, `-> X25519 ${"A".repeat(43)}`);
    expect(zero).not.toBe(text);
    await expect(fileKey(new TextEncoder().encode(zero), secrets[f.granter]!)).rejects.toThrow(CryptoError);
  });
});

describe("headers parsed or refused as Python does", () => {
  for (const p of doc.parse) {
    it(p.why, () => {
      const header = b64Decode(p.header_b64);
      const verdict = (x25519Only: boolean) => {
        try {
          parseHeader(header, x25519Only);
          return true;
        } catch (e) {
          expect(e).toBeInstanceOf(CryptoError);
          return false;
        }
      };
      expect(verdict(true)).toBe(p.x25519_only);
      expect(verdict(false)).toBe(p.any_type);
    });
  }
});

describe("keys and bounds", () => {
  it("reads the test identities' Bech32 and refuses a changed character", () => {
    expect(identityBytes(secrets[0]!).length).toBe(32);
    expect(recipientBytes(recipients[0]!).length).toBe(32);
    const r = recipients[0]!;
    const changed = r.slice(0, 10) + (r[10] === "q" ? "p" : "q") + r.slice(11);
    expect(() => recipientBytes(changed)).toThrow(CryptoError);
    expect(() => recipientBytes(r.toUpperCase().slice(0, 5) + r.slice(5))).toThrow(CryptoError); // mixed case
    expect(() => bech32Decode(r, "age-secret-key-")).toThrow(CryptoError);
  });

  it("refuses a file key of the wrong size, no recipient, or a bad recipient", async () => {
    await expect(grantHeader(new Uint8Array(15), [recipients[0]!])).rejects.toThrow(CryptoError);
    await expect(grantHeader(new Uint8Array(16), [])).rejects.toThrow(CryptoError);
    await expect(grantHeader(new Uint8Array(16), ["age1nope"])).rejects.toThrow(CryptoError);
  });

  it("refuses to split what is not an age file", () => {
    expect(() => splitAge(new TextEncoder().encode("hello\n--- x\n"))).toThrow(CryptoError);
  });
});

describe("grantDevice: pages and batches through the API", () => {
  // A stand-in for the two routes that keeps what it is sent (the browser test runs the real
  // server); it answers in pages of two and counts a second grant of a triple as existing.
  function server(items: MissingGrant[]) {
    const stored = new Map<string, GrantIn>();
    const batches: number[] = [];
    const api: GrantsApi = {
      async missingGrants(_id, after) {
        const start = after === null ? 0 : items.findIndex((i) => i.object_id === after) + 1;
        const page = items.slice(start, start + 2);
        const next = start + 2 < items.length ? page[page.length - 1]!.object_id : null;
        return { items: page, next_after: next };
      },
      async postGrants(_id, grants) {
        batches.push(grants.length);
        let granted = 0;
        for (const g of grants) {
          const k = `${g.kind}/${g.object_id}/${g.field}`;
          if (!stored.has(k)) granted += 1;
          stored.set(k, stored.get(k) ?? g);
        }
        return { granted, existing: grants.length - granted };
      },
    };
    return { api, stored, batches };
  }

  it("grants every field it can open, reports the rest, and is safe to run again", async () => {
    const f = doc.files[0];
    const other = doc.files[2];
    const headerOf = (x: Json) => b64Encode(splitAge(b64Decode(x.ciphertext_b64))[0]);
    const items: MissingGrant[] = [];
    for (let n = 0; n < 5; n++) {
      items.push({
        kind: n % 2 ? "share" : "media",
        object_id: n.toString(16).padStart(32, "0"),
        media_kind: "photo",
        fields: ["content", "caption_sealed"],
        headers: { content: headerOf(f), caption_sealed: headerOf(f) },
      });
    }
    // One object sealed before the granting device existed: nothing of it can be granted.
    items.push({ kind: "media", object_id: "f".repeat(32), media_kind: "photo", fields: ["content"], headers: { content: headerOf(other) } });
    const { api, stored, batches } = server(items);
    const progress: number[] = [];
    const options = { deviceId: "d".repeat(32), recipient: recipients[f.target]!, ageSecret: secrets[f.granter]! };
    const report = await grantDevice(api, { ...options, onProgress: (r) => progress.push(r.objects) });
    expect(report).toEqual({ granted: 10, existing: 0, objects: 6, unopenable: [`media ${"f".repeat(32)}`] });
    expect(progress).toEqual([2, 4, 6]);
    expect(batches).toEqual([4, 4, 2]); // one batch per page here
    const payload = splitAge(b64Decode(f.ciphertext_b64))[1];
    for (const g of stored.values()) {
      expect(await opensTo(concat(b64Decode(g.header), payload), secrets[f.target]!)).toBe(f.plaintext_sha256);
    }
    const again = await grantDevice(api, options);
    expect(again).toMatchObject({ granted: 0, existing: 10, objects: 6 });
  });

  it("sends nothing for a malformed target recipient", async () => {
    const { api, batches } = server([]);
    await expect(grantDevice(api, { deviceId: "d", recipient: "age1x", ageSecret: secrets[0]! })).rejects.toThrow(CryptoError);
    expect(batches).toEqual([]);
  });
});
