"""Write tests/vectors/caption-check.json: the caption and message check's shared cases (TRN-3).

The phone app checks a caption or share message for identifiers before sealing it
(web/src/lib/identifiers.ts) by the rules of :mod:`clinphoto.imaging.identifiers`. Each case
here is a text, an optional patient and what :func:`find_identifiers` finds in it; the Python
suite (tests/unit/test_caption_vectors.py) checks that the file is exactly what this module
writes now, and both suites check every case against their own implementation. So a change
to a Python rule fails the tests until the vectors are regenerated, and then fails the web
app's tests until the TypeScript follows.

    python -m tools.caption_vectors          # rewrite the file
    python -m tools.caption_vectors --check  # exit 1 if the file is out of date

Spans are Python string indices, that is code points (not UTF-16 units). Every text uses only
characters assigned in Python's Unicode version (written into the file), apart from lone
surrogates used on purpose: a browser with a newer Unicode may class newer characters
differently, and no rule can be shared for those.
"""

# The cases use look-alike characters (fullwidth, mathematical, typographic) on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import unicodedata
from pathlib import Path
from typing import Any

from clinphoto.client.text import patient_identifiers
from clinphoto.imaging.identifiers import PatientIdentifiers, find_identifiers

__all__ = ["VECTORS", "build", "main", "patient_from_json", "patient_to_json", "render"]

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors" / "caption-check.json"

# --- patients -------------------------------------------------------------------------------

PATIENTS: dict[str, PatientIdentifiers] = {
    "obrien": PatientIdentifiers(
        given_names=["José", "Mary-Jane"],
        family_names=["O'Brien", "van der Berg"],
        mrn="1234567",
        health_card="1234-567-897-AB",
        date_of_birth=dt.date(1980, 3, 15),
        phone="(613) 555-0199",
        email="Jose.OBrien@example.ca",
        postal_code="K1A 0B1",
    ),
    "tremblay": PatientIdentifiers(
        given_names=["Marie-Ève"],
        family_names=["Tremblay"],
        mrn="M00123456",
        health_card="TREM 5711 0112",
        date_of_birth=dt.date(1957, 11, 1),
        phone="+1 514 555 0123",
        email="m.tremblay@example.qc.ca",
        postal_code="H2X 1Y4",
    ),
    "li": PatientIdentifiers(given_names=["J"], family_names=["Li"], mrn="12"),
    "strauss": PatientIdentifiers(
        given_names=["Jürgen"], family_names=["Strauß"], date_of_birth=dt.date(2001, 2, 3)
    ),
    "greek": PatientIdentifiers(given_names=["Νίκος"], family_names=["Παπαδόπουλος"]),
    "astral": PatientIdentifiers(
        given_names=["花子"], family_names=["𠀋田"], mrn="AB-12-34", phone="416.555.0142"
    ),
    "stpierre": PatientIdentifiers(
        given_names=["Jean-François"],
        family_names=["St-Pierre", "D'Arcy"],
        health_card="9698 658 215",
        date_of_birth=dt.date(2000, 1, 2),
    ),
    "macleod": PatientIdentifiers(
        given_names=["Ann", "Seán"], family_names=["MacLeod"], postal_code="T2P 1J9"
    ),
    "cherokee": PatientIdentifiers(given_names=["ᏣᎳᎩ"], family_names=["Ꮎꮎ"]),
    # Regular expression syntax in names and values must match literally.
    "syntax": PatientIdentifiers(
        given_names=["Ke$ha", "A+B"],
        family_names=["Smith (Jr.)", "[Ng]"],
        email="jean-luc.o'neil+x@ex-ample.ca",
        mrn="(12)*34^56",
    ),
}

# --- cases: (rule, text, patient) ------------------------------------------------------------

Case = tuple[str, str, str | None]


def _cases(rule: str, patient: str | None, *texts: str) -> list[Case]:
    return [(rule, text, patient) for text in texts]


