// Parts of the consent screens (CON-1 to CON-3): the patient's rights in the language shown
// and in the other one, the signature drawn with a finger or stylus (or the patient's name
// typed instead, for whoever cannot draw: WCAG 2.5.1) sealed like a photo, the emergency
// consent-to-follow, and the list of a patient's consents with their withdrawal, whole or
// per purpose.
import type SignaturePadType from "signature_pad";
import { useEffect, useId, useImperativeHandle, useRef, useState } from "preact/hooks";
import type { ComponentChildren, Ref } from "preact";
import { ApiError, api, type ConsentRecord, type ConsentTextsOut } from "../api";
import { captureEn } from "../i18n/capture.en";
import { captureFr } from "../i18n/capture.fr";
import { formatDate, formatDateTime, lang, t } from "../i18n";
import { queueCapture, syncOutbox } from "../outbox";
import { navigate } from "../router";
import { scrubInWorker } from "../scan/scrub";
import { need } from "../session";
import { announce } from "../status";
import { Field, FormError, Submit } from "../ui";
import "../bodymap/bodymap.css";

const RIGHTS = ["rightCopy", "rightDelete", "rightWithdraw"] as const;

/** A button that shows or hides what follows it (aria-expanded), for parts of a screen
 * most visits do not need. */
function Disclosure({ label, lang: l, children }: { label: string; lang?: string; children: ComponentChildren }) {
  const id = useId();
  const [open, setOpen] = useState(false);
  return (
    <div class="disclosure" lang={l}>
      <button type="button" class="link" aria-expanded={open} aria-controls={id} onClick={() => setOpen(!open)}>
        {label}
      </button>
      <div id={id}>{open ? children : null}</div>
    </div>
  );
}

/** A consent text's paragraphs as the server keeps them: a blank line between blocks, a
 * block of "- " lines a list, a lone short line a heading. */
function TextBlocks({ body }: { body: string }) {
  const blocks = body.trim().split(/\n\s*\n/);
  return (
    <>
      {blocks.map((block, i) => {
        const lines = block.split("\n").map((l) => l.trim());
        const items = lines.filter((l) => l.startsWith("- "));
        if (items.length && items.length === lines.length - 1 && !lines[0]!.startsWith("- ")) {
          return (
            <div key={i}>
              <h4>{lines[0]}</h4>
              <ul>
                {items.map((l, j) => (
                  <li key={j}>{l.slice(2)}</li>
                ))}
              </ul>
            </div>
          );
        }
        if (lines.length === 1 && i === 0) return <h3 key={i}>{lines[0]}</h3>;
        if (lines.length === 2 && lines[0]!.length < 80 && !/[.:;]$/.test(lines[0]!)) {
          return (
            <div key={i}>
              <h4>{lines[0]}</h4>
              <p>{lines[1]}</p>
            </div>
          );
        }
        return <p key={i}>{lines.join(" ")}</p>;
      })}
    </>
  );
}

/** The consent text the patient reads (CON-1, CON-2), word for word as the server keeps it
 * under the id the consent records, in the language shown; the other language a tap away. */
export function ConsentTextView({ texts }: { texts: ConsentTextsOut }) {
  const here = lang();
  const other = here === "en" ? "fr" : "en";
  const shown = texts.current[here];
  const alt = texts.current[other];
  if (!shown) return null;
  return (
    <>
      <p class="muted">{t("consentTextVersion", { version: shown.id })}</p>
      <TextBlocks body={shown.body} />
      {alt ? (
        <Disclosure label={t("consentTextOther")} lang={other === "fr" ? "fr-CA" : "en-CA"}>
          <TextBlocks body={alt.body} />
        </Disclosure>
      ) : null}
    </>
  );
}

/** The rights to a copy, to deletion and to withdraw, in plain words (CON-2), in the
 * language shown; the other language a tap away, for a patient who reads that one. */
export function ConsentRights() {
  const other = lang() === "en" ? captureFr : captureEn;
  const otherLang = lang() === "en" ? "fr-CA" : "en-CA";
  return (
    <>
      <h3>{t("rightsTitle")}</h3>
      <ul>
        {RIGHTS.map((k) => (
          <li key={k}>{t(k)}</li>
        ))}
      </ul>
      <Disclosure label={t("rightsOther")} lang={otherLang}>
        <p>
          <strong>{other.rightsTitle}</strong>
        </p>
        <ul>
          {RIGHTS.map((k) => (
            <li key={k}>{other[k]}</li>
          ))}
        </ul>
      </Disclosure>
    </>
  );
}

export interface SignatureHandle {
  /** True when there is a drawn signature or a typed name. */
  given(): boolean;
  /** The signature as a PNG without metadata: the drawing, or the typed name written out. */
  png(): Promise<Uint8Array>;
}

