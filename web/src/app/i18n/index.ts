// The app's two languages: typed dictionaries, the browser's language by default, a switch
// remembered on this phone, <html lang> kept in step, and dates and numbers through Intl.
import { captureEn } from "./capture.en";
import { captureFr } from "./capture.fr";
import { devicesEn } from "./devices.en";
import { devicesFr } from "./devices.fr";
import { en as coreEn } from "./en";
import { fr as coreFr } from "./fr";
import { reportEn } from "./report.en";
import { reportFr } from "./report.fr";
import { shareEn } from "./share.en";
import { shareFr } from "./share.fr";

// One dictionary per language: the core strings and each screen family's own file.
// The privacy office's strings (officer.*.ts) are not here: they load with its screens
// (officer/i18n.ts), so that a clinician's phone does not download them.
const en = { ...coreEn, ...captureEn, ...shareEn, ...devicesEn, ...reportEn };
const fr = { ...coreFr, ...captureFr, ...shareFr, ...devicesFr, ...reportFr };
type MessageKey = keyof typeof en;
type Messages = { readonly [K in MessageKey]: string };

export type Lang = "en" | "fr";
const LOCALES: Record<Lang, string> = { en: "en-CA", fr: "fr-CA" };
const DICTS: Record<Lang, Messages> = { en, fr };
const STORE = "clinphoto.lang";

function browserLang(): Lang {
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const l of langs) {
    const base = (l || "").toLowerCase().slice(0, 2);
    if (base === "fr") return "fr";
    if (base === "en") return "en";
  }
  return "en";
}

function stored(): Lang | null {
  try {
    const v = localStorage.getItem(STORE);
    return v === "en" || v === "fr" ? v : null;
  } catch {
    return null;
  }
}

let current: Lang = stored() ?? browserLang();
const listeners = new Set<() => void>();

/** The language shown now. */
export function lang(): Lang {
  return current;
}

/** The BCP 47 locale of the language shown, for Intl and <html lang>. */
export function locale(): string {
  return LOCALES[current];
}

/** Show the app in another language and remember the choice on this phone. */
export function setLang(next: Lang): void {
  current = next;
  try {
    localStorage.setItem(STORE, next);
  } catch {
    /* private mode: the choice lasts for this visit */
  }
  applyLang();
  for (const f of listeners) f();
}

/** Keep <html lang> and the title in step with the language. */
export function applyLang(): void {
  document.documentElement.lang = locale();
  document.title = t("appName");
}

/** Call ``f`` whenever the language changes; returns the unsubscribe function. */
export function onLangChange(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

/** A message in the current language with its {placeholders} filled. */
export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  return fill(DICTS[current][key], vars);
}

/** A message's text with its {placeholders} filled, numbers written as in this language. */
export function fill(text: string, vars?: Record<string, string | number>): string {
  if (vars) {
    for (const [k, v] of Object.entries(vars)) {
      text = text.replaceAll(`{${k}}`, typeof v === "number" ? formatNumber(v) : v);
    }
  }
  return text;
}

/** True when ``key`` names a message (for keys built from data, such as a label). */
export function hasMessage(key: string): key is MessageKey {
  return Object.hasOwn(en, key);
}

/** A value from the API (a status, a kind, a purpose) in words, where the app has words for
 * it under ``prefix + value``; the value itself otherwise. */
export function label(prefix: string, value: string): string {
  const key = `${prefix}${value}`;
  return hasMessage(key) ? t(key) : value;
}

/** A number as people of this language write it. */
export function formatNumber(n: number): string {
  return new Intl.NumberFormat(locale()).format(n);
}

/** A date (YYYY-MM-DD, a Date or a timestamp) in the long form of this language. */
export function formatDate(d: string | number | Date): string {
  const date =
    typeof d === "string" && /^\d{4}-\d{2}-\d{2}$/.test(d) ? new Date(`${d}T12:00:00Z`) : new Date(d);
  const opts: Intl.DateTimeFormatOptions = { dateStyle: "long" };
  if (typeof d === "string" && /^\d{4}-\d{2}-\d{2}$/.test(d)) opts.timeZone = "UTC";
  return new Intl.DateTimeFormat(locale(), opts).format(date);
}

/** A moment (date and time) in this language. */
export function formatDateTime(d: number | Date): string {
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(d);
}

/** "1 thing" or "{count} things": the plural rule of this language picks the message. */
export function plural(one: MessageKey, other: MessageKey, count: number): string {
  const rule = new Intl.PluralRules(locale()).select(count);
  return rule === "one" ? t(one, { count }) : t(other, { count });
}

export type { MessageKey };
