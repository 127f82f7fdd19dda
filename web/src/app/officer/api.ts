// The privacy office's routes (issue 10 §4): review queues, retention rules, holds, the sweep
// and certificates (RET-1, RET-3, RET-5), who saw a patient's photos and what was disclosed
// before a withdrawal (BEY-6, CON-7), the breach register (BRE-1 to BRE-6) and patients'
// requests (RET-4). The server decides every request through its access policy and audits it.
import { call, send } from "../api";
import type { BreachStatus, Classification, RuleChange } from "./logic";

// --- review queues --------------------------------------------------------------------------

export interface ConsentToFollow {
  id: string;
  patient_id: string;
  encounter_id: string;
  obtained_by: string;
  obtained_at: string;
  status: string;
  to_follow_reason: string | null;
  to_follow_deadline: string | null;
}
export interface OverrideOut {
  id: string;
  user_id: string;
  patient_id: string;
  reason: string;
  started_at: string;
  expires_at: string;
  reviewed_by: string | null;
  reviewed_at: string | null;
}
export interface QuarantinedOut {
  media_id: string;
  patient_ref: string;
  encounter_id: string;
  author_user_id: string;
  author_device_id: string;
  captured_at: string;
  quarantined_at: string;
  reasons: string[];
}
export interface WithdrawalToFollow {
  consent_id: string;
  patient_id: string;
  encounter_id: string;
  last_withdrawn_at: string;
  disclosures: number;
}

// --- retention --------------------------------------------------------------------------------

export type Basis = "college" | "cmpa-default";
export type Confidence = "verified" | "secondary" | "knowledge" | "not_found";
export interface RetentionRule {
  jurisdiction: string;
  name: string;
  years_after_last_entry: number;
  years_after_majority: number;
  age_of_majority: number;
  keep_until_age: number | null;
  basis: Basis;
  minor_basis: Basis;
  confidence: Confidence;
  minor_confidence: Confidence;
  confirmed: boolean;
  source: string;
  source_url: string;
}
export interface RuleOut {
  rule: RetentionRule;
  overridden: boolean;
  set_by: string | null;
  set_at: string | null;
  cmpa_default: boolean;
}
export interface RuleChangeOut {
  rule: RetentionRule;
  previous: RetentionRule;
  patients_recomputed: number;
}
export type HoldScope = "patient" | "encounter" | "item";
export type HoldKind = "legal_hold" | "clinical_decision";
export interface HoldOut {
  id: string;
  kind: HoldKind;
  scope: HoldScope;
  target_id: string;
  patient_ref: string;
  reason: string;
  placed_by: string;
  placed_at: string;
  released_by: string | null;
  released_at: string | null;
  release_reason: string | null;
  active: boolean;
}
export interface SweepOut {
  as_of: string;
  dry_run: boolean;
  families: number;
  items: number;
  held: number;
  waiting: number;
  blobs_deleted: number;
  certificates: number[];
  planned: { family: string; kind: string; patient_ref: string; destroy_not_before: string; items: { kind: string; id: string }[] }[];
}
export interface CertificateSummary {
  number: number;
  destroyed_at: string;
  job: string;
  patient_ref: string;
  rule: string | null;
  why: string;
  families: number;
  media: number;
  shares: number;
  consents: number;
  device_grants: number;
  blobs: number;
}
export interface CertificatePage {
  certificates: CertificateSummary[];
  next_before: number | null;
}
export interface CertificateOut {
  number: number;
  at: string;
  actor: string;
  patient_ref: string;
  family: string;
  details: Record<string, unknown>;
  text: string;
}

// --- who saw, disclosures -----------------------------------------------------------------------

export interface AccessEvent {
  seq: number;
  at: string;
  who: string;
  role: string;
  institution: string;
  device: string;
  user_id: string;
  device_id: string;
  about: string;
  object_type: string;
  object_id: string;
  photo_id: string;
  kind: string;
  what: string;
  to: string;
  purpose: string;
  outcome: string;
  allowed: boolean;
}
export interface AccessReport {
  patient_id: string;
  events: AccessEvent[];
  next_cursor: number | null;
}
export interface Disclosure {
  share_id: string;
  photo_id: string;
  purpose: string;
  sent_at: string;
  withdrawn_at: string;
  sender_name: string;
  recipient_name: string;
  recipient_institution: string;
  recipient_email: string;
  status: string;
  delivered_at: string | null;
  acknowledged_at: string | null;
  covered_now: boolean;
}
export interface DisclosureReport {
  consent_id: string;
  patient_id: string;
  encounter_id: string;
  withdrawals: { purpose: string; withdrawn_at: string }[];
  disclosures: Disclosure[];
  kinds: string[];
}

