// Sealing on the device: the browser's twin of client/capture.py (seal_capture,
// reseal_for_share) and client/text.py (seal_text). The image handed in is already scrubbed
// (DEI-1); it leaves this module only inside an age file addressed to `recipients`, with a
// manifest signed by the device (tests/vectors/capture.json and sealed-text.json).

import { seal } from "./age";
import { b64Encode, hex } from "./b64";
import { encodeManifest, compareCodePoints, manifestHeader } from "./canonical";
import { randomBytes, utf8 } from "./bytes";
import { sha256Hex, sign } from "./keys";
import {
  isoTimestamp,
  MAX_SEALED_TEXT,
  SEALED_TEXT_FIELDS,
  TEXT_CONFIRMATIONS,
  TEXT_CONFIRMED_FIELD,
  TEXT_WARNINGS_FIELD,
  type SealedTextField,
} from "./protocol";

/** A sealed object ready for the outbox: the ciphertext, its signed manifest and header. */
export interface SealedCapture {
  objectId: string;
  manifestBytes: Uint8Array;
  manifestHeader: string;
  signature: string;
  ciphertext: Uint8Array;
  plaintextSha256: string;
}

/** Where on the body a photo was taken (BEY-2): a SNOMED CT body structure concept, with
 * laterality (left 7771000, right 24028007, both 51440002) for a paired structure; the
 * twin of wire.BodySite. Not an identifier: it travels in the clear in the manifest. */
export interface BodySite {
  system: "http://snomed.info/sct";
  code: string;
  laterality?: "7771000" | "24028007" | "51440002";
}

/** The manifest fields that a sealed text may add (sealText's output), and a share's
 * patient details sealed to its recipients (wire.ShareManifest.patient_sealed). */
const TEXT_KEYS = new Set<string>([
  ...SEALED_TEXT_FIELDS,
  TEXT_WARNINGS_FIELD,
  TEXT_CONFIRMED_FIELD,
  "patient_sealed",
]);

function addText(manifest: Record<string, unknown>, text: Record<string, unknown> | undefined): void {
  for (const [k, v] of Object.entries(text ?? {})) {
    if (!TEXT_KEYS.has(k)) throw new TypeError(`not a sealed-text field: ${k}`);
    manifest[k] = v;
  }
}

async function finish(
  manifest: Record<string, unknown>,
  objectId: string,
  ciphertext: Uint8Array,
  plaintextSha256: string,
  signingSeed: Uint8Array,
): Promise<SealedCapture> {
  const manifestBytes = encodeManifest(manifest);
  return {
    objectId,
    manifestBytes,
    manifestHeader: manifestHeader(manifestBytes),
    signature: await sign(signingSeed, manifestBytes),
    ciphertext,
    plaintextSha256,
  };
}

/** Seal a scrubbed photo (or, with consentId, the patient's consent signature; with
 * derivedFrom, a new version of that photo) to recipients and sign its manifest. */
export async function sealCapture(
  image: Uint8Array,
  o: {
    contentType: string;
    patientId: string;
    encounterId: string;
    deviceId: string;
    signingSeed: Uint8Array;
    recipients: string[];
    consentId?: string;
    derivedFrom?: string;
    bodySite?: BodySite;
    text?: Record<string, unknown>;
    now?: Date;
  },
): Promise<SealedCapture> {
  const objectId = hex(randomBytes(16)); // random: carries nothing about the patient (TRN-3)
  // The digest (WebCrypto, on the browser's own threads) runs while age encrypts.
  const [plaintextSha256, ciphertext] = await Promise.all([sha256Hex(image), seal(image, o.recipients)]);
  const manifest: Record<string, unknown> = {
    v: 1,
    object_id: objectId,
    kind: o.consentId === undefined ? "photo" : "consent-signature",
    content_type: o.contentType,
    patient_id: o.patientId,
    encounter_id: o.encounterId,
    device_id: o.deviceId,
    plaintext_sha256: plaintextSha256,
    ciphertext_sha256: await sha256Hex(ciphertext),
    size: ciphertext.length,
    recipients: [...o.recipients].sort(compareCodePoints),
    captured_at: isoTimestamp(o.now ?? new Date()),
  };
  if (o.consentId !== undefined) manifest.consent_id = o.consentId;
  if (o.derivedFrom !== undefined) manifest.derived_from = o.derivedFrom;
  if (o.bodySite !== undefined) {
    if (o.consentId !== undefined) throw new TypeError("a consent signature has no body site");
    const { system, code, laterality } = o.bodySite;
    manifest.body_site = laterality === undefined ? { system, code } : { system, code, laterality };
  }
  addText(manifest, o.text);
  return finish(manifest, objectId, ciphertext, plaintextSha256, o.signingSeed);
}

/** Re-seal an opened photo for one recipient's devices and the records key (TRN-4). */
export async function sealShare(
  plain: Uint8Array,
  o: {
    contentType: string;
    deviceId: string;
    signingSeed: Uint8Array;
    recipients: string[];
    recipientUserId: string;
    purpose: string;
    text?: Record<string, unknown>;
    now?: Date;
  },
): Promise<SealedCapture> {
  const objectId = hex(randomBytes(16));
  const plaintextSha256 = await sha256Hex(plain);
  const ciphertext = await seal(plain, o.recipients);
  const manifest: Record<string, unknown> = {
    v: 1,
    object_id: objectId,
    kind: "share",
    content_type: o.contentType,
    device_id: o.deviceId,
    plaintext_sha256: plaintextSha256,
    ciphertext_sha256: await sha256Hex(ciphertext),
    size: ciphertext.length,
    recipients: [...o.recipients].sort(compareCodePoints),
    recipient_user_id: o.recipientUserId,
    purpose: o.purpose,
    sent_at: isoTimestamp(o.now ?? new Date()),
  };
  addText(manifest, o.text);
  return finish(manifest, objectId, ciphertext, plaintextSha256, o.signingSeed);
}

/** The manifest fields for a caption or a message: the text sealed to recipients (base64),
 * and, when the identifier check warned, the warning kinds and the user's reason. Throws a
 * TypeError when warnings are not confirmed with a recognised reason (TRN-3), and a
 * RangeError when the sealed text is longer than the server accepts. */
export async function sealText(
  field: SealedTextField,
  text: string,
  recipients: string[],
  warnings?: { kinds: string[]; confirmed: string },
): Promise<Record<string, unknown>> {
  if (!(SEALED_TEXT_FIELDS as readonly string[]).includes(field)) {
    throw new TypeError(`unknown sealed text field ${field}`);
  }
  const kinds = [...new Set(warnings?.kinds ?? [])].sort(compareCodePoints);
  if (kinds.length > 0 && !(TEXT_CONFIRMATIONS as readonly string[]).includes(warnings!.confirmed)) {
    throw new TypeError("the text carries identifier warnings: edit it or confirm it");
  }
  const sealed = b64Encode(await seal(utf8(text), recipients));
  if (sealed.length > MAX_SEALED_TEXT) throw new RangeError("the text is too long");
  const fields: Record<string, unknown> = { [field]: sealed };
  if (kinds.length > 0) {
    fields[TEXT_WARNINGS_FIELD] = kinds;
    fields[TEXT_CONFIRMED_FIELD] = warnings!.confirmed;
  }
  return fields;
}
