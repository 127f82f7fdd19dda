// Identifiers in a caption or share message, checked on the phone before the text is sealed
// (TRN-3). This is a line-by-line port of src/clinphoto/imaging/identifiers.py, which is the
// specification: its module docstring describes every rule. Both sides must give the same
// findings (kind, span, reason, order) for the same text; tests/vectors/caption-check.json
// holds the shared cases (regenerate it with `python -m tools.caption_vectors` whenever a
// Python rule changes) and both test suites check every case.
//
// What differs from Python and how it is made equal:
//
// * Spans. Python indexes strings by code point, JavaScript by UTF-16 unit. Every string the
//   rules look at is held as a CpText (the string, its code points and maps both ways); all
//   positions below are code point indices, as in Python, and regular expression matches are
//   converted as soon as they are found. Findings carry code point indices into the text.
// * Character classes. Python's `\w`, `\d`, `\s`, isalnum(), isdigit(), isupper()... are
//   Unicode-aware. Here each one is an explicit class with the `u` flag: `[^\W_]` (a letter or
//   digit) is [\p{L}\p{N}], Python's `\d` is \p{Nd}, `\s` / isspace() is the list in SPACE
//   (JavaScript's \s has U+FEFF and lacks U+001C-U+001F and U+0085), isdigit() adds the
//   superscript, circled and similar digits of DIGIT_EXTRA to \p{Nd}, and so on.
// * Folding. Python folds with NFKD, drops combining marks (canonical combining class not 0)
//   and casefold()s. JavaScript has no casefold(): toLowerCase() plus the few mappings in
//   foldChar() give the same result for every character. JavaScript has no combining class
//   either: combining() finds it with a normalisation probe (see there).
// * Unicode versions. Python 3.11 carries Unicode 14.0; browsers carry their own, usually
//   newer, version. Characters assigned after Unicode 14 can be classed differently (Python
//   sees them as unassigned: not letters, no case, no decomposition). The shared vectors use
//   only characters assigned in Unicode 14, and the Python suite checks every class above
//   against Python's tables for all of them (tests/unit/test_caption_vectors.py).

export const MAX_TEXT_CHARS = 200_000;

export type FindingKind =
  | "patient-name"
  | "patient-mrn"
  | "patient-health-card"
  | "patient-dob"
  | "patient-phone"
  | "patient-email"
  | "patient-postal-code"
  | "health-card-number"
  | "date"
  | "date-of-birth"
  | "phone"
  | "email"
  | "postal-code"
  | "mrn-like"
  | "name-like"
  | "address";

/** What is known about the patient a photo belongs to; every field but the names is optional. */
export interface PatientIdentifiers {
  givenNames: string[];
  familyNames: string[];
  mrn?: string | null;
  healthCard?: string | null;
  /** ISO date, YYYY-MM-DD. */
  dateOfBirth?: string | null;
  phone?: string | null;
  email?: string | null;
  postalCode?: string | null;
}

/**
 * One identifier found in a text: the code points [start, end) of the text and why, without
 * the value (reasons are shown to the user and may be logged). Use sliceCodePoints() to get
 * the value, never text.slice(start, end).
 */
export interface Finding {
  kind: FindingKind;
  start: number;
  end: number;
  reason: string;
}

/** True when this is the patient's own identifier, not just a pattern. */
export function isPatientSpecific(finding: Finding): boolean {
  return finding.kind.startsWith("patient-");
}

/** text[start:end] as Python slices it: by code point. */
export function sliceCodePoints(text: string, start: number, end: number): string {
  return Array.from(text).slice(start, end).join("");
}

/** A finding's span in UTF-16 units, for String.slice() and for selecting it in an input. */
export function utf16Span(text: string, finding: Finding): [number, number] {
  const cp = new CpText(text);
  return [cp.u16(finding.start), cp.u16(finding.end)];
}

/**
 * From the API's patient record (GET /v1/patients/{id}), as client/text.py does: the name's
 * last word is the family name, the words before it the given names.
 */
export function patientIdentifiers(patient: {
  name?: string | null;
  dob?: string | null;
  mrn?: string | null;
  hcn?: string | null;
}): PatientIdentifiers {
  const tokens = pySplit(patient.name ?? "");
  const dob = patient.dob;
  const out: PatientIdentifiers = {
    givenNames: tokens.slice(0, -1),
    familyNames: tokens.slice(-1),
  };
  if (patient.mrn != null) out.mrn = patient.mrn;
  if (patient.hcn != null) out.healthCard = patient.hcn;
  if (dob) out.dateOfBirth = isoDate(parseIsoDate(dob));
  return out;
}

// --- Python's character classes ---------------------------------------------------------------

// str.isspace() and re's \s.
const SPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
// str.isdigit() beyond \p{Nd}: superscript, subscript, circled, parenthesised... digits.
const DIGIT_EXTRA =
  "\\u00b2\\u00b3\\u00b9\\u1369-\\u1371\\u19da\\u2070\\u2074-\\u2079\\u2080-\\u2089" +
  "\\u2460-\\u2468\\u2474-\\u247c\\u2488-\\u2490\\u24ea\\u24f5-\\u24fd\\u24ff\\u2776-\\u277e" +
  "\\u2780-\\u2788\\u278a-\\u2792\\u{10a40}-\\u{10a43}\\u{10e60}-\\u{10e68}" +
  "\\u{11052}-\\u{1105a}\\u{1f100}-\\u{1f10a}";
// str.isalnum() and re's [^\W_]; str.isalpha(); str.isdigit(); re's [^\W\d_] (a word letter).
const ALNUM = "\\p{L}\\p{N}";
const WORD_CHAR = "\\p{L}\\p{Nl}\\p{No}";

const RE_ALNUM = new RegExp(`^[${ALNUM}]$`, "u");
const RE_ALPHA = /^\p{L}$/u;
const RE_DIGIT = new RegExp(`^[\\p{Nd}${DIGIT_EXTRA}]$`, "u");
const RE_UPPER = /^\p{Uppercase}$/u;
// str.islower(): Unicode 14's Lowercase property. Later versions added U+10FC, U+A7F2-U+A7F4
// and U+AB69; U+0295 was Lowercase in Unicode 14 and is not any more.
const RE_LOWER = /^(?:(?![\u10fc\ua7f2-\ua7f4\uab69])\p{Lowercase}|\u0295)$/u;
const RE_SPACE = new RegExp(`^[${SPACE}]$`, "u");

