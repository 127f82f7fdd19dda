// Sealing on this device for the seeing and sharing screens: a redacted version queued in
// the outbox like a capture (the original never changes), and a share re-sealed for a
// colleague's devices and the records key, with the patient's details sealed to them.
import { seal } from "../../lib/age";
import { b64Encode } from "../../lib/b64";
import { utf8 } from "../../lib/bytes";
import { sealCapture } from "../../lib/capture";
import { api } from "../api";
import { outbox } from "../outbox";
import { need, type PatientView } from "../session";

/** The records key and this user's active devices: who the user's own photos are sealed to. */
export async function ownRecipients(): Promise<string[]> {
  const held = need();
  if (held.recipients) return held.recipients;
  const [me, devices] = await Promise.all([api.me(), api.devices()]);
  held.recipients = [me.records_recipient, ...devices.filter((d) => d.status === "active").map((d) => d.age_recipient)];
  return held.recipients;
}

/** Seal a redacted JPEG as a new version of `original` and queue it; resolves with the new
 * object's id once it is in the outbox (the caller then tries the send). */
export async function queueRedacted(
  jpeg: Uint8Array,
  original: { id: string; patient_id: string; encounter_id: string },
): Promise<string> {
  const held = need();
  const sealed = await sealCapture(jpeg, {
    contentType: "image/jpeg",
    patientId: original.patient_id,
    encounterId: original.encounter_id,
    deviceId: held.secrets.deviceId,
    signingSeed: held.signingSeed,
    recipients: await ownRecipients(),
    derivedFrom: original.id,
  });
  jpeg.fill(0);
  await (
    await outbox()
  ).add({
    id: sealed.objectId,
    path: "/v1/media",
    manifestHeader: sealed.manifestHeader,
    signature: sealed.signature,
    ciphertext: sealed.ciphertext,
    label: "photo",
  });
  return sealed.objectId;
}

/** The share manifest's patient_sealed field: the patient's details as JSON (keys sorted,
 * as client/text.py seal_patient writes them), sealed to the share's recipients. */
export async function sealPatient(p: PatientView, recipients: string[]): Promise<Record<string, string>> {
  const details: Record<string, string> = {};
  for (const k of ["dob", "hcn", "mrn", "name", "province"] as const) {
    const v = p[k];
    if (typeof v === "string" && v) details[k] = v;
  }
  return { patient_sealed: b64Encode(await seal(utf8(JSON.stringify(details)), recipients)) };
}
