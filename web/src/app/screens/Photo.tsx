// One of the user's photos, opened on the device: shown only after the author's signature
// and the plaintext hash are verified; full screen on demand; the custodian's inspection
// verdict (DEI-2); links to redact and to share it.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, type VerdictOut } from "../api";
import { hasMessage, plural, t } from "../i18n";
import { useObjectUrls } from "../see/images";
import { openField, openOwn, type Opened } from "../see/open";
import { Retention } from "../see/Retention";
import { seeHref } from "../see/routes";
import { siteLabel } from "../see/sites";
import { announce } from "../status";
import { FormError, ScreenTitle } from "../ui";
import { photoDate } from "./Timeline";

export function Verdict({ mediaId }: { mediaId: string }) {
  const [v, setV] = useState<VerdictOut | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .inspection(mediaId, "clinical_care")
      .then(setV)
      .catch((err: unknown) => setError(err instanceof ApiError ? err.message : String(err)));
  }, [mediaId]);
  const statusKey = v ? `inspection_${v.status}` : "";
  return (
    <section class="verdict" aria-labelledby="verdict-title" data-testid="verdict">
      <h2 id="verdict-title">{t("inspectionTitle")}</h2>
      <FormError message={error} />
      {v === null && error === null ? <p class="muted">{t("inspectionLoading")}</p> : null}
      {v ? (
        <>
          <p>{hasMessage(statusKey) ? t(statusKey) : v.status}</p>
          {v.status !== "pending" ? (
            <p class={v.identifiable ? "error-text" : "ok"}>{v.identifiable ? t("identifiable") : t("notIdentifiable")}</p>
          ) : null}
          {v.status === "done" && v.identifiable ? (
            <ul data-testid="verdict-findings">
              {v.findings.faces ? <li>{plural("findingFacesOne", "findingFaces", v.findings.faces)}</li> : null}
              {v.findings.text ? <li>{plural("findingTextOne", "findingText", v.findings.text)}</li> : null}
              {v.findings.metadata ? <li>{t("findingMetadata")}</li> : null}
            </ul>
          ) : null}
          {v.reasons.length && v.status !== "pending" ? (
            <details>
              <summary>{t("inspectionReasons")}</summary>
              <ul lang="en">
                {v.reasons.map((r, i) => (
                  <li key={i}>{r}</li>
                ))}
              </ul>
            </details>
          ) : null}
          {v.regions.length ? <p>{plural("regionsFoundOne", "regionsFound", v.regions.length)}</p> : null}
        </>
      ) : null}
    </section>
  );
}

export function Photo({ patientId, mediaId }: { patientId: string; mediaId: string }) {
  const [photo, setPhoto] = useState<{ url: string; opened: Opened } | null>(null);
  const [details, setDetails] = useState<{ caption: string | null; captionUnreadable: boolean }>({
    caption: null,
    captionUnreadable: false,
  });
  const [error, setError] = useState<string | null>(null);
  const [full, setFull] = useState(false);
  const makeUrl = useObjectUrls();
  const closeFull = useRef<HTMLButtonElement>(null);
  const openFull = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    let alive = true;
    announce(t("opening"));
    (async () => {
      const opened = await openOwn(mediaId);
      if (!alive) return;
      setPhoto({ url: makeUrl(opened.plain, opened.contentType), opened });
      announce(t("verified"));
      let caption: string | null = null;
      let captionUnreadable = false;
      try {
        caption = await openField(opened.meta, "caption_sealed");
      } catch {
        captionUnreadable = true;
      }
      if (alive) setDetails({ caption, captionUnreadable });
    })().catch((err: unknown) => {
      if (alive) setError(err instanceof ApiError ? err.message : t("notVerified"));
    });
    return () => {
      alive = false;
    };
  }, [mediaId]);

  useLayoutEffect(() => {
    if (full) closeFull.current?.focus();
  }, [full]);

  function leaveFull() {
    setFull(false);
    requestAnimationFrame(() => openFull.current?.focus());
  }

  const date = photo ? photoDate(photo.opened.meta) : ""; // in the language shown now
  const site = photo ? siteLabel(photo.opened.manifest.body_site) : null;
  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("photoTitle")}</ScreenTitle>
      <FormError message={error} />
      {photo === null && error === null ? <p class="muted">{t("opening")}</p> : null}
      {photo ? (
        <>
          <p class="ok" data-testid="verified">
            {t("verified")}
          </p>
          <figure class="photo">
            <img src={photo.url} alt={t("photoTaken", { date })} data-testid="photo" />
            <figcaption>
              <span>{t("takenOn", { date })}</span>
              {photo.opened.manifest.derived_from ? <span>{t("redactedFrom")}</span> : null}
              {site ? <span>{t("bodySite", { site })}</span> : null}
              {details.caption ? <span>{t("caption", { text: details.caption })}</span> : null}
              {details.captionUnreadable ? <span class="muted">{t("captionUnreadable")}</span> : null}
            </figcaption>
          </figure>
          <button ref={openFull} type="button" class="secondary" onClick={() => setFull(true)}>
            {t("fullScreen")}
          </button>
          {full ? (
            <div
              class="fullscreen"
              role="dialog"
              aria-modal="true"
              aria-label={t("photoTaken", { date })}
              onKeyDown={(e) => {
                if (e.key === "Escape" || e.key === "Tab") {
                  if (e.key === "Escape") leaveFull();
                  e.preventDefault();
                }
              }}
            >
              <img src={photo.url} alt={t("photoTaken", { date })} />
              <button ref={closeFull} type="button" class="secondary" onClick={leaveFull}>
                {t("exitFullScreen")}
              </button>
            </div>
          ) : null}
          <Retention mediaId={mediaId} />
          <Verdict mediaId={mediaId} />
          <div class="actions">
            <a class="button primary" href={seeHref({ name: "share", patientId, mediaId })}>
              {t("share")}
            </a>
            <a class="button secondary" href={seeHref({ name: "redact", patientId, mediaId })}>
              {t("redact")}
            </a>
          </div>
        </>
      ) : null}
      <p>
        <a href={seeHref({ name: "timeline", patientId })}>{t("backToPhotos")}</a>
      </p>
    </main>
  );
}
