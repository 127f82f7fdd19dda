// Redaction on the device (DEI-3): the custodian's suggested regions and regions drawn with
// a finger or mouse (or added and moved with the keyboard, or typed in) are filled solid
// black on a canvas, re-encoded as a JPEG, sealed as a new version derived from the photo
// and queued; the original never changes. The new version is inspected in turn.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, type VerdictOut } from "../api";
import { formatNumber, hasMessage, t } from "../i18n";
import { redactToJpeg, useObjectUrls, type Box } from "../see/images";
import { openOwn, type Opened } from "../see/open";
import { goSee, seeHref } from "../see/routes";
import { finishBeforeLock, syncOutbox } from "../outbox";
import { queueRedacted } from "../see/seal";
import { announce } from "../status";
import { FormError, ScreenTitle } from "../ui";

function clamp(b: Box, w: number, h: number): Box {
  const bw = Math.max(1, Math.min(Math.round(b[2]), w));
  const bh = Math.max(1, Math.min(Math.round(b[3]), h));
  const x = Math.max(0, Math.min(Math.round(b[0]), w - bw));
  const y = Math.max(0, Math.min(Math.round(b[1]), h - bh));
  return [x, y, bw, bh];
}

function pct(v: number, of: number): string {
  return `${(100 * v) / of}%`;
}

function NumberField({ label, value, onValue }: { label: string; value: number; onValue: (v: number) => void }) {
  const id = `region-${label.replace(/\W+/g, "-")}`;
  return (
    <div class="field number">
      <label for={id}>{label}</label>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={0}
        step={1}
        value={value}
        onChange={(e) => {
          const v = Number((e.currentTarget as HTMLInputElement).value);
          if (Number.isFinite(v)) onValue(v);
        }}
      />
    </div>
  );
}

