// Messages that the device signs, and names of the wire format: the TypeScript twin of
// src/clinphoto/core/protocol.py (tests/vectors/messages.json checks both).

import { utf8 } from "./bytes";
import { canonicalJson } from "./canonical";

/** The HTTP header that carries the manifest (base64url of its canonical bytes). */
export const MANIFEST_HEADER = "X-Clinphoto-Manifest";
/** The HTTP header that carries the device's Ed25519 signature of the manifest bytes. */
export const SIGNATURE_HEADER = "X-Clinphoto-Signature";
/** The first line of every age v1 file. */
export const AGE_MAGIC = "age-encryption.org/v1\n";
/** The server's bound on a manifest's size in bytes. */
export const MAX_MANIFEST_BYTES = 16 * 1024;
/** The server's bound on a manifest's nesting. */
export const MAX_MANIFEST_DEPTH = 8;
/** Manifest fields that carry text sealed to the object's recipients (TRN-3). */
export const SEALED_TEXT_FIELDS = ["caption_sealed", "message_sealed"] as const;
/** The server's bound on a sealed text field (base64 characters). */
export const MAX_SEALED_TEXT = 12 * 1024;
/** Manifest field: the kinds of identifier the device found in the text (never the values). */
export const TEXT_WARNINGS_FIELD = "text_warnings";
/** Manifest field: why the user kept text the device warned about. */
export const TEXT_CONFIRMED_FIELD = "text_warnings_confirmed";
/** The only reasons the server accepts for keeping a warned-about text. */
export const TEXT_CONFIRMATIONS = ["patient-requested", "clinically-necessary", "false-positive"] as const;

/** A manifest field that carries sealed text. */
export type SealedTextField = (typeof SEALED_TEXT_FIELDS)[number];
/** A reason the server accepts for keeping a warned-about text. */
export type TextConfirmation = (typeof TEXT_CONFIRMATIONS)[number];

const SEP = "\x1f";

/** What a device signs to sign in, alongside the password (email lower-cased, as Python). */
export function loginMessage(deviceId: string, email: string, timestamp: string): Uint8Array<ArrayBuffer> {
  return utf8(["clinphoto-login-v1", deviceId, email.toLowerCase(), timestamp].join(SEP));
}

/** What a recipient's device signs to acknowledge receipt of a share (TRN-4). */
export function ackMessage(shareId: string, plaintextSha256: string): Uint8Array<ArrayBuffer> {
  return utf8(["clinphoto-ack-v1", shareId, plaintextSha256].join(SEP));
}

/** A UTC instant as Python's datetime.isoformat() writes it: microseconds, "+00:00";
 * no fraction when it is a whole second. */
export function isoTimestamp(d: Date): string {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const ms = d.getUTCMilliseconds();
  const whole = iso.slice(0, 19);
  return ms === 0 ? `${whole}+00:00` : `${whole}.${String(ms * 1000).padStart(6, "0")}+00:00`;
}

// --- Device status, remote wipe and recalled shares (BRE-2, BRE-4, BRE-5) -------------------
// Signed with the device's *status key*: a second Ed25519 key kept outside the vault, so a
// locked phone can still report and confirm a wipe (docs/wire/device-status.md).

/** What the device's outbox holds, as a status report names it: ids only. */
export interface HeldItem {
  patient_id: string;
  encounter_id: string;
  media_id: string;
}

/** What a device erased in a remote wipe, as its signed confirmation names it. */
export interface Erased {
  vault: boolean;
  outbox_items: number;
  databases: number;
  caches: number;
}

/** A status report lists at most this many unsent captures, so that it always fits the
 * server's 64 KiB JSON body limit (core/protocol.py MAX_STATUS_HOLDING). */
export const MAX_STATUS_HOLDING = 400;

/** What a device signs to report its state: locked or not, since when, and what its outbox
 * holds (null: not known now; []: nothing). */
export function deviceStatusMessage(
  deviceId: string,
  time: string,
  locked: boolean,
  lockedSince: string | null,
  holding: HeldItem[] | null,
): Uint8Array<ArrayBuffer> {
  const held = holding === null ? "null" : canonicalJson(holding);
  return utf8(
    ["clinphoto-device-status-v1", deviceId, time, locked ? "locked" : "unlocked", lockedSince ?? "", held].join(SEP),
  );
}

/** What a device signs, before erasing, to confirm a remote wipe (BRE-4). */
export function wipeConfirmationMessage(
  deviceId: string,
  wipeId: string,
  wipedAt: string,
  erased: Erased,
): Uint8Array<ArrayBuffer> {
  return utf8(["clinphoto-wipe-confirmation-v1", deviceId, wipeId, wipedAt, canonicalJson(erased)].join(SEP));
}

/** What a recipient's device signs once it deleted its copy of a recalled share (BRE-2). */
export function shareDeletedMessage(deviceId: string, shareId: string, deletedAt: string): Uint8Array<ArrayBuffer> {
  return utf8(["clinphoto-share-deleted-v1", deviceId, shareId, deletedAt].join(SEP));
}

/** A UTC instant as the status messages write it: whole seconds, "Z". */
export function statusTime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}
