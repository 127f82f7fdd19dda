// The privacy office's shared pieces: loading a list with its error, the section navigation,
// multi-line and number fields, dates, ids and documents (PDF) opened from memory.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError } from "../api";
import { formatDateTime, hasMessage, t, type MessageKey } from "./i18n";
import { announce } from "../status";
import { Field, ScreenTitle } from "../ui";
import { shortId } from "./logic";
import { officerHref, type OfficerRoute } from "./routes";
import "./officer.css";

export function errorText(err: unknown): string {
  return err instanceof ApiError || err instanceof Error ? err.message : String(err);
}

/** A value from the API (a status, a kind) in words, where the app has words for it. */
export function label(prefix: string, value: string): string {
  const key = `${prefix}${value}`;
  return hasMessage(key) ? t(key) : value;
}

/** A list route this server does not offer (yet): for a list (no id in its path) the API's
 * 404 can only mean that. */
export function unavailable(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 404 || err.status === 405);
}

/** A form's action: busy while it runs (it cannot run twice), and its error, shown by the
 * form. ``run`` returns whether the work was done. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function run(work: () => Promise<void>): Promise<boolean> {
    setBusy(true);
    setError(null);
    try {
      await work();
      return true;
    } catch (err) {
      setError(errorText(err));
      return false;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, setError, run };
}

/** The reason a privacy officer must give, or the message saying so. */
export function reasonProblem(reason: string): string | null {
  return reason.trim() ? null : t("offReasonMissing");
}

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  reload: () => Promise<void>;
}

/** Load something when the screen appears (and when ``key`` changes); ``reload`` again. */
export function useLoad<T>(load: () => Promise<T>, key: string = ""): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const live = useRef(true);
  const reload = useCallback(async () => {
    try {
      const got = await load();
      if (live.current) {
        setData(got);
        setError(null);
      }
    } catch (err) {
      if (live.current) setError(err);
    }
  }, [key]);
  useEffect(() => {
    live.current = true;
    setData(null);
    setError(null);
    void reload();
    return () => {
      live.current = false;
    };
  }, [reload]);
  return { data, error, reload };
}

/** What a screen shows while it loads or when it failed; null once it has data. For a
 * ``list``, a 404 says the server does not offer it yet; for one object, "not found". */
export function LoadState({ loaded, list = false }: { loaded: Loaded<unknown>; list?: boolean }) {
  if (loaded.error !== null) {
    return list && unavailable(loaded.error) ? (
      <p class="muted" data-testid="unavailable">
        {t("offUnavailable")}
      </p>
    ) : (
      <p class="error" role="alert">
        {t("errorPrefix", { message: errorText(loaded.error) })}
      </p>
    );
  }
  return loaded.data === null ? <p class="muted">{t("offLoading")}</p> : null;
}

const SECTIONS: [OfficerRoute, MessageKey][] = [
  [{ name: "queue" }, "offNavQueue"],
  [{ name: "breaches" }, "offNavBreaches"],
  [{ name: "requests" }, "offNavRequests"],
  [{ name: "retention" }, "offNavRetention"],
  [{ name: "holds" }, "offNavHolds"],
  [{ name: "certificates" }, "offNavCertificates"],
  [{ name: "who-saw", patientId: null }, "offNavWhoSaw"],
];

