"""Identifier checks on text that travels with an image (TRN-3, DEI-2)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from clinphoto.imaging.identifiers import (
    MAX_TEXT_CHARS,
    Finding,
    PatientIdentifiers,
    find_identifiers,
)

PATIENT = PatientIdentifiers(
    given_names=["José", "Mary-Jane"],
    family_names=["O'Brien", "van der Berg"],
    mrn="1234567",
    health_card="1234-567-897-AB",
    date_of_birth=dt.date(1980, 3, 15),
    phone="(613) 555-0199",
    email="Jose.OBrien@example.ca",
    postal_code="K1A 0B1",
)


def _found(text: str, patient: PatientIdentifiers | None = None) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in find_identifiers(text, patient)]


def _kinds(text: str, patient: PatientIdentifiers | None = None) -> set[str]:
    return {f.kind for f in find_identifiers(text, patient)}


# --- the patient's own identifiers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("obrien_jose_wound.jpg", ["obrien", "jose"]),
        ("OBRIEN-JOSE.wound.jpeg", ["OBRIEN", "JOSE"]),
        ("Photo of Jose O'Brien's forearm", ["Jose", "O'Brien"]),
        ("JoséOBrien2026.jpg", ["José", "OBrien"]),
        ("seen: JOSE\u0301 today", ["JOSE\u0301"]),  # decomposed accent stays in the span
        ("mary jane, vanderberg", ["mary jane", "vanderberg"]),
        ("Dr Berg reviewed", ["Berg"]),
    ],
)
def test_trn3_patient_names_match_case_accent_and_separator_insensitively(
    text: str, matched: list[str]
) -> None:
    found = _found(text, PATIENT)
    assert [value for kind, value in found if kind == "patient-name"] == matched


@pytest.mark.parametrize(
    "text",
    ["Joseph Brienne", "josephine", "smithjose", "Vanderbergh", "der", "le van"],
)
def test_trn3_patient_names_need_word_boundaries_and_skip_particles(text: str) -> None:
    assert "patient-name" not in _kinds(text, PATIENT)


def test_trn3_one_letter_names_are_ignored_two_letter_names_match() -> None:
    patient = PatientIdentifiers(given_names=["J"], family_names=["Li"])
    assert _found("J. Li wound", patient) == [("patient-name", "Li")]
    assert _found("a j b", patient) == []


def test_trn3_reasons_say_which_name_without_the_name() -> None:
    family, given = find_identifiers("obrien_jose.jpg", PATIENT)
    assert family.reason == "matches the patient's family name"
    assert given.reason == "matches the patient's given name"
    assert family.patient_specific
    assert given.patient_specific


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("MRN: 1234567 seen", "patient-mrn", "1234567"),
        ("chart 123-4567", "patient-mrn", "123-4567"),
        ("Room 8 1234567", "patient-mrn", "1234567"),
        ("OHIP 1234 567 897 AB", "patient-health-card", "1234 567 897 AB"),
        ("hcn:1234567897", "patient-health-card", "1234567897"),
        ("call 613.555.0199", "patient-phone", "613.555.0199"),
        ("JOSE.OBRIEN@EXAMPLE.CA wrote", "patient-email", "JOSE.OBRIEN@EXAMPLE.CA"),
        ("lives near k1a-0b1", "patient-postal-code", "k1a-0b1"),
    ],
)
def test_trn3_patient_values_match_with_separators_ignored(
    text: str, kind: str, value: str
) -> None:
    assert (kind, value) in _found(text, PATIENT)


@pytest.mark.parametrize("text", ["81234567", "12345678", "1234 567 8", "1234 5678"])
def test_trn3_patient_mrn_not_matched_inside_a_longer_number(text: str) -> None:
    assert "patient-mrn" not in _kinds(text, PATIENT)


def test_trn3_short_patient_values_are_ignored() -> None:
    patient = PatientIdentifiers(mrn="12")
    assert _found("bed 12", patient) == []


@pytest.mark.parametrize(
    "text",
    [
        "1980-03-15",
        "15/03/1980",
        "03/15/1980",
        "15.03.1980",
        "15 Mar 1980",
        "March 15, 1980",
        "15 mars 1980",
        "15-MAR-1980",
        "19800315",
        "15031980",
        "1980 03 15",
    ],
)
def test_trn3_patient_date_of_birth_matches_in_any_format(text: str) -> None:
    assert _found(f"x {text} y", PATIENT) == [("patient-dob", text)]


def test_trn3_a_different_date_is_not_the_patients_dob() -> None:
    assert _kinds("1980-03-16", PATIENT) == {"date"}


# --- health cards ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1234567897", "Ontario health card number pattern (check digit valid)"),
        ("1234-567-897", "Ontario health card number pattern (check digit valid)"),
        ("1234 - 567 - 897 - AB", "Ontario health card number pattern (check digit valid)"),
        ("1234-567-890-AB", "Ontario health card number pattern with version code"),
        ("9698 658 215", "British Columbia PHN pattern (mod 11 check digit valid)"),
        ("TREM 8053 1512", "Quebec health insurance number (RAMQ) pattern"),
        ("trem80031512", "Quebec health insurance number (RAMQ) pattern"),
    ],
)
def test_trn3_structured_health_card_numbers(text: str, reason: str) -> None:
    (finding,) = find_identifiers(f"card {text} seen")
    assert finding.kind == "health-card-number"
    assert finding.reason == reason
    assert f"card {text} seen"[finding.start : finding.end] == text


def test_trn3_ontario_luhn_and_bc_mod11_check_digits() -> None:
    # 1234567897 passes Luhn; changing the last digit breaks it. 9698658215 is a valid BC PHN
    # (python-stdnum's example); 9698648215 is not, and is not Luhn-valid either.
    (bad_on,) = find_identifiers("1234567898")
    assert bad_on.reason.startswith("10-digit number")
    assert [f.reason for f in find_identifiers("9698 648 215")] == [
        "10-digit number: health card length in Ontario, British Columbia or Nova Scotia"
    ]


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("12345-6789", "9-digit"),
        ("123 456 789", "9-digit"),
        ("123456789", "9-digit"),
        ("12345678", "8-digit"),
        ("123456789012", "12-digit"),
        ("1234 5678 9012", "12-digit"),
        ("123 456 789 012", "12-digit"),
    ],
)
def test_trn3_health_card_lengths_of_other_provinces(text: str, length: str) -> None:
    (finding,) = find_identifiers(f"no {text}.")
    assert finding.kind == "health-card-number"
    assert finding.reason.startswith(length)
    assert f"no {text}."[finding.start : finding.end] == text


def test_trn3_ramq_needs_a_plausible_birth_month_and_day() -> None:
    assert find_identifiers("ABCD 8013 1512") == []  # month 13


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("OHIP: 1234-567-890-AB", "1234-567-890-AB"),
        ("PHN 9123 456 789", "9123 456 789"),
        ("Health card # 12345 6789", "12345 6789"),
        ("RAMQ: TREM 8003 1512", "TREM 8003 1512"),
    ],
)
def test_trn3_labelled_health_card_numbers(text: str, value: str) -> None:
    (finding,) = find_identifiers(text)
    assert (finding.kind, text[finding.start : finding.end]) == ("health-card-number", value)
    assert finding.reason == "number labelled as a health card number"


# --- dates, phones, e-mail, postal codes, addresses, labels ---------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-24",
        "2026/11/24",
        "24/11/2026",
        "11/24/2026",
        "24.11.2026",
        "Nov 24 2026",
        "Nov. 24, 2026",
        "November 24th, 2026",
        "24 Nov 2026",
        "24-NOV-2026",
        "24 novembre 2026",
        "1er janvier 2026",
        "24 déc. 2026",
        "24/11/26",
        "20261124",
    ],
)
def test_trn3_dates_in_common_formats(text: str) -> None:
    assert _found(f"seen {text} ok") == [("date", text)]


@pytest.mark.parametrize("text", ["2026-13-01", "31/02/2026", "1.2.34", "v2.0.1", "3 may 15"])
def test_trn3_things_that_are_not_dates(text: str) -> None:
    assert "date" not in _kinds(text)


@pytest.mark.parametrize(
    "text", ["DOB: 1980-03-15", "D.O.B. 15/03/1980", "born March 15, 1980", "née le 15 mars 1980"]
)
def test_trn3_labelled_dates_of_birth(text: str) -> None:
    assert _kinds(text) == {"date-of-birth"}


@pytest.mark.parametrize(
    "text",
    [
        "613-555-0199",
        "(613) 555-0199",
        "613.555.0199",
        "+1 613 555 0199",
        "1-800-555-0199",
        "416 555 0199 ext. 204",
    ],
)
def test_trn3_north_american_phone_numbers(text: str) -> None:
    assert _found(f"call {text} now") == [("phone", text)]


@pytest.mark.parametrize("text", ["013-555-0199", "613-055-0199", "613-555-019"])
def test_trn3_invalid_phone_numbers(text: str) -> None:
    assert "phone" not in _kinds(text)


def test_trn3_email_addresses() -> None:
    text = "send to jane.doe+wound@clinic.example.ca, thanks"
    assert _found(text) == [("email", "jane.doe+wound@clinic.example.ca")]


@pytest.mark.parametrize("text", ["K1A 0B1", "k1a0b1", "H3Z-2Y7", "T2P 1J9"])
def test_trn3_canadian_postal_codes(text: str) -> None:
    assert _found(f"at {text}.") == [("postal-code", text)]


@pytest.mark.parametrize(
    "text",
    ["D1A 1A1", "K1D 1A1", "K1A 1O1", "W1A 1A1", "Z1A 1A1", "K1A 1U1", "KK1A 0B1"],
)
def test_trn3_postal_codes_with_letters_never_used(text: str) -> None:
    assert "postal-code" not in _kinds(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("MRN 1234567", "1234567"),
        ("MRN: M1234567", "M1234567"),
        ("Chart # 998877", "998877"),
        ("Chart no. 9988-77", "9988-77"),
        ("Hosp no 55443322", "55443322"),
        ("Patient ID: 445566", "445566"),
        ("No de dossier: 778899", "778899"),
    ],
)
def test_trn3_labelled_record_numbers(text: str, value: str) -> None:
    (finding,) = find_identifiers(text)
    assert (finding.kind, text[finding.start : finding.end]) == ("mrn-like", value)


def test_trn3_long_unlabelled_numbers_are_mrn_like() -> None:
    assert _found("band M0012345678") == [("mrn-like", "M0012345678")]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Name: John Smith left arm", "John Smith"),
        ("Patient: Tremblay", "Tremblay"),
        ("Nom : Gagnon, Marie", "Gagnon, Marie"),
        ("seen Mrs. Tremblay", "Mrs. Tremblay"),
        ("SMITH, John", "SMITH, John"),
        ("wristband SMITH, JOHN 1980", "SMITH, JOHN"),
    ],
)
def test_trn3_labelled_and_wristband_style_names(text: str, value: str) -> None:
    assert ("name-like", value) in _found(text)


@pytest.mark.parametrize(
    "text", ["Patient: left leg", "name: unknown", "Toronto, Ontario", "Wound, Left arm"]
)
def test_trn3_not_names(text: str) -> None:
    assert "name-like" not in _kinds(text)


@pytest.mark.parametrize("text", ["123 Main St.", "12 Queen Street West", "4500 rue Sherbrooke"])
def test_trn3_street_addresses(text: str) -> None:
    assert _found(f"lives at {text}") == [("address", text)]


@pytest.mark.parametrize(
    "text",
    [
        "Left forearm laceration, 3 cm, day 2 post-op",
        "Stage 2 pressure injury, sacrum. Photo 3 of 4.",
        "wound_left_heel_v2.jpg",
        "IMG_1234.JPG",
        "Plaie de 4 cm au talon gauche, jour 5",
        "BP 120/80, HR 72, T 37.2",
        "",
    ],
)
def test_trn3_benign_clinical_text_has_no_findings(text: str) -> None:
    assert find_identifiers(text, PATIENT) == []


# --- overlaps, reasons and limits ------------------------------------------------------------


def test_trn3_patient_findings_win_over_the_same_pattern() -> None:
    assert _found("MRN 1234567, DOB 1980-03-15, call +1 613 555 0199", PATIENT) == [
        ("patient-mrn", "1234567"),
        ("patient-dob", "1980-03-15"),
        ("patient-phone", "1 613 555 0199"),
    ]


def test_trn3_a_name_inside_an_email_keeps_both() -> None:
    text = "from obrien.family@mail.example.com"
    assert _found(text, PATIENT) == [
        ("patient-name", "obrien"),
        ("email", "obrien.family@mail.example.com"),
    ]


def test_trn3_labelled_beats_length_only_patterns() -> None:
    assert _found("MRN 1234567890") == [("mrn-like", "1234567890")]
    assert _found("OHIP 1234567890") == [("health-card-number", "1234567890")]


def test_trn3_findings_are_in_text_order_and_spans_are_in_the_original() -> None:
    text = "Zoë Smith, DOB 2001-02-03, tél. 514-555-0123, H2X 1Y4"
    findings = find_identifiers(text)
    assert [f.start for f in findings] == sorted(f.start for f in findings)
    assert [text[f.start : f.end] for f in findings] == ["2001-02-03", "514-555-0123", "H2X 1Y4"]


SENSITIVE = (
    "José O'Brien MRN 1234567 OHIP 1234-567-897-AB DOB 1980-03-15 tel 613-555-0199 "
    "jose.obrien@example.ca K1A 0B1 12 Main St SMITH, JOHN"
)


def test_trn3_reasons_never_echo_the_identifier() -> None:
    findings = find_identifiers(SENSITIVE, PATIENT)
    assert len(findings) >= 10
    for finding in findings:
        value = SENSITIVE[finding.start : finding.end]
        assert value.lower() not in finding.reason.lower()
        for token in re.findall(r"[0-9A-Za-z]{3,}", value):
            assert token.lower() not in finding.reason.lower()


def test_trn3_finding_is_a_plain_value() -> None:
    finding = Finding("email", 0, 3, "e-mail address")
    assert not finding.patient_specific
    assert Finding("patient-mrn", 0, 1, "x").patient_specific


def test_trn3_text_over_the_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        find_identifiers("a" * (MAX_TEXT_CHARS + 1))


def test_trn3_long_adversarial_text_is_fast() -> None:
    import time

    text = ("a." * 20_000) + ("1 " * 20_000) + ("x@" * 10_000)
    started = time.perf_counter()
    find_identifiers(text, PATIENT)
    assert time.perf_counter() - started < 5.0
