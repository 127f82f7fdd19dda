// The one place that holds secrets and decrypted data while the app is unlocked: the
// device's keys and session token, the recipients photos are sealed to, and the patients
// shown. Locking calls drop(), which nulls it all (and zeroes the key bytes it can), so
// nothing of it outlives the lock in this module; screens re-render from here.
import type { DeviceSecrets } from "../lib/vault";

/** What the screens show of a patient; held only while unlocked. */
export interface PatientView {
  id: string;
  name: string;
  dob: string;
  province: string;
  mrn?: string;
  hcn?: string | null;
  relation?: string | null;
}

/** The consent and encounter a capture session works in. */
export interface CaptureContext {
  patientId: string;
  encounterId: string;
  consentId: string;
}

interface Held {
  secrets: DeviceSecrets;
  signingSeed: Uint8Array;
  recipients: string[] | null;
  patients: Map<string, PatientView>;
  contexts: Map<string, CaptureContext>; // by encounter id
}

let held: Held | null = null;

/** Start holding an unlocked vault's secrets. */
export function hold(secrets: DeviceSecrets, signingSeed: Uint8Array): void {
  drop();
  held = { secrets, signingSeed, recipients: null, patients: new Map(), contexts: new Map() };
}

/** The unlocked secrets, or null when locked. */
export function unlocked(): Held | null {
  return held;
}

/** The unlocked secrets; throws when locked (callers run only behind the unlock screen). */
export function need(): Held {
  if (held === null) throw new Error("locked");
  return held;
}

/** Forget every secret and decrypted datum this module holds. */
export function drop(): void {
  if (held !== null) {
    held.signingSeed.fill(0);
    held.patients.clear();
    held.contexts.clear();
    held.recipients = null;
  }
  held = null;
}
