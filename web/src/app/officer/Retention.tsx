// Retention (RET-1, RET-3, RET-5): the rules in force with their source and how sure they
// are ("CMPA recommendation, not confirmed" where no college rule was confirmed), a privacy
// officer's change to a rule with its reason (the server audits the old and new rule and
// recomputes every date it governs), legal holds placed and released with a reason, and
// certificates of destruction, listed newest first and one printable.
import { useState } from "preact/hooks";
import { t } from "./i18n";
import { announce } from "../status";
import { AlertDialog, Field, FormError, Submit } from "../ui";
import { officerApi, type CertificateSummary, type HoldKind, type HoldOut, type HoldScope, type RetentionRule, type RuleOut, type SweepOut } from "./api";
import {
  cleanCertificateRef,
  cleanId,
  isProblem,
  minorProvenance,
  provenance,
  REASON_MAX,
  ruleForm,
  ruleFromForm,
  type Provenance,
  type RuleForm,
  type RuleProblem,
} from "./logic";
import { errorText, reasonProblem, useAction, Id, label, LoadState, NumberField, OfficerPage, Radios, TextArea, useLoad, When } from "./parts";
import { officerHref } from "./routes";

// --- rules ------------------------------------------------------------------------------------

function ProvenanceBadge({ value }: { value: Provenance }) {
  return <span class={`badge badge-${value}`}>{t(`offProv_${value}`)}</span>;
}

function problemText(p: RuleProblem): string {
  switch (p.problem) {
    case "whole_number":
      return t("offRuleWhole", { field: t(`offRule_${p.field}` as "offRule_years_after_last_entry"), min: p.min, max: p.max });
    case "reason_missing":
      return t("offReasonMissing");
    case "reason_long":
      return t("offReasonLong", { max: REASON_MAX });
    case "url":
      return t("offRuleUrl");
    case "unchanged":
      return t("offRuleUnchanged");
  }
}

function RuleEditor({ rule, onDone, onCancel }: { rule: RetentionRule; onDone: () => void; onCancel: () => void }) {
  const [form, setForm] = useState<RuleForm>(() => ruleForm(rule));
  const { busy, error, setError, run } = useAction();
  const set = (k: keyof RuleForm) => (v: string) => setForm({ ...form, [k]: v });
  async function save(e: Event) {
    e.preventDefault();
    const next = ruleFromForm(rule, form);
    if (isProblem(next)) {
      setError(problemText(next));
      return;
    }
    await run(async () => {
      const done = await officerApi.setRule(next);
      announce(t("offRuleSaved", { name: rule.name, count: done.patients_recomputed }));
      onDone();
    });
  }
  return (
    <form class="card rule-editor" onSubmit={save} noValidate data-testid="rule-editor">
      <h3>{t("offRuleChangeTitle", { name: rule.name })}</h3>
      <NumberField label={t("offRule_years_after_last_entry")} value={form.years_after_last_entry} onValue={set("years_after_last_entry")} />
      <NumberField label={t("offRule_years_after_majority")} value={form.years_after_majority} onValue={set("years_after_majority")} />
      <NumberField label={t("offRule_age_of_majority")} value={form.age_of_majority} onValue={set("age_of_majority")} />
      <NumberField
        label={t("offRule_keep_until_age")}
        hint={t("offRuleKeepUntilHint")}
        value={form.keep_until_age}
        onValue={set("keep_until_age")}
      />
      <TextArea label={t("offRule_reason")} hint={t("offRuleReasonHint")} value={form.reason} onValue={set("reason")} maxLength={REASON_MAX} required />
      <Field label={t("offRule_source_url")} value={form.source_url} onValue={set("source_url")} type="text" spellcheck={false} />
      <FormError message={error} />
      <div class="actions">
        <Submit busy={busy} label={t("offRuleSave")} />
        <button type="button" class="secondary" onClick={onCancel}>
          {t("offCancel")}
        </button>
      </div>
    </form>
  );
}

