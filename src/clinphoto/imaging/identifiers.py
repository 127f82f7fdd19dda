"""Identifiers in the text that travels with an image (TRN-3, DEI-2).

:func:`find_identifiers` checks a file name, caption, share message or the text read from an
image (OCR) and returns :class:`Finding` values: what kind of identifier, where it is (a
``start:end`` span of the text as given) and a short reason. Reasons never repeat the value:
they are shown to the user and may be logged.

Two families of findings:

* The patient's own identifiers, when a :class:`PatientIdentifiers` is given (kinds starting
  with ``patient-``). Names match case- and accent-insensitively (NFKD, combining marks
  dropped) on word boundaries, where ``_``, ``-``, ``.``, digits and a lower-to-upper case
  change (``SmithJohn``) also end a word, so file names such as ``smith_john_wound.jpg``
  match. Names (and name parts) shorter than 2 characters are ignored; in a name of several
  parts (``van der Berg``, ``Mary-Jane``) the whole name matches with any or no separators,
  and each part of 3 or more characters that is not a particle (de, la, van...) also matches on
  its own. The MRN, health card, phone number and postal code compare with separators
  ignored (digits only when the value is all digits, a health card's digits also without its
  version code); values shorter than 4 characters are ignored. The date of birth matches in
  every date format below and in compact digit forms (YYYYMMDD, DDMMYYYY, MMDDYYYY).
* Patterns that identify anyone: Canadian health-card numbers, dates (``date-of-birth`` when
  a label such as "DOB", "born" or "date de naissance" comes just before), North American
  phone numbers, e-mail addresses, Canadian postal codes, street addresses, numbers labelled
  as a record number ("MRN", "Chart #", "Hosp no", "dossier"...) or as a health card ("OHIP",
  "PHN", "RAMQ"...), labelled or honorific names ("Name: ...", "Mrs ...") and wristband
  style "FAMILY, Given" names with the family name in capitals, and long unlabelled numbers
  (7+ digits).

Dates are recognised as 2026-11-24 (also with / . or _), 24/11/2026 or 11/24/2026 (also with
- . or _; a 2-digit year only with /), 20261124, and with an English or French month name:
Nov 24 2026, November 24th, 2026, 24 Nov 2026, 24-NOV-2026, 1er janvier 2026. Years run from
1900 to 2099 and the date must exist. Month-and-year alone and dates without a year are not
reported.

Health-card numbers by province. A check digit is verified only for ON (the Ministry of
Health's validation routine: Luhn mod 10, the 10th digit checking the first 9) and BC (the MSP
client-registry conformance standard, as implemented by python-stdnum's ``ca.bc_phn``). Other
provinces may have check digits, but without an authoritative description they are matched on
length and grouping alone, so any number of that length is reported: false positives are
accepted, this is a warning that a person resolves.

======  ========================  ==========================  ===============================
Prov.   Form                      Grouping recognised         Check
======  ========================  ==========================  ===============================
ON      10 digits + optional      1234567890, 1234-567-890,   Luhn mod 10 over all 10 digits
        2-letter version code     1234 567 890 AB              (Ministry of Health algorithm)
BC      10 digits starting 9      as ON                       mod 11, weights 2 4 8 5 10 9 7 3
                                                               on digits 2-9 (MSP standard)
NS      10 digits                 as ON                       none known: length only
QC      4 letters + 8 digits      ABCD12345678, ABCD 1234     month 01-12 or 51-62 and day
        (RAMQ / NAM)              5678                         01-31 checked (plausibility)
AB      9 digits                  123456789, 12345-6789       none: length only
SK, MB  9 digits                  123456789, 123 456 789      none: length only
NB, YT  9 digits                  as SK                       none: length only
NU      9 digits                  as SK                       none: length only
PE      8 digits                  12345678                    none: length only
NL      12 digits                 123456789012, 1234 5678     none: length only
                                  9012, 123 456 789 012
======  ========================  ==========================  ===============================

A 10-digit number with an Ontario version code is reported as Ontario even when the check
digit fails. A 10-digit number whose check digit fits neither ON nor BC is still reported (it
may be a Nova Scotia number), at a lower priority than a phone number of the same digits. Northwest
Territories numbers (a letter and 7 digits) are not recognised unlabelled. A 9-digit number
is also the length of a Social Insurance Number, which is just as identifying.

Where candidate findings overlap, the patient's own always stay; pattern findings at least
half covered by the patient's own are dropped; among the remaining pattern findings the
stronger kind wins (labelled > check-digit-valid or structured > phone/date > length-only >
long number), then the longer span.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "MAX_TEXT_CHARS",
    "Finding",
    "FindingKind",
    "PatientIdentifiers",
    "find_identifiers",
]

MAX_TEXT_CHARS = 200_000

FindingKind = Literal[
    "patient-name",
    "patient-mrn",
    "patient-health-card",
    "patient-dob",
    "patient-phone",
    "patient-email",
    "patient-postal-code",
    "health-card-number",
    "date",
    "date-of-birth",
    "phone",
    "email",
    "postal-code",
    "mrn-like",
    "name-like",
    "address",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientIdentifiers:
    """What is known about the patient a photo belongs to; every field is optional."""

    given_names: Sequence[str] = ()
    family_names: Sequence[str] = ()
    mrn: str | None = None
    health_card: str | None = None
    date_of_birth: dt.date | None = None
    phone: str | None = None
    email: str | None = None
    postal_code: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One identifier found in a text: ``text[start:end]`` and why, without the value."""

    kind: FindingKind
    start: int
    end: int
    reason: str

    @property
    def patient_specific(self) -> bool:
        """True when this is the patient's own identifier, not just a pattern."""
        return self.kind.startswith("patient-")


