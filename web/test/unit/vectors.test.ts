// Every shared wire-format vector in tests/vectors/ (made by `python -m tools.wire_vectors`,
// checked against the Python code by tests/unit/test_wire_vectors.py), checked here against
// the TypeScript library: the two clients cannot drift apart.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { openSealed, seal } from "../../src/lib/age";
import { b64Decode, b64Encode, b64urlDecode, b64urlEncode, fromHex, hex } from "../../src/lib/b64";
import { canonicalJson, encodeManifest, manifestHeader, readManifestHeader } from "../../src/lib/canonical";
import { sealCapture, sealShare, sealText } from "../../src/lib/capture";
import { blindIndex, fingerprint, sha256Hex, sign, signingPublic, verify } from "../../src/lib/keys";
import * as protocol from "../../src/lib/protocol";
import {
  ackMessage,
  deviceStatusMessage,
  loginMessage,
  shareDeletedMessage,
  statusTime,
  wipeConfirmationMessage,
} from "../../src/lib/protocol";
import { signStatus } from "../../src/app/devicestatus";

// The status key signs through the app's module; its API and session are not used here.
vi.mock("../../src/app/api", () => ({ api: {} }));
vi.mock("../../src/app/session", () => ({ unlocked: () => null }));
import { deriveVaultKey, unwrapKey, wrapKey } from "../../src/lib/vault";
import { fromUtf8, utf8 } from "../../src/lib/bytes";

const DIR = resolve(import.meta.dirname, "../../../tests/vectors");
type Json = any; // the vector files are checked field by field below
/** One test per item of a vector list, named by title with %s replaced by its label. */
function each(list: Json[], label: (c: Json, i: number) => unknown, title: string, f: (c: Json) => unknown): void {
  list.forEach((c, i) => it(title.replace("%s", String(label(c, i))), async () => {
    await f(c);
  }));
}

function load(name: string): Json {
  return JSON.parse(readFileSync(resolve(DIR, name), "utf8"));
}

const canonical = load("canonical.json");
const messages = load("messages.json");
const ed = load("ed25519.json");
const fps = load("fingerprint.json");
const blind = load("blind-index.json");
const vault = load("vault.json");
const age = load("age.json");
const capture = load("capture.json");
const texts = load("sealed-text.json");

const seeds: Uint8Array[] = ed.keys.map((k: Json) => fromHex(k.seed_hex));
const identities: string[] = age.identities.map((i: Json) => i.secret);

describe("canonical manifests", () => {
  each(canonical.cases, (c: Json) => c.name, "%s", async (c: Json) => {
    expect(canonicalJson(c.value)).toBe(c.canonical);
    const bytes = utf8(c.canonical);
    if (!Array.isArray(c.value)) {
      expect(hex(encodeManifest(c.value))).toBe(hex(bytes));
    }
    expect(await sha256Hex(bytes)).toBe(c.sha256);
    expect(manifestHeader(bytes)).toBe(c.header);
  });

  it("reads a header back to the same bytes and value", () => {
    for (const c of canonical.cases) {
      if (Array.isArray(c.value)) continue;
      const { bytes, manifest } = readManifestHeader(c.header);
      expect(fromUtf8(bytes)).toBe(c.canonical);
      expect(canonicalJson(manifest)).toBe(c.canonical);
    }
  });

  each(canonical.refused_by_typescript, (c: Json) => c.name, "refuses %s", (c: Json) => {
    expect(() => canonicalJson(c.value)).toThrow(TypeError);
  });

  it("refuses what Python cannot encode either", () => {
    expect(() => canonicalJson({ a: undefined })).toThrow(TypeError);
    expect(() => canonicalJson([undefined])).toThrow(TypeError);
    expect(() => canonicalJson({ d: new Date(0) })).toThrow(TypeError);
    expect(() => canonicalJson({ b: new Uint8Array(1) })).toThrow(TypeError);
    expect(() => canonicalJson({ n: NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ n: 10n })).toThrow(TypeError);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => canonicalJson(loop)).toThrow(TypeError);
  });
});

