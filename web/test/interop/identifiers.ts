// The caption and message check (TRN-3) run on the Python suite's inputs, so
// tests/unit/test_caption_vectors.py compares it with src/clinphoto/imaging/identifiers.py.
//   {"op": "find", "cases": [{"text", "patient"}]}   -> {"findings": [[Finding...]...]}
//   {"op": "patients", "records": [apiPatient...]}    -> {"identifiers": [...]}
//   {"op": "unicode"}  -> for every code point, the classes the rules use, as ranges, and
//                         the folded form of every code point that folding changes
import { readFileSync } from "node:fs";
import {
  findIdentifiers,
  patientIdentifiers,
  unicodeRulesForTests as rules,
  type PatientIdentifiers,
} from "../../src/lib/identifiers";

interface Input {
  op: "find" | "patients" | "unicode";
  cases?: { text: string; patient: PatientIdentifiers | null }[];
  records?: Parameters<typeof patientIdentifiers>[0][];
}

function unicode(): Record<string, unknown> {
  const classes: Record<string, (char: string) => boolean> = {
    alnum: rules.isAlnum,
    alpha: rules.isAlpha,
    digit: rules.isDigit,
    decimal: rules.decimal,
    upper: rules.isUpper,
    lower: rules.isLower,
    space: rules.isSpace,
    combining: rules.combining,
    word: rules.wordChar,
  };
  const ranges: Record<string, [number, number][]> = {};
  for (const name of Object.keys(classes)) ranges[name] = [];
  const folded: Record<string, string> = {};
  for (let code = 0; code < 0x110000; code++) {
    const char = String.fromCodePoint(code);
    for (const [name, test] of Object.entries(classes)) {
      if (!test(char)) continue;
      const list = ranges[name]!;
      const last = list[list.length - 1];
      if (last && last[1] === code - 1) last[1] = code;
      else list.push([code, code]);
    }
    if (code < 0xd800 || code > 0xdfff) {
      const out = rules.fold(char);
      if (out !== char) folded[code] = out;
    }
  }
  return { ranges, folded };
}

const input = JSON.parse(readFileSync(0, "utf8")) as Input;
let output: unknown;
if (input.op === "find") {
  output = { findings: (input.cases ?? []).map((c) => findIdentifiers(c.text, c.patient)) };
} else if (input.op === "patients") {
  output = { identifiers: (input.records ?? []).map((r) => patientIdentifiers(r)) };
} else {
  output = unicode();
}
process.stdout.write(JSON.stringify(output));