function RuleCard({ r, onChanged }: { r: RuleOut; onChanged: () => Promise<void> }) {
  const [editing, setEditing] = useState(false);
  const [confirmReset, setConfirmReset] = useState(false);
  const { busy, error, run } = useAction();
  const rule = r.rule;
  async function reset() {
    const done = await run(async () => {
      const changed = await officerApi.resetRule(rule.jurisdiction);
      announce(t("offRuleResetDone", { name: rule.name, count: changed.patients_recomputed }));
    });
    setConfirmReset(false);
    if (done) await onChanged();
  }
  return (
    <li class="item rule" data-testid="rule" data-jurisdiction={rule.jurisdiction}>
      <h2 class="rule-name">
        {rule.name} <span class="muted">({rule.jurisdiction})</span>
      </h2>
      <dl class="facts">
        <dt>{t("offRuleAdults")}</dt>
        <dd>
          {t("offRuleAdultYears", { years: rule.years_after_last_entry })} <ProvenanceBadge value={provenance(r)} />
        </dd>
        <dt>{t("offRuleMinors")}</dt>
        <dd>
          {t("offRuleMinorYears", { years: rule.years_after_majority, age: rule.age_of_majority })}{" "}
          <ProvenanceBadge value={minorProvenance(rule)} />
        </dd>
        {rule.keep_until_age !== null ? (
          <>
            <dt>{t("offRule_keep_until_age")}</dt>
            <dd>{t("offRuleKeepUntil", { age: rule.keep_until_age })}</dd>
          </>
        ) : null}
        <dt>{t("offRuleConfidence")}</dt>
        <dd>{label("offConf_", rule.confidence)}</dd>
        <dt>{r.overridden ? t("offRuleReasonShown") : t("offRuleSource")}</dt>
        <dd lang={r.overridden ? undefined : "en-CA"}>{rule.source}</dd>
        <dt>{t("offRuleLink")}</dt>
        <dd class="mono">
          <a href={rule.source_url} target="_blank" rel="noopener noreferrer">
            {rule.source_url}
          </a>
        </dd>
      </dl>
      {r.overridden ? (
        <p class="flag-note" data-testid="rule-overridden">
          {t("offRuleOverridden")} <When at={r.set_at} />
        </p>
      ) : null}
      <FormError message={error} />
      {editing ? (
        <RuleEditor
          rule={rule}
          onCancel={() => setEditing(false)}
          onDone={() => {
            setEditing(false);
            void onChanged();
          }}
        />
      ) : (
        <div class="actions">
          <button type="button" class="secondary" onClick={() => setEditing(true)}>
            {t("offRuleChange", { name: rule.name })}
          </button>
          {r.overridden ? (
            <button type="button" class="secondary" onClick={() => setConfirmReset(true)}>
              {t("offRuleReset", { name: rule.name })}
            </button>
          ) : null}
        </div>
      )}
      {confirmReset ? (
        <AlertDialog
          title={t("offRuleResetTitle", { name: rule.name })}
          body={t("offRuleResetBody")}
          onEscape={() => setConfirmReset(false)}
        >
          <button data-safe type="button" class="primary" onClick={() => setConfirmReset(false)}>
            {t("offRuleResetNo")}
          </button>
          <button type="button" class="secondary" disabled={busy} aria-busy={busy} onClick={() => void reset()}>
            {t("offRuleResetYes")}
          </button>
        </AlertDialog>
      ) : null}
    </li>
  );
}

export function RetentionScreen() {
  const loaded = useLoad(officerApi.rules);
  return (
    <OfficerPage section="retention" title={t("offRetentionTitle")}>
      <p>{t("offRetentionIntro")}</p>
      <LoadState loaded={loaded} list />
      <ul class="cards wide" data-testid="rules">
        {(loaded.data ?? []).map((r) => (
          <RuleCard key={r.rule.jurisdiction} r={r} onChanged={loaded.reload} />
        ))}
      </ul>
    </OfficerPage>
  );
}

