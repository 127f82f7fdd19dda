// The routes of the seeing and sharing screens, beside the app's own router (router.ts):
// #/photos/<patient>, #/photo/<patient>/<media>, #/compare/<patient>/<a>/<b>,
// #/redact/<patient>/<media>, #/share/<patient>/<media>, #/inbox, #/inbox/<share>, #/sent.
// Ids are random object ids, never patient identifiers.

export type SeeRoute =
  | { name: "timeline"; patientId: string }
  | { name: "photo"; patientId: string; mediaId: string }
  | { name: "compare"; patientId: string; a: string; b: string }
  | { name: "redact"; patientId: string; mediaId: string }
  | { name: "share"; patientId: string; mediaId: string }
  | { name: "inbox" }
  | { name: "received"; shareId: string }
  | { name: "sent" };

const ID = "([0-9a-f]{32})";
const TABLE: [RegExp, (m: string[]) => SeeRoute][] = [
  [new RegExp(`^/photos/${ID}$`), (m) => ({ name: "timeline", patientId: m[1]! })],
  [new RegExp(`^/photo/${ID}/${ID}$`), (m) => ({ name: "photo", patientId: m[1]!, mediaId: m[2]! })],
  [new RegExp(`^/compare/${ID}/${ID}/${ID}$`), (m) => ({ name: "compare", patientId: m[1]!, a: m[2]!, b: m[3]! })],
  [new RegExp(`^/redact/${ID}/${ID}$`), (m) => ({ name: "redact", patientId: m[1]!, mediaId: m[2]! })],
  [new RegExp(`^/share/${ID}/${ID}$`), (m) => ({ name: "share", patientId: m[1]!, mediaId: m[2]! })],
  [/^\/inbox$/, () => ({ name: "inbox" })],
  [new RegExp(`^/inbox/${ID}$`), (m) => ({ name: "received", shareId: m[1]! })],
  [/^\/sent$/, () => ({ name: "sent" })],
];

/** The seeing/sharing route a hash names, or null for any other screen. */
export function parseSee(hash: string): SeeRoute | null {
  const path = hash.replace(/^#/, "");
  for (const [re, make] of TABLE) {
    const m = path.match(re);
    if (m) return make([...m]);
  }
  return null;
}

/** The hash of a route. */
export function seeHref(r: SeeRoute): string {
  switch (r.name) {
    case "timeline":
      return `#/photos/${r.patientId}`;
    case "photo":
      return `#/photo/${r.patientId}/${r.mediaId}`;
    case "compare":
      return `#/compare/${r.patientId}/${r.a}/${r.b}`;
    case "redact":
      return `#/redact/${r.patientId}/${r.mediaId}`;
    case "share":
      return `#/share/${r.patientId}/${r.mediaId}`;
    case "inbox":
      return "#/inbox";
    case "received":
      return `#/inbox/${r.shareId}`;
    case "sent":
      return "#/sent";
  }
}

/** Go to a route (a new history entry, so Back works). */
export function goSee(r: SeeRoute): void {
  location.hash = seeHref(r);
}
