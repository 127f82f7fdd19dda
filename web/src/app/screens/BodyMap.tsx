// Where on the body (BEY-2): a front and a back figure whose regions are buttons (focusable,
// named in the language shown, Enter or Space to choose), and the same regions in a
// searchable list for those who do not use the figure. A paired structure carries its side:
// from the figure, the side drawn; from the list, the side named; either can be changed to
// "both sides".
import { useId, useState } from "preact/hooks";
import "../bodymap/bodymap.css";
import { choiceLabel, fold, siteName, type SiteChoice } from "../bodymap/choice";
import { BACK, BOTH, FRONT, LEFT, RIGHT, SITES, SITE_BY_ID, type Laterality, type Region } from "../bodymap/sites";
import { t } from "../i18n";

const SIDES: Laterality[] = [LEFT, RIGHT, BOTH];

function same(a: SiteChoice | null, b: SiteChoice): boolean {
  return a !== null && a.site === b.site && (a.side ?? null) === (b.side ?? null);
}

function Shape({ region, chosen, onPick }: { region: Region; chosen: SiteChoice | null; onPick: (c: SiteChoice) => void }) {
  const choice: SiteChoice = region.side ? { site: region.site, side: region.side } : { site: region.site };
  const pressed = same(chosen, choice);
  const common = {
    class: "region",
    role: "button" as const,
    tabindex: 0, // lower case: an SVG element takes the attribute as written
    "aria-label": choiceLabel(choice),
    "aria-pressed": pressed,
    "data-site": region.site,
    "data-side": region.side ?? "",
    onClick: () => onPick(choice),
    onKeyDown: (e: KeyboardEvent) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        onPick(choice);
      }
    },
  };
  const s = region.shape;
  return s.kind === "rect" ? (
    <rect {...common} x={s.x} y={s.y} width={s.w} height={s.h} rx={4} />
  ) : (
    <ellipse {...common} cx={s.cx} cy={s.cy} rx={s.rx} ry={s.ry} />
  );
}

export function BodyMap({ value, onChange }: { value: SiteChoice | null; onChange: (c: SiteChoice | null) => void }) {
  const [view, setView] = useState<"front" | "back">("front");
  const [query, setQuery] = useState("");
  const id = useId();
  const regions = view === "front" ? FRONT : BACK;
  const chosenSite = value ? SITE_BY_ID.get(value.site) : undefined;

  const q = fold(query.trim());
  const matches: SiteChoice[] = q
    ? SITES.filter((s) => fold(s.en).includes(q) || fold(s.fr).includes(q)).flatMap((s) =>
        s.paired ? SIDES.map((side) => ({ site: s.id, side })) : [{ site: s.id }],
      )
    : [];

  return (
    <fieldset class="bodymap">
      <legend>{t("bodySiteLegend")}</legend>
      <div class="bodymap-chosen">
        <p id={`${id}-chosen`} data-testid="body-site-chosen">
          {value ? t("bodySiteChosen", { site: choiceLabel(value) }) : t("bodySiteNone")}
        </p>
        {value ? (
          <button type="button" class="secondary" onClick={() => onChange(null)}>
            {t("bodySiteClear")}
          </button>
        ) : null}
      </div>
      <div class="bodymap-views" role="group" aria-label={t("bodyViewLegend")}>
        {(["front", "back"] as const).map((v) => (
          <button key={v} type="button" class="secondary" aria-pressed={view === v} onClick={() => setView(v)}>
            {v === "front" ? t("bodyFront") : t("bodyBack")}
          </button>
        ))}
      </div>
      <svg
        class="bodymap-figure"
        viewBox="0 0 200 420"
        role="group"
        aria-label={view === "front" ? t("bodyMapFront") : t("bodyMapBack")}
      >
        {regions.map((r) => (
          <Shape key={`${r.site}-${r.side ?? ""}`} region={r} chosen={value} onPick={onChange} />
        ))}
      </svg>
      {chosenSite?.paired ? (
        <fieldset class="choices">
          <legend>{t("lateralityLegend")}</legend>
          {SIDES.map((side) => (
            <div class="radio" key={side}>
              <input
                type="radio"
                id={`${id}-side-${side}`}
                name={`${id}-side`}
                checked={value?.side === side}
                onChange={() => onChange({ site: chosenSite.id, side })}
              />
              <label for={`${id}-side-${side}`}>{t(`side_${side}`)}</label>
            </div>
          ))}
        </fieldset>
      ) : null}
      <div class="field">
        <label for={`${id}-search`}>{t("bodySiteSearch")}</label>
        <input
          id={`${id}-search`}
          type="search"
          value={query}
          autocomplete="off"
          onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)}
        />
      </div>
      {q ? (
        matches.length ? (
          <ul class="site-list">
            {matches.map((m) => (
              <li key={`${m.site}-${m.side ?? ""}`}>
                <button type="button" class="secondary" aria-pressed={same(value, m)} onClick={() => onChange(m)}>
                  {choiceLabel(m)}
                </button>
              </li>
            ))}
          </ul>
        ) : (
          <p>{t("bodySiteNoMatch")}</p>
        )
      ) : null}
    </fieldset>
  );
}

export { siteName };
