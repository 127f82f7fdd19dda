// The breach register for privacy officers (BRE-1 to BRE-6): every report with its status;
// one breach with the device (revoked, locked or not, the wipe and its signed confirmation),
// the share recalled, which patients' media could have been exposed, the re-identification
// assessment, the proposed classification; the steps in order, each with its reason (the
// classification decided at "assessed"); and the notification checklist of the province,
// with "record sent" and the letters in English and French.
import { useState } from "preact/hooks";
import { t } from "./i18n";
import { announce } from "../status";
import { Field, FormError, Submit } from "../ui";
import {
  BREACH_STEPS,
  CLASSIFICATIONS,
  officerApi,
  type BreachOut,
  type Classification,
  type NotificationItem,
  type Party,
} from "./api";
import { isoFromLocalInput, localInputValue, nextStep, proposedOf, REASON_MAX } from "./logic";
import { reasonProblem, useAction, Id, label, LoadState, OfficerPage, PdfButton, Radios, TextArea, useLoad, When } from "./parts";
import { officerHref } from "./routes";

export function BreachesScreen() {
  const loaded = useLoad(officerApi.breaches);
  const list = loaded.data?.breaches ?? [];
  return (
    <OfficerPage section="breaches" title={t("offBreachesTitle")}>
      <p>{t("offBreachesIntro")}</p>
      <LoadState loaded={loaded} list />
      {loaded.data && list.length === 0 ? <p class="muted">{t("offBreachesNone")}</p> : null}
      <ul class="cards" data-testid="breaches">
        {list.map((b) => {
          const proposed = proposedOf(b);
          return (
            <li key={b.id} class="item" data-testid="breach" data-breach={b.id}>
              <a class="result-name" href={officerHref({ name: "breach", id: b.id })}>
                {label("offKind_", b.kind)} — <When at={b.reported_at} />
              </a>
              <span>{t("offStatusIs", { status: label("offStatus_", b.status) })}</span>
              <span>{t("offReportedBy", { name: b.reported_by_name })}</span>
              {proposed ? <span>{t("offProposed", { value: label("offClass_", proposed) })}</span> : null}
            </li>
          );
        })}
      </ul>
    </OfficerPage>
  );
}

function yesNo(v: boolean | null | undefined): string {
  return v === null || v === undefined ? t("offUnknown") : v ? t("offYes") : t("offNo");
}

