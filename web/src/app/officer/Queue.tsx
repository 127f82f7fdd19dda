// The review queue (issue 10 §4): what waits for the privacy officer, oldest or most urgent
// first: consents to follow past their deadline, emergency overrides to review, withdrawn
// consents whose photos had been shared (CON-7), patients' deletion and copy requests,
// photos the custodian quarantined (DEI-2) and open breaches (BRE-1).
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { formatDate, t } from "./i18n";
import { announce } from "../status";
import { FormError } from "../ui";
import { officerApi } from "./api";
import { isOpenBreach, isOverdue, proposedOf } from "./logic";
import { errorText, Id, label, LoadState, OfficerPage, useLoad, When, type Loaded } from "./parts";
import { officerHref } from "./routes";

function Section({
  id,
  title,
  loaded,
  count,
  children,
}: {
  id: string;
  title: string;
  loaded: Loaded<unknown>;
  count: number | null;
  children: ComponentChildren;
}) {
  return (
    <section class="queue-section" aria-labelledby={`${id}-title`} data-testid={`queue-${id}`}>
      <h2 id={`${id}-title`}>
        {title}
        {count !== null ? <span class="count"> ({t("offCount", { count })})</span> : null}
      </h2>
      <LoadState loaded={loaded} list />
      {loaded.data !== null ? (count === 0 ? <p class="muted">{t("offQueueNothing")}</p> : children) : null}
    </section>
  );
}

function ToFollow() {
  const loaded = useLoad(officerApi.consentsToFollow);
  const now = Date.now();
  const items = loaded.data ?? [];
  const overdue = items.filter((c) => isOverdue(c.to_follow_deadline, now));
  return (
    <Section id="to-follow" title={t("offQueueToFollow")} loaded={loaded} count={loaded.data ? overdue.length : null}>
      <p class="hint">{t("offQueueToFollowHint", { pending: items.length })}</p>
      <ul class="cards">
        {overdue.map((c) => (
          <li key={c.id} class="item" data-testid="to-follow" data-consent={c.id}>
            <span class="flag">{t("offPastDeadline")}</span>
            <span>
              {t("offDeadline")} <When at={c.to_follow_deadline} />
            </span>
            <span>
              {t("offObtained")} <When at={c.obtained_at} />
            </span>
            {c.to_follow_reason ? <span>{t("offReasonIs", { reason: c.to_follow_reason })}</span> : null}
            <span>
              {t("offPatient")} <Id id={c.patient_id} />
            </span>
            <a href={officerHref({ name: "who-saw", patientId: c.patient_id })}>{t("offWhoSawLink")}</a>
          </li>
        ))}
      </ul>
    </Section>
  );
}

