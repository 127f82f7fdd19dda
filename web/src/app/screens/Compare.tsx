// Before and after: two of the user's photos side by side (stacked on a narrow screen), at
// the same scale: each is as wide, relative to its column, as its pixels are relative to
// the wider of the two, so a centimetre in one is a centimetre in the other when both were
// taken from the same distance.
import { useEffect, useState } from "preact/hooks";
import { ApiError, type MediaRecord } from "../api";
import { t } from "../i18n";
import { pictureSize, useObjectUrls } from "../see/images";
import { openOwn, type Manifest } from "../see/open";
import { seeHref } from "../see/routes";
import { siteLabel } from "../see/sites";
import { FormError, ScreenTitle } from "../ui";
import { photoDate } from "./Timeline";

type BodySite = Manifest["body_site"];

interface Side {
  url: string;
  width: number;
  meta: MediaRecord;
  site: BodySite | undefined;
}

export function Compare({ patientId, a, b }: { patientId: string; a: string; b: string }) {
  const [sides, setSides] = useState<[Side, Side] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const makeUrl = useObjectUrls();

  useEffect(() => {
    let alive = true;
    (async () => {
      const load = async (id: string): Promise<Side> => {
        const o = await openOwn(id);
        const { width } = await pictureSize(o.plain, o.contentType);
        return { url: makeUrl(o.plain, o.contentType), width, meta: o.meta, site: o.manifest.body_site };
      };
      const first = await load(a);
      const second = await load(b);
      if (alive) setSides([first, second]);
    })().catch((err: unknown) => {
      if (alive) setError(err instanceof ApiError ? err.message : t("notVerified"));
    });
    return () => {
      alive = false;
    };
  }, [a, b]);

  const widest = sides ? Math.max(sides[0].width, sides[1].width) : 1;
  return (
    <main id="main" class="screen wide">
      <ScreenTitle>{t("compareTitle")}</ScreenTitle>
      <FormError message={error} />
      {sides === null && error === null ? <p class="muted">{t("opening")}</p> : null}
      {sides ? (
        <>
          <p class="ok">{t("verified")}</p>
          <p class="hint">{t("compareSameScale")}</p>
          <div class="compare" data-testid="compare">
            {sides.map((s, i) => {
              const date = photoDate(s.meta); // in the language shown now
              const site = siteLabel(s.site);
              return (
                <figure key={i}>
                  <img src={s.url} alt={t("photoTaken", { date })} style={{ width: `${(100 * s.width) / widest}%` }} />
                  <figcaption>
                    <strong>{i === 0 ? t("compareBefore") : t("compareAfter")}</strong>
                    <span>{t("takenOn", { date })}</span>
                    {site ? <span>{t("bodySite", { site })}</span> : null}
                  </figcaption>
                </figure>
              );
            })}
          </div>
        </>
      ) : null}
      <p>
        <a href={seeHref({ name: "timeline", patientId })}>{t("backToPhotos")}</a>
      </p>
    </main>
  );
}
