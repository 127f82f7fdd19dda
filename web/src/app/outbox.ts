// Sealed captures and their way to the server (STO-1, TRN-1). A photo is sealed to the
// records key and the user's own active devices, signed, and put in the IndexedDB outbox as
// ciphertext in one step; the outbox is sent whenever the app is unlocked and online (start,
// `online`, return to the foreground, after each capture), and an item is deleted only after
// the server's 201 receipt for it.
import { sealCapture, sealText, type BodySite } from "../lib/capture";
import { sha256Hex } from "../lib/keys";
import { Outbox, type OutboxItem } from "../lib/outbox";
import { ApiError, api } from "./api";
import { need, unlocked } from "./session";

// How much the outbox may keep (STO-1): beyond these, the oldest sealed items are purged.
// An item waits at most this long for a network; a clinician who is offline for a month has
// the photos purged rather than kept indefinitely on a phone.
export const OUTBOX_MAX_COUNT = 500;
export const OUTBOX_MAX_AGE_MS = 30 * 24 * 3600 * 1000;

let box: Promise<Outbox> | null = null;
const listeners = new Set<() => void>();
const pending = new Set<Promise<unknown>>();

/** The outbox (opened once). */
export function outbox(): Promise<Outbox> {
  const opened = box ?? Outbox.open();
  box = opened;
  return opened;
}

/** Forget the open outbox (after a wipe deleted its database). */
export function forgetOutbox(): void {
  box = null;
}

/** Call ``f`` whenever the outbox changes; returns the unsubscribe function. */
export function onOutboxChange(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

function changed(): void {
  for (const f of listeners) f();
}

/** The recipients every capture is sealed to: the records key and the user's own active
 * devices (fetched once per unlock; kept on the phone, public keys only, for offline use). */
async function recipients(): Promise<string[]> {
  const held = need();
  if (held.recipients) return held.recipients;
  try {
    const [me, devices] = await Promise.all([api.me(), api.devices()]);
    const list = [me.records_recipient, ...devices.filter((d) => d.status === "active").map((d) => d.age_recipient)];
    held.recipients = list;
    try {
      localStorage.setItem(`clinphoto.recipients.${held.secrets.deviceId}`, JSON.stringify(list));
    } catch {
      /* kept in memory only */
    }
    return list;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 0) throw err;
    const saved = localStorage.getItem(`clinphoto.recipients.${held.secrets.deviceId}`);
    if (!saved) throw err;
    held.recipients = JSON.parse(saved) as string[];
    return held.recipients;
  }
}

/** What a capture may carry besides the picture: its type (a scrubbed import may be PNG),
 * the body site (BEY-2), a caption checked for identifiers and sealed with it (TRN-3); or,
 * with consentId, it is the patient's signature on that consent (CON-3). */
export interface CaptureExtras {
  contentType?: "image/jpeg" | "image/png";
  bodySite?: BodySite;
  caption?: { text: string; warnings?: { kinds: string[]; confirmed: string } };
  consentId?: string;
}

/** Seal a JPEG (already free of metadata; or the promise of one, from the shutter) for this
 * encounter and queue it; resolves once it is in the outbox. A lock that comes meanwhile
 * waits for it (see whenCapturesQueued), so a photo being taken is never lost. */
export function queueCapture(
  shot: Uint8Array | Promise<Uint8Array>,
  patientId: string,
  encounterId: string,
  extras: CaptureExtras = {},
): Promise<string> {
  const work = (async () => {
    const jpeg = await shot;
    const held = need();
    const to = await recipients();
    const caption = extras.caption;
    const text = caption?.text.trim()
      ? await sealText("caption_sealed", caption.text, to, caption.warnings)
      : undefined;
    const sealed = await sealCapture(jpeg, {
      contentType: extras.contentType ?? "image/jpeg",
      patientId,
      encounterId,
      deviceId: held.secrets.deviceId,
      signingSeed: held.signingSeed,
      recipients: to,
      ...(extras.consentId !== undefined ? { consentId: extras.consentId } : {}),
      ...(extras.bodySite !== undefined ? { bodySite: extras.bodySite } : {}),
      ...(text !== undefined ? { text } : {}),
    });
    jpeg.fill(0);
    const o = await outbox();
    await o.add({
      id: sealed.objectId,
      path: extras.consentId === undefined ? "/v1/media" : `/v1/consents/${extras.consentId}/signature`,
      manifestHeader: sealed.manifestHeader,
      signature: sealed.signature,
      ciphertext: sealed.ciphertext,
      label: extras.consentId === undefined ? "photo" : "signature",
    });
    performance.mark("clinphoto:sealed"); // in IndexedDB (User Timing, docs/benchmarks.md)
    changed();
    return sealed.objectId;
  })();
  return finishBeforeLock(work);
}

/** Make a lock that comes while `work` runs wait for it (see whenCapturesQueued): for any
 * sealing begun by the user, a capture or a redacted version, so nothing is lost to a lock. */
export function finishBeforeLock<T>(work: Promise<T>): Promise<T> {
  pending.add(work);
  void work.finally(() => pending.delete(work)).catch(() => undefined);
  return work;
}

/** Resolves when every capture begun so far is sealed and queued (or failed). */
export async function whenCapturesQueued(): Promise<void> {
  await Promise.allSettled([...pending]);
}

async function sendOne(item: OutboxItem): Promise<{ ok: true } | { ok: false; error: string; permanent: boolean }> {
  try {
    await api.upload(item.path, item.manifestHeader, item.signature, item.ciphertext);
    return { ok: true };
  } catch (err) {
    if (!(err instanceof ApiError)) return { ok: false, error: "error_server", permanent: false };
    if (err.status === 0) return { ok: false, error: "error_offline", permanent: false };
    if (err.status === 401) return { ok: false, error: "error_session", permanent: false };
    if (err.code === "conflict" && item.path === "/v1/media") {
      // Already stored (an earlier receipt was lost): the server's record of it, with the
      // same ciphertext hash, is the receipt.
      try {
        const meta = await api.media(item.id, "clinical_care");
        if (meta.ciphertext_sha256 === (await sha256Hex(item.ciphertext))) return { ok: true };
      } catch {
        /* fall through: kept, with the conflict as its error */
      }
    }
    if (err.status >= 500) return { ok: false, error: "error_server", permanent: false };
    // Refused (4xx): the server's message says why and never repeats patient data.
    return { ok: false, error: `${err.code}: ${err.message}`, permanent: true };
  }
}

let running: Promise<{ sent: number; failed: number }> | null = null;

/** Send what waits, if unlocked and online; one run at a time. */
export function syncOutbox(): Promise<{ sent: number; failed: number }> {
  if (!unlocked() || !navigator.onLine) return Promise.resolve({ sent: 0, failed: 0 });
  running ??= (async () => {
    try {
      const o = await outbox();
      await o.purge({ maxCount: OUTBOX_MAX_COUNT, maxAgeMs: OUTBOX_MAX_AGE_MS });
      return await o.sync(sendOne);
    } finally {
      running = null;
      changed();
    }
  })();
  return running;
}