describe("messages", () => {
  it("has the Python side's constants", () => {
    const c = messages.constants;
    expect(protocol.MANIFEST_HEADER).toBe(c.MANIFEST_HEADER);
    expect(protocol.SIGNATURE_HEADER).toBe(c.SIGNATURE_HEADER);
    expect(protocol.AGE_MAGIC).toBe(c.AGE_MAGIC);
    expect(protocol.MAX_MANIFEST_BYTES).toBe(c.MAX_MANIFEST_BYTES);
    expect(protocol.MAX_MANIFEST_DEPTH).toBe(c.MAX_MANIFEST_DEPTH);
    expect([...protocol.SEALED_TEXT_FIELDS]).toEqual(c.SEALED_TEXT_FIELDS);
    expect(protocol.MAX_SEALED_TEXT).toBe(c.MAX_SEALED_TEXT);
    expect(protocol.TEXT_WARNINGS_FIELD).toBe(c.TEXT_WARNINGS_FIELD);
    expect(protocol.TEXT_CONFIRMED_FIELD).toBe(c.TEXT_CONFIRMED_FIELD);
    expect([...protocol.TEXT_CONFIRMATIONS]).toEqual(c.TEXT_CONFIRMATIONS);
  });

  each(messages.login, (l: Json) => l.email, "sign-in message for %s", async (l: Json) => {
    const message = loginMessage(l.device_id, l.email, l.timestamp);
    expect(hex(message)).toBe(l.message_hex);
    expect(await sign(seeds[l.seed]!, message)).toBe(l.signature);
    expect(await verify(ed.keys[l.seed].public, message, l.signature)).toBe(true);
  });

  each(messages.ack, (a: Json) => a.share_id, "acknowledgement of share %s", async (a: Json) => {
    const message = ackMessage(a.share_id, a.plaintext_sha256);
    expect(hex(message)).toBe(a.message_hex);
    expect(await sign(seeds[a.seed]!, message)).toBe(a.signature);
    expect(await verify(ed.keys[a.seed].public, message, a.signature)).toBe(true);
  });

  it("writes timestamps as Python's isoformat does", () => {
    expect(protocol.isoTimestamp(new Date("2026-01-02T03:04:05.678Z"))).toBe("2026-01-02T03:04:05.678000+00:00");
    expect(protocol.isoTimestamp(new Date("2026-01-02T03:04:05.000Z"))).toBe("2026-01-02T03:04:05+00:00");
    expect(protocol.isoTimestamp(new Date("2026-01-02T03:04:05.001Z"))).toBe("2026-01-02T03:04:05.001000+00:00");
  });
});

describe("Ed25519", () => {
  each(ed.rfc8032, (_v: Json, i: number) => i + 1, "RFC 8032 test %s", async (v: Json) => {
    const seed = fromHex(v.seed_hex);
    expect(hex(b64urlDecode(signingPublic(seed)))).toBe(v.public_hex);
    const sig = await sign(seed, fromHex(v.message_hex));
    expect(hex(b64urlDecode(sig))).toBe(v.signature_hex);
  });

  it("derives each public key from its seed", () => {
    for (const k of ed.keys) expect(signingPublic(fromHex(k.seed_hex))).toBe(k.public);
  });

  it("makes Python's signatures byte for byte, and verifies them", async () => {
    for (const s of ed.signatures) {
      const message = fromHex(s.message_hex);
      expect(await sign(seeds[s.seed]!, message)).toBe(s.signature);
      expect(await verify(ed.keys[s.seed].public, message, s.signature)).toBe(true);
    }
  });

  each(ed.invalid, (v: Json) => v.why, "refuses %s", async (v: Json) => {
    expect(await verify(v.public, fromHex(v.message_hex), v.signature)).toBe(false);
  });

  describe("without WebCrypto Ed25519 (the JavaScript fallback)", () => {
    function withoutWebCryptoEd25519<T>(f: () => Promise<T>): Promise<T> {
      const real = crypto.subtle.importKey.bind(crypto.subtle);
      const spy = vi.spyOn(crypto.subtle, "importKey").mockImplementation(((...args: Parameters<typeof real>) => {
        const alg = args[2] as { name?: string } | string;
        const name = typeof alg === "string" ? alg : alg.name;
        if (name === "Ed25519") return Promise.reject(new DOMException("no Ed25519", "NotSupportedError"));
        return real(...args);
      }) as typeof crypto.subtle.importKey);
      return f().finally(() => spy.mockRestore());
    }

    it("signs the same bytes and verifies the same way", async () => {
      await withoutWebCryptoEd25519(async () => {
        for (const s of ed.signatures) {
          const message = fromHex(s.message_hex);
          expect(await sign(seeds[s.seed]!, message)).toBe(s.signature);
          expect(await verify(ed.keys[s.seed].public, message, s.signature)).toBe(true);
        }
        for (const v of ed.invalid) {
          expect(await verify(v.public, fromHex(v.message_hex), v.signature)).toBe(false);
        }
      });
      expect(vi.isMockFunction(crypto.subtle.importKey)).toBe(false);
    });
  });
});