CASES: list[Case] = [
    # The patient's names: case, accents, separators, word edges, particles.
    *_cases(
        "patient-name",
        "obrien",
        "obrien_jose_wound.jpg",
        "OBRIEN-JOSE.wound.jpeg",
        "Photo of Jose O'Brien's forearm",
        "JoséOBrien2026.jpg",
        "seen: JOSE\u0301 today",
        "mary jane, vanderberg",
        "Mary\u2019Jane van-der-berg",
        "Dr Berg reviewed",
        "Joseph Brienne",
        "josephine",
        "smithjose",
        "Vanderbergh",
        "der",
        "le van",
        "JOSÉ",
        "jose\u0301\u0323 o\u0301brien",
        "Jos\u00e9 and Jose\u0301 (NFC and NFD)",
        "ｊｏｓｅ ＯＢＲＩＥＮ",  # fullwidth letters fold to ASCII
        "𝐉𝐨𝐬𝐞 𝐎'𝐁𝐫𝐢𝐞𝐧",  # mathematical bold letters (astral) fold to ASCII
        "😀 obrien 😀 jose",
        "Jo\u00adse",  # a soft hyphen is not a separator: no match
        "Jo\u200bse",  # nor is a zero-width space
        "jose2obrien",
        "2jose",
        "joseObrien",
        "JoseOBRIEN",
        "jOSE",
        "O Brien",
        "O.Brien",
        "mary-jane",
        "maryjane",
        "Mary",
        "Jane",
        "BERG, Mary",
        "berg_JOSE_img",
        "\u0301jose",
        "jose\u0301\u0301\u0301!",
        "jose²",  # a superscript digit ends a word (str.isdigit), as an ASCII one does
        "①jose",
        "jose١",  # so does an Arabic-Indic digit
        "joseⅫ",  # a Roman numeral is upper case (Other_Uppercase): a lower-to-upper edge
        "joseǅ",  # a title-case letter is not upper case: no word edge
        "joseΕ",  # a capital of another script is: Greek capital epsilon
        "JOSEobrien",
    ),
    *_cases(
        "patient-name",
        "li",
        "J. Li wound",
        "a j b",
        "LI",
        "Li2",
        "li_j",
        "Lima",
        "Oli",
        "bed 12",
    ),
    *_cases(
        "patient-name",
        "tremblay",
        "marie eve tremblay",
        "MARIE-ÈVE TREMBLAY",
        "Marie Ève",
        "marieeve",
        "Ève",
        "eve",
        "Marie",
        "tremblay_marieeve_20241105.jpg",
        "Tremblay-Gagnon",
        "Tremblays",
    ),
    *_cases(
        "patient-name",
        "strauss",
        "Strauß",
        "STRAUSS",
        "strauss",
        "Straus",
        "JÜRGEN",
        "Juergen",
        "jurgen strauss 03/02/2001",
        "STRAUẞ",  # capital sharp s
    ),
    *_cases(
        "patient-name",
        "greek",
        "ΝΙΚΟΣ ΠΑΠΑΔΟΠΟΥΛΟΣ",
        "νικος παπαδοπουλος",
        "Νίκος Παπαδόπουλος",
        "Νικοσ",
        "ΝΙΚΟΣΑ",
    ),
    *_cases(
        "patient-name",
        "astral",
        "𠀋田花子さん",
        "患者: 𠀋田 花子",
        "😀𠀋田",
        "𠀋田x",
        "MRN AB 12 34 for 𠀋田",
        "ab1234",
        "call 416 555 0142 re 花子",
    ),
    *_cases(
        "patient-name",
        "stpierre",
        "Jean-François St-Pierre",
        "jean francois saint pierre",
        "stpierre_jf",
        "Pierre",
        "St",
        "darcy",
        "D’Arcy",
        "Arcy",
        "Jean",
        "Francois",
        "François",
        "FRANCOIS",
    ),
    *_cases(
        "patient-name",
        "macleod",
        "Ann MacLeod",
        "ann macleod",
        "Anne",
        "annMacleod",
        "SEAN MACLEOD",
        "Sean",
        "Ann2",
    ),
    *_cases(
        "patient-name",
        "syntax",
        "Ke$ha Smith (Jr.)",
        "kesha",
        "a+b smith jr",
        "ab",
        "a b",
        "aaab",
        "[ng] ng",
        "Jean-Luc.O'Neil+X@Ex-Ample.ca",
        "jean-luc.o'neil+x@ex-ample.cat",
        "mrn 123456",
        "(12)*34^56",
        "12.34.56",
    ),
    *_cases("patient-name", "cherokee", "ᏣᎳᎩ", "ꮳꮃꭹ", "Ꮎꮎ ᏣᎳᎩ", "ꮎꮎ"),
    # The patient's values with separators ignored.
    *_cases(
        "patient-values",
        "obrien",
        "MRN: 1234567 seen",
        "chart 123-4567",
        "Room 8 1234567",
        "OHIP 1234 567 897 AB",
        "hcn:1234567897",
        "hcn 1234567897ab",
        "call 613.555.0199",
        "call 1-613-555-0199",
        "call 16135550199",
        "JOSE.OBRIEN@EXAMPLE.CA wrote",
        "x.jose.obrien@example.ca",
        "jose.obrien@example.ca.uk",
        "lives near k1a-0b1",
        "K1A0B1",
        "81234567",
        "12345678",
        "1234 567 8",
        "1234 5678",
        "１２３４５６７",  # fullwidth digits fold to ASCII
        "𝟏𝟐𝟑𝟒𝟓𝟔𝟕",  # mathematical bold digits (astral) fold to ASCII
        "١٢٣٤٥٦٧",  # Arabic-Indic digits are not 0-9
        "¹²³⁴⁵⁶⁷",  # superscript digits fold to ASCII
        "①②③④⑤⑥⑦",  # circled digits fold to ASCII
        "MRN 1234567\u00a0x",
        "A1234567",
        "1234567B",
        "(123) 4567",
        "123_4567",
        "MRN 1234567, DOB 1980-03-15, call +1 613 555 0199",
    ),
    *_cases(
        "patient-values",
        "tremblay",
        "dossier M00123456",
        "m-00123456",
        "00123456",
        "M 00123456 chart",
        "RAMQ TREM 5711 0112",
        "trem57110112",
        "57110112",
        "tel 514-555-0123",
        "M.Tremblay@Example.QC.CA",
        "h2x1y4",
        "H2X 1Y4 Montréal",
        "né le 1er novembre 1957",
        "01/11/1957",
        "11/01/1957",
        "1957-11-01",
        "19571101",
        "01111957",
        "1 nov. 1957",
    ),
    *_cases(
        "patient-values",
        "astral",
        "id AB-12-34",
        "ab 12 34",
        "ab1234x",
        "xab1234",
        "4165550142",
        "1 416 555 0142",
        "+1 (416) 555-0142 ext 22",
    ),
    *_cases(
        "patient-values",
        "stpierre",
        "PHN 9698 658 215",
        "9698658215",
        "DOB 2000-01-02",
        "02/01/2000",
        "01/02/2000",
        "02.01.2000",
        "2 janvier 2000",
        "Jan 2 2000",
        "20000102",
        "02012000",
        "01022000",
        "2000-02-01",
    ),
    *_cases("patient-values", "macleod", "T2P 1J9", "t2p-1j9 Calgary", "T2P1J9X"),
    # Health-card numbers by province.
    *_cases(
        "health-card",
        None,
        "card 1234567897 seen",
        "card 1234-567-897 seen",
        "card 1234 - 567 - 897 - AB seen",
        "card 1234-567-890-AB seen",
        "card 1234567890ab seen",
        "card 1234567890abc seen",
        "card 9698 658 215 seen",
        "card TREM 8053 1512 seen",
        "card trem80031512 seen",
        "1234567898",
        "9698 648 215",
        "no 12345-6789.",
        "no 123 456 789.",
        "no 123456789.",
        "no 12345678.",
        "no 123456789012.",
        "no 1234 5678 9012.",
        "no 123 456 789 012.",
        "no 1234 5678 90123.",
        "ABCD 8013 1512",
        "ABCD 8063 1512",
        "ABCD 8062 3112",
        "ABCD 8062 3212",
        "ABCDE 8062 1512",
        "OHIP: 1234-567-890-AB",
        "PHN 9123 456 789",
        "Health card # 12345 6789",
        "RAMQ: TREM 8003 1512",
        "carte soleil 1234 567 890",
        "Carte santé: 1234567890",
        "no d'assurance maladie 123456789",
        "NAM TREM80031512",
        "MSP 9123456789",
        "1234–567–897",  # en dashes
        "1234\u2011567\u2011897",  # non-breaking hyphens
        "1234 567 897\u00a0AB",  # no-break space folds to a space
        "x1234567897",
        "1234567897x",
        "12 34 56 78 90",
    ),
    # Dates, in every form, and what is not a date.
    *[
        ("date", f"seen {text} ok", None)
        for text in (
            "2026-11-24",
            "2026/11/24",
            "2026.11.24",
            "2026_11_24",
            "24/11/2026",
            "11/24/2026",
            "24.11.2026",
            "24-11-2026",
            "24_11_2026",
            "Nov 24 2026",
            "Nov. 24, 2026",
            "November 24th, 2026",
            "24 Nov 2026",
            "24-NOV-2026",
            "24 novembre 2026",
            "1er janvier 2026",
            "24 déc. 2026",
            "24 DÉCEMBRE 2026",
            "3 février 2026",
            "3 fevr 2026",
            "15 août 2026",
            "15 AOÛT 2026",
            "1st Sept 2026",
            "22nd juillet 2026",
            "24/11/26",
            "24/11/99",
            "20261124",
            "1900-01-01",
            "2099-12-31",
            "29/02/2024",
        )
    ],
    *_cases(
        "not-a-date",
        None,
        "2026-13-01",
        "31/02/2026",
        "29/02/2023",
        "1.2.34",
        "v2.0.1",
        "3 may 15",
        "1899-12-31",
        "2100-01-01",
        "24-11-26",
        "24.11.26",
        "2026-11/24",
        "November 2026",
        "24 November",
        "120261124",
        "202611245",
        "24 Novembre2026",
        "Mayo 3 2026",
        "nov242026",
    ),
    *_cases(
        "date-of-birth",
        None,
        "DOB: 1980-03-15",
        "D.O.B. 15/03/1980",
        "born March 15, 1980",
        "née le 15 mars 1980",
        "Né le 1er avril 1960",
        "date de naissance : 15/03/1980",
        "DDN 15-03-1980",
        "Birth date 1980-03-15",
        "birthday=March 15 1980",
        "born on 1980-03-15",
        "DOB:\n1980-03-15",  # Python's $ also matches before a final newline
        "DOB:\n\n1980-03-15",
        "DOB:\t1980-03-15",
        "DOB is 1980-03-15",
        "date of birth - 15 Mar 1980",
        "naissance: 19800315",
        "dob 1980-03-15 and admitted 2026-11-24",
        "Newborn 1980-03-15",
        "DOB" + " " * 27 + "1980-03-15",
        "DOB" + " " * 28 + "1980-03-15",
        "DOB:" + " " * 26 + "1980-03-15",
        "😀DOB: 1980-03-15",
    ),
    # Phones, e-mails, postal codes, addresses.
    *[
        ("phone", f"call {text} now", None)
        for text in (
            "613-555-0199",
            "(613) 555-0199",
            "613.555.0199",
            "+1 613 555 0199",
            "1-800-555-0199",
            "416 555 0199 ext. 204",
            "416-555-0199 x12",
            "514 555 0199 poste 3344",
            "6135550199",
            "(613)555-0199",
            "013-555-0199",
            "613-055-0199",
            "613-555-019",
            "613-555-01999",
            "+44 20 7946 0958",
        )
    ],
    *_cases(
        "email",
        None,
        "send to jane.doe+wound@clinic.example.ca, thanks",
        "JANE@EXAMPLE.COM",
        "a@b.c",
        "x@localhost",
        "jane@exam_ple.ca",
        "user%tag@sub.example.org.",
        "née@exemple.fr",
        "mail: ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃａ",
        "@handle",
    ),
    *[
        ("postal-code", f"at {text}.", None)
        for text in (
            "K1A 0B1",
            "k1a0b1",
            "H3Z-2Y7",
            "T2P 1J9",
            "D1A 1A1",
            "K1D 1A1",
            "K1A 1O1",
            "W1A 1A1",
            "Z1A 1A1",
            "K1A 1U1",
            "KK1A 0B1",
            "K1A  0B1",
            "K1A 0B1X",
        )
    ],
    *_cases(
        "address",
        None,
        "lives at 123 Main St.",
        "lives at 12 Queen Street West",
        "lives at 4500 rue Sherbrooke",
        "lives at 4500, boul. Saint-Laurent",
        "lives at 12-345 King St E",
        "lives at 7 Old Mill Road",
        "lives at 1 a b c d e Road",
        "lives at 9b Maple Cres.",
        "lives at 3 chemin de la Côte",
        "lives at 10 Main",
        "lives at 221B Baker Street",
        "3 cm st",
    ),
    # Labelled numbers and names.
    *_cases(
        "labelled",
        None,
        "MRN 1234567",
        "MRN: M1234567",
        "Chart # 998877",
        "Chart no. 9988-77",
        "Hosp no 55443322",
        "Patient ID: 445566",
        "No de dossier: 778899",
        "numéro de dossier 77 88 99",
        "Dossier n° 4455-66",
        "MR# 4455",
        "Encounter 12345",
        "acct 445566 ab",
        "MRN 123",
        "MRN 1234567890",
        "OHIP 1234567890",
        "band M0012345678",
        "ref 12345678901234567890",
        "pid=ab12345",
        "Name: John Smith left arm",
        "Patient: Tremblay",
        "Nom : Gagnon, Marie",
        "seen Mrs. Tremblay",
        "Mme Lévesque",
        "Mlle Émilie Côté",
        "SMITH, John",
        "wristband SMITH, JOHN 1980",
        "CÔTÉ, Émilie",
        "Patient: left leg",
        "name: unknown",
        "Toronto, Ontario",
        "Wound, Left arm",
        "Name: John Smith Jones Brown",
        "Name: John2",
        "Mr. smith",
        "Ms O'Hara-Ng",
        "Dr. Who",
        "prénom : Zoë",
        "surname=DUPONT",
        "A, Bob",
        "AB, Bob",
        "NG, Li",
        "OK, Then",
        "SMITH, john, DOE, Jane",
    ),
    # Benign clinical text: no finding.
    *_cases(
        "benign",
        "obrien",
        "Left forearm laceration, 3 cm, day 2 post-op",
        "Stage 2 pressure injury, sacrum. Photo 3 of 4.",
        "wound_left_heel_v2.jpg",
        "IMG_1234.JPG",
        "Plaie de 4 cm au talon gauche, jour 5",
        "BP 120/80, HR 72, T 37.2",
        "",
        " ",
        "\u0301",
        "😀",
        "Ulcère de pression stade 2, région sacrée",
        "pansement changé à 14 h 30",
        "room 402, bed 2",
    ),
    # Overlaps, order and spans in the original text.
    *_cases(
        "overlap",
        "obrien",
        "from obrien.family@mail.example.com",
        "MRN 1234567, DOB 1980-03-15, call +1 613 555 0199",
        "José O'Brien MRN 1234567 OHIP 1234-567-897-AB DOB 1980-03-15 tel 613-555-0199 "
        "jose.obrien@example.ca K1A 0B1 12 Main St SMITH, JOHN",
        "OBRIEN, Jose",
        "Name: Jose Obrien",
        "Mrs. O'Brien",
        "12 Obrien Street",
    ),
    *_cases(
        "overlap",
        None,
        "Zoë Smith, DOB 2001-02-03, tél. 514-555-0123, H2X 1Y4",
        "MRN 1234567890 phone 613 555 0199",
        "6135550199",
        "613 555 0199",
        "1234567897 and 613-555-0199",
        "2026112412345",
        "24/11/2026 24/11/2026",
    ),
    # Astral characters, combining marks and lone surrogates around findings: the spans count
    # code points.
    *_cases(
        "spans",
        "obrien",
        "😀😀 jose 😀 1980-03-15",
        "𝒥𝑜𝓈𝑒 K1A 0B1",
        "e\u0301e\u0301 MRN 1234567",
        "\ud83d jose",  # a lone high surrogate
        "jose \ude00",  # a lone low surrogate
        "😀613-555-0199😀",
        "🏥 DOB: 1980-03-15 👩‍⚕️",
        "ǅ jose ǈ",
        "ﬁle obrien ﬂ",
        "Ⅻ 1234567 ⅻ",
        "İstanbul jose",
        "Å Å Å jose",
    ),
]

