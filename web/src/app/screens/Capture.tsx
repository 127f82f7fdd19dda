// The in-app camera for one encounter: preview, light, shutter; the body site (BEY-2) and a
// caption checked for identifiers (TRN-3) that go with the next photo; and the import of a
// JPEG or PNG file, cleaned on the phone. Each photo is made free of metadata in a worker
// (the camera's JPEG scrubbed, or a frame encoded: capture/picture.ts), sealed, queued and
// sent; nothing goes to the gallery or downloads.
import { useEffect, useId, useMemo, useRef, useState } from "preact/hooks";
import {
  findIdentifiers,
  patientIdentifiers,
  utf16Span,
  type Finding,
  type PatientIdentifiers,
} from "../../lib/identifiers";
import { TEXT_CONFIRMATIONS, type TextConfirmation } from "../../lib/protocol";
import { api } from "../api";
import { choiceLabel, toBodySite, type SiteChoice } from "../bodymap/choice";
import { camera } from "../camera";
import { pictureWorker } from "../capture/picture";
import { lang, plural, t } from "../i18n";
import { href } from "../router";
import { outbox, queueCapture, syncOutbox, type CaptureExtras } from "../outbox";
import { need } from "../session";
import { announce } from "../status";
import { FormError, ScreenTitle } from "../ui";
import { BodyMap } from "./BodyMap";
import { ImportFile } from "./Import";

/** What the caption check knows of the patient: the full record when the server can be
 * reached (it has the record numbers), else what this unlock already holds. */
function usePatientIdentifiers(patientId: string): PatientIdentifiers | null {
  const [ids, setIds] = useState<PatientIdentifiers | null>(() => {
    const p = need().patients.get(patientId);
    return p ? patientIdentifiers(p) : null;
  });
  useEffect(() => {
    let live = true;
    api
      .patient(patientId)
      .then((p) => {
        const held = need();
        held.patients.set(p.id, { ...(held.patients.get(p.id) ?? { relation: "care_team" }), ...p });
        if (live) setIds(patientIdentifiers(p));
      })
      .catch(() => undefined); // offline: the names and date of birth already held
    return () => {
      live = false;
    };
  }, [patientId]);
  return ids;
}

/** The caption with each finding marked, for the warning panel. */
function Marked({ text, findings }: { text: string; findings: Finding[] }) {
  const parts = [];
  let at = 0;
  for (const [i, f] of findings.entries()) {
    const [start, end] = utf16Span(text, f);
    if (start < at) continue; // overlapping findings: the first one is marked
    parts.push(text.slice(at, start));
    parts.push(<mark key={i}>{text.slice(start, end)}</mark>);
    at = end;
  }
  parts.push(text.slice(at));
  return <p class="caption-marked">{parts}</p>;
}

function Caption({
  text,
  onText,
  findings,
  confirmed,
  onConfirm,
  area,
}: {
  text: string;
  onText: (s: string) => void;
  findings: Finding[];
  confirmed: TextConfirmation | null;
  onConfirm: (c: TextConfirmation | null) => void;
  area: { current: HTMLTextAreaElement | null };
}) {
  const id = useId();
  const warned = findings.length > 0;
  return (
    <div class="caption">
      <div class="field">
        <label for={id}>{t("captionLabel")}</label>
        <p class="hint" id={`${id}-hint`}>
          {t("captionHint")}
        </p>
        <textarea
          ref={area}
          id={id}
          value={text}
          rows={2}
          autocomplete="off"
          spellcheck={true}
          aria-describedby={warned ? `${id}-hint ${id}-warn` : `${id}-hint`}
          aria-invalid={warned && confirmed === null}
          onInput={(e) => onText((e.currentTarget as HTMLTextAreaElement).value)}
        />
      </div>
      {warned ? (
        <section class="caption-warnings" id={`${id}-warn`} aria-labelledby={`${id}-warn-title`} data-testid="caption-warnings">
          <h2 id={`${id}-warn-title`}>{t("captionWarningsTitle")}</h2>
          <ul>
            {findings.map((f, i) => (
              <li key={i} data-kind={f.kind}>
                {t(`kind_${f.kind}`)}
                {lang() === "en" ? ": " : " : "}
                {/* The reason comes with the rule (imaging/identifiers.py), in English. */}
                <span lang="en-CA">{f.reason}</span>
              </li>
            ))}
          </ul>
          <p>{t("captionMarked")}</p>
          <Marked text={text} findings={findings} />
          <p>{t("captionEditHint")}</p>
          <fieldset class="choices">
            <legend>{t("captionKeepLegend")}</legend>
            {[null, ...TEXT_CONFIRMATIONS].map((c) => (
              <div class="radio" key={c ?? "none"}>
                <input
                  type="radio"
                  id={`${id}-keep-${c ?? "none"}`}
                  name={`${id}-keep`}
                  checked={confirmed === c}
                  onChange={() => onConfirm(c)}
                />
                <label for={`${id}-keep-${c ?? "none"}`}>{c ? t(`confirm_${c}`) : t("captionKeepNone")}</label>
              </div>
            ))}
          </fieldset>
        </section>
      ) : null}
    </div>
  );
}

