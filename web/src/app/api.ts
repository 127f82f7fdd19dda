// The browser's client for clinphoto's HTTP API, on the page's own origin. Every error
// arrives as {"error": {"code", "message", "request_id"}}; a revoked device and an ended
// session are reported to the app (which wipes, or asks for the password again).
import { loginMessage, MANIFEST_HEADER, SIGNATURE_HEADER, type Erased, type HeldItem } from "../lib/protocol";
import type { GrantIn, MissingGrant } from "../lib/grants";
import type { HoldOut, RetentionRule } from "./officer/api";
import { sign } from "../lib/keys";
import { t } from "./i18n";
import { unlocked } from "./session";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface AuthHandlers {
  revoked: () => void;
  expired: () => void;
}
let handlers: AuthHandlers = { revoked: () => undefined, expired: () => undefined };

/** Who to tell when the server says this device is revoked or its session ended. */
export function setAuthHandlers(h: AuthHandlers): void {
  handlers = h;
}

interface CallOptions {
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  auth?: boolean;
}

export async function send(method: string, path: string, o: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json", ...(o.headers ?? {}) };
  const auth = o.auth ?? true;
  if (auth) {
    const token = unlocked()?.secrets.token;
    if (token) headers["Authorization"] = `Bearer ${token}`;
  }
  let body: BodyInit | null = o.body ?? null;
  if (o.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(o.json);
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body, credentials: "omit", cache: "no-store" });
  } catch {
    throw new ApiError(0, "unreachable", t("unreachable"));
  }
  if (response.status >= 400) {
    let code = "http_error";
    let message = `HTTP ${response.status}`;
    try {
      const err = (await response.json()) as { error?: { code?: string; message?: string } };
      code = err.error?.code ?? code;
      message = err.error?.message ?? message;
    } catch {
      /* not the API's JSON: keep the status */
    }
    if (code === "device_revoked") handlers.revoked();
    else if (auth && response.status === 401) handlers.expired();
    throw new ApiError(response.status, code, message);
  }
  return response;
}

export async function call<T>(method: string, path: string, o: CallOptions = {}): Promise<T> {
  const r = await send(method, path, o);
  return (r.status === 204 ? null : await r.json()) as T;
}

export interface UserOut {
  id: string;
  email: string;
  display_name: string;
  institution: string;
  role: string;
}
export interface DeviceOut {
  id: string;
  user_id: string;
  name: string;
  age_recipient: string;
  signing_public: string;
  fingerprint: string;
  status: string;
  enrolled_at: string;
  revoked_at: string | null;
}
export interface SessionOut {
  token: string;
  user: UserOut;
  device: DeviceOut;
}
export interface PatientMatch {
  id: string;
  name: string;
  dob: string;
  province: string;
  relation: string | null;
}
export interface PatientOut {
  id: string;
  name: string;
  dob: string;
  mrn: string;
  hcn: string | null;
  province: string;
}
export interface ConsentOut {
  id: string;
  patient_id: string;
  encounter_id: string;
  effective_purposes: string[];
}
export interface MediaOut {
  id: string;
  ciphertext_sha256: string;
}
/** A consent as the API gives it (CON-1 to CON-3). */
export interface ConsentRecord extends ConsentOut {
  purposes: string[];
  method: string | null;
  status: string;
  obtained_at: string;
  signature_object_id: string | null;
  to_follow_deadline: string | null;
}

/** A media object as the API describes it: its signed manifest (canonical JSON) and
 * signature, and grant headers for sealed text this device was not sealed to. */
