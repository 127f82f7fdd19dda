// The privacy office's strings, loaded with its screens rather than with the app: the
// office's own dictionaries (i18n/officer.*.ts) in front of the app's, through the same
// language and the same placeholders.
import { fill, hasMessage as hasAppMessage, lang, t as appT, type MessageKey as AppKey } from "../i18n";
import { officerEn, type OfficerKey, type OfficerMessages } from "../i18n/officer.en";
import { officerFr } from "../i18n/officer.fr";

export { formatDate, formatDateTime, formatNumber, lang, locale, plural } from "../i18n";

export type MessageKey = AppKey | OfficerKey;

const OFFICE: Record<"en" | "fr", OfficerMessages> = { en: officerEn, fr: officerFr };

function isOffice(key: string): key is OfficerKey {
  return Object.hasOwn(officerEn, key);
}

/** A message in the current language with its {placeholders} filled. */
export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  return isOffice(key) ? fill(OFFICE[lang()][key], vars) : appT(key, vars);
}

/** True when ``key`` names a message (for keys built from data, such as an outcome). */
export function hasMessage(key: string): key is MessageKey {
  return isOffice(key) || hasAppMessage(key);
}
