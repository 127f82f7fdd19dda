// The privacy office's small rules, kept apart from the screens so that they are tested on
// their own (web/test/unit/officer-logic.test.ts): what is overdue, which breach step comes
// next, how a rule form is read, and what a rule's provenance says. No i18n here: the
// screens turn the keys into words.
import type { BreachSummary, RetentionRule, RuleOut } from "./api";

/** The breach register's workflow, in order (BRE-1), and the privacy officer's decision. */
export const BREACH_STEPS = ["reported", "contained", "assessed", "notified", "closed"] as const;
export type BreachStatus = (typeof BREACH_STEPS)[number];
export type Classification = "not_a_breach" | "breach_low_risk" | "breach_real_risk";
export const CLASSIFICATIONS: readonly Classification[] = ["not_a_breach", "breach_low_risk", "breach_real_risk"];

/** A deadline (ISO 8601) that has passed at ``now`` (ms since the epoch). */
export function isOverdue(deadline: string | null, now: number): boolean {
  if (!deadline) return false;
  const at = Date.parse(deadline);
  return Number.isFinite(at) && at < now;
}

/** The one step a privacy officer may record next (the register's workflow goes in order;
 * the server refuses any other with 409 breach_step_order); null once closed. */
export function nextStep(status: BreachStatus): Exclude<BreachStatus, "reported"> | null {
  const i = BREACH_STEPS.indexOf(status);
  const next = i >= 0 ? BREACH_STEPS[i + 1] : undefined;
  return next === undefined || next === "reported" ? null : next;
}

/** A breach still to work on: anything not closed. */
export function isOpenBreach(b: { status: BreachStatus }): boolean {
  return b.status !== "closed";
}

/** The proposed classification of a summary, whichever form the server gives (a value, or
 * the detail's {classification, reasons}). */
export function proposedOf(b: Pick<BreachSummary, "proposed_classification">): Classification | null {
  const p = b.proposed_classification;
  if (p === null || p === undefined) return null;
  return typeof p === "string" ? p : p.classification;
}

/** How sure clinphoto is of a rule, as the screen says it: a rule confirmed from a college,
 * the CMPA's recommendation (never confirmed), or a college rule not yet confirmed. Each
 * part of a rule (the adult period, the minor's) has its own basis. */
export type Provenance = "confirmed" | "cmpa_not_confirmed" | "not_confirmed";

export function provenance(r: RuleOut): Provenance {
  if (r.cmpa_default || r.rule.basis === "cmpa-default") return "cmpa_not_confirmed";
  return r.rule.confirmed ? "confirmed" : "not_confirmed";
}

export function minorProvenance(rule: RetentionRule): Provenance {
  if (rule.minor_basis === "cmpa-default") return "cmpa_not_confirmed";
  return rule.confirmed && rule.minor_confidence !== "not_found" ? "confirmed" : "not_confirmed";
}

/** What a privacy officer types to change a rule. */
export interface RuleForm {
  years_after_last_entry: string;
  years_after_majority: string;
  age_of_majority: string;
  keep_until_age: string; // empty: no minimum age
  reason: string;
  source_url: string;
}

export function ruleForm(rule: RetentionRule): RuleForm {
  return {
    years_after_last_entry: String(rule.years_after_last_entry),
    years_after_majority: String(rule.years_after_majority),
    age_of_majority: String(rule.age_of_majority),
    keep_until_age: rule.keep_until_age === null ? "" : String(rule.keep_until_age),
    reason: "",
    source_url: rule.source_url,
  };
}

/** Which field is wrong, as a message key of the screens. */
export type RuleProblem =
  | { field: keyof RuleForm; problem: "whole_number"; min: number; max: number }
  | { field: "reason"; problem: "reason_missing" | "reason_long" }
  | { field: "source_url"; problem: "url" }
  | { field: "years_after_last_entry"; problem: "unchanged" };

function whole(text: string, min: number, max: number): number | null {
  const s = text.trim();
  if (!/^\d{1,3}$/.test(s)) return null;
  const n = Number(s);
  return n >= min && n <= max ? n : null;
}

export const REASON_MAX = 1000;

/** The rule that replaces ``rule`` (its provenance and source kept, the figures changed; the
 * officer's reason goes with it as ``reason``, into the change's audit entry with the previous
 * rule), or what is wrong with the form. */
export function ruleFromForm(rule: RetentionRule, f: RuleForm): RuleChange | RuleProblem {
  const years = whole(f.years_after_last_entry, 1, 150);
  if (years === null) return { field: "years_after_last_entry", problem: "whole_number", min: 1, max: 150 };
  const minor = whole(f.years_after_majority, 0, 150);
  if (minor === null) return { field: "years_after_majority", problem: "whole_number", min: 0, max: 150 };
  const majority = whole(f.age_of_majority, 16, 21);
  if (majority === null) return { field: "age_of_majority", problem: "whole_number", min: 16, max: 21 };
  let until: number | null = null;
  if (f.keep_until_age.trim() !== "") {
    until = whole(f.keep_until_age, 1, 150);
    if (until === null) return { field: "keep_until_age", problem: "whole_number", min: 1, max: 150 };
  }
  const reason = f.reason.trim();
  if (!reason) return { field: "reason", problem: "reason_missing" };
  if (reason.length > REASON_MAX) return { field: "reason", problem: "reason_long" };
  const url = f.source_url.trim();
  if (!/^https?:\/\/\S+$/.test(url) || url.length > 500) return { field: "source_url", problem: "url" };
  const next: RetentionRule = {
    ...rule,
    years_after_last_entry: years,
    years_after_majority: minor,
    age_of_majority: majority,
    keep_until_age: until,
    source_url: url,
  };
  const same =
    next.years_after_last_entry === rule.years_after_last_entry &&
    next.years_after_majority === rule.years_after_majority &&
    next.age_of_majority === rule.age_of_majority &&
    next.keep_until_age === rule.keep_until_age &&
    next.source_url === rule.source_url;
  if (same) return { field: "years_after_last_entry", problem: "unchanged" };
  return { ...next, reason };
}

/** A rule and why it changes: the body of ``PUT /v1/retention/rules/{code}``. */
export type RuleChange = RetentionRule & { reason: string };

export function isProblem(x: RuleChange | RuleProblem): x is RuleProblem {
  return "problem" in x;
}

/** An id as people read it on a screen: its first eight characters (the whole id is in the
 * element's title and in links). */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** A 32-hex id typed or pasted by a person (spaces and case forgiven), or null. */
export function cleanId(text: string): string | null {
  const s = text.trim().toLowerCase();
  return /^[0-9a-f]{32}$/.test(s) ? s : null;
}

/** A certificate's reference typed by a person: its number or a destroyed item's id. */
export function cleanCertificateRef(text: string): string | null {
  const s = text.trim().toLowerCase().replace(/^#/, "");
  if (/^[0-9]{1,18}$/.test(s)) return String(BigInt(s));
  return cleanId(s);
}

/** Now as the datetime-local input shows it, in the device's time zone (for "sent at"). */
export function localInputValue(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value (the device's time zone) as ISO 8601 UTC with a Z, or null. */
export function isoFromLocalInput(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value)) return null;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z") : null;
}