function Overrides() {
  const loaded = useLoad(officerApi.overrides);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  async function review(id: string) {
    setBusy(id);
    setError(null);
    try {
      await officerApi.reviewOverride(id);
      announce(t("offOverrideReviewed"));
      await loaded.reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  }
  const items = loaded.data ?? [];
  return (
    <Section id="overrides" title={t("offQueueOverrides")} loaded={loaded} count={loaded.data ? items.length : null}>
      <FormError message={error} />
      <ul class="cards">
        {items.map((o) => (
          <li key={o.id} class="item" data-testid="override">
            <span>{t("offReasonIs", { reason: o.reason })}</span>
            <span>
              {t("offFromTo")} <When at={o.started_at} /> – <When at={o.expires_at} />
            </span>
            <span>
              {t("offUser")} <Id id={o.user_id} /> · {t("offPatient")} <Id id={o.patient_id} />
            </span>
            <a href={officerHref({ name: "who-saw", patientId: o.patient_id })}>{t("offWhoSawLink")}</a>
            <button
              type="button"
              class="secondary"
              disabled={busy !== null}
              aria-busy={busy === o.id}
              onClick={() => void review(o.id)}
            >
              {t("offMarkReviewed")}
            </button>
          </li>
        ))}
      </ul>
    </Section>
  );
}

function Withdrawals() {
  const loaded = useLoad(officerApi.withdrawals);
  const items = loaded.data ?? [];
  return (
    <Section id="withdrawals" title={t("offQueueWithdrawals")} loaded={loaded} count={loaded.data ? items.length : null}>
      <ul class="cards">
        {items.map((w) => (
          <li key={w.consent_id} class="item" data-testid="withdrawal">
            <span>
              {t("offWithdrawnAt")} <When at={w.last_withdrawn_at} />
            </span>
            <span>{t("offDisclosuresCount", { count: w.disclosures })}</span>
            <span>
              {t("offPatient")} <Id id={w.patient_id} />
            </span>
            <a href={officerHref({ name: "disclosures", consentId: w.consent_id })}>{t("offSeeDisclosures")}</a>
          </li>
        ))}
      </ul>
    </Section>
  );
}

function Requests() {
  const copies = useLoad(officerApi.copyRequests);
  const deletions = useLoad(officerApi.deletionRequests);
  const openCopies = (copies.data?.requests ?? []).filter((r) => r.status !== "delivered");
  const openDeletions = (deletions.data?.requests ?? []).filter((r) => r.status === "open");
  return (
    <>
      <Section id="deletions" title={t("offQueueDeletions")} loaded={deletions} count={deletions.data ? openDeletions.length : null}>
        <ul class="cards">
          {openDeletions.map((r) => (
            <li key={r.id} class="item" data-testid="deletion-request">
              <span>
                {t("offReceived")} <When at={r.created_at} />
              </span>
              <span>
                {t("offPatient")} <Id id={r.patient_id} />
              </span>
              <a href={officerHref({ name: "requests" })}>{t("offDecide")}</a>
            </li>
          ))}
        </ul>
      </Section>
      <Section id="copies" title={t("offQueueCopies")} loaded={copies} count={copies.data ? openCopies.length : null}>
        <ul class="cards">
          {openCopies.map((r) => (
            <li key={r.id} class="item" data-testid="copy-request">
              <span>
                {t("offReceived")} {formatDate(r.received_at)} · {label("offReqStatus_", r.status)}
              </span>
              <span>
                {t("offPatient")} <Id id={r.patient_id} />
              </span>
              <a href={officerHref({ name: "requests" })}>{t("offPrepare")}</a>
            </li>
          ))}
        </ul>
      </Section>
    </>
  );
}

function Quarantine() {
  const loaded = useLoad(officerApi.quarantine);
  const items = loaded.data ?? [];
  return (
    <Section id="quarantine" title={t("offQueueQuarantine")} loaded={loaded} count={loaded.data ? items.length : null}>
      <p class="hint">{t("offQuarantineHint")}</p>
      <ul class="cards">
        {items.map((m) => (
          <li key={m.media_id} class="item" data-testid="quarantined">
            <span>
              {t("offPhoto")} <Id id={m.media_id} />
            </span>
            <span>
              {t("offCaptured")} <When at={m.captured_at} /> · {t("offQuarantined")} <When at={m.quarantined_at} />
            </span>
            <span>
              {t("offPatient")} <Id id={m.patient_ref} />
            </span>
            <ul class="reasons" lang="en-CA">
              {m.reasons.map((r) => (
                <li key={r}>{r}</li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </Section>
  );
}

function Breaches() {
  const loaded = useLoad(officerApi.breaches);
  const open = (loaded.data?.breaches ?? []).filter(isOpenBreach);
  return (
    <Section id="breaches" title={t("offQueueBreaches")} loaded={loaded} count={loaded.data ? open.length : null}>
      <ul class="cards">
        {open.map((b) => {
          const proposed = proposedOf(b);
          return (
            <li key={b.id} class="item" data-testid="open-breach">
              <a href={officerHref({ name: "breach", id: b.id })} class="result-name">
                {label("offKind_", b.kind)}
              </a>
              <span>
                {label("offStatus_", b.status)} · <When at={b.reported_at} />
              </span>
              {proposed ? <span>{t("offProposed", { value: label("offClass_", proposed) })}</span> : null}
            </li>
          );
        })}
      </ul>
    </Section>
  );
}

export function QueueScreen() {
  return (
    <OfficerPage section="queue" title={t("offQueueTitle")}>
      <p>{t("offQueueIntro")}</p>
      <ToFollow />
      <Overrides />
      <Withdrawals />
      <Requests />
      <Quarantine />
      <Breaches />
    </OfficerPage>
  );
}