# Fragments the seeded random cases are made of: each rule's matches and near misses.
_FRAGMENTS = [
    "José",
    "jose",
    "O'Brien",
    "OBRIEN",
    "Mary-Jane",
    "van der Berg",
    "Tremblay",
    "Marie-Ève",
    "MRN",
    "MRN:",
    "Chart #",
    "OHIP",
    "PHN",
    "DOB",
    "DOB:",
    "née le",
    "born",
    "Name:",
    "Mrs.",
    "SMITH, John",
    "1234567",
    "123-4567",
    "1234-567-897-AB",
    "1234567890",
    "9698 658 215",
    "TREM 8003 1512",
    "123 456 789",
    "12345678",
    "1980-03-15",
    "15/03/1980",
    "March 15, 1980",
    "15 mars 1980",
    "24/11/26",
    "20261124",
    "613-555-0199",
    "+1 613 555 0199",
    "jane@example.ca",
    "jose.obrien@example.ca",
    "K1A 0B1",
    "H2X1Y4",
    "12 Main St",
    "4500 rue Sherbrooke",
    "wound",
    "left arm",
    "3 cm",
    "day 2",
    "😀",
    "𠀋田",
    "𝟏𝟐𝟑",
    "é",
    "e\u0301",
    "ß",
    "ΣΟΦΙΑ",
    "١٢٣",
    "Ⅻ",
    "x",
    "",
]
_JOINS = [" ", "  ", "_", "-", ".", ", ", "\t", "\n", "", "/", " – ", "\u00a0", "\u202f"]
_RANDOM_CASES = 300
_SEED = 20261124