function isAlnum(char: string): boolean {
  return RE_ALNUM.test(char);
}
function isAlpha(char: string): boolean {
  return RE_ALPHA.test(char);
}
function isDigit(char: string): boolean {
  return RE_DIGIT.test(char);
}
function isUpper(char: string): boolean {
  return RE_UPPER.test(char);
}
function isLower(char: string): boolean {
  return RE_LOWER.test(char);
}
function isSpace(char: string): boolean {
  return RE_SPACE.test(char);
}

/**
 * unicodedata.combining(char) != 0. Canonical ordering moves a mark of a lower non-zero
 * combining class before U+0345 (class 240, the highest), and never moves anything across a
 * character of class 0. Three Tibetan vowel signs have class 0 but decompose into marks of
 * non-zero class, so the probe would misclass them.
 */
function combining(char: string): boolean {
  if (char === "\u0345") return true;
  if (char === "\u0f73" || char === "\u0f75" || char === "\u0f81") return false;
  return !("\u0345" + char).normalize("NFD").startsWith("\u0345");
}

// Where str.casefold() differs from toLowerCase() (full case folding, CaseFolding.txt).
const FOLD_EXTRA = new Map<string, string>([
  ["\u00df", "ss"],
  ["\u03c2", "\u03c3"],
  ["\u1c80", "\u0432"],
  ["\u1c81", "\u0434"],
  ["\u1c82", "\u043e"],
  ["\u1c83", "\u0441"],
  ["\u1c84", "\u0442"],
  ["\u1c85", "\u0442"],
  ["\u1c86", "\u044a"],
  ["\u1c87", "\u0463"],
  ["\u1c88", "\ua64b"],
]);

/** str.casefold() of one character. */
function foldChar(char: string): string {
  let out = "";
  for (const low of char.toLowerCase()) {
    const code = low.codePointAt(0) ?? 0;
    if (code >= 0xab70 && code <= 0xabbf) {
      out += String.fromCodePoint(code - 0xab70 + 0x13a0); // Cherokee folds to capitals
    } else if (code >= 0x13f8 && code <= 0x13fd) {
      out += String.fromCodePoint(code - 8);
    } else {
      out += FOLD_EXTRA.get(low) ?? low;
    }
  }
  return out;
}

/** str.split() with no argument: on runs of white space, no empty words. */
function pySplit(text: string): string[] {
  return text.split(new RegExp(`[${SPACE}]+`, "u")).filter((word) => word !== "");
}

/** str.strip() with no argument. */
function pyStrip(text: string): string {
  return text.replace(new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, "gu"), "");
}

// --- code point strings -----------------------------------------------------------------------

/** A string with its code points and the maps between code point and UTF-16 positions. */
class CpText {
  readonly s: string;
  readonly cps: string[];
  private readonly u16Of: number[]; // code point index -> UTF-16 index (length n + 1)
  private readonly cpOf: number[]; // UTF-16 index -> code point index (length s.length + 1)

  constructor(s: string, cps?: string[]) {
    this.cps = cps ?? Array.from(s);
    this.s = cps ? cps.join("") : s;
    this.u16Of = new Array<number>(this.cps.length + 1);
    this.cpOf = new Array<number>(this.s.length + 1);
    let unit = 0;
    for (let i = 0; i < this.cps.length; i++) {
      this.u16Of[i] = unit;
      const width = this.cps[i]!.length;
      for (let k = 0; k < width; k++) this.cpOf[unit + k] = i;
      unit += width;
    }
    this.u16Of[this.cps.length] = unit;
    this.cpOf[unit] = this.cps.length;
  }

  get length(): number {
    return this.cps.length;
  }
  at(i: number): string {
    return this.cps[i]!;
  }
  u16(cp: number): number {
    return this.u16Of[cp]!;
  }
  cp(unit: number): number {
    return this.cpOf[unit]!;
  }
}

interface Match {
  start: number; // code points
  end: number;
  groups: Record<string, string>;
  spans: Record<string, [number, number]>;
}

function toMatch(text: CpText, m: RegExpExecArray): Match {
  const groups: Record<string, string> = {};
  const spans: Record<string, [number, number]> = {};
  for (const [name, value] of Object.entries(m.groups ?? {})) {
    if (value === undefined) continue;
    groups[name] = value;
    const span = m.indices?.groups?.[name];
    if (span) spans[name] = [text.cp(span[0]), text.cp(span[1])];
  }
  return { start: text.cp(m.index), end: text.cp(m.index + m[0].length), groups, spans };
}

/** re.finditer: non-overlapping matches left to right (patterns never match empty). */
function* finditer(pattern: RegExp, text: CpText): Generator<Match> {
  const re = new RegExp(pattern.source, withFlags(pattern, "g"));
  let m: RegExpExecArray | null;
  while ((m = re.exec(text.s)) !== null) {
    yield toMatch(text, m);
    if (m[0].length === 0) re.lastIndex += 1;
  }
}

/** pattern.search(text, pos): the first match at or after pos; look-behind sees before pos. */
function search(pattern: RegExp, text: CpText, pos: number): Match | null {
  const re = variant(pattern, "g");
  re.lastIndex = text.u16(pos);
  const m = re.exec(text.s);
  return m ? toMatch(text, m) : null;
}

/** pattern.match(text, pos): a match starting exactly at pos. */
function matchAt(pattern: RegExp, text: CpText, pos: number): Match | null {
  const re = variant(pattern, "y");
  re.lastIndex = text.u16(pos);
  const m = re.exec(text.s);
  return m ? toMatch(text, m) : null;
}

// Global and sticky copies of each pattern for search() and matchAt(), which set lastIndex
// just before they use one. finditer() makes its own, since it keeps lastIndex across yields.
const variants = new WeakMap<RegExp, Map<string, RegExp>>();

