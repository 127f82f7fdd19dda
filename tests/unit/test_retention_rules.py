"""Retention rules as data (RET-1): the shipped default holds every province and territory
and the federal rule, each with its source and confidence, the CMPA's recommendation where
no rule was confirmed; and each jurisdiction's rule gives the date it states, for a minor and
an adult photographed on a given day (expected dates worked out here, by hand, from the
data, not by the function under test)."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources

import pytest
from pydantic import ValidationError

from clinphoto.records import rules
from clinphoto.records.rules import RetentionRule

RAW = json.loads(
    resources.files("clinphoto.records").joinpath("retention_rules.json").read_text("utf-8")
)
PHOTO_DAY = date(2024, 6, 15)
ADULT_DOB = date(1984, 3, 10)  # 40 on the day
MINOR_DOB = date(2019, 9, 1)  # 4 on the day


def _plus(day: date, years: int) -> date:
    # Neither date here is a 29 February: the year moves, nothing else.
    return date(day.year + years, day.month, day.day)


def test_default_holds_each_jurisdiction_once_with_a_source() -> None:
    book = rules.load_default()
    codes = [r.jurisdiction for r in book.rules]
    assert sorted(codes) == sorted(
        ["BC", "AB", "SK", "MB", "ON", "QC", "NB", "NS", "PE", "NL", "YT", "NT", "NU", "CA"]
    )
    for r in book.rules:
        assert r.source_url.startswith("http")
        assert r.source


def test_unconfirmed_jurisdictions_fall_back_to_the_cmpa_and_say_so() -> None:
    book = rules.load_default().by_code()
    for code in ("NB", "NS", "PE", "NL", "YT", "NT", "NU", "CA"):
        r = book[code]
        assert (r.basis, r.minor_basis, r.confirmed) == ("cmpa-default", "cmpa-default", False)
        assert (r.years_after_last_entry, r.years_after_majority) == (10, 10)
        assert "cmpa-acpm.ca" in r.source_url
    # Confirmed adult periods whose minor rule was not found: the CMPA's for minors.
    for code in ("SK", "QC"):
        assert (book[code].basis, book[code].minor_basis) == ("college", "cmpa-default")
    assert (book["BC"].years_after_last_entry, book["BC"].age_of_majority) == (16, 19)


def test_a_confirmed_rule_must_name_a_college_rule() -> None:
    bad = {**RAW["rules"][0], "basis": "cmpa-default", "confirmed": True}
    with pytest.raises(ValidationError):
        RetentionRule.model_validate(bad)


def test_a_book_missing_a_jurisdiction_is_refused() -> None:
    with pytest.raises(ValidationError):
        rules.RuleBook.model_validate({**RAW, "rules": RAW["rules"][1:]})


@pytest.mark.parametrize("raw", RAW["rules"], ids=[r["jurisdiction"] for r in RAW["rules"]])
def test_each_jurisdiction_gives_its_date_for_an_adult_and_a_minor(raw: dict[str, object]) -> None:
    rule = RetentionRule.model_validate(raw)
    after_entry = int(raw["years_after_last_entry"])  # type: ignore[call-overload]
    majority = int(raw["age_of_majority"])  # type: ignore[call-overload]
    after_majority = int(raw["years_after_majority"])  # type: ignore[call-overload]
    adult = rules.destroy_not_before(rule, dob=ADULT_DOB, last_entry=PHOTO_DAY)
    assert adult == _plus(PHOTO_DAY, after_entry)
    minor = rules.destroy_not_before(rule, dob=MINOR_DOB, last_entry=PHOTO_DAY)
    came_of_age = _plus(MINOR_DOB, majority)
    assert minor == max(_plus(PHOTO_DAY, after_entry), _plus(came_of_age, after_majority))
    # The minor's records always outlive the adult's from the same day (4 years old here).
    assert minor >= adult


def test_ontario_minor_and_adult_dates_spelled_out() -> None:
    on = rules.load_default().by_code()["ON"]
    assert rules.destroy_not_before(on, dob=ADULT_DOB, last_entry=PHOTO_DAY) == date(2034, 6, 15)
    # 18 on 2037-09-01, plus 10 years.
    assert rules.destroy_not_before(on, dob=MINOR_DOB, last_entry=PHOTO_DAY) == date(2047, 9, 1)
    bc = rules.load_default().by_code()["BC"]
    # 19 on 2038-09-01, plus 16 years.
    assert rules.destroy_not_before(bc, dob=MINOR_DOB, last_entry=PHOTO_DAY) == date(2054, 9, 1)


def test_keep_until_age_holds_records_to_that_birthday() -> None:
    federal = rules.load_default().by_code()["CA"].model_copy(update={"keep_until_age": 90})
    assert rules.destroy_not_before(federal, dob=ADULT_DOB, last_entry=PHOTO_DAY) == date(
        2074, 3, 10
    )


def test_leap_day_plus_years_lands_on_the_later_day() -> None:
    assert rules.add_years(date(2024, 2, 29), 10) == date(2034, 3, 1)
    assert rules.add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
