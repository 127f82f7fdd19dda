// The inbox (TRN-4): photos colleagues shared with this user, saying from whom (name,
// institution), about which patient (opened on this device from the share's sealed details;
// the server never has them in clear), why, when and where it stands. A shared photo is
// downloaded, its sender's signature and its hash checked, decrypted in memory and shown;
// never saved unless the user exports it, after a warning. Receipt is acknowledged with this
// device's signature over the acknowledgement message.
import { useEffect, useState } from "preact/hooks";
import { sign } from "../../lib/keys";
import { ackMessage } from "../../lib/protocol";
import { scrubImage } from "../../lib/scrub";
import { ApiError, api, type InboxEntry } from "../api";
import { formatDate, formatDateTime, label, t } from "../i18n";
import { randomFileName, useObjectUrls } from "../see/images";
import { openField, openPatient, openShared, type Opened, type PatientDetails } from "../see/open";
import { seeHref } from "../see/routes";
import { need } from "../session";
import { announce } from "../status";
import { AlertDialog, FormError, ScreenTitle } from "../ui";

function from(e: InboxEntry): string {
  return e.sender_institution
    ? t("inboxFromAt", { name: e.sender_name, institution: e.sender_institution })
    : t("inboxFrom", { name: e.sender_name });
}

function sender(e: InboxEntry): string {
  return e.sender_institution ? `${e.sender_name}, ${e.sender_institution}` : e.sender_name;
}

function patientText(p: PatientDetails): string {
  const who = p.dob ? t("aboutPatient", { name: p.name ?? "", dob: formatDate(p.dob) }) : (p.name ?? "");
  return p.mrn ? `${who}, ${t("aboutMrn", { mrn: p.mrn })}` : who;
}

function about(p: PatientDetails | null | undefined): string {
  if (p === undefined) return "";
  if (p === null || !p.name) return t("inboxAboutUnknown");
  return t("inboxAbout", { patient: patientText(p) });
}

async function patientOf(e: InboxEntry): Promise<PatientDetails | null> {
  try {
    return await openPatient(e.media);
  } catch {
    return null;
  }
}

export function Inbox() {
  const [entries, setEntries] = useState<InboxEntry[] | null>(null);
  const [patients, setPatients] = useState<Map<string, PatientDetails | null>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let alive = true;
    announce(t("inboxLoading"));
    (async () => {
      const list = await api.inbox();
      if (!alive) return;
      setEntries(list);
      announce(list.length ? t("inboxTitle") : t("inboxEmpty"));
      const found = new Map<string, PatientDetails | null>();
      for (const e of list) found.set(e.share.id, await patientOf(e));
      if (alive) setPatients(found);
    })().catch((err: unknown) => {
      if (alive) setError(err instanceof ApiError ? err.message : String(err));
    });
    return () => {
      alive = false;
    };
  }, [tick]);

  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("inboxTitle")}</ScreenTitle>
      <FormError message={error} />
      {entries === null && error === null ? <p class="muted">{t("inboxLoading")}</p> : null}
      {entries && !entries.length ? <p>{t("inboxEmpty")}</p> : null}
      {entries && entries.length ? (
        <ul class="results" data-testid="inbox">
          {[...entries].reverse().map((e) => (
            <li key={e.share.id}>
              <a class="result" href={seeHref({ name: "received", shareId: e.share.id })} data-share={e.share.id}>
                <span class="result-name">{from(e)}</span>
                <span>{about(patients.get(e.share.id))}</span>
                <span>{t("inboxPurpose", { purpose: label("purpose_", e.share.purpose) })}</span>
                <span class="muted">{t("sentAt", { date: formatDateTime(new Date(e.share.sent_at)) })}</span>
                <span class="muted">{t("inboxStatus", { status: label("status_", e.share.status) })}</span>
              </a>
            </li>
          ))}
        </ul>
      ) : null}
      <button type="button" class="secondary" onClick={() => setTick((n) => n + 1)}>
        {t("refresh")}
      </button>
      <p>
        <a href={seeHref({ name: "sent" })}>{t("sentLink")}</a>
      </p>
    </main>
  );
}

function ExportDialog({ onExport, onCancel }: { onExport: () => void; onCancel: () => void }) {
  return (
    <AlertDialog title={t("exportTitle")} body={t("exportBody")} onEscape={onCancel}>
      <button type="button" class="primary" onClick={onExport}>
        {t("exportConfirm")}
      </button>
      <button data-safe type="button" class="secondary" onClick={onCancel}>
        {t("cancel")}
      </button>
    </AlertDialog>
  );
}