export function Redact({ patientId, mediaId }: { patientId: string; mediaId: string }) {
  const [photo, setPhoto] = useState<{ url: string; opened: Opened; w: number; h: number } | null>(null);
  const [verdict, setVerdict] = useState<VerdictOut | null>(null);
  const [useSuggested, setUseSuggested] = useState<boolean[]>([]);
  const [drawn, setDrawn] = useState<Box[]>([]);
  const [selected, setSelected] = useState<number | null>(null);
  const [draft, setDraft] = useState<Box | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const img = useRef<HTMLImageElement>(null);
  const start = useRef<[number, number] | null>(null);
  const boxRefs = useRef<(HTMLButtonElement | null)[]>([]);
  const makeUrl = useObjectUrls();

  useEffect(() => {
    let alive = true;
    announce(t("opening"));
    (async () => {
      const opened = await openOwn(mediaId);
      const bitmap = await createImageBitmap(new Blob([opened.plain as BlobPart], { type: opened.contentType }));
      const size = { w: bitmap.width, h: bitmap.height };
      bitmap.close();
      if (!alive) return;
      setPhoto({ url: makeUrl(opened.plain, opened.contentType), opened, ...size });
      announce(t("verified"));
      const v = await api.inspection(mediaId, "clinical_care");
      if (!alive) return;
      setVerdict(v);
      setUseSuggested(v.regions.map(() => true));
    })().catch((err: unknown) => {
      if (alive) setError(err instanceof ApiError ? err.message : t("notVerified"));
    });
    return () => {
      alive = false;
    };
  }, [mediaId]);

  const W = photo?.w ?? 1;
  const H = photo?.h ?? 1;
  const suggested: Box[] = (verdict?.regions ?? []).map((r) => clamp(r.box as Box, W, H));

  function toImage(e: PointerEvent): [number, number] {
    const rect = img.current!.getBoundingClientRect();
    const x = ((e.clientX - rect.left) * W) / rect.width;
    const y = ((e.clientY - rect.top) * H) / rect.height;
    return [Math.max(0, Math.min(W, x)), Math.max(0, Math.min(H, y))];
  }

  function boxFrom(a: [number, number], b: [number, number]): Box {
    return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1])];
  }

  function onDown(e: PointerEvent) {
    if (!photo || e.button > 0) return;
    start.current = toImage(e);
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    setDraft(null);
  }
  function onMove(e: PointerEvent) {
    if (!start.current) return;
    setDraft(boxFrom(start.current, toImage(e)));
  }
  function onUp(e: PointerEvent) {
    if (!start.current) return;
    const b = boxFrom(start.current, toImage(e));
    start.current = null;
    setDraft(null);
    const minimum = Math.max(4, W / 100);
    if (b[2] >= minimum && b[3] >= minimum) {
      setDrawn([...drawn, clamp(b, W, H)]);
      setSelected(drawn.length);
      announce(t("regionLabel", { n: drawn.length + 1 }));
    }
  }

  function update(i: number, b: Box) {
    setDrawn(drawn.map((d, j) => (j === i ? clamp(b, W, H) : d)));
  }

  function add() {
    const w = Math.round(W / 4);
    const h = Math.round(H / 4);
    setDrawn([...drawn, clamp([(W - w) / 2, (H - h) / 2, w, h], W, H)]);
    setSelected(drawn.length);
    requestAnimationFrame(() => boxRefs.current[drawn.length]?.focus());
  }

  function remove(i: number) {
    setDrawn(drawn.filter((_, j) => j !== i));
    setSelected(null);
  }

  function nudge(i: number, e: KeyboardEvent) {
    const step = Math.max(1, Math.round(W / 50));
    const d: Record<string, [number, number]> = {
      ArrowLeft: [-step, 0],
      ArrowRight: [step, 0],
      ArrowUp: [0, -step],
      ArrowDown: [0, step],
    };
    const move = d[e.key];
    const b = drawn[i];
    if (!move || !b) return;
    e.preventDefault();
    update(i, e.shiftKey ? [b[0], b[1], b[2] + move[0], b[3] + move[1]] : [b[0] + move[0], b[1] + move[1], b[2], b[3]]);
  }

  async function save() {
    if (!photo || busy) return;
    const boxes = [...suggested.filter((_, i) => useSuggested[i]), ...drawn];
    if (!boxes.length) {
      setError(t("nothingToRedact"));
      return;
    }
    setBusy(true);
    setError(null);
    announce(t("savingRedacted"));
    try {
      // Made and sealed before any lock that comes meanwhile drops the photo from memory.
      const opened = photo.opened;
      await finishBeforeLock(
        redactToJpeg(opened.plain, opened.contentType, boxes).then((jpeg) => queueRedacted(jpeg, opened.meta)),
      );
      await syncOutbox().catch(() => undefined); // offline or refused: it waits in the outbox
      announce(t("redactedSaved"));
      goSee({ name: "timeline", patientId });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  const sel = selected !== null ? drawn[selected] : undefined;
  return (
    <main id="main" class="screen">
      <ScreenTitle>{t("redactTitle")}</ScreenTitle>
      <p>{t("redactIntro")}</p>
      <p class="hint" id="redact-how">
        {t("redactHowTo")}
      </p>
      {photo === null && error === null ? <p class="muted">{t("opening")}</p> : null}
      {photo ? (
        <>
          <div
            class="redact-stage"
            data-testid="redact-stage"
            onPointerDown={onDown}
            onPointerMove={onMove}
            onPointerUp={onUp}
            onPointerCancel={() => {
              start.current = null;
              setDraft(null);
            }}
          >
            <img ref={img} src={photo.url} alt={t("redactStage")} draggable={false} />
            {suggested.map((b, i) =>
              useSuggested[i] ? (
                <span
                  key={`s${i}`}
                  class="box suggested"
                  aria-hidden="true"
                  style={{ left: pct(b[0], W), top: pct(b[1], H), width: pct(b[2], W), height: pct(b[3], H) }}
                />
              ) : null,
            )}
            {drawn.map((b, i) => (
              <button
                key={`d${i}`}
                ref={(el) => {
                  boxRefs.current[i] = el;
                }}
                type="button"
                class={`box drawn${selected === i ? " selected" : ""}`}
                aria-label={t("regionButton", {
                  n: i + 1,
                  x: formatNumber(b[0]),
                  y: formatNumber(b[1]),
                  w: formatNumber(b[2]),
                  h: formatNumber(b[3]),
                })}
                aria-pressed={selected === i}
                style={{ left: pct(b[0], W), top: pct(b[1], H), width: pct(b[2], W), height: pct(b[3], H) }}
                onPointerDown={(e) => e.stopPropagation()}
                onClick={() => setSelected(i)}
                onKeyDown={(e) => nudge(i, e)}
              />
            ))}
            {draft ? (
              <span
                class="box draft"
                aria-hidden="true"
                style={{ left: pct(draft[0], W), top: pct(draft[1], H), width: pct(draft[2], W), height: pct(draft[3], H) }}
              />
            ) : null}
          </div>
          <fieldset class="choices">
            <legend>{t("suggestedLegend")}</legend>
            {verdict && !verdict.regions.length ? <p class="muted">{t("suggestedNone")}</p> : null}
            {(verdict?.regions ?? []).map((r, i) => {
              const kind = `region_${r.kind}`;
              return (
                <div class="check" key={i}>
                  <input
                    type="checkbox"
                    id={`suggested-${i}`}
                    checked={useSuggested[i] ?? false}
                    onChange={(e) => {
                      const on = (e.currentTarget as HTMLInputElement).checked;
                      setUseSuggested(useSuggested.map((v, j) => (j === i ? on : v)));
                    }}
                  />
                  <label for={`suggested-${i}`}>
                    {t("suggestedRegion", {
                      kind: hasMessage(kind) ? t(kind) : r.kind,
                      n: i + 1,
                      score: formatNumber(Math.round(r.score * 100) / 100),
                    })}
                  </label>
                </div>
              );
            })}
          </fieldset>
          <fieldset class="choices">
            <legend>{t("drawnLegend")}</legend>
            {!drawn.length ? <p class="muted">{t("drawnNone")}</p> : null}
            <ul class="regions">
              {drawn.map((_, i) => (
                <li key={i}>
                  <button type="button" class="secondary" aria-pressed={selected === i} onClick={() => setSelected(i)}>
                    {t("editRegion", { n: i + 1 })}
                  </button>
                  <button type="button" class="secondary" onClick={() => remove(i)}>
                    {t("removeRegion", { n: i + 1 })}
                  </button>
                </li>
              ))}
            </ul>
            <button type="button" class="secondary" aria-describedby="redact-how" onClick={add}>
              {t("addRegion")}
            </button>
          </fieldset>
          {sel && selected !== null ? (
            <fieldset class="choices region-form" data-testid="region-form">
              <legend>{t("regionLabel", { n: selected + 1 })}</legend>
              <NumberField label={t("regionX")} value={sel[0]} onValue={(v) => update(selected, [v, sel[1], sel[2], sel[3]])} />
              <NumberField label={t("regionY")} value={sel[1]} onValue={(v) => update(selected, [sel[0], v, sel[2], sel[3]])} />
              <NumberField label={t("regionW")} value={sel[2]} onValue={(v) => update(selected, [sel[0], sel[1], v, sel[3]])} />
              <NumberField label={t("regionH")} value={sel[3]} onValue={(v) => update(selected, [sel[0], sel[1], sel[2], v])} />
            </fieldset>
          ) : null}
        </>
      ) : null}
      <FormError message={error} />
      {photo ? (
        <button type="button" class="primary" disabled={busy} aria-busy={busy} onClick={() => void save()}>
          {busy ? t("savingRedacted") : t("saveRedacted")}
        </button>
      ) : null}
      <p>
        <a href={seeHref({ name: "photo", patientId, mediaId })}>{t("back")}</a>
      </p>
    </main>
  );
}