/** The privacy office's sections; the current one is marked for screen readers. */
function OfficerNav({ current }: { current: string }) {
  return (
    <nav class="officer-nav" aria-label={t("offNavLabel")}>
      <ul>
        {SECTIONS.map(([route, label]) => (
          <li key={route.name}>
            <a href={officerHref(route)} aria-current={route.name === current ? "page" : undefined}>
              {t(label)}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** A privacy office screen: its title (focused on arrival), the sections, then its body. */
export function OfficerPage({ section, title, children }: { section: string; title: string; children: ComponentChildren }) {
  return (
    <main id="main" class="screen officer">
      <ScreenTitle>{title}</ScreenTitle>
      <OfficerNav current={section} />
      {children}
    </main>
  );
}

/** A moment from the API (ISO 8601), in this language. */
export function When({ at }: { at: string | null | undefined }) {
  if (!at) return <>{t("offNever")}</>;
  const ms = Date.parse(at);
  return <time dateTime={at}>{Number.isFinite(ms) ? formatDateTime(ms) : at}</time>;
}

/** A long id shortened for reading, whole in its title and for copying. */
export function Id({ id }: { id: string }) {
  return (
    <span class="mono" title={id} data-id={id}>
      {shortId(id)}
    </span>
  );
}

/** A field's label and optional hint, with the hint's id for aria-describedby. */
function Labelled({ id, label, hint, children }: { id: string; label: string; hint?: string | undefined; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {hint ? (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {children}
    </div>
  );
}

/** A labelled multi-line text field. */
export function TextArea(props: {
  label: string;
  hint?: string;
  value: string;
  onValue: (v: string) => void;
  maxLength?: number;
  required?: boolean;
}) {
  const id = useId();
  const extra: Record<string, unknown> = {};
  if (props.hint) extra["aria-describedby"] = `${id}-hint`;
  if (props.maxLength) extra["maxLength"] = props.maxLength;
  return (
    <Labelled id={id} label={props.label} hint={props.hint}>
      <textarea
        id={id}
        rows={3}
        value={props.value}
        required={props.required ?? false}
        onInput={(e) => props.onValue((e.currentTarget as HTMLTextAreaElement).value)}
        {...extra}
      />
    </Labelled>
  );
}

/** A labelled whole-number field (typed as text with a numeric keyboard: no spinner). */
export function NumberField(props: { label: string; hint?: string; value: string; onValue: (v: string) => void }) {
  const id = useId();
  const extra: Record<string, unknown> = {};
  if (props.hint) extra["aria-describedby"] = `${id}-hint`;
  return (
    <Labelled id={id} label={props.label} hint={props.hint}>
      <input
        id={id}
        type="text"
        inputMode="numeric"
        pattern="[0-9]*"
        value={props.value}
        onInput={(e) => props.onValue((e.currentTarget as HTMLInputElement).value)}
        {...extra}
      />
    </Labelled>
  );
}

/** The patient's id in clinphoto, typed or pasted. */
export function PatientIdField({ value, onValue }: { value: string; onValue: (v: string) => void }) {
  return <Field label={t("offPatientId")} hint={t("offPatientIdHint")} value={value} onValue={onValue} spellcheck={false} autocapitalize="off" />;
}

/** A group of radio buttons with its legend. */
export function Radios<V extends string>(props: {
  legend: string;
  name: string;
  value: V | null;
  options: [V, string][];
  onValue: (v: V) => void;
}) {
  const id = useId();
  return (
    <fieldset>
      <legend>{props.legend}</legend>
      {props.options.map(([v, label]) => (
        <div class="radio" key={v}>
          <input
            type="radio"
            id={`${id}-${v}`}
            name={`${props.name}-${id}`}
            value={v}
            checked={props.value === v}
            onChange={() => props.onValue(v)}
          />
          <label for={`${id}-${v}`}>{label}</label>
        </div>
      ))}
    </fieldset>
  );
}

/** A button that fetches a document (PDF) with the session and opens it from memory; the
 * document never reaches the browser's storage. If the browser blocks the new tab, a link
 * to it is shown instead. */
export function PdfButton({ label, fetchPdf, filename }: { label: string; fetchPdf: () => Promise<Blob>; filename: string }) {
  const [busy, setBusy] = useState(false);
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => () => void (url && URL.revokeObjectURL(url)), [url]);
  async function open() {
    setBusy(true);
    setError(null);
    try {
      const blob = await fetchPdf();
      const made = URL.createObjectURL(blob);
      setUrl(made);
      announce(t("offPdfReady", { name: filename }));
      window.open(made, "_blank", "noopener");
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <span class="pdf">
      <button type="button" class="secondary" disabled={busy} aria-busy={busy} onClick={() => void open()}>
        {busy ? t("offPdfOpening") : label}
      </button>
      {url ? (
        <a href={url} download={filename} data-testid="pdf-link">
          {t("offPdfSave", { name: filename })}
        </a>
      ) : null}
      {error ? <span class="error-text">{t("errorPrefix", { message: error })}</span> : null}
    </span>
  );
}