function variant(pattern: RegExp, flag: "g" | "y"): RegExp {
  let byFlag = variants.get(pattern);
  if (!byFlag) variants.set(pattern, (byFlag = new Map()));
  let out = byFlag.get(flag);
  if (!out) byFlag.set(flag, (out = new RegExp(pattern.source, withFlags(pattern, flag))));
  return out;
}

function withFlags(pattern: RegExp, extra: string): string {
  return Array.from(new Set(pattern.flags + extra)).join("");
}

function re(source: string): RegExp {
  return new RegExp(source, "du");
}

function escapeRe(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&"); // all the u flag allows
}

// --- ranks: lower wins when pattern findings overlap ------------------------------------------

const R_PATIENT = 0;
const R_LABELLED = 1;
const R_STRUCTURED = 2;
const R_COMMON = 3;
const R_LENGTH_ONLY = 4;
const R_LONG_NUMBER = 5;

interface Candidate {
  rank: number;
  kind: FindingKind;
  start: number; // in the folded text, code points
  end: number;
  reason: string;
}

function candidate(
  rank: number,
  kind: FindingKind,
  start: number,
  end: number,
  reason: string,
): Candidate {
  return { rank, kind, start, end, reason };
}

// --- folding: lower case, no accents, with a map back to the original text --------------------

class Folded {
  constructor(
    readonly original: CpText,
    readonly text: CpText,
    readonly index: number[], // index[i]: position in original of folded code point i
  ) {}

  /** The original span of folded [start, end), with trailing combining marks. */
  span(start: number, end: number): [number, number] {
    const first = this.index[start]!;
    let last = this.index[end - 1]! + 1;
    while (last < this.original.length && combining(this.original.at(last))) last += 1;
    return [first, last];
  }
}

function fold(text: string): Folded {
  const original = new CpText(text);
  const out: string[] = [];
  const index: number[] = [];
  original.cps.forEach((char, position) => {
    for (const part of char.normalize("NFKD")) {
      if (combining(part)) continue;
      for (const low of foldChar(part)) {
        out.push(low);
        index.push(position);
      }
    }
  });
  return new Folded(original, new CpText("", out), index);
}

function foldValue(value: string): string {
  return fold(value).text.s;
}

/** The folded text without separators, to compare values with separators ignored. */
interface Compact {
  text: CpText;
  index: number[]; // into the folded text
}

const SEPARATORS = new Set(
  Array.from(" \t\r\n\f\v-\u2010\u2011\u2012\u2013\u2014\u2015./_()"),
);

function compactOf(folded: CpText): Compact {
  const out: string[] = [];
  const index: number[] = [];
  folded.cps.forEach((char, position) => {
    if (SEPARATORS.has(char)) return;
    out.push(char);
    index.push(position);
  });
  return { text: new CpText("", out), index };
}

// --- building blocks --------------------------------------------------------------------------

const B0 = `(?<![${ALNUM}])`; // not preceded by a letter or digit ("_" counts as a separator)
const B1 = `(?![${ALNUM}])`; // not followed by a letter or digit
const DASH = "\\-\\u2010\\u2011\\u2012\\u2013\\u2014\\u2015";
const SEP = `(?:[ \\t]?[${DASH}][ \\t]?|[ \\t])`;

function isAsciiDigit(char: string): boolean {
  return char >= "0" && char <= "9" && char.length === 1;
}

// --- health cards -----------------------------------------------------------------------------

const DIGIT_RUN = re(`[0-9]+(?:${SEP}[0-9]+)*`);
const DIGIT_GROUP = re(`[0-9]+`);
const VERSION_CODE = re(`${SEP}?[a-z]{2}${B1}`);
const HC_SHAPES = new Set(["8", "9", "5,4", "3,3,3", "10", "4,3,3", "12", "4,4,4", "3,3,3,3"]);
const BC_WEIGHTS = [2, 4, 8, 5, 10, 9, 7, 3];

function luhnOk(digits: string): boolean {
  let total = 0;
  const reversed = Array.from(digits).reverse();
  reversed.forEach((char, position) => {
    let value = Number(char);
    if (position % 2 === 1) {
      value *= 2;
      if (value > 9) value -= 9;
    }
    total += value;
  });
  return total % 10 === 0;
}

function bcPhnOk(digits: string): boolean {
  if (digits.length !== 10 || digits[0] !== "9") return false;
  let total = 0;
  BC_WEIGHTS.forEach((weight, i) => {
    total += (weight * Number(digits[i + 1])) % 11;
  });
  const check = (11 - (total % 11)) % 11;
  return check < 10 && Number(digits[9]) === check;
}

function healthCardCandidate(digits: string, versioned: boolean): [number, string] {
  if (digits.length === 10) {
    if (bcPhnOk(digits)) {
      return [R_STRUCTURED, "British Columbia PHN pattern (mod 11 check digit valid)"];
    }
    if (luhnOk(digits)) {
      return [R_STRUCTURED, "Ontario health card number pattern (check digit valid)"];
    }
    if (versioned) return [R_STRUCTURED, "Ontario health card number pattern with version code"];
    return [
      R_LENGTH_ONLY,
      "10-digit number: health card length in Ontario, British Columbia or Nova Scotia",
    ];
  }
  if (digits.length === 9) {
    return [
      R_LENGTH_ONLY,
      "9-digit number: health card length in Alberta, Saskatchewan, Manitoba," +
        " New Brunswick, Yukon or Nunavut (also a Social Insurance Number's length)",
    ];
  }
  if (digits.length === 8) {
    return [R_LENGTH_ONLY, "8-digit number: Prince Edward Island health card length"];
  }
  return [R_LENGTH_ONLY, "12-digit number: Newfoundland and Labrador MCP number length"];
}