export function Received({ shareId }: { shareId: string }) {
  const [entry, setEntry] = useState<InboxEntry | null>(null);
  const [patient, setPatient] = useState<PatientDetails | null | undefined>(undefined);
  const [note, setNote] = useState<string | null>(null);
  const [noteUnreadable, setNoteUnreadable] = useState(false);
  const [photo, setPhoto] = useState<{ url: string; opened: Opened } | null>(null);
  const [busy, setBusy] = useState(false);
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const makeUrl = useObjectUrls();

  useEffect(() => {
    let alive = true;
    let opened: Opened | null = null;
    announce(t("opening"));
    (async () => {
      const e = (await api.inbox()).find((x) => x.share.id === shareId);
      if (!e) throw new Error(t("notInInbox"));
      if (!alive) return;
      setEntry(e);
      setPatient(await patientOf(e));
      try {
        setNote(await openField(e.media, "message_sealed"));
      } catch {
        setNoteUnreadable(true);
      }
      try {
        opened = await openShared(e);
      } catch (err) {
        throw err instanceof ApiError ? err : new Error(t("notVerified"));
      }
      if (!alive) return;
      setPhoto({ url: makeUrl(opened.plain, opened.contentType), opened });
      announce(t("verified"));
      // The download marked it delivered: show the server's status now.
      const now = (await api.inbox()).find((x) => x.share.id === shareId);
      if (alive && now) setEntry(now);
    })().catch((err: unknown) => {
      if (alive) setError(err instanceof Error ? err.message : String(err));
    });
    return () => {
      alive = false;
      opened?.plain.fill(0); // the picture on screen is its own copy, revoked with the screen
    };
  }, [shareId]);

  async function acknowledge() {
    if (!entry || busy) return;
    setBusy(true);
    setError(null);
    announce(t("acknowledging"));
    try {
      const signature = await sign(need().signingSeed, ackMessage(shareId, entry.media.plaintext_sha256));
      const share = await api.ack(shareId, signature);
      setEntry({ ...entry, share });
      announce(t("acknowledged"));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  function exportPhoto() {
    setAsking(false);
    if (!photo) return;
    try {
      // Scrubbed again on the way out, whatever the sender's device did (DEI-1).
      const clean = scrubImage(photo.opened.plain);
      const name = randomFileName(clean.mediaType === "image/png" ? "png" : "jpg");
      const a = document.createElement("a");
      a.href = makeUrl(clean.data, clean.mediaType);
      a.download = name;
      a.rel = "noopener";
      a.click();
      announce(t("exported", { file: name }));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  const acked = entry?.share.status === "acknowledged";
  const date = entry ? formatDateTime(new Date(entry.share.sent_at)) : "";
  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("receivedTitle")}</ScreenTitle>
      {entry ? (
        <dl class="card" data-testid="received">
          <dt>{t("fromLabel")}</dt>
          <dd>{sender(entry)}</dd>
          <dt>{t("patientTitle")}</dt>
          <dd>{patient === undefined ? "" : patient?.name ? patientText(patient) : t("inboxAboutUnknown")}</dd>
          <dt>{t("purposeLabel")}</dt>
          <dd>{label("purpose_", entry.share.purpose)}</dd>
          <dt>{t("statusLabel")}</dt>
          <dd data-testid="received-status">{label("status_", entry.share.status)}</dd>
        </dl>
      ) : null}
      {note ? <p>{t("message", { text: note })}</p> : null}
      {noteUnreadable ? <p class="muted">{t("messageUnreadable")}</p> : null}
      {photo === null && error === null ? <p class="muted">{t("opening")}</p> : null}
      {photo ? (
        <>
          <p class="ok" data-testid="verified">
            {t("verified")}
          </p>
          <figure class="photo">
            <img src={photo.url} alt={t("photoTaken", { date })} data-testid="photo" />
          </figure>
        </>
      ) : null}
      <FormError message={error} />
      {photo && entry ? (
        <div class="actions">
          {acked ? (
            <p class="ok">
              {entry.share.acknowledged_at
                ? t("acknowledgedAt", { date: formatDateTime(new Date(entry.share.acknowledged_at)) })
                : t("acknowledged")}
            </p>
          ) : (
            <button type="button" class="primary" disabled={busy} aria-busy={busy} onClick={() => void acknowledge()}>
              {busy ? t("acknowledging") : t("acknowledge")}
            </button>
          )}
          <button type="button" class="secondary" onClick={() => setAsking(true)}>
            {t("export")}
          </button>
        </div>
      ) : null}
      {asking ? <ExportDialog onExport={exportPhoto} onCancel={() => setAsking(false)} /> : null}
      <p>
        <a href={seeHref({ name: "inbox" })}>{t("back")}</a>
      </p>
    </main>
  );
}
