// A chosen body site: the region and, for a paired structure, the side; what the manifest
// carries of it (wire.BodySite), and how the screens name it.
import type { BodySite } from "../../lib/capture";
import { lang, t } from "../i18n";
import { SITE_BY_ID, SNOMED, type Laterality, type Site } from "./sites";

export interface SiteChoice {
  site: string; // a Site id
  side?: Laterality;
}

/** The site's name in the language shown. */
export function siteName(site: Site): string {
  return lang() === "fr" ? site.fr : site.en;
}

/** "Forearm (left)", "Abdomen". */
export function choiceLabel(c: SiteChoice): string {
  const site = SITE_BY_ID.get(c.site);
  if (!site) return c.site;
  const name = siteName(site);
  return c.side ? t("siteWithSide", { site: name, side: t(`side_${c.side}`) }) : name;
}

/** The manifest's body_site for a choice (laterality only for a paired structure). */
export function toBodySite(c: SiteChoice): BodySite {
  const site = SITE_BY_ID.get(c.site);
  if (!site) throw new RangeError(`unknown body site ${c.site}`);
  return site.paired && c.side ? { system: SNOMED, code: site.code, laterality: c.side } : { system: SNOMED, code: site.code };
}

/** Folded for search: lower case, no accents ("épaule" is found by "epaule"). */
export function fold(s: string): string {
  return s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}