describe("fingerprints and blind indexes", () => {
  each(fps.cases, (c: Json) => c.public_keys.length, "fingerprint of %s keys", async (c: Json) => {
    expect(await fingerprint(...c.public_keys)).toBe(c.fingerprint);
  });

  each(blind.cases, (_c: Json, i: number) => i, "blind index case %s", async (c: Json) => {
    expect(await blindIndex(fromHex(c.key_hex), c.kind, c.value)).toBe(c.index);
  });
});

describe("device vault", () => {
  each(vault.kdf, (k: Json) => `t=${k.t} m=${k.m} p=${k.p}`, "Argon2id %s", async (k: Json) => {
    const key = await deriveVaultKey(k.passcode, fromHex(k.salt_hex), { t: k.t, m: k.m, p: k.p });
    expect(hex(key)).toBe(k.key_hex);
  });

  it("refuses a salt shorter than 16 bytes, as Python does", async () => {
    await expect(deriveVaultKey("123456", new Uint8Array(15), { t: 1, m: 8, p: 1 })).rejects.toThrow("cryptographic");
  });

  it("unwraps Python's wrapped keys, and nothing altered", async () => {
    for (const w of vault.wrap) {
      const kek = fromHex(w.kek_hex);
      const wrapped = fromHex(w.wrapped_hex);
      const context = utf8(w.context);
      expect(hex(await unwrapKey(kek, wrapped, context))).toBe(w.secret_hex);
      await expect(unwrapKey(kek, wrapped, utf8(w.context + "x"))).rejects.toThrow("cryptographic");
      const flipped = wrapped.slice();
      flipped[flipped.length - 1]! ^= 1;
      await expect(unwrapKey(kek, flipped, context)).rejects.toThrow("cryptographic");
      const other = kek.slice();
      other[0]! ^= 1;
      await expect(unwrapKey(other, wrapped, context)).rejects.toThrow("cryptographic");
    }
  });

  it("wraps what Python's layout unwraps: nonce(12) || ciphertext || tag(16)", async () => {
    const w = vault.wrap[0];
    const kek = fromHex(w.kek_hex);
    const wrapped = await wrapKey(kek, fromHex(w.secret_hex), utf8(w.context));
    expect(wrapped.length).toBe(12 + fromHex(w.secret_hex).length + 16);
    expect(hex(await unwrapKey(kek, wrapped, utf8(w.context)))).toBe(w.secret_hex);
    expect(hex(wrapped)).not.toBe(w.wrapped_hex); // a fresh nonce every time
  });

  it("opens the CLI's vault record with the passcode", async () => {
    const v = vault.device_vault;
    const r = v.record;
    expect(r.format).toBe("clinphoto-device-vault-v1");
    const kek = await deriveVaultKey(v.passcode, b64Decode(r.salt), {
      t: r.kdf.time_cost,
      m: r.kdf.memory_kib,
      p: r.kdf.parallelism,
    });
    const plain = await unwrapKey(kek, b64Decode(r.sealed), utf8(v.context));
    expect(JSON.parse(fromUtf8(plain))).toEqual(v.secrets);
  });
});

describe("age files", () => {
  each(age.files, (f: Json) => f.name, "opens Python's %s file", async (f: Json) => {
    const ct = b64Decode(f.ciphertext_b64);
    for (let i = 0; i < identities.length; i++) {
      if (f.identities.includes(i)) {
        const plain = await openSealed(ct, identities[i]!);
        expect(hex(plain)).toBe(f.plaintext_hex);
        expect(await sha256Hex(plain)).toBe(f.plaintext_sha256);
      } else {
        await expect(openSealed(ct, identities[i]!)).rejects.toThrow("cryptographic");
      }
    }
  });

  it("refuses a damaged file", async () => {
    const f = age.files[1];
    const ct = b64Decode(f.ciphertext_b64);
    ct[ct.length - 1]! ^= 1;
    await expect(openSealed(ct, identities[0]!)).rejects.toThrow("cryptographic");
  });

  it("seals only to X25519 recipients, and opens its own files across chunks", async () => {
    await expect(seal(utf8("x"), [])).rejects.toThrow("cryptographic");
    await expect(seal(utf8("x"), ["age1pq1notarecipient"])).rejects.toThrow("cryptographic");
    await expect(seal(utf8("x"), [age.identities[0].recipient.toUpperCase()])).rejects.toThrow("cryptographic");
    for (const size of [0, 65535, 65536, 65537, 200_000]) {
      const plain = crypto.getRandomValues(new Uint8Array(Math.min(size, 65536)));
      const big = new Uint8Array(size);
      for (let i = 0; i < size; i += plain.length || 1) big.set(plain.subarray(0, Math.min(plain.length, size - i)), i);
      const ct = await seal(big, [age.identities[0].recipient, age.identities[1].recipient]);
      expect(fromUtf8(ct.subarray(0, 22))).toBe(protocol.AGE_MAGIC);
      expect(await sha256Hex(await openSealed(ct, identities[1]!))).toBe(await sha256Hex(big));
    }
  });
});

