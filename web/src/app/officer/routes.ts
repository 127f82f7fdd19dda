// The privacy office's own routes, under #/officer (the app's router hands over the rest of
// the path). Ids are random object ids or audit sequence numbers, never patient identifiers.

export type OfficerRoute =
  | { name: "home" }
  | { name: "queue" }
  | { name: "retention" }
  | { name: "holds" }
  | { name: "certificates" }
  | { name: "certificate"; ref: string }
  | { name: "breaches" }
  | { name: "breach"; id: string }
  | { name: "requests" }
  | { name: "who-saw"; patientId: string | null }
  | { name: "disclosures"; consentId: string }
  | { name: "unknown"; path: string };

const ID = "([0-9a-f]{32})";
const TABLE: [RegExp, (m: RegExpMatchArray) => OfficerRoute][] = [
  [/^\/?$/, () => ({ name: "home" })],
  [/^\/queue$/, () => ({ name: "queue" })],
  [/^\/retention$/, () => ({ name: "retention" })],
  [/^\/holds$/, () => ({ name: "holds" })],
  [/^\/certificates$/, () => ({ name: "certificates" })],
  // A certificate by its number (the audit entry's sequence) or by a destroyed item's id.
  [/^\/certificates\/([0-9]{1,18}|[0-9a-f]{32})$/, (m) => ({ name: "certificate", ref: m[1] ?? "" })],
  [/^\/breaches$/, () => ({ name: "breaches" })],
  [new RegExp(`^/breaches/${ID}$`), (m) => ({ name: "breach", id: m[1] ?? "" })],
  [/^\/requests$/, () => ({ name: "requests" })],
  [/^\/who-saw$/, () => ({ name: "who-saw", patientId: null })],
  [new RegExp(`^/who-saw/${ID}$`), (m) => ({ name: "who-saw", patientId: m[1] ?? "" })],
  [new RegExp(`^/disclosures/${ID}$`), (m) => ({ name: "disclosures", consentId: m[1] ?? "" })],
];

/** The privacy office's screen for the path after #/officer. */
export function parseOfficer(path: string): OfficerRoute {
  for (const [re, make] of TABLE) {
    const m = path.match(re);
    if (m) return make(m);
  }
  return { name: "unknown", path };
}

/** The hash of a privacy office screen. */
export function officerHref(r: OfficerRoute): string {
  switch (r.name) {
    case "home":
      return "#/officer";
    case "queue":
    case "retention":
    case "holds":
    case "certificates":
    case "breaches":
    case "requests":
      return `#/officer/${r.name}`;
    case "certificate":
      return `#/officer/certificates/${r.ref}`;
    case "breach":
      return `#/officer/breaches/${r.id}`;
    case "who-saw":
      return r.patientId ? `#/officer/who-saw/${r.patientId}` : "#/officer/who-saw";
    case "disclosures":
      return `#/officer/disclosures/${r.consentId}`;
    case "unknown":
      return `#/officer${r.path}`;
  }
}
