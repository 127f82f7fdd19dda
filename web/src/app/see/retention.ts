// What the photo screen says about how long a photo is kept (RET-1, RET-3): the server's
// destroy-not-before date and the rule behind it, said plainly; the CMPA's recommendation
// named as such where no provincial rule was confirmed; holds, which block destruction
// whatever the date; and no date at all until the server has computed one. Pure: the screen
// (Retention.tsx) puts the words in the user's language.
import type { ItemRetentionOut } from "../api";
import type { Lang } from "../i18n";
import { PROVINCES } from "../provinces";

/** Where the date comes from: a confirmed college rule, one not confirmed, or the CMPA's
 * recommendation because no rule of the jurisdiction was confirmed. */
export type RetentionBasis = "confirmed" | "not_confirmed" | "cmpa";
export type HoldKindShown = "legal_hold" | "clinical_decision";

export type RetentionShown =
  | { state: "destroyed"; destroyedAt: string | null }
  | { state: "not_computed"; holds: HoldKindShown[] }
  | {
      state: "dated";
      date: string;
      jurisdiction: string;
      basis: RetentionBasis;
      /** The adult rule is a college's but minors follow the CMPA (SK and QC as shipped). */
      minorsCmpa: boolean;
      holds: HoldKindShown[];
    };

/** What to show for an item, from GET /v1/retention/items/{id}. */
export function retentionShown(r: ItemRetentionOut): RetentionShown {
  if (r.status === "destroyed") return { state: "destroyed", destroyedAt: r.destroyed_at };
  const kinds = new Set(r.holds.filter((h) => h.active).map((h) => h.kind));
  if (r.held && kinds.size === 0) kinds.add("legal_hold"); // held, kind not said: the stricter
  const holds = (["legal_hold", "clinical_decision"] as const).filter((k) => kinds.has(k));
  if (r.destroy_not_before === null || r.rule === null || r.jurisdiction === null) {
    return { state: "not_computed", holds };
  }
  const cmpa = r.cmpa_default === true || r.rule.basis === "cmpa-default";
  return {
    state: "dated",
    date: r.destroy_not_before,
    jurisdiction: r.jurisdiction,
    basis: cmpa ? "cmpa" : r.rule.confirmed ? "confirmed" : "not_confirmed",
    minorsCmpa: !cmpa && r.rule.minor_basis === "cmpa-default",
    holds,
  };
}

// French names a rule "de l'Ontario", "du Québec", "des Territoires du Nord-Ouest".
const FR_OF: Record<string, string> = {
  AB: "de l’Alberta",
  BC: "de la Colombie-Britannique",
  MB: "du Manitoba",
  NB: "du Nouveau-Brunswick",
  NL: "de Terre-Neuve-et-Labrador",
  NS: "de la Nouvelle-Écosse",
  NT: "des Territoires du Nord-Ouest",
  NU: "du Nunavut",
  ON: "de l’Ontario",
  PE: "de l’Île-du-Prince-Édouard",
  QC: "du Québec",
  SK: "de la Saskatchewan",
  YT: "du Yukon",
};

/** "Ontario rule", "règle de l'Ontario"; federal settings' rule as such. */
export function ruleName(jurisdiction: string, lang: Lang): string {
  if (jurisdiction === "CA") return lang === "fr" ? "règle fédérale" : "federal rule";
  if (lang === "fr") return `règle ${FR_OF[jurisdiction] ?? `(${jurisdiction})`}`;
  return `${PROVINCES[jurisdiction]?.en ?? jurisdiction} rule`;
}