function Steps({ b }: { b: BreachOut }) {
  return (
    <section aria-labelledby="steps-title">
      <h2 id="steps-title">{t("offStepsTitle")}</h2>
      <ol class="steps-progress" aria-label={t("offStepsProgress")}>
        {BREACH_STEPS.map((s) => {
          const done = BREACH_STEPS.indexOf(s) <= BREACH_STEPS.indexOf(b.status);
          return (
            <li key={s} class={done ? "done" : undefined} aria-current={s === b.status ? "step" : undefined}>
              {label("offStatus_", s)}
              <span class="sr-only">{done ? ` (${t("offStepDone")})` : ` (${t("offStepToDo")})`}</span>
            </li>
          );
        })}
      </ol>
      <ul class="cards" data-testid="breach-steps">
        {b.steps.map((s, i) => (
          <li key={`${s.step}-${i}`} class="item">
            <span class="result-name">{label("offStatus_", s.step)}</span>
            <span>
              <When at={s.at} /> · {s.by_name}
            </span>
            {s.reason ? <span>{t("offReasonIs", { reason: s.reason })}</span> : null}
            {s.classification ? <span>{t("offDecided", { value: label("offClass_", s.classification) })}</span> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

function StepForm({ b, onDone }: { b: BreachOut; onDone: (next: BreachOut) => void }) {
  const step = nextStep(b.status);
  const [reason, setReason] = useState("");
  const [classification, setClassification] = useState<Classification | null>(b.proposed_classification?.classification ?? null);
  const { busy, error, setError, run } = useAction();
  if (step === null) return <p class="muted">{t("offBreachClosed")}</p>;
  async function record(e: Event) {
    e.preventDefault();
    if (step === null) return;
    if (reasonProblem(reason)) return setError(reasonProblem(reason));
    if (step === "assessed" && classification === null) {
      setError(t("offClassMissing"));
      return;
    }
    await run(async () => {
      const next = await officerApi.breachStep(b.id, {
        step,
        reason: reason.trim(),
        classification: step === "assessed" ? classification : null,
      });
      announce(t("offStepRecorded", { step: label("offStatus_", step) }));
      setReason("");
      onDone(next);
    });
  }
  return (
    <form class="card" onSubmit={record} noValidate aria-labelledby="step-title" data-testid="step-form">
      <h2 id="step-title">{t("offStepNext", { step: label("offStatus_", step) })}</h2>
      {step === "assessed" ? (
        <Radios
          legend={t("offClassLegend")}
          name="classification"
          value={classification}
          onValue={setClassification}
          options={CLASSIFICATIONS.map((c) => [c, label("offClass_", c)])}
        />
      ) : null}
      <TextArea label={t("offStepReason")} value={reason} onValue={setReason} maxLength={REASON_MAX} required />
      <FormError message={error} />
      <Submit busy={busy} label={t("offStepRecord", { step: label("offStatus_", step) })} />
    </form>
  );
}

function Device({ d }: { d: NonNullable<BreachOut["device"]> }) {
  const w = d.wipe;
  return (
    <section class="card" aria-labelledby="device-title" data-testid="breach-device">
      <h2 id="device-title">{t("offDeviceTitle")}</h2>
      <dl class="facts">
        <dt>{t("offDeviceName")}</dt>
        <dd>
          {d.name} ({d.owner_name})
        </dd>
        <dt>{t("offDeviceRevoked")}</dt>
        <dd>
          <When at={d.revoked_at} />
        </dd>
        <dt>{t("offDeviceLastContact")}</dt>
        <dd>
          <When at={d.last_contact_at} />
        </dd>
        <dt>{t("offDeviceLocked")}</dt>
        <dd>
          {yesNo(d.locked)}
          {d.locked && d.locked_since ? (
            <>
              {" "}
              ({t("offSince")} <When at={d.locked_since} />)
            </>
          ) : null}
        </dd>
        <dt>{t("offWipe")}</dt>
        <dd data-testid="wipe-state">
          {w === null ? (
            t("offWipeNone")
          ) : w.confirmed_at ? (
            <>
              {t("offWipeConfirmed")} <When at={w.confirmed_at} /> —{" "}
              {w.signature_valid ? t("offWipeSignatureValid") : <span class="flag">{t("offWipeSignatureInvalid")}</span>}
            </>
          ) : (
            <>
              {t("offWipeRequested")} <When at={w.requested_at} /> — {t("offWipeWaiting")}
            </>
          )}
        </dd>
        {w?.erased ? (
          <>
            <dt>{t("offWipeErased")}</dt>
            <dd>
              {Object.entries(w.erased)
                .map(([k, v]) => `${label("offErased_", k)}: ${typeof v === "boolean" ? yesNo(v) : v}`)
                .join(" · ")}
            </dd>
          </>
        ) : null}
      </dl>
    </section>
  );
}

function Share({ s }: { s: NonNullable<BreachOut["share"]> }) {
  return (
    <section class="card" aria-labelledby="share-title" data-testid="breach-share">
      <h2 id="share-title">{t("offShareTitle")}</h2>
      <dl class="facts">
        <dt>{t("offShareRecipient")}</dt>
        <dd>{s.recipient_name}</dd>
        <dt>{t("offShareRecalled")}</dt>
        <dd>
          <When at={s.recalled_at} />
        </dd>
        <dt>{t("offShareOpened")}</dt>
        <dd>{yesNo(s.opened_before_recall)}</dd>
        <dt>{t("offShareDeletions")}</dt>
        <dd>
          {s.deletions.length === 0
            ? t("offShareNoDeletion")
            : s.deletions.map((d) => (
                <span key={d.device_id} class="block">
                  <Id id={d.device_id} /> <When at={d.deleted_at} />
                </span>
              ))}
        </dd>
      </dl>
    </section>
  );
}

function Exposure({ b }: { b: BreachOut }) {
  const e = b.exposure;
  return (
    <section aria-labelledby="exposure-title" data-testid="breach-exposure">
      <h2 id="exposure-title">{t("offExposureTitle")}</h2>
      <p class="hint">
        {t("offExposureAsOf")} <When at={e.as_of} />
      </p>
      {e.patients.length === 0 ? <p>{t("offExposureNone")}</p> : null}
      <ul class="cards">
        {e.patients.map((p) => (
          <li key={p.patient_id} class="item" data-testid="exposed-patient" data-patient={p.patient_id}>
            <span class="result-name">{p.display_name ?? <Id id={p.patient_id} />}</span>
            <span>{p.reasons.map((r) => label("offExposure_", r)).join(" · ")}</span>
            <span>{t("offMediaCount", { count: p.media_ids.length })}</span>
            <a href={officerHref({ name: "who-saw", patientId: p.patient_id })}>{t("offWhoSawLink")}</a>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Assessment({ b }: { b: BreachOut }) {
  const a = b.assessment;
  const p = b.proposed_classification;
  return (
    <section aria-labelledby="assessment-title" data-testid="breach-assessment">
      <h2 id="assessment-title">{t("offAssessmentTitle")}</h2>
      {a.media.length === 0 ? <p class="muted">{t("offAssessmentNoMedia")}</p> : null}
      <ul class="cards">
        {a.media.map((m) => (
          <li key={m.media_id} class="item">
            <span>
              {t("offPhoto")} <Id id={m.media_id} /> — {label("offVerdict_", m.verdict)}
            </span>
            <span>{t("offFindings", { faces: m.faces, text: m.text, metadata: yesNo(m.metadata) })}</span>
          </li>
        ))}
      </ul>
      {a.caption_overrides.length ? (
        <>
          <h3>{t("offCaptionOverrides")}</h3>
          <ul>
            {a.caption_overrides.map((c) => (
              <li key={`${c.media_id}-${c.at}`}>
                <Id id={c.media_id} /> — {c.by_name}, <When at={c.at} />
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <div class="card proposal" data-testid="proposed-classification">
        <p>
          <strong>{t("offProposed", { value: label("offClass_", p.classification) })}</strong>
        </p>
        <ul lang="en-CA">
          {p.reasons.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
        <p data-testid="decided-classification">
          {b.classification ? t("offDecided", { value: label("offClass_", b.classification) }) : t("offNotDecided")}
        </p>
      </div>
    </section>
  );
}

function RecordSent({ breachId, item, onDone }: { breachId: string; item: NotificationItem; onDone: () => Promise<void> }) {
  const [open, setOpen] = useState(false);
  const [at, setAt] = useState(() => localInputValue(Date.now()));
  const [method, setMethod] = useState("");
  const [note, setNote] = useState("");
  const { busy, error, setError, run } = useAction();
  if (!open) {
    return (
      <button type="button" class="secondary" onClick={() => setOpen(true)}>
        {t("offRecordSent", { party: label("offParty_", item.party) })}
      </button>
    );
  }
  async function save(e: Event) {
    e.preventDefault();
    const iso = isoFromLocalInput(at);
    if (!iso) {
      setError(t("offSentAtInvalid"));
      return;
    }
    if (!method.trim()) {
      setError(t("offMethodMissing"));
      return;
    }
    await run(async () => {
      await officerApi.recordSent(breachId, item.party, { sent_at: iso, method: method.trim(), note: note.trim() });
      announce(t("offSentRecorded", { party: label("offParty_", item.party) }));
      setOpen(false);
      await onDone();
    });
  }
  const atId = `sent-at-${item.party}`;
  return (
    <form onSubmit={save} noValidate class="inline-form" data-testid="record-sent">
      <div class="field">
        <label for={atId}>{t("offSentAt")}</label>
        <input id={atId} type="datetime-local" value={at} onInput={(e) => setAt((e.currentTarget as HTMLInputElement).value)} />
      </div>
      <Field label={t("offSentMethod")} hint={t("offSentMethodHint")} value={method} onValue={setMethod} />
      <TextArea label={t("offSentNote")} value={note} onValue={setNote} maxLength={REASON_MAX} />
      <FormError message={error} />
      <div class="actions">
        <Submit busy={busy} label={t("offSentSave")} />
        <button type="button" class="secondary" onClick={() => setOpen(false)}>
          {t("offCancel")}
        </button>
      </div>
    </form>
  );
}

function Checklist({ b }: { b: BreachOut }) {
  const loaded = useLoad(() => officerApi.notifications(b.id), `${b.id}-${b.status}`);
  const n = loaded.data;
  const patients = b.exposure.patients;
  return (
    <section aria-labelledby="notify-title" data-testid="notifications">
      <h2 id="notify-title">{n ? t("offNotifyTitleIn", { jurisdiction: n.jurisdiction }) : t("offNotifyTitle")}</h2>
      <LoadState loaded={loaded} list />
      <ul class="cards">
        {(n?.items ?? []).map((item) => (
          <li key={item.party} class="item" data-testid="notify-item" data-party={item.party}>
            <span class="result-name">{label("offParty_", item.party)}</span>
            <span>{item.who}</span>
            <span>
              {t("offRequired", { value: label("offRequired_", item.required) })}{" "}
              {item.confirmed ? null : <span class="badge badge-not_confirmed">{t("offProv_not_confirmed")}</span>}
            </span>
            {item.deadline ? (
              <span>
                {t("offDeadline")} {/^\d{4}-\d{2}-\d{2}T/.test(item.deadline) ? <When at={item.deadline} /> : item.deadline}
              </span>
            ) : null}
            <span class="hint" lang="en-CA">
              {item.source}
            </span>
            {item.sent ? (
              <span class="ok" data-testid="sent">
                {t("offSentOn")} <When at={item.sent.at} /> — {item.sent.method}, {item.sent.by_name}
                {item.sent.note ? ` — ${item.sent.note}` : ""}
              </span>
            ) : (
              <RecordSent breachId={b.id} item={item} onDone={loaded.reload} />
            )}
            <span class="letters">
              {item.party === "patients" && patients.length > 0 ? (
                patients.map((p) => (
                  <span key={p.patient_id} class="block">
                    {(["en", "fr"] as const).map((l) => (
                      <PdfButton
                        key={l}
                        label={t(l === "en" ? "offLetterEn" : "offLetterFr", { to: p.display_name ?? p.patient_id.slice(0, 8) })}
                        filename={`letter-${item.party}-${p.patient_id.slice(0, 8)}-${l}.pdf`}
                        fetchPdf={() => officerApi.letter(b.id, item.party as Party, l, p.patient_id)}
                      />
                    ))}
                  </span>
                ))
              ) : (
                (["en", "fr"] as const).map((l) => (
                  <PdfButton
                    key={l}
                    label={t(l === "en" ? "offLetterEn" : "offLetterFr", { to: label("offParty_", item.party) })}
                    filename={`letter-${item.party}-${l}.pdf`}
                    fetchPdf={() => officerApi.letter(b.id, item.party, l, null)}
                  />
                ))
              )}
            </span>
          </li>
        ))}
      </ul>
      <p class="hint">{t("offLettersHint")}</p>
    </section>
  );
}

export function BreachScreen({ id }: { id: string }) {
  const loaded = useLoad(() => officerApi.breach(id), id);
  const [fresh, setFresh] = useState<BreachOut | null>(null);
  const b = fresh && fresh.id === id ? fresh : loaded.data;
  return (
    <OfficerPage section="breaches" title={b ? t("offBreachTitle", { kind: label("offKind_", b.kind) }) : t("offBreachesTitle")}>
      <LoadState loaded={loaded} />
      {b ? (
        <div data-testid="breach-detail" data-status={b.status}>
          <dl class="facts">
            <dt>{t("offStatus")}</dt>
            <dd data-testid="breach-status">{label("offStatus_", b.status)}</dd>
            <dt>{t("offReported")}</dt>
            <dd>
              <When at={b.reported_at} /> — {b.reported_by_name}
            </dd>
            <dt>{t("offOccurred")}</dt>
            <dd>{b.occurred_at ? <When at={b.occurred_at} /> : t("offUnknown")}</dd>
            <dt>{t("offDescription")}</dt>
            <dd>{b.description || t("offNone")}</dd>
          </dl>
          {b.device ? <Device d={b.device} /> : null}
          {b.share ? <Share s={b.share} /> : null}
          <Exposure b={b} />
          <Assessment b={b} />
          <Steps b={b} />
          <StepForm key={b.status} b={b} onDone={setFresh} />
          <Checklist b={b} />
          <p>
            <a href={officerHref({ name: "breaches" })}>{t("offBackToBreaches")}</a>
          </p>
        </div>
      ) : null}
    </OfficerPage>
  );
}
