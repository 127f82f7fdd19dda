// The shares this user sent, of every photo, newest first (TRN-4): to whom, why, and where
// each stands (sent, delivered, acknowledged with the recipient's device signature, or
// recalled), so that a clinician can follow up on those not acknowledged yet. The server
// answers with ids and statuses only; a row links to its photo, where the patient is shown.
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, type SentShareOut } from "../api";
import { formatDateTime, label, t, type MessageKey } from "../i18n";
import { seeHref } from "../see/routes";
import { announce } from "../status";
import { FormError, ScreenTitle } from "../ui";

const PAGE = 50;

function when(key: MessageKey, at: string | null | undefined) {
  return at ? <span class="muted">{t(key, { date: formatDateTime(new Date(at)) })}</span> : null;
}

export function Sent() {
  const [waiting, setWaiting] = useState(false);
  const [list, setList] = useState<SentShareOut[] | null>(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let alive = true;
    setList(null);
    setError(null);
    announce(t("sentLoading"));
    api
      .sentShares({ waiting, limit: PAGE })
      .then((page) => {
        if (!alive) return;
        setList(page);
        setMore(page.length === PAGE);
        announce(page.length ? t("sentTitle") : t(waiting ? "sentNoneWaiting" : "sentNone"));
      })
      .catch((err: unknown) => {
        if (alive) setError(err instanceof ApiError ? err.message : String(err));
      });
    return () => {
      alive = false;
    };
  }, [waiting, tick]);

  async function older() {
    const last = list?.[list.length - 1];
    if (!last) return;
    try {
      const page = await api.sentShares({ waiting, before: last.id, limit: PAGE });
      setList([...(list ?? []), ...page]);
      setMore(page.length === PAGE);
    } catch (err: unknown) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  }

  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("sentTitle")}</ScreenTitle>
      <div class="check">
        <input
          type="checkbox"
          id="sent-waiting"
          checked={waiting}
          onChange={(e) => setWaiting((e.currentTarget as HTMLInputElement).checked)}
        />
        <label for="sent-waiting">{t("sentWaitingOnly")}</label>
      </div>
      <FormError message={error} />
      {list === null && error === null ? <p class="muted">{t("sentLoading")}</p> : null}
      {list && !list.length ? <p>{t(waiting ? "sentNoneWaiting" : "sentNone")}</p> : null}
      {list && list.length ? (
        <ul class="results" data-testid="sent-shares">
          {list.map((s) => (
            <li key={s.id} class="item" data-share={s.id}>
              <span>
                {t("shareRow", {
                  who: s.recipient_institution ? `${s.recipient_name}, ${s.recipient_institution}` : s.recipient_name,
                  purpose: label("purpose_", s.purpose),
                  status: s.recalled_at ? t("status_recalled") : label("status_", s.status),
                })}
              </span>
              {when("sentAt", s.sent_at)}
              {when("deliveredAt", s.delivered_at)}
              {when("acknowledgedAt", s.acknowledged_at)}
              {when("recalledAt", s.recalled_at)}
              {s.patient_id ? (
                <a href={seeHref({ name: "photo", patientId: s.patient_id, mediaId: s.original_media_id })}>
                  {t("sentOpenPhoto")}
                </a>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      {more ? (
        <button type="button" class="secondary" onClick={() => void older()}>
          {t("sentMore")}
        </button>
      ) : null}
      <button type="button" class="secondary" onClick={() => setTick((n) => n + 1)}>
        {t("refresh")}
      </button>
    </main>
  );
}
