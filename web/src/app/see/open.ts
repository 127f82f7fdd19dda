// Opening sealed photos on the device, as client/capture.py's open_capture does: the
// author's Ed25519 signature over the manifest is checked first, then the age file is
// decrypted with this device's key, then the plaintext is checked against the SHA-256 the
// signed manifest names. Nothing is shown that fails any step.
//
// Opened photos live only in this module's memory (a few, for moving between the photo,
// redaction and sharing screens) and in object URLs of the screens; forgetOpened() zeroes
// and drops them all, and the screens call it when they are left and when the app locks.

import { openSealed } from "../../lib/age";
import { b64Decode } from "../../lib/b64";
import { concat, fromUtf8, utf8 } from "../../lib/bytes";
import { CryptoError } from "../../lib/errors";
import { sha256Hex, verify } from "../../lib/keys";
import { api, type InboxEntry, type MediaRecord } from "../api";
import { need } from "../session";

/** What every screen reads of a signed manifest. */
export interface Manifest {
  object_id?: string;
  plaintext_sha256?: string;
  captured_at?: string;
  sent_at?: string;
  derived_from?: string;
  body_site?: { system?: string; code?: string; laterality?: string };
  caption_sealed?: string;
  message_sealed?: string;
  patient_sealed?: string;
  [k: string]: unknown;
}

/** A photo opened on this device: its plaintext and what its signed manifest says. */
export interface Opened {
  meta: MediaRecord;
  manifest: Manifest;
  plain: Uint8Array;
  contentType: string;
}

/** The signed manifest of a media record (only read after its signature is checked, or
 * for listing what the server says it is). */
export function manifestOf(meta: MediaRecord): Manifest {
  return JSON.parse(meta.manifest) as Manifest;
}

/** Verify, decrypt and check a sealed object; a CryptoError if any step fails. */
export async function openVerified(
  ciphertext: Uint8Array,
  meta: MediaRecord,
  authorSigningPublic: string,
  ageSecret: string,
): Promise<Uint8Array> {
  if (!(await verify(authorSigningPublic, utf8(meta.manifest), meta.signature))) throw new CryptoError();
  const expected = manifestOf(meta).plaintext_sha256;
  if (typeof expected !== "string" || expected !== meta.plaintext_sha256) throw new CryptoError();
  const plain = await openSealed(ciphertext, ageSecret);
  if ((await sha256Hex(plain)) !== expected) {
    plain.fill(0);
    throw new CryptoError();
  }
  return plain;
}

const MAC_MARK = utf8("\n--- ");

/** An age file's header (through its MAC line) and its payload, as crypto.split_age. */
export function splitAge(data: Uint8Array): [Uint8Array, Uint8Array] {
  const limit = Math.min(data.length, 64 * 1024);
  outer: for (let i = 0; i + MAC_MARK.length <= limit; i++) {
    for (let j = 0; j < MAC_MARK.length; j++) if (data[i + j] !== MAC_MARK[j]) continue outer;
    const end = data.indexOf(0x0a, i + 1);
    if (end < 0) break;
    return [data.subarray(0, end + 1), data.subarray(end + 1)];
  }
  throw new CryptoError();
}

/** A caption, message or patient details sealed in a manifest field, opened on this
 * device (with the grant header the server gave a later device, decision 011); null when
 * the manifest has none; a CryptoError when this device cannot open it. */
export async function openField(meta: MediaRecord, field: string): Promise<string | null> {
  const sealed = manifestOf(meta)[field];
  if (typeof sealed !== "string" || !sealed) return null;
  let data = b64Decode(sealed);
  const grant = meta.sealed_text_grants?.[field];
  if (grant) data = concat(b64Decode(grant), splitAge(data)[1]);
  return fromUtf8(await openSealed(data, need().secrets.ageSecret));
}

/** The patient a share is about, from its sealed details (client/text.py open_patient). */
export interface PatientDetails {
  name?: string;
  dob?: string;
  mrn?: string;
  hcn?: string;
  province?: string;
}

export async function openPatient(meta: MediaRecord): Promise<PatientDetails | null> {
  const text = await openField(meta, "patient_sealed");
  if (text === null) return null;
  const raw = JSON.parse(text) as Record<string, unknown>;
  const out: PatientDetails = {};
  for (const k of ["name", "dob", "mrn", "hcn", "province"] as const) {
    if (typeof raw[k] === "string" && raw[k]) out[k] = raw[k];
  }
  return out;
}

// --- this user's own photos ------------------------------------------------------------------

let authorKeys: Promise<Map<string, string>> | null = null;
const opened = new Map<string, Promise<Opened>>(); // by media id, most recent last
const KEEP = 4; // full photos kept open while moving between screens

async function authorKey(deviceId: string): Promise<string> {
  authorKeys ??= api.devices().then((list) => new Map(list.map((d) => [d.id, d.signing_public])));
  let key = (await authorKeys).get(deviceId);
  if (key === undefined) {
    authorKeys = null; // a device enrolled since: ask again once
    authorKeys = api.devices().then((list) => new Map(list.map((d) => [d.id, d.signing_public])));
    key = (await authorKeys).get(deviceId);
  }
  if (key === undefined) throw new CryptoError(); // not one of this user's devices
  return key;
}

async function openOwnNow(mediaId: string, purpose: string, known?: MediaRecord): Promise<Opened> {
  const meta = known ?? (await api.mediaRecord(mediaId, purpose));
  const [ciphertext, key] = await Promise.all([api.mediaContent(mediaId, purpose), authorKey(meta.author_device_id)]);
  const plain = await openVerified(ciphertext, meta, key, need().secrets.ageSecret);
  return { meta, manifest: manifestOf(meta), plain, contentType: meta.content_type };
}

/** One of this user's photos, opened (kept for a few screens). */
export function openOwn(mediaId: string, purpose = "clinical_care", known?: MediaRecord): Promise<Opened> {
  const have = opened.get(mediaId);
  if (have) {
    opened.delete(mediaId);
    opened.set(mediaId, have);
    return have;
  }
  const p = openOwnNow(mediaId, purpose, known);
  opened.set(mediaId, p);
  p.catch(() => opened.delete(mediaId));
  while (opened.size > KEEP) {
    const [oldest, gone] = opened.entries().next().value as [string, Promise<Opened>];
    opened.delete(oldest);
    void gone.then((o) => o.plain.fill(0)).catch(() => undefined);
  }
  return p;
}

/** A photo shared with this user, opened: signed by the sender's device, sealed to this one. */
export async function openShared(entry: InboxEntry): Promise<Opened> {
  const ciphertext = await api.shareContent(entry.share.id);
  const plain = await openVerified(ciphertext, entry.media, entry.sender_signing_public, need().secrets.ageSecret);
  return { meta: entry.media, manifest: manifestOf(entry.media), plain, contentType: entry.media.content_type };
}

/** Forget every opened photo (zeroed) and the author keys. */
export function forgetOpened(): void {
  for (const p of opened.values()) void p.then((o) => o.plain.fill(0)).catch(() => undefined);
  opened.clear();
  authorKeys = null;
}
