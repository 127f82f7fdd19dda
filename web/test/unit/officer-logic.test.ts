// The privacy office's rules: overdue deadlines, the breach steps in order, reading a rule
// change from the form (figures bounded as the server bounds them, a reason required and kept
// as the rule's source), what a rule's provenance says, and ids typed by people.
import { describe, expect, it } from "vitest";
import type { RetentionRule, RuleOut } from "../../src/app/officer/api";
import {
  BREACH_STEPS,
  cleanCertificateRef,
  cleanId,
  isoFromLocalInput,
  isOverdue,
  isProblem,
  localInputValue,
  minorProvenance,
  nextStep,
  proposedOf,
  provenance,
  ruleForm,
  ruleFromForm,
} from "../../src/app/officer/logic";

const ON: RetentionRule = {
  jurisdiction: "ON",
  name: "Ontario",
  years_after_last_entry: 10,
  years_after_majority: 10,
  age_of_majority: 18,
  keep_until_age: null,
  basis: "college",
  minor_basis: "college",
  confidence: "verified",
  minor_confidence: "verified",
  confirmed: true,
  source: "CPSO Medical Records Management",
  source_url: "https://www.cpso.on.ca/",
};
const CMPA: RetentionRule = { ...ON, jurisdiction: "NU", name: "Nunavut", basis: "cmpa-default", minor_basis: "cmpa-default", confidence: "not_found", confirmed: false };
const out = (rule: RetentionRule): RuleOut => ({ rule, overridden: false, set_by: null, set_at: null, cmpa_default: rule.basis === "cmpa-default" });

describe("deadlines", () => {
  const now = Date.parse("2026-11-30T06:00:00Z");
  it("is overdue only once the deadline has passed", () => {
    expect(isOverdue("2026-11-30T05:59:59Z", now)).toBe(true);
    expect(isOverdue("2026-11-30T06:00:00Z", now)).toBe(false);
    expect(isOverdue("2026-12-01T00:00:00Z", now)).toBe(false);
    expect(isOverdue(null, now)).toBe(false);
    expect(isOverdue("not a date", now)).toBe(false);
  });
});

describe("breach steps", () => {
  it("go in the register's order, and none after closed", () => {
    expect(nextStep("reported")).toBe("contained");
    expect(nextStep("contained")).toBe("assessed");
    expect(nextStep("assessed")).toBe("notified");
    expect(nextStep("notified")).toBe("closed");
    expect(nextStep("closed")).toBeNull();
    expect(BREACH_STEPS).toEqual(["reported", "contained", "assessed", "notified", "closed"]);
  });
  it("read the proposed classification in either form", () => {
    expect(proposedOf({ proposed_classification: "breach_low_risk" })).toBe("breach_low_risk");
    expect(proposedOf({ proposed_classification: { classification: "not_a_breach", reasons: ["locked"] } })).toBe("not_a_breach");
    expect(proposedOf({ proposed_classification: null })).toBeNull();
  });
});

describe("rule provenance", () => {
  it("says CMPA recommendation, not confirmed, where no college rule was confirmed", () => {
    expect(provenance(out(ON))).toBe("confirmed");
    expect(provenance(out(CMPA))).toBe("cmpa_not_confirmed");
    expect(provenance(out({ ...ON, confirmed: false, confidence: "secondary" }))).toBe("not_confirmed");
    expect(minorProvenance(CMPA)).toBe("cmpa_not_confirmed");
    expect(minorProvenance({ ...ON, minor_basis: "cmpa-default" })).toBe("cmpa_not_confirmed");
    expect(minorProvenance(ON)).toBe("confirmed");
  });
});

describe("a rule change from the form", () => {
  it("keeps the provenance and source, changes the figures and sends the reason apart", () => {
    const f = { ...ruleForm(ON), years_after_last_entry: " 12 ", reason: "  Board decision 2026-11 ", keep_until_age: "" };
    const next = ruleFromForm(ON, f);
    expect(isProblem(next)).toBe(false);
    expect(next).toEqual({ ...ON, years_after_last_entry: 12, reason: "Board decision 2026-11" });
  });
  it("sets and clears a minimum age", () => {
    const set = ruleFromForm(ON, { ...ruleForm(ON), keep_until_age: "90", reason: "federal" });
    expect(!isProblem(set) && set.keep_until_age).toBe(90);
    const cleared = ruleFromForm({ ...ON, keep_until_age: 90 }, { ...ruleForm({ ...ON, keep_until_age: 90 }), keep_until_age: "", reason: "x" });
    expect(!isProblem(cleared) && cleared.keep_until_age).toBeNull();
  });
  it("refuses figures out of the server's bounds, and says which", () => {
    const base = { ...ruleForm(ON), reason: "r" };
    expect(ruleFromForm(ON, { ...base, years_after_last_entry: "0" })).toMatchObject({ field: "years_after_last_entry", min: 1, max: 150 });
    expect(ruleFromForm(ON, { ...base, years_after_last_entry: "151" })).toMatchObject({ field: "years_after_last_entry" });
    expect(ruleFromForm(ON, { ...base, years_after_last_entry: "1.5" })).toMatchObject({ field: "years_after_last_entry" });
    expect(ruleFromForm(ON, { ...base, years_after_majority: "-1" })).toMatchObject({ field: "years_after_majority", min: 0 });
    expect(ruleFromForm(ON, { ...base, age_of_majority: "22" })).toMatchObject({ field: "age_of_majority", min: 16, max: 21 });
    expect(ruleFromForm(ON, { ...base, keep_until_age: "abc" })).toMatchObject({ field: "keep_until_age" });
  });
  it("needs a reason, a link and a change", () => {
    expect(ruleFromForm(ON, { ...ruleForm(ON), years_after_last_entry: "11", reason: "   " })).toMatchObject({ problem: "reason_missing" });
    expect(ruleFromForm(ON, { ...ruleForm(ON), years_after_last_entry: "11", reason: "x".repeat(1001) })).toMatchObject({ problem: "reason_long" });
    expect(ruleFromForm(ON, { ...ruleForm(ON), years_after_last_entry: "11", reason: "r", source_url: "ftp://x" })).toMatchObject({ problem: "url" });
    expect(ruleFromForm(ON, { ...ruleForm(ON), reason: "same figures" })).toMatchObject({ problem: "unchanged" });
  });
});

describe("ids typed by people", () => {
  it("forgives spaces and case, nothing else", () => {
    expect(cleanId("  0123456789ABCDEF0123456789abcdef ")).toBe("0123456789abcdef0123456789abcdef");
    expect(cleanId("0123456789abcdef0123456789abcde")).toBeNull();
    expect(cleanId("g123456789abcdef0123456789abcdef")).toBeNull();
    expect(cleanCertificateRef(" #0042 ")).toBe("42");
    expect(cleanCertificateRef("0123456789abcdef0123456789abcdef")).toBe("0123456789abcdef0123456789abcdef");
    expect(cleanCertificateRef("12 3")).toBeNull();
  });
});

describe("sent-at times", () => {
  it("go from the device's local time to UTC with a Z and back", () => {
    const ms = Date.parse("2026-11-30T14:05:00Z");
    const local = localInputValue(ms);
    expect(local).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
    expect(isoFromLocalInput(local)).toBe("2026-11-30T14:05:00Z");
    expect(isoFromLocalInput("2026-11-30")).toBeNull();
    expect(isoFromLocalInput("")).toBeNull();
  });
});
