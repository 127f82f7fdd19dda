// The privacy office's routes under #/officer: every screen parses from its path and back,
// and anything else is "unknown" (never a guess at another screen).
import { describe, expect, it } from "vitest";
import { officerHref, parseOfficer, type OfficerRoute } from "../../src/app/officer/routes";

const ID = "0123456789abcdef0123456789abcdef";

describe("officer routes", () => {
  it("parses every screen's path", () => {
    expect(parseOfficer("")).toEqual({ name: "home" });
    expect(parseOfficer("/")).toEqual({ name: "home" });
    expect(parseOfficer("/queue")).toEqual({ name: "queue" });
    expect(parseOfficer("/retention")).toEqual({ name: "retention" });
    expect(parseOfficer("/holds")).toEqual({ name: "holds" });
    expect(parseOfficer("/certificates")).toEqual({ name: "certificates" });
    expect(parseOfficer("/certificates/42")).toEqual({ name: "certificate", ref: "42" });
    expect(parseOfficer(`/certificates/${ID}`)).toEqual({ name: "certificate", ref: ID });
    expect(parseOfficer("/breaches")).toEqual({ name: "breaches" });
    expect(parseOfficer(`/breaches/${ID}`)).toEqual({ name: "breach", id: ID });
    expect(parseOfficer("/requests")).toEqual({ name: "requests" });
    expect(parseOfficer("/who-saw")).toEqual({ name: "who-saw", patientId: null });
    expect(parseOfficer(`/who-saw/${ID}`)).toEqual({ name: "who-saw", patientId: ID });
    expect(parseOfficer(`/disclosures/${ID}`)).toEqual({ name: "disclosures", consentId: ID });
  });

  it("refuses what is not an id or a number", () => {
    for (const bad of ["/breaches/abc", `/breaches/${ID}0`, "/certificates/-1", "/certificates/12a", `/who-saw/${ID.toUpperCase()}`, "/queue/", "/nope"]) {
      expect(parseOfficer(bad)).toEqual({ name: "unknown", path: bad });
    }
    expect(parseOfficer("/certificates/1234567890123456789").name).toBe("unknown"); // 19 digits
  });

  it("gives back the path it parses", () => {
    const routes: OfficerRoute[] = [
      { name: "queue" },
      { name: "retention" },
      { name: "holds" },
      { name: "certificates" },
      { name: "certificate", ref: "7" },
      { name: "breaches" },
      { name: "breach", id: ID },
      { name: "requests" },
      { name: "who-saw", patientId: null },
      { name: "who-saw", patientId: ID },
      { name: "disclosures", consentId: ID },
    ];
    for (const r of routes) {
      const hash = officerHref(r);
      expect(hash.startsWith("#/officer")).toBe(true);
      expect(parseOfficer(hash.slice("#/officer".length))).toEqual(r);
    }
    expect(officerHref({ name: "home" })).toBe("#/officer");
  });

  it("stays within what the app's router hands over", () => {
    // app router: /^\/officer(\/[a-z0-9/_-]*)?$/
    const outer = /^\/officer(\/[a-z0-9/_-]*)?$/;
    for (const r of [{ name: "breach", id: ID }, { name: "certificate", ref: "99" }, { name: "who-saw", patientId: ID }] as OfficerRoute[]) {
      expect(outer.test(officerHref(r).slice(1))).toBe(true);
    }
  });
});
