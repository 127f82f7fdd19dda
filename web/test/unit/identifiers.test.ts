// The caption and message check (TRN-3) against the shared vectors written from the Python
// rules (tests/vectors/caption-check.json, `python -m tools.caption_vectors`): every case must
// give exactly Python's findings, spans counted in code points.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  MAX_TEXT_CHARS,
  findIdentifiers,
  isPatientSpecific,
  patientIdentifiers,
  sliceCodePoints,
  utf16Span,
  type Finding,
  type PatientIdentifiers,
} from "../../src/lib/identifiers";

interface VectorFinding extends Finding {
  value: string;
}

interface Vectors {
  unicode_version: string;
  patients: Record<string, PatientIdentifiers>;
  cases: { id: string; text: string; patient: string | null; findings: VectorFinding[] }[];
  api_patients: {
    record: Parameters<typeof patientIdentifiers>[0];
    identifiers: Record<string, unknown>;
  }[];
}

const vectors = JSON.parse(
  readFileSync(new URL("../../../tests/vectors/caption-check.json", import.meta.url), "utf8"),
) as Vectors;

function patientOf(key: string | null): PatientIdentifiers | null {
  if (key === null) return null;
  const patient = vectors.patients[key];
  if (!patient) throw new Error(`no patient ${key} in the vectors`);
  return patient;
}

describe("shared vectors", () => {
  it("holds many cases, astral characters among them", () => {
    expect(vectors.cases.length).toBeGreaterThan(500);
    expect(vectors.cases.some((c) => c.text.length !== Array.from(c.text).length)).toBe(true);
  });

  it.each(vectors.cases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    const found = findIdentifiers(c.text, patientOf(c.patient));
    expect(found).toEqual(c.findings.map(({ value: _value, ...finding }) => finding));
    for (const [i, finding] of found.entries()) {
      const value = c.findings[i]!.value;
      expect(sliceCodePoints(c.text, finding.start, finding.end)).toBe(value);
      const [start, end] = utf16Span(c.text, finding);
      expect(c.text.slice(start, end)).toBe(value);
    }
  });

  it.each(vectors.api_patients.map((p, i) => [i, p] as const))("API patient %i", (_i, p) => {
    const expected = Object.fromEntries(
      Object.entries(p.identifiers).filter(([, value]) => value !== null),
    );
    expect(patientIdentifiers(p.record)).toEqual(expected);
  });
});

describe("spans and limits", () => {
  it("counts code points, not UTF-16 units", () => {
    const text = "😀😀 Jose\u0301 😀 DOB 1980-03-15";
    const patient: PatientIdentifiers = { givenNames: ["José"], familyNames: ["X"] };
    const found = findIdentifiers(text, patient);
    expect(found.map((f) => [f.kind, f.start, f.end])).toEqual([
      ["patient-name", 3, 8],
      ["date-of-birth", 15, 25],
    ]);
    expect(found.map((f) => utf16Span(text, f))).toEqual([
      [5, 10],
      [18, 28],
    ]);
    expect(isPatientSpecific(found[0]!)).toBe(true);
    expect(isPatientSpecific(found[1]!)).toBe(false);
  });

  it("refuses text over the limit, counted in code points", () => {
    const astral = "😀".repeat(MAX_TEXT_CHARS); // twice as many UTF-16 units
    expect(findIdentifiers(astral, null)).toEqual([]);
    expect(() => findIdentifiers(astral + "x", null)).toThrow(RangeError);
  });

  it("refuses a date of birth that is not an ISO date", () => {
    const patient = { givenNames: [], familyNames: [], dateOfBirth: "15/03/1980" };
    expect(() => findIdentifiers("x", patient)).toThrow(RangeError);
    expect(() => patientIdentifiers({ name: "A B", dob: "1980-02-30" })).toThrow(RangeError);
  });
});
