// How long a photo is kept, under its details on the photo screen (RET-1, RET-3): read from
// the server (its author and the patient's care team may; the server audits the read) with
// the photo screen, in its chunk. No date is shown until the server has computed one.
import { useEffect, useState } from "preact/hooks";
import { ApiError, api } from "../api";
import { formatDate, lang, t } from "../i18n";
import { FormError } from "../ui";
import { retentionShown, ruleName, type HoldKindShown, type RetentionShown } from "./retention";

function Held({ holds }: { holds: HoldKindShown[] }) {
  if (!holds.length) return null;
  const kinds = holds.map((k) => t(`retentionHold_${k}`)).join("; ");
  return (
    <p class="error-text" data-testid="retention-held">
      {t("retentionHeld", { kinds })}
    </p>
  );
}

export function Retention({ mediaId }: { mediaId: string }) {
  const [shown, setShown] = useState<RetentionShown | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    api
      .retention(mediaId)
      .then((r) => alive && setShown(retentionShown(r)))
      .catch((err: unknown) => alive && setError(err instanceof ApiError ? err.message : String(err)));
    return () => {
      alive = false;
    };
  }, [mediaId]);
  let body = null;
  if (shown?.state === "destroyed") {
    body = <p>{t("retentionDestroyed", { date: shown.destroyedAt ? formatDate(shown.destroyedAt) : "—" })}</p>;
  } else if (shown?.state === "not_computed") {
    body = (
      <>
        <p data-testid="retention-date">{t("retentionNotComputed")}</p>
        <Held holds={shown.holds} />
      </>
    );
  } else if (shown?.state === "dated") {
    const rule = ruleName(shown.jurisdiction, lang());
    const key =
      shown.basis === "cmpa" ? "retentionUntilCmpa" : shown.basis === "confirmed" ? "retentionUntil" : "retentionUntilNotConfirmed";
    body = (
      <>
        <p data-testid="retention-date" data-date={shown.date}>
          {t(key, { date: formatDate(shown.date), rule })}
        </p>
        {shown.minorsCmpa ? <p class="muted">{t("retentionMinorsCmpa", { rule })}</p> : null}
        <Held holds={shown.holds} />
      </>
    );
  }
  return (
    <section class="retention" aria-labelledby="retention-title" data-testid="retention">
      <h2 id="retention-title">{t("retentionTitle")}</h2>
      <FormError message={error} />
      {shown === null && error === null ? <p class="muted">{t("retentionLoading")}</p> : null}
      {body}
    </section>
  );
}