// --- the breach register (BRE-1 to BRE-6) ------------------------------------------------------

export { BREACH_STEPS, CLASSIFICATIONS, type BreachStatus, type Classification } from "./logic";
export interface BreachSummary {
  id: string;
  kind: string;
  status: BreachStatus;
  reported_at: string;
  reported_by_name: string;
  device_id: string | null;
  share_id: string | null;
  proposed_classification: Classification | { classification: Classification; reasons: string[] } | null;
}
export interface BreachStep {
  step: string;
  at: string;
  by_name: string;
  reason: string;
  classification: Classification | null;
}
export interface WipeOut {
  wipe_id: string;
  requested_at: string;
  confirmed_at: string | null;
  signature_valid: boolean | null;
  erased: Record<string, number | boolean> | null;
}
export interface BreachOut {
  id: string;
  kind: string;
  status: BreachStatus;
  reported_at: string;
  reported_by_name: string;
  description: string;
  occurred_at: string | null;
  steps: BreachStep[];
  device: null | {
    id: string;
    name: string;
    owner_name: string;
    revoked_at: string | null;
    last_contact_at: string | null;
    locked: boolean | null;
    locked_since: string | null;
    wipe: WipeOut | null;
  };
  share: null | {
    id: string;
    recipient_name: string;
    recalled_at: string | null;
    opened_before_recall: boolean;
    deletions: { device_id: string; deleted_at: string }[];
  };
  exposure: {
    as_of: string;
    patients: { patient_id: string; display_name: string | null; reasons: string[]; media_ids: string[] }[];
  };
  assessment: {
    media: { media_id: string; verdict: string; faces: number; text: number; metadata: boolean }[];
    caption_overrides: { media_id: string; at: string; by_name: string }[];
  };
  proposed_classification: { classification: Classification; reasons: string[] };
  classification: Classification | null;
}
export type Party = "patients" | "cmpa" | "organization" | "college" | "commissioner";
export interface NotificationItem {
  party: Party;
  who: string;
  required: "yes" | "if_real_risk" | "not_confirmed" | "no";
  deadline: string | null;
  source: string;
  confirmed: boolean;
  sent: null | { at: string; method: string; by_name: string; note: string };
}
export interface Notifications {
  jurisdiction: string;
  items: NotificationItem[];
}

// --- patients' requests (RET-4, AUD-3) ---------------------------------------------------------

export interface CopyRequest {
  id: string;
  patient_id: string;
  status: "open" | "packaged" | "delivered";
  language: "en" | "fr";
  received_at: string;
  created_at: string;
  packaged_at?: string | null;
  package_size?: number | null;
  downloaded_at?: string | null;
}
export interface DeletionItem {
  id: string;
  kind: string; // photo | video
  outcome: "destroyed" | "refused_hold" | "refused_clinical_decision" | "refused_retention" | null;
  certificate_seq: number | null;
}
export type Decision = "granted" | "refused" | "partly_granted";
export interface DeletionRequest {
  id: string;
  patient_id: string;
  scope: "patient" | "encounter" | "items";
  encounter_id: string | null;
  media_ids: string[] | null;
  language: "en" | "fr";
  status: "open" | Decision;
  reason: string;
  created_at: string;
  decision: string | null;
  decided_at: string | null;
  decision_reason: string | null;
  items: DeletionItem[];
}

// --- the calls --------------------------------------------------------------------------------

const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

/** A document (PDF, or the age package) fetched with the session, kept in memory only. */
async function file(path: string, accept = "application/pdf"): Promise<Blob> {
  const r = await send("GET", path, { headers: { Accept: accept } });
  return await r.blob();
}