export interface MediaRecord extends MediaOut {
  kind: string;
  patient_id: string;
  encounter_id: string;
  author_user_id: string;
  author_device_id: string;
  plaintext_sha256: string;
  content_type: string;
  manifest: string;
  signature: string;
  created_at: string;
  sealed_text_grants?: Record<string, string>;
}
/** The custodian's verdict on a photo (DEI-2); boxes are [x, y, w, h] in image pixels. */
export interface VerdictOut {
  media_id: string;
  status: string;
  identifiable: boolean;
  reasons: string[];
  regions: { kind: string; box: number[]; score: number }[];
  /** What the reasons say, counted, so the app says it in the user's language. */
  findings: { faces: number; text: number; metadata: boolean };
}
/** An item's destroy-not-before date, the rule behind it and the holds on it (RET-1, RET-3). */
export interface ItemRetentionOut {
  kind: string;
  item_id: string;
  patient_ref: string;
  status: string;
  destroy_not_before: string | null;
  jurisdiction: string | null;
  rule: RetentionRule | null;
  cmpa_default: boolean | null;
  last_entry: string | null;
  held: boolean;
  holds: HoldOut[];
  destroyed_at: string | null;
  certificate: number | null;
}
export interface RecipientOut {
  id: string;
  display_name: string;
  role: string;
  institution: string;
  devices: { id: string; name: string; age_recipient: string; fingerprint: string }[];
}
export interface ShareOut {
  id: string;
  original_media_id: string;
  recipient_user_id: string;
  purpose: string;
  status: string;
  sent_at: string;
  delivered_at: string | null;
  acknowledged_at: string | null;
  /** When the sender or a privacy officer took it back (BRE-2); absent from older servers. */
  recalled_at?: string | null;
}
/** A share of one's own photo, with whom it went to (TRN-4). */
export interface SentShareOut extends ShareOut {
  recipient_name: string;
  recipient_institution: string;
  /** The photo's patient (a random id), in the list of all sent shares. */
  patient_id?: string | null;
}
/** A consent text, word for word; a consent records its id (CON-1, CON-2). */
export interface ConsentTextOut {
  id: string;
  language: string;
  body: string;
  sha256: string;
  shipped: boolean;
}
export interface ConsentTextsOut {
  current: Record<string, ConsentTextOut>;
  ids: string[];
}
export interface InboxEntry {
  share: ShareOut;
  media: MediaRecord;
  sender_signing_public: string;
  sender_name: string;
  sender_institution: string;
}

/** The server's answer to a status report: a queued wipe, recalled shares to delete. */
export interface StatusAnswer {
  wipe: { wipe_id: string; requested_at: string } | null;
  delete_shares: string[];
  next_poll_seconds: number;
}
/** A problem reported (BRE-1); the register's record of it, as far as the app reads it. */
export interface BreachOut {
  id: string;
  kind: string;
  status: string;
  reported_at: string;
}
export type BreachKind = "lost_device" | "stolen_device" | "misdirected_share" | "shown_by_accident" | "other";

async function bytes(path: string): Promise<Uint8Array> {
  const r = await send("GET", path, { headers: { Accept: "application/octet-stream" } });
  return new Uint8Array(await r.arrayBuffer());
}

