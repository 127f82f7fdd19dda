// Opening a sealed photo on the device (app/see/open.ts), as the Python client's
// open_capture does: the author's signature over the manifest first, then decryption with
// this device's key, then the plaintext against the hash the signed manifest names. Every
// way a server (or anyone between) could swap, forge or damage a record is refused.
import { describe, expect, it, vi } from "vitest";
import { sealCapture } from "../../src/lib/capture";
import { fromUtf8 } from "../../src/lib/bytes";
import { CryptoError } from "../../src/lib/errors";
import { generateDeviceKeys, sign } from "../../src/lib/keys";
import type { MediaRecord } from "../../src/app/api";

vi.mock("../../src/app/api", () => ({ api: {} }));
vi.mock("../../src/app/session", () => ({ need: () => ({}) }));

const { openVerified, manifestOf, splitAge } = await import("../../src/app/see/open");

const PHOTO = new Uint8Array(2000).map((_, i) => (i * 7) % 251);

async function sealed() {
  const author = await generateDeviceKeys();
  const reader = await generateDeviceKeys();
  const s = await sealCapture(PHOTO, {
    contentType: "image/jpeg",
    patientId: "p".repeat(32),
    encounterId: "e".repeat(32),
    deviceId: "d".repeat(32),
    signingSeed: author.signingSeed,
    recipients: [author.ageRecipient, reader.ageRecipient],
  });
  const meta = {
    id: s.objectId,
    ciphertext_sha256: "",
    kind: "photo",
    patient_id: "p".repeat(32),
    encounter_id: "e".repeat(32),
    author_user_id: "u",
    author_device_id: "d".repeat(32),
    plaintext_sha256: s.plaintextSha256,
    content_type: "image/jpeg",
    manifest: fromUtf8(s.manifestBytes),
    signature: s.signature,
    created_at: "2026-11-30T00:00:00Z",
  } satisfies MediaRecord;
  return { s, meta, author, reader };
}

describe("openVerified", () => {
  it("opens a photo signed by its author and sealed to this device", async () => {
    const { s, meta, author, reader } = await sealed();
    const plain = await openVerified(s.ciphertext, meta, author.signingPublic, reader.ageSecret);
    expect(plain).toEqual(PHOTO);
    expect(manifestOf(meta).object_id).toBe(s.objectId);
  });

  it("refuses a manifest signed by another device", async () => {
    const { s, meta, reader } = await sealed();
    const other = await generateDeviceKeys();
    await expect(openVerified(s.ciphertext, meta, other.signingPublic, reader.ageSecret)).rejects.toThrow(CryptoError);
  });

  it("refuses a manifest changed after signing, even re-signed by someone else", async () => {
    const { s, meta, author, reader } = await sealed();
    const changed = meta.manifest.replace(s.plaintextSha256, "0".repeat(64));
    await expect(
      openVerified(s.ciphertext, { ...meta, manifest: changed }, author.signingPublic, reader.ageSecret),
    ).rejects.toThrow(CryptoError);
    const mallory = await generateDeviceKeys();
    const forged = await sign(mallory.signingSeed, new TextEncoder().encode(changed));
    await expect(
      openVerified(s.ciphertext, { ...meta, manifest: changed, signature: forged }, author.signingPublic, reader.ageSecret),
    ).rejects.toThrow(CryptoError);
  });

  it("refuses a record whose listed hash differs from the signed one", async () => {
    const { s, meta, author, reader } = await sealed();
    await expect(
      openVerified(s.ciphertext, { ...meta, plaintext_sha256: "f".repeat(64) }, author.signingPublic, reader.ageSecret),
    ).rejects.toThrow(CryptoError);
  });

  it("refuses another photo's ciphertext under this manifest (a swap)", async () => {
    const one = await sealed();
    const two = await sealCapture(new Uint8Array([1, 2, 3]), {
      contentType: "image/jpeg",
      patientId: "p".repeat(32),
      encounterId: "e".repeat(32),
      deviceId: "d".repeat(32),
      signingSeed: one.author.signingSeed,
      recipients: [one.reader.ageRecipient],
    });
    await expect(openVerified(two.ciphertext, one.meta, one.author.signingPublic, one.reader.ageSecret)).rejects.toThrow(
      CryptoError,
    );
  });

  it("refuses a photo not sealed to this device, and a damaged one", async () => {
    const { s, meta, author } = await sealed();
    const stranger = await generateDeviceKeys();
    await expect(openVerified(s.ciphertext, meta, author.signingPublic, stranger.ageSecret)).rejects.toThrow(CryptoError);
    const damaged = s.ciphertext.slice();
    damaged[damaged.length - 5]! ^= 1;
    await expect(openVerified(damaged, meta, author.signingPublic, author.ageSecret)).rejects.toThrow(CryptoError);
  });
});

describe("splitAge", () => {
  it("splits an age file after its MAC line, as crypto.split_age does", async () => {
    const { s } = await sealed();
    const [header, payload] = splitAge(s.ciphertext);
    expect(fromUtf8(header)).toMatch(/^age-encryption\.org\/v1\n[\s\S]*\n--- [A-Za-z0-9+/]{43}\n$/);
    expect(header.length + payload.length).toBe(s.ciphertext.length);
  });
});
