// Readable body sites: a manifest's body_site is a SNOMED CT body structure code and a
// laterality code (BEY-2). The label comes from the body map's table when it knows the code;
// otherwise the code itself is shown.
import { SITES } from "../bodymap/sites";
import { hasMessage, lang, t } from "../i18n";

const BY_CODE = new Map(SITES.map((s) => [s.code, s]));

/** "Forearm (left)", or "SNOMED CT 123456 (left)" for a code the body map does not have. */
export function siteLabel(site: { code?: string; laterality?: string } | undefined): string | null {
  if (!site?.code) return null;
  const known = BY_CODE.get(site.code);
  const name = known ? known[lang()] : `SNOMED CT ${site.code}`;
  if (!site.laterality) return name;
  const sideKey = `side_${site.laterality}`;
  return t("siteWithSide", { site: name, side: hasMessage(sideKey) ? t(sideKey) : site.laterality });
}