export const officerApi = {
  consentsToFollow: () => call<ConsentToFollow[]>("GET", "/v1/review/consents-to-follow"),
  overrides: () => call<OverrideOut[]>("GET", "/v1/review/emergency-overrides"),
  reviewOverride: (id: string) => call<OverrideOut>("POST", `/v1/review/emergency-overrides/${id}`, { json: {} }),
  quarantine: () => call<QuarantinedOut[]>("GET", "/v1/review/quarantine"),
  withdrawals: () => call<WithdrawalToFollow[]>("GET", "/v1/review/withdrawn-disclosures"),

  rules: () => call<RuleOut[]>("GET", "/v1/retention/rules"),
  setRule: (change: RuleChange) =>
    call<RuleChangeOut>("PUT", `/v1/retention/rules/${change.jurisdiction}`, { json: change }),
  resetRule: (jurisdiction: string) => call<RuleChangeOut>("DELETE", `/v1/retention/rules/${jurisdiction}`),
  holds: (includeReleased: boolean) =>
    call<HoldOut[]>("GET", `/v1/retention/holds?${q({ include_released: String(includeReleased) })}`),
  placeHold: (body: { scope: HoldScope; target_id: string; reason: string; kind: HoldKind }) =>
    call<HoldOut>("POST", "/v1/retention/holds", { json: body }),
  releaseHold: (id: string, reason: string) =>
    call<HoldOut>("POST", `/v1/retention/holds/${id}/release`, { json: { reason } }),
  sweep: (dryRun: boolean) => call<SweepOut>("POST", "/v1/retention/sweep", { json: { dry_run: dryRun } }),
  certificate: (ref: string) => call<CertificateOut>("GET", `/v1/retention/certificates/${ref}`),
  certificates: (before: number | null) =>
    call<CertificatePage>("GET", `/v1/retention/certificates${before === null ? "" : `?${q({ before: String(before) })}`}`),

  accessReport: (patientId: string, cursor: number | null) =>
    call<AccessReport>(
      "GET",
      `/v1/patients/${patientId}/access-report${cursor === null ? "" : `?${q({ cursor: String(cursor) })}`}`,
    ),
  disclosures: (consentId: string) => call<DisclosureReport>("GET", `/v1/consents/${consentId}/disclosures`),

  breaches: () => call<{ breaches: BreachSummary[] }>("GET", "/v1/breaches"),
  breach: (id: string) => call<BreachOut>("GET", `/v1/breaches/${id}`),
  breachStep: (id: string, body: { step: string; reason: string; classification: Classification | null }) =>
    call<BreachOut>("POST", `/v1/breaches/${id}/steps`, { json: body }),
  notifications: (id: string) => call<Notifications>("GET", `/v1/breaches/${id}/notifications`),
  recordSent: (id: string, party: Party, body: { sent_at: string; method: string; note: string }) =>
    call<NotificationItem>("POST", `/v1/breaches/${id}/notifications/${party}`, { json: body }),
  letter: (id: string, party: Party, lang: string, patientId: string | null) =>
    file(`/v1/breaches/${id}/letters/${party}.pdf?${q(patientId ? { lang, patient_id: patientId } : { lang })}`),

  copyRequests: () => call<{ requests: CopyRequest[] }>("GET", "/v1/copy-requests"),
  newCopyRequest: (patientId: string, body: { language: string; received_at: string }) =>
    call<CopyRequest>("POST", `/v1/patients/${patientId}/copy-requests`, { json: body }),
  copyReport: (id: string) => file(`/v1/copy-requests/${id}/report.pdf`),
  copyPackage: (id: string) =>
    call<{ passphrase: string; download: string; size: number }>("POST", `/v1/copy-requests/${id}/package`, { json: {} }),
  /** The package's path as the server gave it (under /v1/copy-requests/ only). */
  copyPackageFile: (path: string) => {
    if (!/^\/v1\/copy-requests\/[0-9a-f]{32}\/package\.age$/.test(path)) throw new Error(`unexpected path ${path}`);
    return file(path, "application/octet-stream");
  },
  deletionRequests: () => call<{ requests: DeletionRequest[] }>("GET", "/v1/deletion-requests"),
  newDeletionRequest: (
    patientId: string,
    body: { scope: "patient" | "encounter" | "items"; encounter_id: string | null; media_ids: string[] | null; reason: string; language: string },
  ) => call<DeletionRequest>("POST", `/v1/patients/${patientId}/deletion-requests`, { json: body }),
  decideDeletion: (id: string, body: { decision: Decision; reason: string; retain: string[] | null }) =>
    call<DeletionRequest>("POST", `/v1/deletion-requests/${id}/decision`, { json: body }),
  deletionLetter: (id: string) => file(`/v1/deletion-requests/${id}/letter.pdf`),
  consentForm: (consentId: string, lang: "en" | "fr") => file(`/v1/consents/${consentId}/form.pdf?${q({ lang })}`),
};