function* healthCards(text: CpText): Generator<Candidate> {
  for (const run of finditer(DIGIT_RUN, text)) {
    const runText = new CpText(text.cps.slice(run.start, run.end).join(""));
    const groups: [number, number][] = [];
    for (const m of finditer(DIGIT_GROUP, runText)) {
      groups.push([m.start + run.start, m.end + run.start]);
    }
    for (let first = 0; first < groups.length; first++) {
      for (let last = first; last < Math.min(first + 4, groups.length); last++) {
        const chosen = groups.slice(first, last + 1);
        const shape = chosen.map(([s, e]) => e - s).join(",");
        if (!HC_SHAPES.has(shape)) continue;
        const start = groups[first]![0];
        let end = groups[last]![1];
        if (start > 0 && isAlnum(text.at(start - 1))) continue;
        const digits = chosen.map(([s, e]) => text.cps.slice(s, e).join("")).join("");
        let versioned = false;
        const version = digits.length === 10 ? matchAt(VERSION_CODE, text, end) : null;
        if (version) {
          end = version.end;
          versioned = true;
        } else if (end < text.length && isAlnum(text.at(end))) {
          continue;
        }
        const [rank, reason] = healthCardCandidate(digits, versioned);
        yield candidate(rank, "health-card-number", start, end, reason);
      }
    }
  }
}

const RAMQ = re(
  `${B0}[a-z]{4}${SEP}?(?<mm>[0-9]{2})(?<m>[0-9]{2})${SEP}?(?<d>[0-9]{2})[0-9]{2}${B1}`,
);

function* ramq(text: CpText): Generator<Candidate> {
  for (const match of finditer(RAMQ, text)) {
    const month = Number(match.groups.m);
    const day = Number(match.groups.d);
    if (((month >= 1 && month <= 12) || (month >= 51 && month <= 62)) && day >= 1 && day <= 31) {
      yield candidate(
        R_STRUCTURED,
        "health-card-number",
        match.start,
        match.end,
        "Quebec health insurance number (RAMQ) pattern",
      );
    }
  }
}

// --- dates ------------------------------------------------------------------------------------

// prettier-ignore
const MONTHS: ReadonlyMap<string, number> = new Map([
  ["jan", 1], ["january", 1], ["janv", 1], ["janvier", 1],
  ["feb", 2], ["february", 2], ["fev", 2], ["fevr", 2], ["fevrier", 2],
  ["mar", 3], ["march", 3], ["mars", 3],
  ["apr", 4], ["april", 4], ["avr", 4], ["avril", 4],
  ["may", 5], ["mai", 5],
  ["jun", 6], ["june", 6], ["juin", 6],
  ["jul", 7], ["july", 7], ["juil", 7], ["juillet", 7],
  ["aug", 8], ["august", 8], ["aout", 8],
  ["sep", 9], ["sept", 9], ["september", 9], ["septembre", 9],
  ["oct", 10], ["october", 10], ["octobre", 10],
  ["nov", 11], ["november", 11], ["novembre", 11],
  ["dec", 12], ["december", 12], ["decembre", 12],
]);
// Longest first, ties in table order (Python's sort is stable, and so is this one).
const MONTH = `(?<mon>${Array.from(MONTHS.keys())
  .sort((a, b) => b.length - a.length)
  .join("|")})\\.?`;
const YEAR4 = "(?<y>(?:19|20)[0-9]{2})";
const DATE_SEP = "[ \\t\\-/.,_]*";

const ISO_DATE = re(
  "(?<![0-9])(?<y>(?:19|20)[0-9]{2})(?<s>[\\-/._])(?<m>[0-9]{1,2})\\k<s>" +
    "(?<d>[0-9]{1,2})(?![0-9])",
);
const NUMERIC_DATE = re(
  "(?<![0-9])(?<a>[0-9]{1,2})(?<s>[\\-/._])(?<b>[0-9]{1,2})\\k<s>" +
    "(?<y>(?:19|20)[0-9]{2}|[0-9]{2})(?![0-9])",
);
const COMPACT_DATE = re("(?<![0-9])(?<y>(?:19|20)[0-9]{2})(?<m>[0-9]{2})(?<d>[0-9]{2})(?![0-9])");
const MONTH_FIRST_DATE = re(
  `(?<![${ALNUM}])${MONTH}${DATE_SEP}(?<d>[0-9]{1,2})(?:st|nd|rd|th)?${DATE_SEP}${YEAR4}` +
    "(?![0-9])",
);
const DAY_FIRST_DATE = re(
  `(?<![0-9])(?<d>[0-9]{1,2})(?:st|nd|rd|th|er)?${DATE_SEP}${MONTH}${DATE_SEP}${YEAR4}` +
    "(?![0-9])",
);
// Python's `$` (no MULTILINE) also matches before a newline that ends the text.
const DOB_LABEL = re(
  `${B0}(?:d\\.?[ \\t]?o\\.?[ \\t]?b\\.?|born(?:[ \\t]+on)?|birth[ \\t]*(?:date|day)?` +
    "|date[ \\t]+of[ \\t]+birth|nee?[ \\t]+le|(?:date[ \\t]+de[ \\t]+)?naissance" +
    "|d\\.?[ \\t]?d\\.?[ \\t]?n\\.?)[ \\t]*[:#=\\-]?[ \\t]*(?=\\n?$)",
);

type YMD = [number, number, number];

function validDate(year: number, month: number, day: number): YMD | null {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return null;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days ? [year, month, day] : null;
}