def _random_cases() -> list[Case]:
    rng = random.Random(_SEED)
    patients: list[str | None] = [None, "obrien", "tremblay", "stpierre"]
    out: list[Case] = []
    for _ in range(_RANDOM_CASES):
        parts = rng.choices(_FRAGMENTS, k=rng.randint(1, 7))
        text = parts[0]
        for part in parts[1:]:
            text += rng.choice(_JOINS) + part
        out.append(("random", text, rng.choice(patients)))
    return out


# The API's patient records, as client/text.py turns them into PatientIdentifiers.
API_PATIENTS: list[dict[str, Any]] = [
    {"name": "José O'Brien", "dob": "1980-03-15", "mrn": "1234567", "hcn": "1234-567-897-AB"},
    {"name": "Marie-Ève  de la Tremblay", "dob": "1957-11-01", "mrn": "M00123456", "hcn": None},
    {"name": "Li", "dob": "2001-02-03", "mrn": "12"},
    {"name": " \u00a0Jean\u2003François\tSt-Pierre\u3000", "dob": "2000-01-02", "mrn": "x"},
    {"name": "", "dob": None, "mrn": "77"},
]

# --- the file --------------------------------------------------------------------------------


def patient_to_json(patient: PatientIdentifiers) -> dict[str, Any]:
    """The web app's PatientIdentifiers (camelCase, ISO date) for a Python one."""
    return {
        "givenNames": list(patient.given_names),
        "familyNames": list(patient.family_names),
        "mrn": patient.mrn,
        "healthCard": patient.health_card,
        "dateOfBirth": patient.date_of_birth.isoformat() if patient.date_of_birth else None,
        "phone": patient.phone,
        "email": patient.email,
        "postalCode": patient.postal_code,
    }


