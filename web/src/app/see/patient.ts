// The patient a photo belongs to, as this unlock knows it (found or registered), else read
// from the server (care team only); its identifiers feed the message check (TRN-3) and the
// sealed details of a share.
import { api } from "../api";
import { need, type PatientView } from "../session";

/** The patient with every identifier the server gives the care team. */
export async function fullPatient(patientId: string): Promise<PatientView> {
  const known = need().patients.get(patientId);
  if (known && known.mrn !== undefined) return known;
  const p = await api.patient(patientId);
  const view: PatientView = { ...p, relation: known?.relation ?? "care_team" };
  need().patients.set(patientId, view);
  return view;
}

/** The patient if this unlock already knows them (no request). */
export function knownPatient(patientId: string): PatientView | null {
  return need().patients.get(patientId) ?? null;
}
