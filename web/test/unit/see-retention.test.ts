// What the photo screen says about how long a photo is kept (app/see/retention.ts, RET-1,
// RET-3): the rule named, the CMPA's recommendation said where no rule was confirmed, holds
// by kind, and no date at all before the server has computed one.
import { describe, expect, it } from "vitest";
import type { ItemRetentionOut } from "../../src/app/api";
import type { HoldOut, RetentionRule } from "../../src/app/officer/api";
import { retentionShown, ruleName } from "../../src/app/see/retention";
import shipped from "../../../src/clinphoto/records/retention_rules.json";

// The shipped rule table, as the server serves it.
const SHIPPED = new Map(shipped.rules.map((r) => [r.jurisdiction, r as RetentionRule]));

function rule(code = "ON", over: Partial<RetentionRule> = {}): RetentionRule {
  const r = SHIPPED.get(code);
  if (!r) throw new Error(`no shipped rule for ${code}`);
  return { ...r, ...over };
}

function hold(kind: HoldOut["kind"], active = true): HoldOut {
  return {
    id: `h-${kind}`,
    kind,
    scope: "item",
    target_id: "m".repeat(32),
    patient_ref: "p".repeat(32),
    reason: "",
    placed_by: "privacy@chu.example",
    placed_at: "2026-11-30T10:00:00Z",
    released_by: null,
    released_at: null,
    release_reason: null,
    active,
  };
}

function item(over: Partial<ItemRetentionOut> = {}): ItemRetentionOut {
  const r = over.rule === undefined ? rule() : over.rule;
  return {
    kind: "media",
    item_id: "m".repeat(32),
    patient_ref: "p".repeat(32),
    status: "scheduled",
    destroy_not_before: "2043-03-12",
    jurisdiction: r?.jurisdiction ?? null,
    rule: r,
    cmpa_default: r ? r.basis === "cmpa-default" : null,
    last_entry: "2026-11-30",
    held: false,
    holds: [],
    destroyed_at: null,
    certificate: null,
    ...over,
  };
}

describe("the retention shown on the photo screen", () => {
  it("gives the date and a confirmed rule", () => {
    expect(retentionShown(item())).toEqual({
      state: "dated",
      date: "2043-03-12",
      jurisdiction: "ON",
      basis: "confirmed",
      minorsCmpa: false,
      holds: [],
    });
  });

  it("says the CMPA's recommendation applies where no rule was confirmed", () => {
    const nu = rule("NU");
    expect(nu.basis).toBe("cmpa-default");
    const shown = retentionShown(item({ rule: nu }));
    expect(shown).toMatchObject({ state: "dated", jurisdiction: "NU", basis: "cmpa", minorsCmpa: false });
  });

  it("tells a college rule not confirmed from a confirmed one", () => {
    const nb = rule("ON", { jurisdiction: "NB", name: "New Brunswick", confirmed: false, confidence: "secondary" });
    expect(retentionShown(item({ rule: nb }))).toMatchObject({ basis: "not_confirmed" });
  });

  it("says when minors follow the CMPA under an adult rule that is a college's", () => {
    const sk = rule("SK");
    expect([sk.basis, sk.minor_basis]).toEqual(["college", "cmpa-default"]); // as docs/retention.md says
    expect(retentionShown(item({ rule: sk }))).toMatchObject({ basis: "confirmed", minorsCmpa: true });
  });

  it("shows no date before the server computed one, holds still said", () => {
    const shown = retentionShown(item({ destroy_not_before: null, held: true, holds: [hold("clinical_decision")] }));
    expect(shown).toEqual({ state: "not_computed", holds: ["clinical_decision"] });
    expect(retentionShown(item({ rule: null, jurisdiction: null }))).toEqual({ state: "not_computed", holds: [] });
  });

  it("names each kind of hold in force once, legal holds first; released holds do not count", () => {
    const held = item({
      held: true,
      holds: [hold("clinical_decision"), hold("legal_hold"), hold("legal_hold"), hold("clinical_decision", false)],
    });
    expect(retentionShown(held)).toMatchObject({ state: "dated", holds: ["legal_hold", "clinical_decision"] });
    expect(retentionShown(item({ holds: [hold("legal_hold", false)] }))).toMatchObject({ holds: [] });
  });

  it("reports a destroyed item as destroyed, with no date to keep", () => {
    const gone = item({ status: "destroyed", destroy_not_before: null, destroyed_at: "2043-03-13T02:00:00Z" });
    expect(retentionShown(gone)).toEqual({ state: "destroyed", destroyedAt: "2043-03-13T02:00:00Z" });
  });

  it("names the rule in English and in French, with the French article", () => {
    expect(ruleName("ON", "en")).toBe("Ontario rule");
    expect(ruleName("ON", "fr")).toBe("règle de l’Ontario");
    expect(ruleName("QC", "fr")).toBe("règle du Québec");
    expect(ruleName("NT", "fr")).toBe("règle des Territoires du Nord-Ouest");
    expect(ruleName("CA", "en")).toBe("federal rule");
    expect(ruleName("CA", "fr")).toBe("règle fédérale");
  });
});