def patient_from_json(data: dict[str, Any]) -> PatientIdentifiers:
    dob = data.get("dateOfBirth")
    return PatientIdentifiers(
        given_names=list(data["givenNames"]),
        family_names=list(data["familyNames"]),
        mrn=data.get("mrn"),
        health_card=data.get("healthCard"),
        date_of_birth=dt.date.fromisoformat(dob) if dob else None,
        phone=data.get("phone"),
        email=data.get("email"),
        postal_code=data.get("postalCode"),
    )


def _check_characters(text: str) -> None:
    for char in text:
        category = unicodedata.category(char)
        if category == "Cn":
            raise ValueError(
                f"U+{ord(char):04X} in {text!r} is not assigned in Unicode"
                f" {unicodedata.unidata_version}: browsers may class it differently"
            )


def build() -> dict[str, Any]:
    """The vectors as a JSON value, from the rules as they are now."""
    cases = []
    counts: dict[str, int] = {}
    for rule, text, patient_key in [*CASES, *_random_cases()]:
        _check_characters(text)
        counts[rule] = counts.get(rule, 0) + 1
        patient = PATIENTS[patient_key] if patient_key else None
        findings = [
            {
                "kind": f.kind,
                "start": f.start,
                "end": f.end,
                "reason": f.reason,
                "value": text[f.start : f.end],
            }
            for f in find_identifiers(text, patient)
        ]
        cases.append(
            {
                "id": f"{rule}/{counts[rule]:03d}",
                "text": text,
                "patient": patient_key,
                "findings": findings,
            }
        )
    api = []
    for record in API_PATIENTS:
        identifiers = patient_identifiers(record)
        api.append({"record": record, "identifiers": patient_to_json(identifiers)})
    return {
        "about": (
            "Caption and message check (TRN-3): each case's text, patient and the findings of "
            "clinphoto.imaging.identifiers.find_identifiers. Spans are code point indices. "
            "Generated by `python -m tools.caption_vectors`; do not edit."
        ),
        "unicode_version": unicodedata.unidata_version,
        "patients": {key: patient_to_json(value) for key, value in PATIENTS.items()},
        "cases": cases,
        "api_patients": api,
    }