async function canvasPng(canvas: HTMLCanvasElement): Promise<Uint8Array> {
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/png"));
  if (!blob) throw new Error("the signature could not be encoded");
  // The canvas writes a bare PNG; the scrubber keeps only what a picture needs, whatever the
  // browser adds, exactly as the server would (DEI-1).
  const clean = await scrubInWorker(new Uint8Array(await blob.arrayBuffer()));
  if (!clean.ok) throw new Error(clean.message);
  return clean.data;
}

/** The signature box (signature_pad, loaded when the box first shows) and the typed-name
 * alternative. */
export function SignatureField({ handle }: { handle: Ref<SignatureHandle> }) {
  const id = useId();
  const canvas = useRef<HTMLCanvasElement>(null);
  const pad = useRef<SignaturePadType | null>(null);
  const [drawn, setDrawn] = useState(false);
  const [typed, setTyped] = useState("");

  useEffect(() => {
    let alive = true;
    const el = canvas.current;
    if (!el) return;
    void import("signature_pad").then(({ default: SignaturePad }) => {
      if (!alive) return;
      const ratio = Math.max(window.devicePixelRatio || 1, 1);
      el.width = el.offsetWidth * ratio;
      el.height = el.offsetHeight * ratio;
      el.getContext("2d")?.scale(ratio, ratio);
      const p = new SignaturePad(el, { backgroundColor: "rgb(255, 255, 255)", penColor: "rgb(10, 20, 60)" });
      p.addEventListener("endStroke", () => setDrawn(!p.isEmpty()));
      pad.current = p;
    });
    return () => {
      alive = false;
      pad.current?.off();
      pad.current = null;
    };
  }, []);

  useImperativeHandle(
    handle,
    () => ({
      given: () => drawn || typed.trim().length > 0,
      async png() {
        const el = canvas.current;
        if (!el) throw new Error("no signature box");
        if (drawn && pad.current && !pad.current.isEmpty()) return canvasPng(el);
        // The typed name, written on a clean canvas of the same size.
        const out = document.createElement("canvas");
        out.width = el.width || 600;
        out.height = el.height || 200;
        const ctx = out.getContext("2d");
        if (!ctx) throw new Error("no canvas");
        ctx.fillStyle = "#fff";
        ctx.fillRect(0, 0, out.width, out.height);
        ctx.fillStyle = "#0a143c";
        ctx.font = `italic ${Math.round(out.height / 4)}px serif`;
        ctx.textBaseline = "middle";
        ctx.fillText(typed.trim(), out.width * 0.05, out.height / 2, out.width * 0.9);
        try {
          return await canvasPng(out);
        } finally {
          out.width = 0;
          out.height = 0;
        }
      },
    }),
    [drawn, typed],
  );

  return (
    <fieldset class="choices">
      <legend>{t("signatureLegend")}</legend>
      <p class="hint" id={`${id}-hint`}>
        {t("signatureHint")}
      </p>
      <canvas
        ref={canvas}
        class="signature-box"
        role="img"
        aria-label={t("signaturePad")}
        aria-describedby={`${id}-hint`}
        data-testid="signature-box"
      />
      <p>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            pad.current?.clear();
            setDrawn(false);
          }}
        >
          {t("signatureClear")}
        </button>
      </p>
      <Field label={t("signatureTypedLabel")} value={typed} onValue={setTyped} autocomplete="off" />
    </fieldset>
  );
}

/** Seal the patient's signature on a recorded consent and queue it for
 * POST /v1/consents/{id}/signature (CON-3); sent at once when online. */
export async function queueSignature(sig: SignatureHandle, consent: { id: string; patient_id: string; encounter_id: string }) {
  const png = await sig.png();
  await queueCapture(png, consent.patient_id, consent.encounter_id, { contentType: "image/png", consentId: consent.id });
  announce(t("signatureQueued"));
  void syncOutbox().catch(() => undefined);
}

const HOURS = [24, 48, 72] as const;

/** Emergency: a consent-to-follow, for clinical care only, with the reason and the time by
 * which consent must be obtained (at most 72 hours). */
export function ToFollow({ patientId }: { patientId: string }) {
  const id = useId();
  const [reason, setReason] = useState("");
  const [hours, setHours] = useState<number>(24);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    if (!reason.trim()) {
      setError(t("toFollowReasonMissing"));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      // A minute short of the bound, so that the time the request takes never exceeds it.
      const deadline = new Date(Date.now() + hours * 3600_000 - 60_000);
      const c = await api.consentToFollow({ patient_id: patientId, reason: reason.trim(), deadline: deadline.toISOString() });
      need().contexts.set(c.encounter_id, { patientId, encounterId: c.encounter_id, consentId: c.id });
      announce(t("toFollowRecorded", { date: formatDateTime(deadline) }));
      navigate({ name: "capture", patientId, encounterId: c.encounter_id });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Disclosure label={t("toFollowSwitch")}>
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for={`${id}-reason`}>{t("toFollowReason")}</label>
          <textarea
            id={`${id}-reason`}
            value={reason}
            rows={2}
            onInput={(e) => setReason((e.currentTarget as HTMLTextAreaElement).value)}
          />
        </div>
        <div class="field">
          <label for={`${id}-hours`}>{t("toFollowDeadline")}</label>
          <select
            id={`${id}-hours`}
            value={String(hours)}
            onChange={(e) => setHours(Number((e.currentTarget as HTMLSelectElement).value))}
          >
            {HOURS.map((h) => (
              <option key={h} value={String(h)}>
                {t("toFollowHours", { count: h })}
              </option>
            ))}
          </select>
        </div>
        <FormError message={error} />
        <Submit busy={busy} label={t("toFollowSubmit")} />
      </form>
    </Disclosure>
  );
}

