"""The caption and message check's shared vectors (TRN-3): tests/vectors/caption-check.json.

The phone app (web/src/lib/identifiers.ts) checks captions by the rules of
clinphoto.imaging.identifiers. These tests keep the two equal: the file must be what
``python -m tools.caption_vectors`` writes from the rules as they are, every case must hold
for Python, and the web app's own TypeScript, run under Node.js, must give the same findings
for every case and class every character as Python does.
"""

from __future__ import annotations

import json
import re
import typing
import unicodedata
from functools import cache
from typing import Any

import pytest
from tools import caption_vectors

from clinphoto.client.text import patient_identifiers
from clinphoto.imaging import identifiers
from clinphoto.imaging.identifiers import FindingKind, PatientIdentifiers, find_identifiers
from tests.webtools import run_interop

VECTORS = caption_vectors.VECTORS


@cache
def _vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return data


def _patient(key: str | None) -> PatientIdentifiers | None:
    if key is None:
        return None
    return caption_vectors.patient_from_json(_vectors()["patients"][key])


def _findings(text: str, patient: PatientIdentifiers | None) -> list[dict[str, Any]]:
    return [
        {
            "kind": f.kind,
            "start": f.start,
            "end": f.end,
            "reason": f.reason,
            "value": text[f.start : f.end],
        }
        for f in find_identifiers(text, patient)
    ]


def test_trn3_vectors_file_is_what_the_generator_writes_now() -> None:
    expected = caption_vectors.render(caption_vectors.build())
    assert VECTORS.read_text(encoding="utf-8") == expected, (
        "tests/vectors/caption-check.json is out of date: run `python -m tools.caption_vectors`"
        " and make web/src/lib/identifiers.ts follow the changed rules"
    )


@pytest.mark.parametrize("case", _vectors()["cases"], ids=lambda case: case["id"])
def test_trn3_python_gives_each_cases_findings(case: dict[str, Any]) -> None:
    assert _findings(case["text"], _patient(case["patient"])) == case["findings"]


def test_trn3_vectors_cover_every_kind_language_and_text_shape() -> None:
    cases = _vectors()["cases"]
    found = {f["kind"] for case in cases for f in case["findings"]}
    assert found == set(typing.get_args(FindingKind))
    reasons = {f["reason"] for case in cases for f in case["findings"]}
    assert len(reasons) >= 30
    texts = [case["text"] for case in cases]
    assert sum(1 for case in cases if not case["findings"]) >= 100  # negatives
    assert any(ord(c) > 0xFFFF for t in texts for c in t)  # beyond the BMP
    assert any(unicodedata.category(c) == "Cs" for t in texts for c in t)  # lone surrogates
    assert any(unicodedata.combining(c) for t in texts for c in t)  # decomposed accents
    assert any(unicodedata.normalize("NFKD", t) != t for t in texts)  # compatibility forms
    assert any(re.search(r"naissance|née|janvier|dossier", t) for t in texts)  # French
    # Spans point past astral characters, so UTF-16 and code point indices differ there.
    assert any(
        len(case["text"][: f["start"]].encode("utf-16-le")) // 2 != f["start"]
        for case in cases
        for f in case["findings"]
    )


def test_trn3_vector_texts_use_only_characters_of_pythons_unicode() -> None:
    assert _vectors()["unicode_version"] == unicodedata.unidata_version
    for case in _vectors()["cases"]:
        assert all(unicodedata.category(c) != "Cn" for c in case["text"]), case["id"]


def test_trn3_generator_refuses_characters_newer_than_pythons_unicode() -> None:
    unassigned = next(
        chr(c) for c in range(0x2FFFF, 0x10FFFF) if unicodedata.category(chr(c)) == "Cn"
    )
    with pytest.raises(ValueError, match="not assigned"):
        caption_vectors._check_characters(f"jose {unassigned}")


def test_trn3_api_patients_give_the_same_identifiers() -> None:
    for item in _vectors()["api_patients"]:
        got = caption_vectors.patient_to_json(patient_identifiers(item["record"]))
        assert got == item["identifiers"]


def test_trn3_patient_json_round_trips() -> None:
    for key, patient in caption_vectors.PATIENTS.items():
        assert _patient(key) == patient


# --- the web app's TypeScript ---------------------------------------------------------------


def _disagreements(expected: list[Any], got: list[Any], ids: list[str]) -> list[str]:
    return [
        f"{case_id}: expected {want}, TypeScript gave {have}"
        for case_id, want, have in zip(ids, expected, got, strict=True)
        if want != have
    ]


def test_trn3_typescript_gives_every_cases_findings() -> None:
    cases = _vectors()["cases"]
    payload = {
        "op": "find",
        "cases": [
            {"text": case["text"], "patient": _vectors()["patients"].get(case["patient"] or "")}
            for case in cases
        ],
    }
    got = run_interop("identifiers", payload)["findings"]
    expected = [
        [{k: v for k, v in f.items() if k != "value"} for f in case["findings"]] for case in cases
    ]
    assert _disagreements(expected, got, [case["id"] for case in cases]) == []


def test_trn3_typescript_reads_api_patients_as_python_does() -> None:
    items = _vectors()["api_patients"]
    got = run_interop("identifiers", {"op": "patients", "records": [i["record"] for i in items]})
    expected = [{k: v for k, v in item["identifiers"].items() if v is not None} for item in items]
    assert got["identifiers"] == expected


# What each class of the TypeScript is in Python (identifiers.py uses these on the text).
_PYTHON_CLASSES: dict[str, typing.Callable[[str], bool]] = {
    "alnum": lambda c: c.isalnum() and re.match(r"[^\W_]", c) is not None,
    "alpha": str.isalpha,
    "digit": str.isdigit,
    "decimal": lambda c: c.isdecimal() and re.match(r"\d", c) is not None,
    "upper": str.isupper,
    "lower": str.islower,
    "space": lambda c: c.isspace() and re.match(r"\s", c) is not None,
    "combining": lambda c: unicodedata.combining(c) != 0,
    "word": lambda c: re.match(r"[^\W\d_]", c) is not None,
}


def _in_ranges(ranges: list[list[int]]) -> set[int]:
    return {code for start, end in ranges for code in range(start, end + 1)}


def test_trn3_typescript_classes_and_folds_every_character_as_python_does() -> None:
    """Over every code point assigned in Python's Unicode (and the surrogates): a browser's
    newer Unicode may class characters assigned since then differently, and nothing else."""
    got = run_interop("identifiers", {"op": "unicode"}, timeout=300)
    codes = [c for c in range(0x110000) if unicodedata.category(chr(c)) != "Cn"]
    wrong: dict[str, list[str]] = {}
    for name, test in _PYTHON_CLASSES.items():
        members = _in_ranges(got["ranges"][name])
        bad = [f"U+{c:04X}" for c in codes if test(chr(c)) != (c in members)]
        if bad:
            wrong[name] = bad[:20]
    folded = {int(code): text for code, text in got["folded"].items()}
    bad_folds = [
        f"U+{c:04X}"
        for c in codes
        if not 0xD800 <= c <= 0xDFFF and identifiers._fold(chr(c)).text != folded.get(c, chr(c))
    ]
    if bad_folds:
        wrong["fold"] = bad_folds[:20]
    assert wrong == {}
