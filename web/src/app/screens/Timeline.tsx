// A patient's timeline: the user's own photos of the patient, oldest first, each opened on
// the device (signature and hash checked), shown as a thumbnail made in memory, with its
// date, body site and caption; two can be chosen for a side-by-side comparison.
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, type MediaRecord } from "../api";
import { formatDateTime, plural, t } from "../i18n";
import { useObjectUrls, thumbnail } from "../see/images";
import { manifestOf, openField, openOwn, type Manifest } from "../see/open";
import { knownPatient } from "../see/patient";
import { goSee, seeHref } from "../see/routes";
import { siteLabel } from "../see/sites";
import { announce } from "../status";
import { FormError, ScreenTitle } from "../ui";

interface Row {
  meta: MediaRecord;
  derived: boolean;
  thumb?: string;
  site?: Manifest["body_site"];
  caption?: string | null;
  captionUnreadable?: boolean;
  failed?: boolean;
}

/** What a timeline row says of a photo, from its signed manifest. */
export function photoDate(meta: MediaRecord): string {
  const m = manifestOf(meta);
  return formatDateTime(new Date(typeof m.captured_at === "string" ? m.captured_at : meta.created_at));
}

export function Timeline({ patientId }: { patientId: string }) {
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [chosen, setChosen] = useState<string[]>([]);
  const makeUrl = useObjectUrls();
  const patient = knownPatient(patientId);

  useEffect(() => {
    let alive = true;
    announce(t("timelineLoading"));
    (async () => {
      const list = await api.timeline(patientId, "clinical_care");
      let current: Row[] = list.map((meta) => ({
        meta,
        derived: typeof manifestOf(meta).derived_from === "string",
      }));
      if (!alive) return;
      setRows(current);
      announce(list.length ? plural("timelineCountOne", "timelineCount", list.length) : t("timelineEmpty"));
      // One at a time: each photo is opened, drawn small, and let go.
      for (const row of current) {
        let next: Row;
        try {
          const opened = await openOwn(row.meta.id, "clinical_care", row.meta);
          const thumb = makeUrl(await thumbnail(opened.plain, opened.contentType));
          let caption: string | null = null;
          let captionUnreadable = false;
          try {
            caption = await openField(row.meta, "caption_sealed");
          } catch {
            captionUnreadable = true;
          }
          next = { ...row, thumb, caption, captionUnreadable, site: opened.manifest.body_site };
        } catch {
          next = { ...row, failed: true };
        }
        if (!alive) return;
        current = current.map((r) => (r.meta.id === row.meta.id ? next : r));
        setRows(current);
      }
    })().catch((err: unknown) => {
      if (alive) setError(err instanceof ApiError ? err.message : String(err));
    });
    return () => {
      alive = false;
    };
  }, [patientId]);

  function toggle(id: string, on: boolean) {
    const next = on ? [...chosen.filter((x) => x !== id), id].slice(-2) : chosen.filter((x) => x !== id);
    setChosen(next);
    announce(t("compareChosen", { count: next.length }));
  }

  function compare() {
    if (!rows || chosen.length !== 2) return;
    // Earlier photo first, whatever the order they were chosen in.
    const order = rows.map((r) => r.meta.id);
    const [a, b] = [...chosen].sort((x, y) => order.indexOf(x) - order.indexOf(y)) as [string, string];
    goSee({ name: "compare", patientId, a, b });
  }

  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("timelineTitle")}</ScreenTitle>
      <p>{patient ? t("timelineOf", { name: patient.name }) : t("timelineOfPatient")}</p>
      <FormError message={error} />
      {rows === null && error === null ? <p class="muted">{t("timelineLoading")}</p> : null}
      {rows !== null && rows.length === 0 ? <p>{t("timelineEmpty")}</p> : null}
      {rows !== null && rows.length > 0 ? (
        <>
          <p class="hint" id="compare-hint">
            {t("compareHint")}
          </p>
          <ul class="timeline" data-testid="timeline">
            {rows.map((r) => (
              <li key={r.meta.id} class="timeline-item" data-media={r.meta.id}>
                <a class="timeline-link" href={seeHref({ name: "photo", patientId, mediaId: r.meta.id })}>
                  {r.thumb ? (
                    <img class="thumb" src={r.thumb} alt="" />
                  ) : (
                    <span class="thumb thumb-empty" aria-hidden="true" />
                  )}
                  <span class="timeline-text">
                    <span class="result-name">{t("photoTaken", { date: photoDate(r.meta) })}</span>
                    {r.derived ? <span class="badge">{t("redactedVersion")}</span> : null}
                    {r.site?.code ? <span>{t("bodySite", { site: siteLabel(r.site) ?? "" })}</span> : null}
                    {r.caption ? <span>{t("caption", { text: r.caption })}</span> : null}
                    {r.captionUnreadable ? <span class="muted">{t("captionUnreadable")}</span> : null}
                    {r.failed ? <span class="error-text">{t("notVerified")}</span> : null}
                  </span>
                </a>
                <div class="check">
                  <input
                    type="checkbox"
                    id={`cmp-${r.meta.id}`}
                    checked={chosen.includes(r.meta.id)}
                    aria-describedby="compare-hint"
                    onChange={(e) => toggle(r.meta.id, (e.currentTarget as HTMLInputElement).checked)}
                  />
                  <label for={`cmp-${r.meta.id}`}>
                    {t("selectToCompare")}
                    <span class="visually-hidden"> ({photoDate(r.meta)})</span>
                  </label>
                </div>
              </li>
            ))}
          </ul>
          <button type="button" class="primary" disabled={chosen.length !== 2} onClick={compare}>
            {t("compareSelected")}
          </button>
        </>
      ) : null}
    </main>
  );
}