function isoDate([y, m, d]: YMD): string {
  const pad = (value: number, width: number) => String(value).padStart(width, "0");
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

/** datetime.date.fromisoformat() for the forms the API sends: YYYY-MM-DD (or YYYYMMDD). */
function parseIsoDate(value: string): YMD {
  const m = /^([0-9]{4})-?([0-9]{2})-?([0-9]{2})$/.exec(value);
  const date = m ? validDate(Number(m[1]), Number(m[2]), Number(m[3])) : null;
  if (!date || (value.length === 10) !== value.includes("-")) {
    throw new RangeError(`Invalid isoformat string: '${value}'`);
  }
  return date;
}

function years(text: string): number[] {
  const year = Number(text);
  return text.length === 4 ? [year] : [1900 + year, 2000 + year];
}

interface DateMatch {
  start: number;
  end: number;
  dates: Set<string>; // ISO
  form: string;
}

function* dates(text: CpText): Generator<DateMatch> {
  for (const match of finditer(ISO_DATE, text)) {
    const g = match.groups;
    const day = validDate(Number(g.y), Number(g.m), Number(g.d));
    if (day) yield { ...spanOf(match), dates: new Set([isoDate(day)]), form: "year-month-day" };
  }
  for (const match of finditer(NUMERIC_DATE, text)) {
    const g = match.groups;
    if (g.y!.length === 2 && g.s !== "/") continue;
    const a = Number(g.a);
    const b = Number(g.b);
    const found = new Set<string>();
    for (const year of years(g.y!)) {
      for (const day of [validDate(year, b, a), validDate(year, a, b)]) {
        if (day) found.add(isoDate(day));
      }
    }
    if (found.size > 0) {
      yield { ...spanOf(match), dates: found, form: "day/month/year or month/day/year" };
    }
  }
  for (const match of finditer(COMPACT_DATE, text)) {
    const g = match.groups;
    const day = validDate(Number(g.y), Number(g.m), Number(g.d));
    if (day) yield { ...spanOf(match), dates: new Set([isoDate(day)]), form: "compact YYYYMMDD" };
  }
  for (const pattern of [MONTH_FIRST_DATE, DAY_FIRST_DATE]) {
    for (const match of finditer(pattern, text)) {
      const g = match.groups;
      const day = validDate(Number(g.y), MONTHS.get(g.mon!)!, Number(g.d));
      if (day) yield { ...spanOf(match), dates: new Set([isoDate(day)]), form: "month-name" };
    }
  }
}

function spanOf(match: Match): { start: number; end: number } {
  return { start: match.start, end: match.end };
}

function* dateCandidates(text: CpText, dob: string | null): Generator<Candidate> {
  for (const found of dates(text)) {
    if (dob !== null && found.dates.has(dob)) {
      yield candidate(
        R_PATIENT,
        "patient-dob",
        found.start,
        found.end,
        "matches the patient's date of birth",
      );
    } else if (dobLabelBefore(text, found.start)) {
      yield candidate(
        R_LABELLED,
        "date-of-birth",
        found.start,
        found.end,
        `date labelled as a date of birth (${found.form} form)`,
      );
    } else {
      yield candidate(R_COMMON, "date", found.start, found.end, `date in ${found.form} form`);
    }
  }
}

/**
 * _DOB_LABEL.search(text, max(0, start - 30), start): the text ends at start, and the search
 * begins 30 characters before it, with one more character for the look-behind to see.
 */
function dobLabelBefore(text: CpText, start: number): boolean {
  const from = Math.max(0, start - 30);
  const context = Math.max(0, from - 1);
  const window = new CpText("", text.cps.slice(context, start));
  return search(DOB_LABEL, window, from - context) !== null;
}

// --- phone, e-mail, postal code, address ------------------------------------------------------

const PHONE = re(
  `${B0}(?:\\+?1[ \\t.\\-]?)?(?:\\([2-9][0-9]{2}\\)[ \\t]?|[2-9][0-9]{2}[ \\t.\\-]?)` +
    `[2-9][0-9]{2}[ \\t.\\-]?[0-9]{4}(?:[ \\t]*(?:x|ext\\.?|poste)[ \\t]*[0-9]{1,6})?${B1}`,
);
const EMAIL = re(
  "(?<![0-9a-z_.%+\\-])[0-9a-z_.%+\\-]{1,64}@[0-9a-z\\-]{1,63}(?:\\.[0-9a-z\\-]{1,63}){0,8}" +
    "\\.[a-z]{2,24}(?![0-9a-z\\-])",
);
const POSTAL = re(
  `${B0}[abceghj-nprstvxy][0-9][abceghj-nprstv-z][ \\t\\-]?[0-9][abceghj-nprstv-z][0-9]${B1}`,
);
const ADDRESS_EN = re(
  `${B0}[0-9]{1,6}[a-z]?(?:[ \\t]*[\\-,][ \\t]*[0-9]{1,6})?[ \\t]+` +
    "(?:[a-z][a-z'.\\-]*[ \\t]+){1,4}" +
    "(?:street|st|avenue|ave|road|rd|boulevard|blvd|drive|crescent|cres|court|lane" +
    "|terrace|parkway|pkwy|highway|hwy|trail)\\.?" +
    `(?:[ \\t]+(?:north|south|east|west|[nsew]|ne|nw|se|sw)\\.?)?${B1}`,
);
const ADDRESS_FR = re(
  `${B0}[0-9]{1,6}[a-z]?,?[ \\t]+` +
    "(?:rue|avenue|av|boulevard|boul|chemin|rang|montee|route|impasse|allee)\\.?[ \\t]+[a-z]" +
    "[a-z'\\-]*",
);

function* simplePatterns(text: CpText): Generator<Candidate> {
  for (const match of finditer(PHONE, text)) {
    yield candidate(R_COMMON, "phone", match.start, match.end, "North American phone number");
  }
  if (text.s.includes("@")) {
    for (const match of finditer(EMAIL, text)) {
      yield candidate(R_STRUCTURED, "email", match.start, match.end, "e-mail address");
    }
  }
  for (const match of finditer(POSTAL, text)) {
    yield candidate(R_STRUCTURED, "postal-code", match.start, match.end, "Canadian postal code");
  }
  for (const pattern of [ADDRESS_EN, ADDRESS_FR]) {
    for (const match of finditer(pattern, text)) {
      yield candidate(R_STRUCTURED, "address", match.start, match.end, "street address pattern");
    }
  }
}

// --- labelled numbers and names ---------------------------------------------------------------

const NUMBER_WORD = "(?:(?:no|num|number|numero|n°|#)\\.?[ \\t]*[:#=]?[ \\t]*)?";
const LABEL_TAIL = `[ \\t]*[:#=.]?[ \\t]*${NUMBER_WORD}`;
const MRN_LABEL = re(
  `${B0}(?:mrn|mr[ \\t]*#|mr[ \\t]*no|med(?:ical)?[ \\t]*rec(?:ord)?s?|chart` +
    "|hosp(?:ital)?\\.?[ \\t]*(?:no|num|number|#|id)|patient[ \\t]*(?:id|no|num|number|#)" +
    "|pt\\.?[ \\t]*(?:id|no|#)|pid|encounter|visit[ \\t]*(?:no|number|#|id)" +
    "|acct|account[ \\t]*(?:no|number|#)|(?:no|numero)[ \\t]+(?:de[ \\t]+)?dossier|dossier)" +
    LABEL_TAIL +
    "(?<v>(?:[a-z]{1,3}[ \\t\\-]?)?[0-9](?:[ \\t\\-]?[0-9]){3,15}(?:[ \\t\\-]?[a-z]{1,2})?)" +
    B1,
);
const HC_LABEL = re(
  `${B0}(?:hcn|ohip|phn|phin|ramq|nam|ahcip|msp|mcp|msi|hsn|medicare` +
    "|health[ \\t]*(?:card|care|insurance|services?)?(?:[ \\t]*(?:no|num|number|#))?" +
    "|carte[ \\t]+(?:sante|soleil|d'assurance[ \\t\\-]maladie)" +
    "|(?:no|numero)[ \\t]+d'assurance[ \\t\\-]maladie)" +
    LABEL_TAIL +
    "(?<v>(?:[a-z]{1,4}[ \\t\\-]?)?[0-9](?:[ \\t\\-]?[0-9]){5,13}(?:[ \\t\\-]?[a-z]{1,2})?)" +
    B1,
);
const LONG_NUMBER = re(`${B0}(?:[a-z]{1,3})?[0-9]{7,}${B1}`);

const WORD = `[${WORD_CHAR}]+(?:['\\-][${WORD_CHAR}]+)*`;
const WORD_RE = re(WORD);
const NAME_LABEL = re(
  `${B0}(?:patient(?:'s)?[ \\t]+name|patient|pt|name|full[ \\t]+name|nom(?:[ \\t]+du` +
    "[ \\t]+patient)?|prenom|surname|family[ \\t]+name|last[ \\t]+name|first[ \\t]+name" +
    "|given[ \\t]+name)[ \\t]*[:=][ \\t]*",
);
const HONORIFIC = re(`${B0}(?:mr|mrs|ms|miss|mme|mlle|mx)\\.?[ \\t]+(?=${WORD})`);
const FAMILY_COMMA_GIVEN = re(
  `${B0}(?<family>${WORD}),[ \\t]*(?<given>${WORD})${B1}`,
);
const NAME_GAP = re(",?[ \\t]+");

function originalFirst(folded: Folded, start: number): string {
  return folded.original.at(folded.index[start]!);
}

/** End of the run of up to `most` capitalised words at `pos`; null if there is none. */
function capitalisedWords(folded: Folded, pos: number, most: number): number | null {
  let end: number | null = null;
  for (let i = 0; i < most; i++) {
    const word = matchAt(WORD_RE, folded.text, pos);
    if (word === null || !isUpper(originalFirst(folded, word.start))) break;
    end = word.end;
    const gap = matchAt(NAME_GAP, folded.text, end);
    if (gap === null) break;
    pos = gap.end;
  }
  if (end !== null && end < folded.text.length && isAlnum(folded.text.at(end))) return null;
  return end;
}

function allCaps(folded: Folded, start: number, end: number): boolean {
  const [originalStart, originalEnd] = folded.span(start, end);
  const letters = folded.original.cps.slice(originalStart, originalEnd).filter(isAlpha);
  return letters.length >= 2 && letters.every(isUpper);
}

function* labelled(folded: Folded): Generator<Candidate> {
  const text = folded.text;
  for (const match of finditer(MRN_LABEL, text)) {
    const [start, end] = match.spans.v!;
    yield candidate(
      R_LABELLED,
      "mrn-like",
      start,
      end,
      "number labelled as a medical record or chart number",
    );
  }
  for (const match of finditer(HC_LABEL, text)) {
    const [start, end] = match.spans.v!;
    yield candidate(
      R_LABELLED,
      "health-card-number",
      start,
      end,
      "number labelled as a health card number",
    );
  }
  for (const match of finditer(LONG_NUMBER, text)) {
    yield candidate(
      R_LONG_NUMBER,
      "mrn-like",
      match.start,
      match.end,
      "long unlabelled number (possible record number)",
    );
  }
  for (const match of finditer(NAME_LABEL, text)) {
    const end = capitalisedWords(folded, match.end, 3);
    if (end !== null) {
      yield candidate(R_LABELLED, "name-like", match.end, end, "text labelled as a name");
    }
  }
  for (const match of finditer(HONORIFIC, text)) {
    const end = capitalisedWords(folded, match.end, 2);
    if (end !== null) {
      yield candidate(R_COMMON, "name-like", match.start, end, "title followed by a name");
    }
  }
  let pos = 0;
  for (;;) {
    const pair = search(FAMILY_COMMA_GIVEN, text, pos);
    if (pair === null) break;
    const [familyStart, familyEnd] = pair.spans.family!;
    const [givenStart] = pair.spans.given!;
    if (allCaps(folded, familyStart, familyEnd) && isUpper(originalFirst(folded, givenStart))) {
      yield candidate(
        R_COMMON,
        "name-like",
        pair.start,
        pair.end,
        "looks like a 'FAMILY, Given' name",
      );
      pos = pair.end;
    } else {
      pos = givenStart; // the given name may start the next pair
    }
  }
}

// --- the patient's own identifiers ------------------------------------------------------------

// Particles of multi-part names, not matched on their own.
const PARTICLES = new Set([
  ...["de", "du", "des", "la", "le", "les", "van", "von", "der", "den", "di", "da", "del"],
  ...["della", "dos", "das", "el", "al", "bin", "ben", "ter", "ten", "st", "saint", "sainte"],
]);
const NAME_SPLIT = new RegExp(`[${SPACE}\\-'\\u2019._,]+`, "u");
const NAME_JOIN = "[ \\t\\-'\\u2019._]*";
const MIN_VALUE_CHARS = 4;

function cpLength(text: string): number {
  return Array.from(text).length;
}

/** Whether a name may end between original[before] and original[after]. */
function wordEdge(original: CpText, before: number, after: number): boolean {
  if (before < 0 || after >= original.length) return true;
  const left = original.at(before);
  const right = original.at(after);
  if (!isAlnum(left) || !isAlnum(right)) return true;
  if (isDigit(left) !== isDigit(right)) return true;
  return isLower(left) && isUpper(right);
}

function namePatterns(names: readonly string[], which: string): [RegExp, string][] {
  const patterns: [RegExp, string][] = [];
  for (const name of names) {
    const parts = foldValue(name)
      .split(NAME_SPLIT)
      .filter((part) => part !== "");
    if (parts.length === 0 || cpLength(parts.join("")) < 2) continue;
    const reason = `matches the patient's ${which} name`;
    patterns.push([re(parts.map(escapeRe).join(NAME_JOIN)), reason]);
    if (parts.length > 1) {
      for (const part of parts) {
        if (cpLength(part) >= 3 && !PARTICLES.has(part)) {
          patterns.push([re(escapeRe(part)), `${reason} (part of it)`]);
        }
      }
    }
  }
  return patterns;
}

function* patientNames(folded: Folded, patient: PatientIdentifiers): Generator<Candidate> {
  const patterns = [
    ...namePatterns(patient.familyNames, "family"),
    ...namePatterns(patient.givenNames, "given"),
  ];
  for (const [pattern, reason] of patterns) {
    for (const match of finditer(pattern, folded.text)) {
      const [start, end] = folded.span(match.start, match.end);
      if (
        wordEdge(folded.original, start - 1, start) &&
        wordEdge(folded.original, end - 1, end)
      ) {
        yield candidate(R_PATIENT, "patient-name", match.start, match.end, reason);
      }
    }
  }
}

function gapHasSpace(text: CpText, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (isSpace(text.at(i))) return true;
  return false;
}

/**
 * Whether the match edge at folded index `at` is not inside a longer value. `neighbour` is the
 * compact index of the character beyond the edge (see identifiers.py, _separate).
 */
function separate(
  folded: Folded,
  compact: Compact,
  at: number,
  neighbour: number,
  edge: (char: string) => boolean,
  spacedOk: boolean,
): boolean {
  if (neighbour < 0 || neighbour >= compact.text.length || !edge(compact.text.at(neighbour))) {
    return true;
  }
  const other = compact.index[neighbour]!;
  if (
    Math.abs(other - at) > 1 &&
    isAsciiDigit(folded.text.at(other)) !== isAsciiDigit(folded.text.at(at))
  ) {
    return true; // a separated letter next to a digit, or the reverse: "OHIP 1234..."
  }
  if (!spacedOk) return false;
  return other < at
    ? gapHasSpace(folded.text, other + 1, at)
    : gapHasSpace(folded.text, at + 1, other);
}

/** Folded spans where `needle` occurs with separators ignored, not inside a longer value. */
function* findCompact(
  folded: Folded,
  compact: Compact,
  needle: string,
  digitsOnly: boolean,
): Generator<[number, number]> {
  const edge = digitsOnly ? isAsciiDigit : isAlnum;
  const haystack = compact.text;
  const needleLength = cpLength(needle);
  let unit = haystack.s.indexOf(needle);
  while (unit >= 0) {
    const position = haystack.cp(unit);
    const last = position + needleLength - 1;
    const start = compact.index[position]!;
    const end = compact.index[last]! + 1;
    const spacedOk = !gapHasSpace(folded.text, start, end);
    if (
      separate(folded, compact, start, position - 1, edge, spacedOk) &&
      separate(folded, compact, end - 1, last + 1, edge, spacedOk)
    ) {
      yield [start, end];
    }
    unit = haystack.s.indexOf(needle, haystack.u16(position + 1));
  }
}

type Needle = [string, boolean]; // (needle, digits only)

function needles(value: string | null | undefined): Needle[] {
  if (value == null) return [];
  const alnum = foldValue(value).replace(/[^0-9a-z]/g, "");
  const digits = alnum.replace(/[^0-9]/g, "");
  const out: Needle[] = [];
  if (alnum && alnum === digits) {
    if (digits.length >= MIN_VALUE_CHARS) out.push([digits, true]);
    return out;
  }
  if (alnum.length >= MIN_VALUE_CHARS) out.push([alnum, false]);
  if (digits.length >= 6) out.push([digits, true]);
  return out;
}

function phoneNeedles(value: string | null | undefined): Needle[] {
  if (value == null) return [];
  let digits = value.replace(/[^0-9]/g, "");
  if (digits.length < 7) return [];
  if (digits.length === 11 && digits.startsWith("1")) digits = digits.slice(1);
  return [
    [digits, true],
    ["1" + digits, true],
  ];
}

function dobNeedles(dob: YMD | null): Needle[] {
  if (dob === null) return [];
  const [y, m, d] = isoDate(dob).split("-") as [string, string, string];
  const forms = new Set([y + m + d, d + m + y, m + d + y]);
  return Array.from(forms)
    .sort()
    .map((form): Needle => [form, true]);
}

function* patientValues(
  folded: Folded,
  compact: Compact,
  patient: PatientIdentifiers,
  dob: YMD | null,
): Generator<Candidate> {
  const checks: [FindingKind, string, Needle[]][] = [
    ["patient-mrn", "matches the patient's MRN", needles(patient.mrn)],
    [
      "patient-health-card",
      "matches the patient's health card number",
      needles(patient.healthCard),
    ],
    ["patient-dob", "matches the patient's date of birth", dobNeedles(dob)],
    ["patient-phone", "matches the patient's phone number", phoneNeedles(patient.phone)],
    ["patient-postal-code", "matches the patient's postal code", needles(patient.postalCode)],
  ];
  for (const [kind, reason, list] of checks) {
    for (const [needle, digitsOnly] of list) {
      for (const [start, end] of findCompact(folded, compact, needle, digitsOnly)) {
        yield candidate(R_PATIENT, kind, start, end, reason);
      }
    }
  }
  if (patient.email) {
    const email = foldValue(pyStrip(patient.email));
    if (cpLength(email) >= MIN_VALUE_CHARS) {
      const pattern = re(`(?<![0-9a-z_.%+\\-])${escapeRe(email)}(?![0-9a-z\\-])`);
      for (const match of finditer(pattern, folded.text)) {
        yield candidate(
          R_PATIENT,
          "patient-email",
          match.start,
          match.end,
          "matches the patient's e-mail address",
        );
      }
    }
  }
}

// --- resolution -------------------------------------------------------------------------------
// The same choices as identifiers.py's _resolve, which compares every candidate with every one
// kept so far; here the comparisons use sorted spans, so a long text with thousands of
// findings stays fast on a phone.

function byTuple(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** The first index in `sorted` (ascending) whose value is greater than `value`. */
function upperBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Spans of one kind; whether one of them holds a given span (prefix maximum of the ends). */
class Holders {
  private readonly maxEnd: Int32Array; // a Fenwick tree over start + 1

  constructor(size: number) {
    this.maxEnd = new Int32Array(size + 2).fill(-1);
  }
  add(start: number, end: number): void {
    for (let i = start + 1; i < this.maxEnd.length; i += i & -i) {
      if (this.maxEnd[i]! < end) this.maxEnd[i] = end;
    }
  }
  holds(start: number, end: number): boolean {
    let best = -1;
    for (let i = start + 1; i > 0; i -= i & -i) best = Math.max(best, this.maxEnd[i]!);
    return best >= end; // some span starts at or before `start` and ends at or after `end`
  }
}

/** Disjoint spans kept so far, sorted by start (and so by end). */
class Disjoint {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  overlaps(start: number, end: number): boolean {
    const i = upperBound(this.starts, end - 1) - 1; // the last span starting before `end`
    return i >= 0 && this.ends[i]! > start;
  }
  add(start: number, end: number): void {
    const i = upperBound(this.starts, start);
    this.starts.splice(i, 0, start);
    this.ends.splice(i, 0, end);
  }
}

/** Merged spans, sorted; touching spans merge. */
function merged(spans: Candidate[]): [number, number][] {
  const out: [number, number][] = [];
  const sorted = spans.map((c): [number, number] => [c.start, c.end]).sort(byTuple);
  for (const [start, end] of sorted) {
    const top = out[out.length - 1];
    if (top && start <= top[1]) top[1] = Math.max(end, top[1]);
    else out.push([start, end]);
  }
  return out;
}

/** At least half of `cand`'s characters lie inside the merged spans (`ends` is their ends). */
function mostlyCovered(cand: Candidate, coveredBy: [number, number][], ends: number[]): boolean {
  let covered = 0;
  for (let i = upperBound(ends, cand.start); i < coveredBy.length; i++) {
    const [start, end] = coveredBy[i]!;
    if (start >= cand.end) break;
    covered += Math.min(cand.end, end) - Math.max(cand.start, start);
  }
  return 2 * covered >= cand.end - cand.start;
}

function resolve(candidates: Candidate[], size: number): Candidate[] {
  // The patient's own: longest first; one inside another of its kind is dropped.
  const patient: Candidate[] = [];
  const holders = new Map<FindingKind, Holders>();
  const patientCands = candidates
    .filter((c) => c.rank === R_PATIENT)
    .sort((a, b) => a.start - a.end - (b.start - b.end));
  for (const cand of patientCands) {
    let sameKind = holders.get(cand.kind);
    if (!sameKind) holders.set(cand.kind, (sameKind = new Holders(size)));
    if (sameKind.holds(cand.start, cand.end)) continue;
    sameKind.add(cand.start, cand.end);
    patient.push(cand);
  }
  // Patterns: strongest, then longest, then first; none may overlap one kept before it or be
  // mostly covered by the patient's own.
  const patientSpans = merged(patient);
  const patientEnds = patientSpans.map(([, end]) => end);
  const kept: Candidate[] = [];
  const keptSpans = new Disjoint();
  const key = (c: Candidate) => [c.rank, c.start - c.end, c.start];
  const others = candidates
    .filter((c) => c.rank !== R_PATIENT)
    .sort((a, b) => byTuple(key(a), key(b)));
  for (const cand of others) {
    if (mostlyCovered(cand, patientSpans, patientEnds)) continue;
    if (keptSpans.overlaps(cand.start, cand.end)) continue;
    keptSpans.add(cand.start, cand.end);
    kept.push(cand);
  }
  return [...patient, ...kept].sort((a, b) =>
    byTuple([a.start, a.end, a.rank], [b.start, b.end, b.rank]),
  );
}

/**
 * Identifiers in `text`, in order of position (code point spans); the rules are those of
 * src/clinphoto/imaging/identifiers.py. Throws RangeError for text longer than MAX_TEXT_CHARS
 * code points, and for a date of birth that is not an ISO date.
 */
export function findIdentifiers(text: string, patient: PatientIdentifiers | null): Finding[] {
  const length = cpLength(text);
  if (length > MAX_TEXT_CHARS) {
    throw new RangeError(
      `text is ${length} characters, over the ${MAX_TEXT_CHARS}-character limit`,
    );
  }
  const folded = fold(text);
  if (folded.text.length === 0) return [];
  const dob = patient?.dateOfBirth ? parseIsoDate(patient.dateOfBirth) : null;
  const candidates: Candidate[] = [
    ...healthCards(folded.text),
    ...ramq(folded.text),
    ...dateCandidates(folded.text, dob ? isoDate(dob) : null),
    ...simplePatterns(folded.text),
    ...labelled(folded),
  ];
  if (patient !== null) {
    const compact = compactOf(folded.text);
    candidates.push(...patientNames(folded, patient));
    candidates.push(...patientValues(folded, compact, patient, dob));
  }
  return resolve(candidates, folded.text.length).map((cand) => {
    const [start, end] = folded.span(cand.start, cand.end);
    return { kind: cand.kind, start, end, reason: cand.reason };
  });
}

/** Internals exported for the cross-check against Python's Unicode tables; not for the app. */
export const unicodeRulesForTests = {
  isAlnum,
  isAlpha,
  isDigit,
  isUpper,
  isLower,
  isSpace,
  combining,
  fold: (text: string) => fold(text).text.s,
  wordChar: (char: string) => new RegExp(`^[${WORD_CHAR}]$`, "u").test(char),
  decimal: (char: string) => /^\p{Nd}$/u.test(char),
};
