// Small accessible building blocks: labelled fields with hints and errors, the screen
// heading that takes focus on arrival, and a busy-aware submit button.
import type { ComponentChildren } from "preact";
import { useId, useLayoutEffect, useRef } from "preact/hooks";
import { t } from "./i18n";

/** The screen's title; focused when the screen appears, so screen readers start there. */
export function ScreenTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useLayoutEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** A text-like input with its label, an optional hint and the app's large touch target. */
export function Field(props: {
  label: string;
  hint?: string;
  value: string;
  onValue: (v: string) => void;
  type?: "text" | "search" | "password" | "date";
  autocomplete?: string;
  autocapitalize?: string;
  spellcheck?: boolean;
  required?: boolean;
}) {
  const { label, hint, value, onValue } = props;
  const id = useId();
  const hintId = `${id}-hint`;
  const input: Record<string, unknown> = {
    id,
    type: props.type ?? "text",
    value,
    required: props.required ?? false,
    onInput: (e: Event) => onValue((e.currentTarget as HTMLInputElement).value),
  };
  if (hint) input["aria-describedby"] = hintId;
  if (props.autocomplete) input["autocomplete"] = props.autocomplete;
  if (props.autocapitalize) input["autocapitalize"] = props.autocapitalize;
  if (props.spellcheck !== undefined) input["spellcheck"] = props.spellcheck;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {hint ? (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      <input {...input} />
    </div>
  );
}

/** A form error, announced at once. */
export function FormError({ message }: { message: string | null }) {
  return message ? (
    <p class="error" role="alert">
      {t("errorPrefix", { message })}
    </p>
  ) : null;
}

/** The form's main button; shows it is working and cannot be pressed twice. */
export function Submit({ busy, label, busyLabel }: { busy: boolean; label: string; busyLabel?: string }) {
  return (
    <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
      {busy ? (busyLabel ?? t("busy")) : label}
    </button>
  );
}