describe("sealed captures", () => {
  const opened = fromHex(capture.scrubbed_hex);
  const random = new Set<string>(capture.random_fields);
  const fixed = (m: Record<string, unknown>) => Object.fromEntries(Object.entries(m).filter(([k]) => !random.has(k)));

  each(capture.captures, (c: Json) => c.name, "checks Python's %s", async (c: Json) => {
    const { bytes, manifest } = readManifestHeader(c.manifest_header);
    expect(manifest).toEqual(c.manifest);
    expect(fromUtf8(bytes)).toBe(canonicalJson(c.manifest));
    expect(await verify(c.signing_public, bytes, c.signature)).toBe(true);
    const ct = b64Decode(c.ciphertext_b64);
    expect(await sha256Hex(ct)).toBe(manifest.ciphertext_sha256);
    expect(manifest.size).toBe(ct.length);
    for (const secret of identities.slice(0, 2)) {
      const plain = await openSealed(ct, secret);
      expect(await sha256Hex(plain)).toBe(c.plaintext_sha256);
      expect(hex(plain)).toBe(capture.scrubbed_hex);
    }
  });

  each(capture.captures, (c: Json) => c.name, "makes the same manifest as Python for %s", async (c: Json) => {
    const m = c.manifest;
    const inp = c.inputs;
    const seed = seeds[inp.seed]!;
    let text: Record<string, unknown> | undefined;
    for (const field of protocol.SEALED_TEXT_FIELDS) {
      if (m[field] === undefined) continue;
      const words = field === "caption_sealed" ? inp.caption : inp.message;
      const kinds: string[] = m.text_warnings ?? [];
      text = await sealText(field, words, inp.recipients, kinds.length ? { kinds, confirmed: m.text_warnings_confirmed } : undefined);
    }
    const now = new Date(m.captured_at ?? m.sent_at);
    const made =
      m.kind === "share"
        ? await sealShare(opened, {
            contentType: m.content_type,
            deviceId: inp.device_id,
            signingSeed: seed,
            recipients: inp.recipients,
            recipientUserId: inp.recipient_user_id,
            purpose: inp.purpose,
            ...(text ? { text } : {}),
            now,
          })
        : await sealCapture(opened, {
            contentType: m.content_type,
            patientId: inp.patient_id,
            encounterId: inp.encounter_id,
            deviceId: inp.device_id,
            signingSeed: seed,
            recipients: inp.recipients,
            ...(inp.consent_id ? { consentId: inp.consent_id } : {}),
            ...(inp.derived_from ? { derivedFrom: inp.derived_from } : {}),
            ...(text ? { text } : {}),
            now,
          });
    const ours = readManifestHeader(made.manifestHeader).manifest;
    expect(Object.keys(ours).sort()).toEqual(Object.keys(m).sort());
    expect(fixed(ours)).toEqual(fixed(m));
    expect(ours.object_id).toMatch(/^[0-9a-f]{32}$/);
    expect(ours.object_id).toBe(made.objectId);
    expect(ours.size).toBe(made.ciphertext.length);
    expect(ours.ciphertext_sha256).toBe(await sha256Hex(made.ciphertext));
    expect(made.plaintextSha256).toBe(c.plaintext_sha256);
    expect(hex(made.manifestBytes)).toBe(hex(encodeManifest(ours)));
    expect(await verify(c.signing_public, made.manifestBytes, made.signature)).toBe(true);
    expect(hex(await openSealed(made.ciphertext, identities[0]!))).toBe(capture.scrubbed_hex);
  });

  it("refuses text fields that are not sealed text", async () => {
    await expect(
      sealCapture(opened, {
        contentType: "image/jpeg",
        patientId: "p",
        encounterId: "e",
        deviceId: "d",
        signingSeed: seeds[1]!,
        recipients: [age.identities[0].recipient],
        text: { caption: "in the clear" },
      }),
    ).rejects.toThrow(TypeError);
  });
});