export const api = {
  enroll: (body: {
    code: string;
    password: string;
    device_name: string;
    age_recipient: string;
    signing_public: string;
  }) => call<SessionOut>("POST", "/v1/enroll", { json: body, auth: false }),

  /** Sign in with the password and this device's signature of the login message. */
  async login(email: string, password: string, deviceId: string, seed: Uint8Array) {
    const timestamp = new Date().toISOString();
    const signature = await sign(seed, loginMessage(deviceId, email, timestamp));
    return call<SessionOut>("POST", "/v1/sessions", {
      json: { email, password, device_id: deviceId, timestamp, signature },
      auth: false,
    });
  },

  me: () =>
    call<{
      user: UserOut;
      device: DeviceOut;
      records_recipient: string;
      device_policy: { lock_after_seconds: number; lock_warning_seconds: number; max_failed_unlocks: number };
    }>("GET", "/v1/me"),
  devices: () => call<DeviceOut[]>("GET", "/v1/devices"),
  revokeDevice: (id: string) => call<DeviceOut>("DELETE", `/v1/devices/${encodeURIComponent(id)}`),
  // A new device of one's own (decision 011): its one-time code, then grants written here.
  enrollmentCode: () =>
    call<{ user_id: string; code: string; expires_in_hours: number }>("POST", "/v1/enrollment-codes", { json: {} }),
  missingGrants: (deviceId: string, after: string | null, limit: number) =>
    call<{ device_id: string; items: MissingGrant[]; next_after: string | null }>(
      "GET",
      `/v1/devices/${deviceId}/missing-grants?${new URLSearchParams(after === null ? { limit: String(limit) } : { after, limit: String(limit) })}`,
    ),
  postGrants: (deviceId: string, grants: GrantIn[]) =>
    call<{ device_id: string; granted: number; existing: number }>("POST", `/v1/devices/${deviceId}/grants`, {
      json: { grants },
    }),
  findPatients: (kind: "mrn" | "hcn" | "name", value: string) =>
    call<PatientMatch[]>("GET", `/v1/patients?${new URLSearchParams({ [kind]: value })}`),
  createPatient: (body: { name: string; dob: string; mrn: string; hcn: string | null; province: string }) =>
    call<PatientOut>("POST", "/v1/patients", { json: body }),
  patient: (id: string) => call<PatientOut>("GET", `/v1/patients/${id}`),
  consentTexts: () => call<ConsentTextsOut>("GET", "/v1/consent-texts"),
  recordConsent: (body: Record<string, unknown>) => call<ConsentOut>("POST", "/v1/consents", { json: body }),
  media: (id: string, purpose: string) =>
    call<MediaOut>("GET", `/v1/media/${id}?${new URLSearchParams({ purpose })}`),
  consentToFollow: (body: { patient_id: string; reason: string; deadline: string }) =>
    call<ConsentRecord>("POST", "/v1/consents/to-follow", { json: body }),
  withdrawConsent: (id: string, body: { purposes: string[] | null; reason: string | null }) =>
    call<ConsentRecord>("POST", `/v1/consents/${id}/withdrawals`, {
      json: body.purposes === null ? { reason: body.reason } : body,
    }),
  patientConsents: (patientId: string) => call<ConsentRecord[]>("GET", `/v1/patients/${patientId}/consents`),

  /** Upload one sealed object: the signed manifest in headers, the age ciphertext as body. */
  upload: (path: string, manifestHeader: string, signature: string, ciphertext: Uint8Array) =>
    call<MediaOut>("POST", path, {
      headers: {
        [MANIFEST_HEADER]: manifestHeader,
        [SIGNATURE_HEADER]: signature,
        "Content-Type": "application/octet-stream",
      },
      body: new Blob([ciphertext as BlobPart]),
    }),

  // Seeing and sharing (TRN-4): every read states its purpose; downloads are age files.
  timeline: (patientId: string, purpose: string) =>
    call<MediaRecord[]>("GET", `/v1/patients/${patientId}/media?${new URLSearchParams({ purpose })}`),
  mediaRecord: (id: string, purpose: string) =>
    call<MediaRecord>("GET", `/v1/media/${id}?${new URLSearchParams({ purpose })}`),
  mediaContent: (id: string, purpose: string) => bytes(`/v1/media/${id}/content?${new URLSearchParams({ purpose })}`),
  inspection: (id: string, purpose: string) =>
    call<VerdictOut>("GET", `/v1/media/${id}/inspection?${new URLSearchParams({ purpose })}`),
  retention: (id: string) => call<ItemRetentionOut>("GET", `/v1/retention/items/${id}`),
  directory: (email: string) => call<RecipientOut>("GET", `/v1/directory?${new URLSearchParams({ email })}`),
  sendShare: (mediaId: string, manifestHeader: string, signature: string, ciphertext: Uint8Array) =>
    call<ShareOut>("POST", `/v1/media/${mediaId}/shares`, {
      headers: {
        [MANIFEST_HEADER]: manifestHeader,
        [SIGNATURE_HEADER]: signature,
        "Content-Type": "application/octet-stream",
      },
      body: new Blob([ciphertext as BlobPart]),
    }),
  sharesOf: (mediaId: string) => call<SentShareOut[]>("GET", `/v1/media/${mediaId}/shares`),
  /** Every share this user sent, newest first, a page at a time (TRN-4). */
  sentShares: (o: { waiting: boolean; before?: string; limit?: number }) =>
    call<SentShareOut[]>(
      "GET",
      `/v1/shares/sent?limit=${o.limit ?? 50}&waiting=${o.waiting ? "true" : "false"}` +
        (o.before ? `&before=${o.before}` : ""),
    ),
  inbox: () => call<InboxEntry[]>("GET", "/v1/inbox"),
  shareContent: (shareId: string) => bytes(`/v1/shares/${shareId}/content`),
  ack: (shareId: string, signature: string) =>
    call<ShareOut>("POST", `/v1/shares/${shareId}/ack`, { json: { signature } }),

  // Device status (BRE-2, BRE-4): the status key is registered with the session; reports
  // and confirmations are signed by it instead, so a locked or revoked phone can send them.
  registerStatusKey: (publicKey: string) =>
    call<null>("PUT", "/v1/devices/current/status-key", { json: { public_key: publicKey } }),
  deviceStatus: (report: {
    device_id: string;
    time: string;
    locked: boolean;
    locked_since: string | null;
    holding: HeldItem[] | null;
    signature: string;
  }) => call<StatusAnswer>("POST", "/v1/device-status", { json: report, auth: false }),
  wipeConfirmation: (c: { device_id: string; wipe_id: string; wiped_at: string; erased: Erased; signature: string }) =>
    call<null>("POST", "/v1/device-status/wipe-confirmation", { json: c, auth: false }),
  deleteConfirmation: (c: { device_id: string; share_id: string; deleted_at: string; signature: string }) =>
    call<null>("POST", "/v1/device-status/delete-confirmation", { json: c, auth: false }),
  // Report a problem (BRE-1): a lost or stolen phone is revoked and wiped, a share recalled.
  reportBreach: (body: {
    kind: BreachKind;
    device_id: string | null;
    share_id: string | null;
    occurred_at: string | null;
    description: string;
  }) => call<BreachOut>("POST", "/v1/breaches", { json: body }),
  recallShare: (shareId: string, reason: string) =>
    call<ShareOut>("POST", `/v1/shares/${shareId}/recall`, { json: { reason } }),
};