// --- holds --------------------------------------------------------------------------------------

function PlaceHold({ onPlaced }: { onPlaced: () => Promise<void> }) {
  const [scope, setScope] = useState<HoldScope>("patient");
  const [kind, setKind] = useState<HoldKind>("legal_hold");
  const [target, setTarget] = useState("");
  const [reason, setReason] = useState("");
  const { busy, error, setError, run } = useAction();
  async function place(e: Event) {
    e.preventDefault();
    const id = cleanId(target);
    if (!id) {
      setError(t("offIdInvalid"));
      return;
    }
    if (reasonProblem(reason)) return setError(reasonProblem(reason));
    await run(async () => {
      await officerApi.placeHold({ scope, target_id: id, reason: reason.trim(), kind });
      announce(t("offHoldPlaced"));
      setTarget("");
      setReason("");
      await onPlaced();
    });
  }
  return (
    <form class="card" onSubmit={place} noValidate aria-labelledby="place-hold-title" data-testid="place-hold">
      <h2 id="place-hold-title">{t("offHoldPlaceTitle")}</h2>
      <Radios
        legend={t("offHoldScope")}
        name="scope"
        value={scope}
        onValue={setScope}
        options={[
          ["patient", t("offScope_patient")],
          ["encounter", t("offScope_encounter")],
          ["item", t("offScope_item")],
        ]}
      />
      <Field label={t("offHoldTarget")} hint={t("offHoldTargetHint")} value={target} onValue={setTarget} spellcheck={false} autocapitalize="off" />
      <Radios
        legend={t("offHoldKind")}
        name="kind"
        value={kind}
        onValue={setKind}
        options={[
          ["legal_hold", t("offHoldKind_legal_hold")],
          ["clinical_decision", t("offHoldKind_clinical_decision")],
        ]}
      />
      <TextArea label={t("offHoldReason")} value={reason} onValue={setReason} maxLength={REASON_MAX} required />
      <FormError message={error} />
      <Submit busy={busy} label={t("offHoldPlace")} />
    </form>
  );
}

function HoldCard({ h, onReleased }: { h: HoldOut; onReleased: () => Promise<void> }) {
  const [releasing, setReleasing] = useState(false);
  const [reason, setReason] = useState("");
  const { busy, error, setError, run } = useAction();
  async function release(e: Event) {
    e.preventDefault();
    if (reasonProblem(reason)) return setError(reasonProblem(reason));
    await run(async () => {
      await officerApi.releaseHold(h.id, reason.trim());
      announce(t("offHoldReleased"));
      setReleasing(false);
      await onReleased();
    });
  }
  return (
    <li class="item" data-testid="hold" data-hold={h.id} data-target={h.target_id}>
      <span class="result-name">
        {label("offHoldKind_", h.kind)} · {label("offScope_", h.scope)} <Id id={h.target_id} />
      </span>
      <span>{h.active ? t("offHoldActive") : t("offHoldReleasedState")}</span>
      <span>{t("offReasonIs", { reason: h.reason })}</span>
      <span>
        {t("offPlacedAt")} <When at={h.placed_at} />
      </span>
      {h.released_at ? (
        <span>
          {t("offReleasedAt")} <When at={h.released_at} /> — {t("offReasonIs", { reason: h.release_reason ?? "" })}
        </span>
      ) : null}
      <span>
        {t("offPatient")} <Id id={h.patient_ref} /> ·{" "}
        <a href={officerHref({ name: "who-saw", patientId: h.patient_ref })}>{t("offWhoSawLink")}</a>
      </span>
      {h.active && !releasing ? (
        <button type="button" class="secondary" onClick={() => setReleasing(true)}>
          {t("offHoldRelease")}
        </button>
      ) : null}
      {releasing ? (
        <form onSubmit={release} noValidate class="inline-form">
          <TextArea label={t("offHoldReleaseReason")} value={reason} onValue={setReason} maxLength={REASON_MAX} required />
          <FormError message={error} />
          <div class="actions">
            <Submit busy={busy} label={t("offHoldReleaseConfirm")} />
            <button type="button" class="secondary" onClick={() => setReleasing(false)}>
              {t("offCancel")}
            </button>
          </div>
        </form>
      ) : null}
    </li>
  );
}

