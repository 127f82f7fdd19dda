// "Who saw my photos" (BEY-6): for a patient, every access, share, export and refusal from
// the audit trail, newest first, a page at a time; and what was shared under purposes the
// patient later withdrew, with its recipients, to follow up (CON-7). The server's words for
// what happened ("what") are in English; the rest is in the user's language.
import { useEffect, useState } from "preact/hooks";
import { t } from "./i18n";
import { FormError, Submit } from "../ui";
import { officerApi, type AccessEvent } from "./api";
import { cleanId } from "./logic";
import { errorText, Id, label, LoadState, OfficerPage, PatientIdField, PdfButton, useLoad, When } from "./parts";
import { officerHref } from "./routes";

function PatientPicker() {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  function go(e: Event) {
    e.preventDefault();
    const id = cleanId(text);
    if (!id) {
      setError(t("offIdInvalid"));
      return;
    }
    location.hash = officerHref({ name: "who-saw", patientId: id });
  }
  return (
    <form class="card" onSubmit={go} noValidate aria-labelledby="who-saw-pick">
      <h2 id="who-saw-pick">{t("offWhoSawPick")}</h2>
      <PatientIdField value={text} onValue={setText} />
      <FormError message={error} />
      <Submit busy={false} label={t("offWhoSawShow")} />
    </form>
  );
}

/** The report's outcome in this language (the server gives it in English). */
function outcomeText(outcome: string): string {
  switch (outcome) {
    case "allowed":
      return t("offEv_allowed");
    case "allowed under an emergency override":
      return t("offEv_override");
    case "refused":
      return t("offEv_refused");
    case "failed":
      return t("offEv_failed");
    default:
      return outcome;
  }
}

function EventCard({ e }: { e: AccessEvent }) {
  const refused = !e.allowed;
  return (
    <li class={`item event${refused ? " refused" : ""}`} data-testid="access-event" data-seq={e.seq}>
      <span class="result-name">
        <When at={e.at} />
      </span>
      <span>
        {e.who} <span class="muted">({label("offRole_", e.role)}{e.institution ? `, ${e.institution}` : ""})</span>
      </span>
      <span lang="en-CA">{e.what}</span>
      {e.to ? <span>{t("offEventTo", { to: e.to })}</span> : null}
      {e.purpose ? <span>{t("offEventPurpose", { purpose: label("purpose_", e.purpose) })}</span> : null}
      {e.device ? <span>{t("offEventDevice", { device: e.device })}</span> : null}
      <span class={refused ? "flag" : undefined}>{t("offEventOutcome", { outcome: outcomeText(e.outcome) })}</span>
      {e.photo_id ? (
        <span>
          {t("offPhoto")} <Id id={e.photo_id} />
        </span>
      ) : null}
    </li>
  );
}

function Report({ patientId }: { patientId: string }) {
  const [events, setEvents] = useState<AccessEvent[]>([]);
  const [cursor, setCursor] = useState<number | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function page(after: number | null) {
    setBusy(true);
    try {
      const r = await officerApi.accessReport(patientId, after);
      setEvents((prev) => (after === null ? r.events : [...prev, ...r.events]));
      setCursor(r.next_cursor);
      setDone(r.next_cursor === null);
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  useEffect(() => {
    setEvents([]);
    setDone(false);
    void page(null);
  }, [patientId]);
  return (
    <section aria-labelledby="report-title" data-testid="access-report">
      <h2 id="report-title">
        {t("offWhoSawFor")} <Id id={patientId} />
      </h2>
      <p class="hint">{t("offWhoSawHint")}</p>
      {error !== null ? <FormError message={errorText(error)} /> : null}
      {busy && events.length === 0 ? <p class="muted">{t("offLoading")}</p> : null}
      {!busy && error === null && events.length === 0 ? <p class="muted">{t("offWhoSawNone")}</p> : null}
      <ol class="cards" aria-label={t("offWhoSawList")}>
        {events.map((e) => (
          <EventCard key={e.seq} e={e} />
        ))}
      </ol>
      {!done && cursor !== null ? (
        <button type="button" class="secondary" disabled={busy} aria-busy={busy} onClick={() => void page(cursor)}>
          {t("offWhoSawOlder")}
        </button>
      ) : null}
      {done && events.length ? <p class="muted">{t("offWhoSawEnd", { count: events.length })}</p> : null}
    </section>
  );
}

export function WhoSawScreen({ patientId }: { patientId: string | null }) {
  return (
    <OfficerPage section="who-saw" title={t("offWhoSawTitle")}>
      <p>{t("offWhoSawIntro")}</p>
      <PatientPicker />
      {patientId ? <Report key={patientId} patientId={patientId} /> : null}
    </OfficerPage>
  );
}

export function DisclosuresScreen({ consentId }: { consentId: string }) {
  const loaded = useLoad(() => officerApi.disclosures(consentId), consentId);
  const r = loaded.data;
  return (
    <OfficerPage section="queue" title={t("offDisclosuresTitle")}>
      <p>{t("offDisclosuresIntro")}</p>
      <LoadState loaded={loaded} />
      {r ? (
        <>
          <p>
            {t("offPatient")} <Id id={r.patient_id} /> ·{" "}
            <a href={officerHref({ name: "who-saw", patientId: r.patient_id })}>{t("offWhoSawLink")}</a>
          </p>
          <p class="actions">
            {(["en", "fr"] as const).map((l) => (
              <PdfButton
                key={l}
                label={t("offConsentForm", { lang: t(l === "en" ? "offLangEn" : "offLangFr") })}
                filename={`consent-${consentId.slice(0, 8)}-${l}.pdf`}
                fetchPdf={() => officerApi.consentForm(consentId, l)}
              />
            ))}
          </p>
          <h2>{t("offWithdrawals")}</h2>
          <ul>
            {r.withdrawals.map((w) => (
              <li key={`${w.purpose}-${w.withdrawn_at}`}>
                {label("purpose_", w.purpose)} — <When at={w.withdrawn_at} />
              </li>
            ))}
          </ul>
          <h2>{t("offDisclosuresList", { count: r.disclosures.length })}</h2>
          {r.disclosures.length === 0 ? <p class="muted">{t("offDisclosuresNone")}</p> : null}
          <ul class="cards" data-testid="disclosures">
            {r.disclosures.map((d) => (
              <li key={d.share_id} class="item" data-testid="disclosure">
                <span class="result-name">
                  {d.recipient_name}, {d.recipient_institution}
                </span>
                <span class="mono">{d.recipient_email}</span>
                <span>
                  {t("offSharedBy", { name: d.sender_name })} <When at={d.sent_at} />
                </span>
                <span>{t("offEventPurpose", { purpose: label("purpose_", d.purpose) })}</span>
                <span>{label("offShareStatus_", d.status)}</span>
                {d.covered_now ? <span class="ok">{t("offCoveredNow")}</span> : <span class="flag">{t("offFollowUp")}</span>}
                <span>
                  {t("offPhoto")} <Id id={d.photo_id} />
                </span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </OfficerPage>
  );
}
