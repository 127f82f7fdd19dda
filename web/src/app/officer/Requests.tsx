// Patients' requests (RET-3, RET-4, AUD-3): a copy of their records (the printable report,
// and a passphrase-protected package whose passphrase is shown once, to be given to the
// patient separately), and deletion (granted, refused because of a hold, a clinical decision
// or a retention rule, or partly granted, with the letter to the patient).
import { useState } from "preact/hooks";
import { formatDate, t } from "./i18n";
import { announce } from "../status";
import { Field, FormError, Submit } from "../ui";
import { officerApi, type CopyRequest, type Decision, type DeletionRequest } from "./api";
import { officerHref } from "./routes";
import { cleanId } from "./logic";
import { reasonProblem, useAction, Id, label, LoadState, OfficerPage, PatientIdField, PdfButton, Radios, TextArea, useLoad, When } from "./parts";

type Lang = "en" | "fr";
const LANGS = (): [Lang, string][] => [
  ["en", t("offLangEn")],
  ["fr", t("offLangFr")],
];

function NewCopyRequest({ onMade }: { onMade: () => Promise<void> }) {
  const [patient, setPatient] = useState("");
  const [language, setLanguage] = useState<Lang>("en");
  const [received, setReceived] = useState(() => new Date().toISOString().slice(0, 10));
  const { busy, error, setError, run } = useAction();
  async function make(e: Event) {
    e.preventDefault();
    const id = cleanId(patient);
    if (!id) {
      setError(t("offIdInvalid"));
      return;
    }
    await run(async () => {
      await officerApi.newCopyRequest(id, { language, received_at: received });
      announce(t("offCopyMade"));
      setPatient("");
      await onMade();
    });
  }
  return (
    <form class="card" onSubmit={make} noValidate aria-labelledby="new-copy-title">
      <h3 id="new-copy-title">{t("offCopyNew")}</h3>
      <PatientIdField value={patient} onValue={setPatient} />
      <Radios legend={t("offLanguage")} name="copy-lang" value={language} onValue={setLanguage} options={LANGS()} />
      <Field label={t("offReceivedOn")} type="date" value={received} onValue={setReceived} />
      <FormError message={error} />
      <Submit busy={busy} label={t("offCopyRecord")} />
    </form>
  );
}

function CopyCard({ r }: { r: CopyRequest }) {
  const [pkg, setPkg] = useState<{ passphrase: string; download: string; size: number } | null>(null);
  const { busy, error, run } = useAction();
  async function prepare() {
    await run(async () => {
      setPkg(await officerApi.copyPackage(r.id));
      announce(t("offPackageReady"));
    });
  }
  return (
    <li class="item" data-testid="copy" data-request={r.id}>
      <span class="result-name">
        {t("offPatient")} <Id id={r.patient_id} />
      </span>
      <span>
        {t("offReceived")} {formatDate(r.received_at)} · {label("offReqStatus_", r.status)} · {r.language.toUpperCase()}
      </span>
      <span class="actions">
        <PdfButton label={t("offCopyReport")} filename={`copy-report-${r.id.slice(0, 8)}.pdf`} fetchPdf={() => officerApi.copyReport(r.id)} />
        <button type="button" class="secondary" disabled={busy} aria-busy={busy} onClick={() => void prepare()}>
          {t("offPackagePrepare")}
        </button>
      </span>
      <FormError message={error} />
      {pkg ? (
        <div class="card passphrase" data-testid="package">
          <p>{t("offPackagePassphrase")}</p>
          <p class="mono code" data-testid="passphrase">
            {pkg.passphrase}
          </p>
          <p class="hint">{t("offPackageOnce")}</p>
          <PdfButton
            label={t("offPackageDownload", { size: pkg.size })}
            filename={`records-${r.id.slice(0, 8)}.age`}
            fetchPdf={() => officerApi.copyPackageFile(pkg.download)}
          />
        </div>
      ) : null}
    </li>
  );
}