# --- ranks: lower wins when pattern findings overlap ------------------------------------------

_R_PATIENT = 0
_R_LABELLED = 1
_R_STRUCTURED = 2
_R_COMMON = 3
_R_LENGTH_ONLY = 4
_R_LONG_NUMBER = 5


@dataclass(frozen=True, slots=True)
class _Candidate:
    rank: int
    kind: FindingKind
    start: int  # in the folded text
    end: int
    reason: str


# --- folding: lower case, no accents, with a map back to the original text --------------------


@dataclass(frozen=True, slots=True)
class _Folded:
    original: str
    text: str
    index: list[int]  # index[i] is the position in ``original`` of folded character i

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of folded ``[start, end)``, with trailing combining marks."""
        first = self.index[start]
        last = self.index[end - 1] + 1
        while last < len(self.original) and unicodedata.combining(self.original[last]):
            last += 1
        return first, last


def _fold(text: str) -> _Folded:
    out: list[str] = []
    index: list[int] = []
    for position, char in enumerate(text):
        for part in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(part):
                continue
            for low in part.casefold():
                out.append(low)
                index.append(position)
    return _Folded(text, "".join(out), index)


def _fold_value(value: str) -> str:
    return _fold(value).text


@dataclass(frozen=True, slots=True)
class _Compact:
    """The folded text without separators, to compare values with separators ignored."""

    text: str
    index: list[int]  # into the folded text


_SEPARATORS = frozenset(" \t\r\n\f\v-\u2010\u2011\u2012\u2013\u2014\u2015./_()")


def _compact(folded: str) -> _Compact:
    out: list[str] = []
    index: list[int] = []
    for position, char in enumerate(folded):
        if char in _SEPARATORS:
            continue
        out.append(char)
        index.append(position)
    return _Compact("".join(out), index)


# --- building blocks ------------------------------------------------------------------------

_B0 = r"(?<![^\W_])"  # not preceded by a letter or digit ("_" counts as a separator)
_B1 = r"(?![^\W_])"  # not followed by a letter or digit
_DASH = "-\u2010\u2011\u2012\u2013\u2014\u2015"
_SEP = rf"(?:[ \t]?[{_DASH}][ \t]?|[ \t])"


def _alnum(char: str) -> bool:
    return char.isalnum()


def _digit(char: str) -> bool:
    return "0" <= char <= "9"


# --- health cards ----------------------------------------------------------------------------

_DIGIT_RUN = re.compile(rf"[0-9]+(?:{_SEP}[0-9]+)*")
_DIGIT_GROUP = re.compile(r"[0-9]+")
_VERSION_CODE = re.compile(rf"{_SEP}?[a-z]{{2}}{_B1}")
_HC_SHAPES = frozenset(
    {(8,), (9,), (5, 4), (3, 3, 3), (10,), (4, 3, 3), (12,), (4, 4, 4), (3, 3, 3, 3)}
)
_BC_WEIGHTS = (2, 4, 8, 5, 10, 9, 7, 3)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _bc_phn_ok(digits: str) -> bool:
    if len(digits) != 10 or digits[0] != "9":
        return False
    total = sum((w * int(d)) % 11 for w, d in zip(_BC_WEIGHTS, digits[1:9], strict=True))
    check = (11 - total % 11) % 11
    return check < 10 and int(digits[9]) == check


def _health_card_candidate(digits: str, versioned: bool) -> tuple[int, str]:
    if len(digits) == 10:
        if _bc_phn_ok(digits):
            return _R_STRUCTURED, "British Columbia PHN pattern (mod 11 check digit valid)"
        if _luhn_ok(digits):
            return _R_STRUCTURED, "Ontario health card number pattern (check digit valid)"
        if versioned:
            return _R_STRUCTURED, "Ontario health card number pattern with version code"
        return (
            _R_LENGTH_ONLY,
            "10-digit number: health card length in Ontario, British Columbia or Nova Scotia",
        )
    if len(digits) == 9:
        return (
            _R_LENGTH_ONLY,
            "9-digit number: health card length in Alberta, Saskatchewan, Manitoba,"
            " New Brunswick, Yukon or Nunavut (also a Social Insurance Number's length)",
        )
    if len(digits) == 8:
        return _R_LENGTH_ONLY, "8-digit number: Prince Edward Island health card length"
    return _R_LENGTH_ONLY, "12-digit number: Newfoundland and Labrador MCP number length"


def _health_cards(text: str) -> Iterator[_Candidate]:
    for run in _DIGIT_RUN.finditer(text):
        groups = [
            (m.start() + run.start(), m.end() + run.start())
            for m in _DIGIT_GROUP.finditer(run.group())
        ]
        for first in range(len(groups)):
            for last in range(first, min(first + 4, len(groups))):
                shape = tuple(end - start for start, end in groups[first : last + 1])
                if shape not in _HC_SHAPES:
                    continue
                start, end = groups[first][0], groups[last][1]
                if start > 0 and _alnum(text[start - 1]):
                    continue
                digits = "".join(text[s:e] for s, e in groups[first : last + 1])
                versioned = False
                if len(digits) == 10 and (version := _VERSION_CODE.match(text, end)):
                    end, versioned = version.end(), True
                elif end < len(text) and _alnum(text[end]):
                    continue
                rank, reason = _health_card_candidate(digits, versioned)
                yield _Candidate(rank, "health-card-number", start, end, reason)


_RAMQ = re.compile(
    rf"{_B0}[a-z]{{4}}{_SEP}?([0-9]{{2}})([0-9]{{2}}){_SEP}?([0-9]{{2}})[0-9]{{2}}{_B1}"
)


def _ramq(text: str) -> Iterator[_Candidate]:
    for match in _RAMQ.finditer(text):
        month, day = int(match.group(2)), int(match.group(3))
        if (1 <= month <= 12 or 51 <= month <= 62) and 1 <= day <= 31:
            yield _Candidate(
                _R_STRUCTURED,
                "health-card-number",
                match.start(),
                match.end(),
                "Quebec health insurance number (RAMQ) pattern",
            )


# --- dates -----------------------------------------------------------------------------------

_MONTHS = {
    "jan": 1, "january": 1, "janv": 1, "janvier": 1,
    "feb": 2, "february": 2, "fev": 2, "fevr": 2, "fevrier": 2,
    "mar": 3, "march": 3, "mars": 3,
    "apr": 4, "april": 4, "avr": 4, "avril": 4,
    "may": 5, "mai": 5,
    "jun": 6, "june": 6, "juin": 6,
    "jul": 7, "july": 7, "juil": 7, "juillet": 7,
    "aug": 8, "august": 8, "aout": 8,
    "sep": 9, "sept": 9, "september": 9, "septembre": 9,
    "oct": 10, "october": 10, "octobre": 10,
    "nov": 11, "november": 11, "novembre": 11,
    "dec": 12, "december": 12, "decembre": 12,
}  # fmt: skip
_MONTH = "(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR4 = r"(?P<y>(?:19|20)[0-9]{2})"
_DATE_SEP = r"[ \t\-/.,_]*"

_ISO_DATE = re.compile(
    r"(?<![0-9])(?P<y>(?:19|20)[0-9]{2})(?P<s>[-/._])(?P<m>[0-9]{1,2})(?P=s)"
    r"(?P<d>[0-9]{1,2})(?![0-9])"
)
_NUMERIC_DATE = re.compile(
    r"(?<![0-9])(?P<a>[0-9]{1,2})(?P<s>[-/._])(?P<b>[0-9]{1,2})(?P=s)"
    r"(?P<y>(?:19|20)[0-9]{2}|[0-9]{2})(?![0-9])"
)
_COMPACT_DATE = re.compile(
    r"(?<![0-9])(?P<y>(?:19|20)[0-9]{2})(?P<m>[0-9]{2})(?P<d>[0-9]{2})(?![0-9])"
)
_MONTH_FIRST_DATE = re.compile(
    rf"(?<![^\W_]){_MONTH}{_DATE_SEP}(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?{_DATE_SEP}{_YEAR4}"
    rf"(?![0-9])"
)
_DAY_FIRST_DATE = re.compile(
    rf"(?<![0-9])(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th|er)?{_DATE_SEP}{_MONTH}{_DATE_SEP}{_YEAR4}"
    rf"(?![0-9])"
)
_DOB_LABEL = re.compile(
    rf"{_B0}(?:d\.?[ \t]?o\.?[ \t]?b\.?|born(?:[ \t]+on)?|birth[ \t]*(?:date|day)?"
    rf"|date[ \t]+of[ \t]+birth|nee?[ \t]+le|(?:date[ \t]+de[ \t]+)?naissance"
    rf"|d\.?[ \t]?d\.?[ \t]?n\.?)[ \t]*[:#=\-]?[ \t]*$"
)


def _valid_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _years(text: str) -> list[int]:
    year = int(text)
    return [year] if len(text) == 4 else [1900 + year, 2000 + year]


@dataclass(frozen=True, slots=True)
class _DateMatch:
    start: int
    end: int
    dates: frozenset[dt.date]
    form: str


def _dates(text: str) -> Iterator[_DateMatch]:
    for match in _ISO_DATE.finditer(text):
        day = _valid_date(int(match["y"]), int(match["m"]), int(match["d"]))
        if day is not None:
            yield _DateMatch(match.start(), match.end(), frozenset({day}), "year-month-day")
    for match in _NUMERIC_DATE.finditer(text):
        if len(match["y"]) == 2 and match["s"] != "/":
            continue
        a, b = int(match["a"]), int(match["b"])
        found = {
            day
            for year in _years(match["y"])
            for day in (_valid_date(year, b, a), _valid_date(year, a, b))
            if day is not None
        }
        if found:
            yield _DateMatch(
                match.start(), match.end(), frozenset(found), "day/month/year or month/day/year"
            )
    for match in _COMPACT_DATE.finditer(text):
        day = _valid_date(int(match["y"]), int(match["m"]), int(match["d"]))
        if day is not None:
            yield _DateMatch(match.start(), match.end(), frozenset({day}), "compact YYYYMMDD")
    for pattern in (_MONTH_FIRST_DATE, _DAY_FIRST_DATE):
        for match in pattern.finditer(text):
            day = _valid_date(int(match["y"]), _MONTHS[match["mon"]], int(match["d"]))
            if day is not None:
                yield _DateMatch(match.start(), match.end(), frozenset({day}), "month-name")


def _date_candidates(text: str, dob: dt.date | None) -> Iterator[_Candidate]:
    for found in _dates(text):
        if dob is not None and dob in found.dates:
            yield _Candidate(
                _R_PATIENT,
                "patient-dob",
                found.start,
                found.end,
                "matches the patient's date of birth",
            )
        elif _DOB_LABEL.search(text, max(0, found.start - 30), found.start):
            yield _Candidate(
                _R_LABELLED,
                "date-of-birth",
                found.start,
                found.end,
                f"date labelled as a date of birth ({found.form} form)",
            )
        else:
            yield _Candidate(
                _R_COMMON, "date", found.start, found.end, f"date in {found.form} form"
            )


# --- phone, e-mail, postal code, address ----------------------------------------------------

_PHONE = re.compile(
    rf"{_B0}(?:\+?1[ \t.\-]?)?(?:\([2-9][0-9]{{2}}\)[ \t]?|[2-9][0-9]{{2}}[ \t.\-]?)"
    rf"[2-9][0-9]{{2}}[ \t.\-]?[0-9]{{4}}(?:[ \t]*(?:x|ext\.?|poste)[ \t]*[0-9]{{1,6}})?{_B1}"
)
_EMAIL = re.compile(
    r"(?<![0-9a-z_.%+\-])[0-9a-z_.%+\-]{1,64}@[0-9a-z\-]{1,63}(?:\.[0-9a-z\-]{1,63}){0,8}"
    r"\.[a-z]{2,24}(?![0-9a-z\-])"
)
_POSTAL = re.compile(
    rf"{_B0}[abceghj-nprstvxy][0-9][abceghj-nprstv-z][ \t\-]?[0-9][abceghj-nprstv-z][0-9]{_B1}"
)
_ADDRESS_EN = re.compile(
    rf"{_B0}[0-9]{{1,6}}[a-z]?(?:[ \t]*[-,][ \t]*[0-9]{{1,6}})?[ \t]+"
    rf"(?:[a-z][a-z'.\-]*[ \t]+){{1,4}}"
    rf"(?:street|st|avenue|ave|road|rd|boulevard|blvd|drive|crescent|cres|court|lane"
    rf"|terrace|parkway|pkwy|highway|hwy|trail)\.?"
    rf"(?:[ \t]+(?:north|south|east|west|[nsew]|ne|nw|se|sw)\.?)?{_B1}"
)
_ADDRESS_FR = re.compile(
    rf"{_B0}[0-9]{{1,6}}[a-z]?,?[ \t]+"
    rf"(?:rue|avenue|av|boulevard|boul|chemin|rang|montee|route|impasse|allee)\.?[ \t]+[a-z]"
    rf"[a-z'\-]*"
)


def _simple_patterns(text: str) -> Iterator[_Candidate]:
    for match in _PHONE.finditer(text):
        yield _Candidate(
            _R_COMMON, "phone", match.start(), match.end(), "North American phone number"
        )
    if "@" in text:
        for match in _EMAIL.finditer(text):
            yield _Candidate(_R_STRUCTURED, "email", match.start(), match.end(), "e-mail address")
    for match in _POSTAL.finditer(text):
        yield _Candidate(
            _R_STRUCTURED, "postal-code", match.start(), match.end(), "Canadian postal code"
        )
    for pattern in (_ADDRESS_EN, _ADDRESS_FR):
        for match in pattern.finditer(text):
            yield _Candidate(
                _R_STRUCTURED, "address", match.start(), match.end(), "street address pattern"
            )


# --- labelled numbers and names -------------------------------------------------------------

_NUMBER_WORD = r"(?:(?:no|num|number|numero|n°|#)\.?[ \t]*[:#=]?[ \t]*)?"
_LABEL_TAIL = rf"[ \t]*[:#=.]?[ \t]*{_NUMBER_WORD}"
_MRN_LABEL = re.compile(
    rf"{_B0}(?:mrn|mr[ \t]*#|mr[ \t]*no|med(?:ical)?[ \t]*rec(?:ord)?s?|chart"
    rf"|hosp(?:ital)?\.?[ \t]*(?:no|num|number|#|id)|patient[ \t]*(?:id|no|num|number|#)"
    rf"|pt\.?[ \t]*(?:id|no|#)|pid|encounter|visit[ \t]*(?:no|number|#|id)"
    rf"|acct|account[ \t]*(?:no|number|#)|(?:no|numero)[ \t]+(?:de[ \t]+)?dossier|dossier)"
    rf"{_LABEL_TAIL}"
    rf"(?P<v>(?:[a-z]{{1,3}}[ \t\-]?)?[0-9](?:[ \t\-]?[0-9]){{3,15}}(?:[ \t\-]?[a-z]{{1,2}})?)"
    rf"{_B1}"
)
_HC_LABEL = re.compile(
    rf"{_B0}(?:hcn|ohip|phn|phin|ramq|nam|ahcip|msp|mcp|msi|hsn|medicare"
    rf"|health[ \t]*(?:card|care|insurance|services?)?(?:[ \t]*(?:no|num|number|#))?"
    rf"|carte[ \t]+(?:sante|soleil|d'assurance[ \t\-]maladie)"
    rf"|(?:no|numero)[ \t]+d'assurance[ \t\-]maladie)"
    rf"{_LABEL_TAIL}"
    rf"(?P<v>(?:[a-z]{{1,4}}[ \t\-]?)?[0-9](?:[ \t\-]?[0-9]){{5,13}}(?:[ \t\-]?[a-z]{{1,2}})?)"
    rf"{_B1}"
)
_LONG_NUMBER = re.compile(rf"{_B0}(?:[a-z]{{1,3}})?[0-9]{{7,}}{_B1}")

_WORD = r"[^\W\d_]+(?:['\-][^\W\d_]+)*"
_WORD_RE = re.compile(_WORD)
_NAME_LABEL = re.compile(
    rf"{_B0}(?:patient(?:'s)?[ \t]+name|patient|pt|name|full[ \t]+name|nom(?:[ \t]+du"
    rf"[ \t]+patient)?|prenom|surname|family[ \t]+name|last[ \t]+name|first[ \t]+name"
    rf"|given[ \t]+name)[ \t]*[:=][ \t]*"
)
_HONORIFIC = re.compile(rf"{_B0}(?:mr|mrs|ms|miss|mme|mlle|mx)\.?[ \t]+(?={_WORD})")
_FAMILY_COMMA_GIVEN = re.compile(rf"{_B0}(?P<family>{_WORD}),[ \t]*(?P<given>{_WORD}){_B1}")
_NAME_GAP = re.compile(r",?[ \t]+")


def _original_first(folded: _Folded, start: int) -> str:
    return folded.original[folded.index[start]]


def _capitalised_words(folded: _Folded, pos: int, most: int) -> int | None:
    """End of the run of up to ``most`` capitalised words at ``pos``; None if there is none."""
    end: int | None = None
    for _ in range(most):
        word = _WORD_RE.match(folded.text, pos)
        if word is None or not _original_first(folded, word.start()).isupper():
            break
        end = word.end()
        gap = _NAME_GAP.match(folded.text, end)
        if gap is None:
            break
        pos = gap.end()
    if end is not None and end < len(folded.text) and _alnum(folded.text[end]):
        return None
    return end


def _all_caps(folded: _Folded, start: int, end: int) -> bool:
    original_start, original_end = folded.span(start, end)
    letters = [c for c in folded.original[original_start:original_end] if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _labelled(folded: _Folded) -> Iterator[_Candidate]:
    text = folded.text
    for match in _MRN_LABEL.finditer(text):
        yield _Candidate(
            _R_LABELLED,
            "mrn-like",
            match.start("v"),
            match.end("v"),
            "number labelled as a medical record or chart number",
        )
    for match in _HC_LABEL.finditer(text):
        yield _Candidate(
            _R_LABELLED,
            "health-card-number",
            match.start("v"),
            match.end("v"),
            "number labelled as a health card number",
        )
    for match in _LONG_NUMBER.finditer(text):
        yield _Candidate(
            _R_LONG_NUMBER,
            "mrn-like",
            match.start(),
            match.end(),
            "long unlabelled number (possible record number)",
        )
    for match in _NAME_LABEL.finditer(text):
        end = _capitalised_words(folded, match.end(), 3)
        if end is not None:
            yield _Candidate(_R_LABELLED, "name-like", match.end(), end, "text labelled as a name")
    for match in _HONORIFIC.finditer(text):
        end = _capitalised_words(folded, match.end(), 2)
        if end is not None:
            yield _Candidate(_R_COMMON, "name-like", match.start(), end, "title followed by a name")
    pos = 0
    while (pair := _FAMILY_COMMA_GIVEN.search(text, pos)) is not None:
        if (
            _all_caps(folded, pair.start("family"), pair.end("family"))
            and _original_first(folded, pair.start("given")).isupper()
        ):
            yield _Candidate(
                _R_COMMON,
                "name-like",
                pair.start(),
                pair.end(),
                "looks like a 'FAMILY, Given' name",
            )
            pos = pair.end()
        else:
            pos = pair.start("given")  # the given name may start the next pair


# --- the patient's own identifiers ----------------------------------------------------------

# Particles of multi-part names, not matched on their own.
_PARTICLES = frozenset(
    {"de", "du", "des", "la", "le", "les", "van", "von", "der", "den", "di", "da", "del"}
    | {"della", "dos", "das", "el", "al", "bin", "ben", "ter", "ten", "st", "saint", "sainte"}
)
_NAME_SPLIT = re.compile(r"[\s\-'\u2019._,]+")
_NAME_JOIN = r"[ \t\-'\u2019._]*"
_MIN_VALUE_CHARS = 4


def _word_edge(original: str, before: int, after: int) -> bool:
    """Whether a name may end between original[before] and original[after]."""
    if before < 0 or after >= len(original):
        return True
    left, right = original[before], original[after]
    if not left.isalnum() or not right.isalnum():
        return True
    if left.isdigit() != right.isdigit():
        return True
    return left.islower() and right.isupper()


def _name_patterns(names: Sequence[str], which: str) -> list[tuple[re.Pattern[str], str]]:
    patterns: list[tuple[re.Pattern[str], str]] = []
    for name in names:
        parts = [part for part in _NAME_SPLIT.split(_fold_value(name)) if part]
        if not parts or len("".join(parts)) < 2:
            continue
        reason = f"matches the patient's {which} name"
        patterns.append((re.compile(_NAME_JOIN.join(map(re.escape, parts))), reason))
        if len(parts) > 1:
            for part in parts:
                if len(part) >= 3 and part not in _PARTICLES:
                    patterns.append((re.compile(re.escape(part)), f"{reason} (part of it)"))
    return patterns


def _patient_names(folded: _Folded, patient: PatientIdentifiers) -> Iterator[_Candidate]:
    patterns = _name_patterns(patient.family_names, "family") + _name_patterns(
        patient.given_names, "given"
    )
    for pattern, reason in patterns:
        for match in pattern.finditer(folded.text):
            start, end = folded.span(match.start(), match.end())
            if _word_edge(folded.original, start - 1, start) and _word_edge(
                folded.original, end - 1, end
            ):
                yield _Candidate(_R_PATIENT, "patient-name", match.start(), match.end(), reason)


def _gap_has_space(text: str, start: int, end: int) -> bool:
    return any(char.isspace() for char in text[start:end])


def _separate(
    folded: _Folded,
    compact: _Compact,
    at: int,
    neighbour: int,
    edge: Callable[[str], bool],
    spaced_ok: bool,
) -> bool:
    """Whether the match edge at folded index ``at`` is not inside a longer value.

    ``neighbour`` is the compact index of the character beyond the edge: a letter or digit
    there belongs to the same value, since only separators lie between, unless it is a letter
    against a digit (or the reverse), or ``spaced_ok`` and the gap holds white space
    (``Room 8 1234567`` when the match has no space of its own).
    """
    if neighbour < 0 or neighbour >= len(compact.text) or not edge(compact.text[neighbour]):
        return True
    other = compact.index[neighbour]
    if abs(other - at) > 1 and _digit(folded.text[other]) != _digit(folded.text[at]):
        return True  # a separated letter next to a digit, or the reverse: "OHIP 1234..."
    if not spaced_ok:
        return False
    gap = (other + 1, at) if other < at else (at + 1, other)
    return _gap_has_space(folded.text, *gap)


def _find_compact(
    folded: _Folded, compact: _Compact, needle: str, *, digits_only: bool
) -> Iterator[tuple[int, int]]:
    """Folded spans where ``needle`` occurs with separators ignored, not inside a longer value."""
    edge = _digit if digits_only else _alnum
    position = compact.text.find(needle)
    while position >= 0:
        last = position + len(needle) - 1
        start, end = compact.index[position], compact.index[last] + 1
        spaced_ok = not _gap_has_space(folded.text, start, end)
        if _separate(folded, compact, start, position - 1, edge, spaced_ok) and _separate(
            folded, compact, end - 1, last + 1, edge, spaced_ok
        ):
            yield start, end
        position = compact.text.find(needle, position + 1)


def _needles(value: str | None) -> list[tuple[str, bool]]:
    """(needle, digits_only) forms of a patient value, separators removed."""
    if value is None:
        return []
    alnum = re.sub(r"[^0-9a-z]", "", _fold_value(value))
    digits = re.sub(r"[^0-9]", "", alnum)
    out: list[tuple[str, bool]] = []
    if alnum and alnum == digits:
        if len(digits) >= _MIN_VALUE_CHARS:
            out.append((digits, True))
        return out
    if len(alnum) >= _MIN_VALUE_CHARS:
        out.append((alnum, False))
    if len(digits) >= 6:
        out.append((digits, True))
    return out


def _phone_needles(value: str | None) -> list[tuple[str, bool]]:
    if value is None:
        return []
    digits = re.sub(r"[^0-9]", "", value)
    if len(digits) < 7:
        return []
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return [(digits, True), ("1" + digits, True)]


def _dob_needles(dob: dt.date | None) -> list[tuple[str, bool]]:
    if dob is None:
        return []
    forms = {dob.strftime("%Y%m%d"), dob.strftime("%d%m%Y"), dob.strftime("%m%d%Y")}
    return [(form, True) for form in sorted(forms)]


def _patient_values(
    folded: _Folded, compact: _Compact, patient: PatientIdentifiers
) -> Iterator[_Candidate]:
    checks: list[tuple[FindingKind, str, list[tuple[str, bool]]]] = [
        ("patient-mrn", "matches the patient's MRN", _needles(patient.mrn)),
        (
            "patient-health-card",
            "matches the patient's health card number",
            _needles(patient.health_card),
        ),
        ("patient-dob", "matches the patient's date of birth", _dob_needles(patient.date_of_birth)),
        ("patient-phone", "matches the patient's phone number", _phone_needles(patient.phone)),
        (
            "patient-postal-code",
            "matches the patient's postal code",
            _needles(patient.postal_code),
        ),
    ]
    for kind, reason, needles in checks:
        for needle, digits_only in needles:
            for start, end in _find_compact(folded, compact, needle, digits_only=digits_only):
                yield _Candidate(_R_PATIENT, kind, start, end, reason)
    if patient.email:
        email = _fold_value(patient.email.strip())
        if len(email) >= _MIN_VALUE_CHARS:
            pattern = re.compile(rf"(?<![0-9a-z_.%+\-]){re.escape(email)}(?![0-9a-z\-])")
            for match in pattern.finditer(folded.text):
                yield _Candidate(
                    _R_PATIENT,
                    "patient-email",
                    match.start(),
                    match.end(),
                    "matches the patient's e-mail address",
                )


# --- resolution ------------------------------------------------------------------------------


def _merged(spans: list[_Candidate]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted((c.start, c.end) for c in spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _mostly_covered(cand: _Candidate, covered_by: list[tuple[int, int]], starts: list[int]) -> bool:
    """At least half of ``cand``'s characters lie inside the (merged, sorted, disjoint) spans
    ``covered_by``, whose starts are ``starts``; only the spans that reach ``cand`` are read."""
    covered = 0
    i = max(0, bisect.bisect_right(starts, cand.start) - 1)
    while i < len(covered_by) and covered_by[i][0] < cand.end:
        start, end = covered_by[i]
        covered += max(0, min(cand.end, end) - max(cand.start, start))
        i += 1
    return 2 * covered >= cand.end - cand.start


class _Containers:
    """Spans kept so far, each of one kind; answers "is this span inside one of them?" in
    logarithmic time (a Fenwick tree of the largest end over spans by start), so an OCR text
    of 200,000 characters with thousands of candidates is resolved in well under a second."""

    def __init__(self, starts: list[int]) -> None:
        self._starts = sorted(set(starts))
        self._tree = [-1] * (len(self._starts) + 1)

    def add(self, start: int, end: int) -> None:
        i = bisect.bisect_left(self._starts, start) + 1
        while i < len(self._tree):
            self._tree[i] = max(self._tree[i], end)
            i += i & -i

    def contains(self, start: int, end: int) -> bool:
        """Some kept span has start <= ``start`` and end >= ``end``."""
        i = bisect.bisect_right(self._starts, start)
        best = -1
        while i > 0:
            best = max(best, self._tree[i])
            i -= i & -i
        return best >= end


def _resolve(candidates: list[_Candidate]) -> list[_Candidate]:
    """Keep the patient's own identifiers not inside a longer one of the same kind; then the
    other candidates by rank, longest first, each unless mostly covered by the patient's
    identifiers or overlapping one already kept."""
    own = [c for c in candidates if c.rank == _R_PATIENT]
    by_kind: dict[FindingKind, _Containers] = {}
    for kind in {c.kind for c in own}:
        by_kind[kind] = _Containers([c.start for c in own if c.kind == kind])
    patient: list[_Candidate] = []
    for cand in sorted(own, key=lambda c: c.start - c.end):
        if not by_kind[cand.kind].contains(cand.start, cand.end):
            by_kind[cand.kind].add(cand.start, cand.end)
            patient.append(cand)
    patient_spans = _merged(patient)
    patient_starts = [start for start, _ in patient_spans]
    kept: list[_Candidate] = []
    # The kept spans never overlap one another, so sorted by start their ends are sorted too:
    # a new span overlaps some kept span exactly when it overlaps the last one starting
    # before its end.
    kept_starts: list[int] = []
    kept_ends: list[int] = []
    for cand in sorted(
        (c for c in candidates if c.rank != _R_PATIENT),
        key=lambda c: (c.rank, c.start - c.end, c.start),
    ):
        if _mostly_covered(cand, patient_spans, patient_starts):
            continue
        i = bisect.bisect_left(kept_starts, cand.end)
        if i > 0 and kept_ends[i - 1] > cand.start:
            continue
        kept_starts.insert(i, cand.start)
        kept_ends.insert(i, cand.end)
        kept.append(cand)
    return sorted(patient + kept, key=lambda c: (c.start, c.end, c.rank))


def find_identifiers(text: str, patient: PatientIdentifiers | None = None) -> list[Finding]:
    """Identifiers in ``text``, in order of position; see the module docstring for the rules.

    Raises ValueError for text longer than :data:`MAX_TEXT_CHARS` characters.
    """
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(
            f"text is {len(text)} characters, over the {MAX_TEXT_CHARS}-character limit"
        )
    folded = _fold(text)
    if not folded.text:
        return []
    dob = patient.date_of_birth if patient is not None else None
    candidates: list[_Candidate] = [
        *_health_cards(folded.text),
        *_ramq(folded.text),
        *_date_candidates(folded.text, dob),
        *_simple_patterns(folded.text),
        *_labelled(folded),
    ]
    if patient is not None:
        compact = _compact(folded.text)
        candidates.extend(_patient_names(folded, patient))
        candidates.extend(_patient_values(folded, compact, patient))
    findings: list[Finding] = []
    for cand in _resolve(candidates):
        start, end = folded.span(cand.start, cand.end)
        findings.append(Finding(cand.kind, start, end, cand.reason))
    return findings