def _escape_unseen(text: str) -> str:
    """Escape what a reader cannot see (marks, format and space characters) and lone
    surrogates, which UTF-8 cannot hold; everything else stays readable."""
    out = []
    for char in text:
        code = ord(char)
        if char in " \n" or unicodedata.category(char)[0] not in "CMZ":
            out.append(char)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:  # JSON escapes a character beyond the BMP as its UTF-16 surrogate pair
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
    return "".join(out)


def render(vectors: dict[str, Any]) -> str:
    """The file's text: one case per line, so a rule change shows as a readable diff."""

    def dump(value: Any) -> str:
        return _escape_unseen(json.dumps(value, ensure_ascii=False))

    head = {k: v for k, v in vectors.items() if k not in ("cases", "api_patients")}
    lines = ["{"]
    for key, value in head.items():
        lines.append(f" {dump(key)}: {dump(value)},")
    for key in ("cases", "api_patients"):
        items = vectors[key]
        lines.append(f" {dump(key)}: [")
        lines.extend(
            f"  {dump(item)}{',' if i < len(items) - 1 else ''}" for i, item in enumerate(items)
        )
        lines.append(" ]," if key == "cases" else " ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        current = VECTORS.read_text(encoding="utf-8") if VECTORS.exists() else ""
        if current != text:
            print(f"{VECTORS} is out of date: run python -m tools.caption_vectors")
            return 1
        return 0
    VECTORS.parent.mkdir(parents=True, exist_ok=True)
    VECTORS.write_text(text, encoding="utf-8")
    cases = len(json.loads(text)["cases"])
    print(f"wrote {cases} cases to {VECTORS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
