// A hash router: #/patients, #/patient/<id>, ... The hash never reaches the server, so the
// served shell is the same for every screen and works offline. Ids in routes are random
// object ids, never patient identifiers.
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { name: "patients" }
  | { name: "new-patient" }
  | { name: "patient"; patientId: string }
  | { name: "consent"; patientId: string }
  | { name: "capture"; patientId: string; encounterId: string }
  | { name: "outbox" }
  | { name: "devices" }
  | { name: "add-device" }
  | { name: "grant-device"; deviceId: string }
  | { name: "report" }
  | { name: "officer"; path: string };

const ID = "([0-9a-f]{32})";
const TABLE: [RegExp, (m: RegExpMatchArray) => Route][] = [
  [/^\/patients\/new$/, () => ({ name: "new-patient" })],
  [new RegExp(`^/patient/${ID}$`), (m) => ({ name: "patient", patientId: m[1] ?? "" })],
  [new RegExp(`^/consent/${ID}$`), (m) => ({ name: "consent", patientId: m[1] ?? "" })],
  [
    new RegExp(`^/capture/${ID}/${ID}$`),
    (m) => ({ name: "capture", patientId: m[1] ?? "", encounterId: m[2] ?? "" }),
  ],
  [/^\/outbox$/, () => ({ name: "outbox" })],
  [/^\/devices$/, () => ({ name: "devices" })],
  [/^\/devices\/add$/, () => ({ name: "add-device" })],
  [new RegExp(`^/devices/${ID}/access$`), (m) => ({ name: "grant-device", deviceId: m[1] ?? "" })],
  [/^\/patients$/, () => ({ name: "patients" })],
  [/^\/report$/, () => ({ name: "report" })],
  // The privacy office's screens parse the rest of the path themselves (officer/routes.ts).
  [/^\/officer(\/[a-z0-9/_-]*)?$/, (m) => ({ name: "officer", path: m[1] ?? "" })],
];

/** The route a hash names; anything unknown is the patient search. */
export function parse(hash: string): Route {
  const path = hash.replace(/^#/, "") || "/patients";
  for (const [re, make] of TABLE) {
    const m = path.match(re);
    if (m) return make(m);
  }
  return { name: "patients" };
}

/** The hash of a route. */
export function href(r: Route): string {
  switch (r.name) {
    case "patients":
      return "#/patients";
    case "new-patient":
      return "#/patients/new";
    case "patient":
      return `#/patient/${r.patientId}`;
    case "consent":
      return `#/consent/${r.patientId}`;
    case "capture":
      return `#/capture/${r.patientId}/${r.encounterId}`;
    case "outbox":
      return "#/outbox";
    case "devices":
      return "#/devices";
    case "add-device":
      return "#/devices/add";
    case "grant-device":
      return `#/devices/${r.deviceId}/access`;
    case "report":
      return "#/report";
    case "officer":
      return `#/officer${r.path}`;
  }
}

/** Go to a route (a new history entry, so Back works). */
export function navigate(r: Route): void {
  location.hash = href(r);
}

/** The current route, re-rendered on every hash change. */
export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(() => parse(location.hash));
  useEffect(() => {
    const on = () => setRoute(parse(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}