export function Capture({ patientId, encounterId }: { patientId: string; encounterId: string }) {
  const video = useRef<HTMLVideoElement>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const [ready, setReady] = useState(false);
  const [denied, setDenied] = useState(false);
  const [torch, setTorch] = useState<boolean | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [taken, setTaken] = useState(0);
  const [site, setSite] = useState<SiteChoice | null>(null);
  const [caption, setCaption] = useState("");
  const [confirmed, setConfirmed] = useState<TextConfirmation | null>(null);
  const ids = usePatientIdentifiers(patientId);
  const findings = useMemo(() => {
    try {
      return findIdentifiers(caption, ids);
    } catch {
      return [];
    }
  }, [caption, ids]);

  async function start() {
    const v = video.current;
    if (!v) return;
    try {
      await camera.start(v);
      pictureWorker.warm(); // loaded before the first shot, not on it
      setDenied(false);
      setReady(true);
      setTorch(camera.hasTorch() ? false : null);
      announce(t("cameraReady"));
    } catch {
      setReady(false);
      setDenied(true);
    }
  }

  useEffect(() => {
    announce(t("cameraStarting"));
    void start();
    // Phones stop the camera in the background; take it again on return, idempotently.
    const resume = () => {
      if (document.visibilityState === "visible" && !camera.live()) void start();
    };
    const hide = () => {
      if (document.visibilityState === "hidden") void camera.stop();
    };
    addEventListener("visibilitychange", resume);
    addEventListener("visibilitychange", hide);
    addEventListener("pageshow", resume);
    addEventListener("focus", resume);
    return () => {
      removeEventListener("visibilitychange", resume);
      removeEventListener("visibilitychange", hide);
      removeEventListener("pageshow", resume);
      removeEventListener("focus", resume);
      void camera.stop();
    };
  }, []);

  /** The body site and caption for the next photo; null (and the caption shown, its first
   * finding selected) while the caption carries identifiers the user has not resolved. */
  function extras(): CaptureExtras | null {
    const out: CaptureExtras = {};
    if (site) out.bodySite = toBodySite(site);
    if (caption.trim()) {
      if (findings.length && confirmed === null) {
        setError(t("captionBlocked"));
        const a = area.current;
        const first = findings[0];
        if (a && first) {
          a.focus();
          a.setSelectionRange(...utf16Span(caption, first));
        }
        return null;
      }
      out.caption = findings.length
        ? { text: caption, warnings: { kinds: findings.map((f) => f.kind), confirmed: confirmed ?? "" } }
        : { text: caption };
    }
    return out;
  }

  /** After a photo or a file is queued: say so, send what waits, clear the caption. */
  async function queued(message: (waiting: number) => string) {
    setTaken((n) => n + 1);
    setCaption("");
    setConfirmed(null);
    const waiting = (await (await outbox()).list()).length;
    announce(message(waiting));
    const { sent } = await syncOutbox();
    if (sent > 0) {
      const left = (await (await outbox()).list()).length;
      announce(left ? `${t("sent")} ${plural("outboxWaitingOne", "outboxWaiting", left)}` : t("sent"));
    }
  }

  async function shoot() {
    const v = video.current;
    if (!v || busy) return;
    setError(null);
    const more = extras();
    if (more === null) return;
    performance.mark("clinphoto:shutter"); // User Timing: shutter to sealed (docs/benchmarks.md)
    setBusy(true);
    announce(t("sealing"));
    // The preview holds still on the photo until it is sealed, as a camera's does: the
    // shutter's feedback, and the browser stops drawing the camera's frames (a quarter of a
    // core here for a 12 MP stream) while the photo is encoded and sealed (decision 016).
    v.pause();
    try {
      try {
        await queueCapture(camera.shoot(v), patientId, encounterId, more);
      } finally {
        // Live again once sealed (or failed), not after the upload that follows.
        if (camera.live() && v.srcObject) void v.play().catch(() => undefined);
      }
      performance.measure("clinphoto:capture", "clinphoto:shutter", "clinphoto:sealed");
      await queued((count) => t("sealed", { count }));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="screen capture">
      <ScreenTitle>{t("captureTitle")}</ScreenTitle>
      <p class="hint">{t("captureHint")}</p>
      <div class="viewfinder">
        <video ref={video} aria-label={t("preview")} muted playsInline autoPlay />
      </div>
      {denied ? (
        <div>
          <p class="error" role="alert">
            {t("cameraDenied")}
          </p>
          <button type="button" class="secondary" onClick={() => void start()}>
            {t("cameraRetry")}
          </button>
        </div>
      ) : null}
      <FormError message={error} />
      <div class="capture-bar">
        {torch !== null ? (
          <button
            type="button"
            class="secondary"
            aria-pressed={torch}
            onClick={() => void camera.toggleTorch().then(setTorch)}
          >
            {t("torch")}
          </button>
        ) : null}
        <button type="button" class="shutter" disabled={!ready || busy} aria-busy={busy} onClick={() => void shoot()}>
          {t("shutter")}
        </button>
        <a class="button secondary" href={href({ name: "outbox" })}>
          {t("done")}
        </a>
      </div>
      <p class="muted" aria-hidden="true">
        {taken > 0 ? `${taken} ✓` : ""}
        {site ? ` ${choiceLabel(site)}` : ""}
      </p>
      <Caption
        text={caption}
        onText={(s) => {
          setCaption(s);
          setConfirmed(null);
          setError(null);
        }}
        findings={caption.trim() ? findings : []}
        confirmed={confirmed}
        onConfirm={(c) => {
          setConfirmed(c);
          setError(null);
        }}
        area={area}
      />
      <BodyMap value={site} onChange={setSite} />
      <ImportFile
        ready={() => {
          setError(null);
          return extras() !== null;
        }}
        seal={async (picture, contentType) => {
          const more = extras();
          if (more === null) return;
          try {
            await queueCapture(picture, patientId, encounterId, { ...more, contentType });
            await queued((count) => t("importQueued", { count }));
          } catch (err) {
            setError(err instanceof Error ? err.message : String(err));
          }
        }}
      />
    </main>
  );
}