describe("sealed text", () => {
  each(texts.cases, (c: Json) => c.name, "opens Python's %s", async (c: Json) => {
    const sealed = c.fields[c.field];
    expect(b64Encode(b64Decode(sealed))).toBe(sealed); // standard alphabet, padded
    for (const i of c.identities) {
      expect(fromUtf8(await openSealed(b64Decode(sealed), identities[i]!))).toBe(c.text);
    }
  });

  each(texts.cases, (c: Json) => c.name, "makes the same fields as Python for %s", async (c: Json) => {
    const kinds: string[] = c.fields.text_warnings ?? [];
    const ours = await sealText(c.field, c.text, texts.recipients, kinds.length ? { kinds: [...kinds].reverse(), confirmed: c.confirmed } : undefined);
    expect(Object.keys(ours).sort()).toEqual(Object.keys(c.fields).sort());
    for (const k of Object.keys(c.fields)) if (k !== c.field) expect(ours[k]).toEqual(c.fields[k]);
    const sealed = ours[c.field] as string;
    expect(fromUtf8(await openSealed(b64Decode(sealed), identities[2]!))).toBe(c.text);
  });

  it("refuses unconfirmed warnings and unknown reasons", async () => {
    const r = texts.recipients;
    await expect(sealText("caption_sealed", "MRN 7654321", r, { kinds: ["mrn"], confirmed: "" })).rejects.toThrow(TypeError);
    await expect(sealText("caption_sealed", "MRN 7654321", r, { kinds: ["mrn"], confirmed: "because" })).rejects.toThrow(TypeError);
    await expect(sealText("caption" as "caption_sealed", "x", r)).rejects.toThrow(TypeError);
  });
});

describe("base64", () => {
  it("writes and reads both alphabets like Python", () => {
    const all = new Uint8Array(256).map((_, i) => i);
    for (let n = 0; n <= 6; n++) {
      const b = all.subarray(250 - n, 250);
      expect(hex(b64Decode(b64Encode(b)))).toBe(hex(b));
      expect(hex(b64urlDecode(b64urlEncode(b)))).toBe(hex(b));
    }
    expect(b64urlEncode(new Uint8Array([0xfb, 0xff]))).toBe("-_8=");
    expect(b64Encode(new Uint8Array([0xfb, 0xff]))).toBe("+/8=");
    expect(() => b64urlDecode("+/8=")).toThrow(TypeError);
    expect(() => b64Decode("a")).toThrow(TypeError);
    expect(() => b64Decode("ab=")).toThrow(TypeError);
  });
});

describe("device status (docs/wire/device-status.md)", () => {
  const ds = load("device-status.json");
  const seed = seeds[ds.seed]!;
  // The status key as the app holds it: a non-extractable WebCrypto Ed25519 key.
  const statusKey = async () => ({
    deviceId: "",
    publicKey: ds.status_public,
    registered: true,
    privateKey: await crypto.subtle.importKey(
      "pkcs8",
      new Uint8Array([...fromHex("302e020100300506032b657004220420"), ...seed]),
      { name: "Ed25519" },
      false,
      ["sign"],
    ),
  });

  it("the status key's public key is the seed's", () => {
    expect(signingPublic(seed)).toBe(ds.status_public);
  });

  each(ds.reports, (c: Json) => c.name, "status report: %s", async (c: Json) => {
    const b = c.body;
    const message = deviceStatusMessage(b.device_id, b.time, b.locked, b.locked_since, b.holding);
    expect(hex(message)).toBe(c.message_hex);
    expect(await signStatus(await statusKey(), message)).toBe(b.signature);
    expect(await verify(ds.status_public, message, b.signature)).toBe(true);
  });

  it("wipe confirmation", async () => {
    const { body: b, message_hex } = ds.wipe_confirmation;
    const message = wipeConfirmationMessage(b.device_id, b.wipe_id, b.wiped_at, b.erased);
    expect(hex(message)).toBe(message_hex);
    expect(await signStatus(await statusKey(), message)).toBe(b.signature);
  });

  it("deletion of a recalled share's copy", async () => {
    const { body: b, message_hex } = ds.delete_confirmation;
    const message = shareDeletedMessage(b.device_id, b.share_id, b.deleted_at);
    expect(hex(message)).toBe(message_hex);
    expect(await signStatus(await statusKey(), message)).toBe(b.signature);
  });

  it("times are whole seconds with a Z", () => {
    expect(statusTime(new Date(Date.UTC(2026, 10, 30, 6, 0, 0, 999)))).toBe("2026-11-30T06:00:00Z");
  });
});