function NewDeletionRequest({ onMade }: { onMade: () => Promise<void> }) {
  const [patient, setPatient] = useState("");
  const [scope, setScope] = useState<"patient" | "encounter" | "items">("patient");
  const [target, setTarget] = useState("");
  const [reason, setReason] = useState("");
  const [language, setLanguage] = useState<Lang>("en");
  const { busy, error, setError, run } = useAction();
  async function make(e: Event) {
    e.preventDefault();
    const id = cleanId(patient);
    if (!id) {
      setError(t("offIdInvalid"));
      return;
    }
    const ids = target
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(cleanId);
    if (scope !== "patient" && (ids.length === 0 || ids.some((x) => x === null))) {
      setError(t("offIdInvalid"));
      return;
    }
    if (reasonProblem(reason)) return setError(reasonProblem(reason));
    await run(async () => {
      await officerApi.newDeletionRequest(id, {
        scope,
        encounter_id: scope === "encounter" ? (ids[0] ?? null) : null,
        media_ids: scope === "items" ? (ids as string[]) : null,
        reason: reason.trim(),
        language,
      });
      announce(t("offDeletionMade"));
      setPatient("");
      setTarget("");
      setReason("");
      await onMade();
    });
  }
  return (
    <form class="card" onSubmit={make} noValidate aria-labelledby="new-deletion-title">
      <h3 id="new-deletion-title">{t("offDeletionNew")}</h3>
      <PatientIdField value={patient} onValue={setPatient} />
      <Radios
        legend={t("offDeletionScope")}
        name="deletion-scope"
        value={scope}
        onValue={setScope}
        options={[
          ["patient", t("offScope_patient")],
          ["encounter", t("offScope_encounter")],
          ["items", t("offScope_items")],
        ]}
      />
      {scope !== "patient" ? (
        <Field
          label={scope === "encounter" ? t("offEncounterId") : t("offMediaIds")}
          value={target}
          onValue={setTarget}
          spellcheck={false}
          autocapitalize="off"
        />
      ) : null}
      <TextArea label={t("offDeletionWhat")} value={reason} onValue={setReason} maxLength={2000} required />
      <Radios legend={t("offLanguage")} name="deletion-lang" value={language} onValue={setLanguage} options={LANGS()} />
      <FormError message={error} />
      <Submit busy={busy} label={t("offDeletionRecord")} />
    </form>
  );
}