export function HoldsScreen() {
  const [all, setAll] = useState(false);
  const loaded = useLoad(() => officerApi.holds(all), String(all));
  return (
    <OfficerPage section="holds" title={t("offHoldsTitle")}>
      <p>{t("offHoldsIntro")}</p>
      <PlaceHold onPlaced={loaded.reload} />
      <h2>{t("offHoldsList")}</h2>
      <div class="check">
        <input type="checkbox" id="holds-all" checked={all} onChange={(e) => setAll((e.currentTarget as HTMLInputElement).checked)} />
        <label for="holds-all">{t("offHoldsShowReleased")}</label>
      </div>
      <LoadState loaded={loaded} list />
      {loaded.data && loaded.data.length === 0 ? <p class="muted">{t("offHoldsNone")}</p> : null}
      <ul class="cards" data-testid="holds">
        {(loaded.data ?? []).map((h) => (
          <HoldCard key={h.id} h={h} onReleased={loaded.reload} />
        ))}
      </ul>
    </OfficerPage>
  );
}

// --- certificates ----------------------------------------------------------------------------------

function SweepPanel() {
  const [report, setReport] = useState<SweepOut | null>(null);
  const [busy, setBusy] = useState<"preview" | "run" | null>(null);
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function run(dryRun: boolean) {
    setBusy(dryRun ? "preview" : "run");
    setConfirm(false);
    setError(null);
    try {
      const r = await officerApi.sweep(dryRun);
      setReport(r);
      announce(dryRun ? t("offSweepPreviewDone", { count: r.items }) : t("offSweepDone", { count: r.items }));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  }
  return (
    <section class="card" aria-labelledby="sweep-title">
      <h2 id="sweep-title">{t("offSweepTitle")}</h2>
      <p class="hint">{t("offSweepHint")}</p>
      <div class="actions">
        <button type="button" class="secondary" disabled={busy !== null} aria-busy={busy === "preview"} onClick={() => void run(true)}>
          {t("offSweepPreview")}
        </button>
        <button type="button" class="secondary" disabled={busy !== null} aria-busy={busy === "run"} onClick={() => setConfirm(true)}>
          {t("offSweepRun")}
        </button>
      </div>
      <FormError message={error} />
      {report ? (
        <div data-testid="sweep-report">
          <p>
            {report.dry_run
              ? t("offSweepWould", { items: report.items, families: report.families, held: report.held, date: report.as_of })
              : t("offSweepDid", { items: report.items, families: report.families, held: report.held, date: report.as_of })}
          </p>
          {report.certificates.length ? (
            <ul>
              {report.certificates.map((n) => (
                <li key={n}>
                  <a href={officerHref({ name: "certificate", ref: String(n) })}>{t("offCertificateNo", { number: String(n) })}</a>
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {confirm ? (
        <AlertDialog title={t("offSweepConfirmTitle")} body={t("offSweepConfirmBody")} onEscape={() => setConfirm(false)}>
          <button data-safe type="button" class="primary" onClick={() => setConfirm(false)}>
            {t("offSweepConfirmNo")}
          </button>
          <button type="button" class="secondary" onClick={() => void run(false)}>
            {t("offSweepConfirmYes")}
          </button>
        </AlertDialog>
      ) : null}
    </section>
  );
}

function CertificateList() {
  const [pages, setPages] = useState<CertificateSummary[][]>([]);
  const [next, setNext] = useState<number | null>(null);
  const loaded = useLoad(async () => {
    const first = await officerApi.certificates(null);
    setPages([first.certificates]);
    setNext(first.next_before);
    return first;
  });
  const { busy, error, run } = useAction();
  async function more() {
    if (next === null) return;
    await run(async () => {
      const page = await officerApi.certificates(next);
      setPages([...pages, page.certificates]);
      setNext(page.next_before);
    });
  }
  const rows = pages.flat();
  return (
    <section class="card" aria-labelledby="cert-list-title">
      <h2 id="cert-list-title">{t("offCertificatesListTitle")}</h2>
      <LoadState loaded={loaded} list />
      {loaded.data !== null && rows.length === 0 ? <p class="muted">{t("offCertificatesNone")}</p> : null}
      {rows.length ? (
        <ul class="cert-list" data-testid="certificates">
          {rows.map((c) => (
            <li key={c.number} data-testid="certificate-row">
              <a href={officerHref({ name: "certificate", ref: String(c.number) })}>{t("offCertificateNo", { number: String(c.number) })}</a>{" "}
              — <When at={c.destroyed_at} />
              <br />
              <span class="hint">
                {t("offCertificateCounts", { families: c.families, media: c.media, consents: c.consents, shares: c.shares, blobs: c.blobs })}
                {" · "}
                {t("offCertificateRuleJob", { rule: c.rule ?? "?", job: c.job })}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
      <FormError message={error} />
      {next !== null ? (
        <button type="button" class="secondary" disabled={busy} aria-busy={busy} onClick={() => void more()}>
          {t("offCertificatesMore")}
        </button>
      ) : null}
    </section>
  );
}

export function CertificatesScreen() {
  const [ref, setRef] = useState("");
  const [error, setError] = useState<string | null>(null);
  function open(e: Event) {
    e.preventDefault();
    const clean = cleanCertificateRef(ref);
    if (!clean) {
      setError(t("offCertificateRefInvalid"));
      return;
    }
    location.hash = officerHref({ name: "certificate", ref: clean });
  }
  return (
    <OfficerPage section="certificates" title={t("offCertificatesTitle")}>
      <p>{t("offCertificatesIntro")}</p>
      <form class="card" onSubmit={open} noValidate aria-labelledby="cert-open-title">
        <h2 id="cert-open-title">{t("offCertificateOpenTitle")}</h2>
        <Field label={t("offCertificateRef")} hint={t("offCertificateRefHint")} value={ref} onValue={setRef} spellcheck={false} autocapitalize="off" />
        <FormError message={error} />
        <Submit busy={false} label={t("offCertificateOpen")} />
      </form>
      <CertificateList />
      <SweepPanel />
    </OfficerPage>
  );
}

export function CertificateScreen({ refText }: { refText: string }) {
  const loaded = useLoad(() => officerApi.certificate(refText), refText);
  const c = loaded.data;
  return (
    <OfficerPage section="certificates" title={c ? t("offCertificateNo", { number: String(c.number) }) : t("offCertificateTitle")}>
      <LoadState loaded={loaded} />
      {c ? (
        <article class="certificate" data-testid="certificate" aria-labelledby="cert-heading">
          <h2 id="cert-heading">{t("offCertificateHeading")}</h2>
          <dl class="facts">
            <dt>{t("offCertificateNumber")}</dt>
            <dd>{c.number}</dd>
            <dt>{t("offCertificateWhen")}</dt>
            <dd>
              <When at={c.at} />
            </dd>
            <dt>{t("offCertificateBy")}</dt>
            <dd>{c.actor}</dd>
            <dt>{t("offPatient")}</dt>
            <dd class="mono">{c.patient_ref}</dd>
          </dl>
          <p class="hint">{t("offCertificateTextNote")}</p>
          <pre class="certificate-text" lang="en-CA" data-testid="certificate-text" tabIndex={0} aria-label={t("offCertificateTextLabel")}>
            {c.text}
          </pre>
          <div class="actions no-print">
            <button type="button" class="primary" onClick={() => window.print()}>
              {t("offPrint")}
            </button>
            <a class="button secondary" href={officerHref({ name: "certificates" })}>
              {t("offBackToCertificates")}
            </a>
          </div>
        </article>
      ) : null}
    </OfficerPage>
  );
}