const PURPOSES = ["clinical_care", "education", "research", "publication"] as const;

function purposeList(ps: string[]): string {
  return ps.map((p) => t(`purpose_${p}` as "purpose_clinical_care")).join(", ");
}

function ConsentItem({ consent, onChanged }: { consent: ConsentRecord; onChanged: (c: ConsentRecord) => void }) {
  const id = useId();
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const left = consent.effective_purposes;

  async function withdraw(all: boolean) {
    const purposes = all ? null : PURPOSES.filter((p) => chosen.has(p));
    if (purposes !== null && !purposes.length) {
      setError(t("withdrawNothing"));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const updated = await api.withdrawConsent(consent.id, { purposes, reason: reason.trim() || null });
      setChosen(new Set());
      setReason("");
      onChanged(updated);
      announce(t("withdrawn", { purposes: purposeList(purposes ?? left) }));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <li class="consent-item" data-testid="consent-item">
      <h3>{t("consentHeading", { date: formatDate(consent.obtained_at) })}</h3>
      <p>{left.length ? t("consentUses", { purposes: purposeList(left) }) : t("consentNoUses")}</p>
      {consent.status === "to_follow" && consent.to_follow_deadline ? (
        <p class="muted">{t("consentToFollowBadge", { date: formatDateTime(new Date(consent.to_follow_deadline)) })}</p>
      ) : null}
      {consent.signature_object_id ? <p class="muted">{t("consentSigned")}</p> : null}
      {left.length ? (
        <>
          <p>
            <a
              class="button secondary"
              href={`#/capture/${consent.patient_id}/${consent.encounter_id}`}
              onClick={() =>
                need().contexts.set(consent.encounter_id, {
                  patientId: consent.patient_id,
                  encounterId: consent.encounter_id,
                  consentId: consent.id,
                })
              }
            >
              {t("takePhotosHere")}
            </a>
          </p>
          <fieldset class="choices">
            <legend>{t("withdrawLegend")}</legend>
            {left.map((p) => (
              <div class="check" key={p}>
                <input
                  type="checkbox"
                  id={`${id}-${p}`}
                  checked={chosen.has(p)}
                  onChange={(e) => {
                    const next = new Set(chosen);
                    if ((e.currentTarget as HTMLInputElement).checked) next.add(p);
                    else next.delete(p);
                    setChosen(next);
                  }}
                />
                <label for={`${id}-${p}`}>{t(`purpose_${p}` as "purpose_clinical_care")}</label>
              </div>
            ))}
          </fieldset>
          <Field label={t("withdrawReason")} value={reason} onValue={setReason} autocomplete="off" />
          <FormError message={error} />
          <button type="button" class="secondary" disabled={busy} onClick={() => void withdraw(false)}>
            {busy ? t("withdrawing") : t("withdrawChosen")}
          </button>{" "}
          <button type="button" class="secondary" disabled={busy} onClick={() => void withdraw(true)}>
            {t("withdrawAll")}
          </button>
        </>
      ) : null}
    </li>
  );
}

/** A patient's consents, newest first, each with its withdrawal. */
export function ConsentList({ patientId }: { patientId: string }) {
  const [list, setList] = useState<ConsentRecord[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .patientConsents(patientId)
      .then((l) => setList([...l].sort((a, b) => b.obtained_at.localeCompare(a.obtained_at))))
      .catch((err) => setError(err instanceof ApiError ? err.message : String(err)));
  }, [patientId]);
  return (
    <section aria-labelledby="consents-title">
      <h2 id="consents-title">{t("consentsTitle")}</h2>
      <FormError message={error} />
      {list === null ? (
        error ? null : (
          <p class="muted">{t("consentLoading")}</p>
        )
      ) : list.length ? (
        <ul class="results">
          {list.map((c) => (
            <ConsentItem key={c.id} consent={c} onChanged={(u) => setList(list.map((x) => (x.id === u.id ? u : x)))} />
          ))}
        </ul>
      ) : (
        <p>{t("consentsNone")}</p>
      )}
    </section>
  );
}