function DeletionCard({ r, onDecided }: { r: DeletionRequest; onDecided: () => Promise<void> }) {
  const [decision, setDecision] = useState<Decision | null>(null);
  const [reason, setReason] = useState("");
  const [retain, setRetain] = useState<Set<string>>(new Set());
  const { busy, error, setError, run } = useAction();
  const [result, setResult] = useState<DeletionRequest | null>(null);
  const shown = result ?? r;
  async function decide(e: Event) {
    e.preventDefault();
    if (decision === null) {
      setError(t("offDecisionMissing"));
      return;
    }
    if (reasonProblem(reason)) return setError(reasonProblem(reason));
    if (decision === "partly_granted" && retain.size === 0) {
      setError(t("offRetainMissing"));
      return;
    }
    await run(async () => {
      setResult(
        await officerApi.decideDeletion(r.id, {
          decision,
          reason: reason.trim(),
          retain: decision === "partly_granted" ? [...retain] : null,
        }),
      );
      announce(t("offDecisionRecorded"));
      await onDecided();
    });
  }
  function toggle(id: string, on: boolean) {
    const next = new Set(retain);
    if (on) next.add(id);
    else next.delete(id);
    setRetain(next);
  }
  return (
    <li class="item" data-testid="deletion" data-request={r.id}>
      <span class="result-name">
        {t("offPatient")} <Id id={shown.patient_id} />
      </span>
      <span>
        <When at={shown.created_at} /> · {label("offReqStatus_", shown.status)} · {label("offScope_", shown.scope)}
      </span>
      {shown.reason ? <span>{t("offPatientAsks", { reason: shown.reason })}</span> : null}
      {shown.decision_reason ? <span>{t("offReasonIs", { reason: shown.decision_reason })}</span> : null}
      {shown.items.length ? (
        <ul>
          {shown.items.map((i) => (
            <li key={i.id}>
              {label("offItemKind_", i.kind)} <Id id={i.id} />
              {i.outcome ? <> — {label("offOutcome_", i.outcome)}</> : null}
              {i.certificate_seq !== null ? (
                <>
                  {" "}
                  <a href={officerHref({ name: "certificate", ref: String(i.certificate_seq) })}>
                    {t("offCertificateNo", { number: String(i.certificate_seq) })}
                  </a>
                </>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      {shown.status === "open" ? (
        <form onSubmit={decide} noValidate class="inline-form">
          <Radios
            legend={t("offDecision")}
            name={`decision-${r.id}`}
            value={decision}
            onValue={setDecision}
            options={[
              ["granted", t("offDecision_granted")],
              ["partly_granted", t("offDecision_partly_granted")],
              ["refused", t("offDecision_refused")],
            ]}
          />
          <p class="hint">{t("offDecisionHint")}</p>
          {decision === "partly_granted" ? (
            <fieldset>
              <legend>{t("offRetainLegend")}</legend>
              {shown.items.map((i) => (
                <div class="check" key={i.id}>
                  <input
                    type="checkbox"
                    id={`retain-${r.id}-${i.id}`}
                    checked={retain.has(i.id)}
                    onChange={(e) => toggle(i.id, (e.currentTarget as HTMLInputElement).checked)}
                  />
                  <label for={`retain-${r.id}-${i.id}`}>
                    {label("offItemKind_", i.kind)} <Id id={i.id} />
                  </label>
                </div>
              ))}
            </fieldset>
          ) : null}
          <TextArea label={t("offDecisionReason")} value={reason} onValue={setReason} maxLength={2000} required />
          <FormError message={error} />
          <Submit busy={busy} label={t("offDecisionRecord")} />
        </form>
      ) : (
        <PdfButton label={t("offDeletionLetter")} filename={`deletion-letter-${r.id.slice(0, 8)}.pdf`} fetchPdf={() => officerApi.deletionLetter(r.id)} />
      )}
    </li>
  );
}

export function RequestsScreen() {
  const copies = useLoad(officerApi.copyRequests);
  const deletions = useLoad(officerApi.deletionRequests);
  return (
    <OfficerPage section="requests" title={t("offRequestsTitle")}>
      <p>{t("offRequestsIntro")}</p>
      <section aria-labelledby="copies-title">
        <h2 id="copies-title">{t("offCopiesTitle")}</h2>
        <LoadState loaded={copies} list />
        {copies.data ? (
          <>
            {copies.data.requests.length === 0 ? <p class="muted">{t("offQueueNothing")}</p> : null}
            <ul class="cards" data-testid="copies">
              {copies.data.requests.map((r) => (
                <CopyCard key={r.id} r={r} />
              ))}
            </ul>
            <NewCopyRequest onMade={copies.reload} />
          </>
        ) : null}
      </section>
      <section aria-labelledby="deletions-title">
        <h2 id="deletions-title">{t("offDeletionsTitle")}</h2>
        <LoadState loaded={deletions} list />
        {deletions.data ? (
          <>
            {deletions.data.requests.length === 0 ? <p class="muted">{t("offQueueNothing")}</p> : null}
            <ul class="cards" data-testid="deletions">
              {deletions.data.requests.map((r) => (
                <DeletionCard key={r.id} r={r} onDecided={deletions.reload} />
              ))}
            </ul>
            <NewDeletionRequest onMade={deletions.reload} />
          </>
        ) : null}
      </section>
    </OfficerPage>
  );
}
