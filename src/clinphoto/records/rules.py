"""Retention rules as data (RET-1): one rule per province or territory and one for federal
settings, shipped as a reviewed default (``retention_rules.json``, derived from the research
in ``research/standards.md`` B1 and E) that a privacy officer may override.

A rule says how long a patient's records are kept:

- ``years_after_last_entry``: after the patient's latest record date;
- a minor's records (the patient younger than ``age_of_majority`` at the last entry) are also
  kept until ``years_after_majority`` after the day they reached or would have reached it,
  whichever is later;
- ``keep_until_age``: never before the patient would have been that old (the federal "90
  years from the date of birth" form, unconfirmed, so unset by default).

Where no college rule was confirmed the CMPA's recommendation applies, and the rule says so
(``basis: cmpa-default``, per part: the adult period and the minor's).

Pure logic: no clock, no database. Dates are calendar dates; a 29 February plus a number of
years that lands in a common year becomes 1 March (the later day: destruction is never early).
"""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

JURISDICTIONS = (
    "BC", "AB", "SK", "MB", "ON", "QC", "NB", "NS", "PE", "NL", "YT", "NT", "NU", "CA",
)  # fmt: skip
Basis = Literal["college", "cmpa-default"]
Confidence = Literal["verified", "secondary", "knowledge", "not_found"]
CMPA_URL = (
    "https://www.cmpa-acpm.ca/en/advice-publications/browse-articles/2003/"
    "a-matter-of-records-retention-and-transfer-of-clinical-records"
)


class RetentionRule(BaseModel):
    """One jurisdiction's rule, with its source and how sure it is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    jurisdiction: Literal[
        "BC", "AB", "SK", "MB", "ON", "QC", "NB", "NS", "PE", "NL", "YT", "NT", "NU", "CA"
    ]  # fmt: skip
    name: str = Field(min_length=1, max_length=80)
    years_after_last_entry: int = Field(ge=1, le=150)
    years_after_majority: int = Field(ge=0, le=150)
    age_of_majority: int = Field(ge=16, le=21)
    keep_until_age: int | None = Field(default=None, ge=1, le=150)
    basis: Basis
    minor_basis: Basis
    confidence: Confidence
    minor_confidence: Confidence
    confirmed: bool
    source: str = Field(min_length=1, max_length=1000)
    source_url: str = Field(pattern=r"^https?://\S+$", max_length=500)

    @model_validator(mode="after")
    def _confirmed_means_a_college_rule(self) -> RetentionRule:
        if self.confirmed and (self.basis != "college" or self.confidence == "not_found"):
            raise ValueError("a confirmed rule names a college rule that was found")
        if self.basis == "cmpa-default" and self.confirmed:
            raise ValueError("the CMPA's recommendation is a fallback, never a confirmed rule")
        return self

    def summary(self) -> str:
        """The rule in one line, for a certificate or a table."""
        text = (
            f"{self.years_after_last_entry} years after the last entry; minors "
            f"{self.years_after_majority} years after the age of majority ({self.age_of_majority})"
        )
        if self.keep_until_age is not None:
            text += f"; never before age {self.keep_until_age}"
        return text


class CmpaDefault(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    years_after_last_entry: int
    years_after_majority: int
    source: str
    source_url: str


class RuleBook(BaseModel):
    """The shipped default: every jurisdiction exactly once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reviewed: date
    derived_from: str
    cmpa_default: CmpaDefault
    rules: tuple[RetentionRule, ...]

    @model_validator(mode="after")
    def _every_jurisdiction_once(self) -> RuleBook:
        codes = [r.jurisdiction for r in self.rules]
        if sorted(codes) != sorted(JURISDICTIONS):
            raise ValueError("the rule book must hold each of the 14 jurisdictions exactly once")
        for rule in self.rules:
            if rule.basis == "cmpa-default" and (
                rule.years_after_last_entry != self.cmpa_default.years_after_last_entry
            ):
                raise ValueError(f"{rule.jurisdiction}: a CMPA default must use its figures")
            if rule.minor_basis == "cmpa-default" and (
                rule.years_after_majority != self.cmpa_default.years_after_majority
            ):
                raise ValueError(f"{rule.jurisdiction}: a CMPA default must use its figures")
        return self

    def by_code(self) -> dict[str, RetentionRule]:
        return {r.jurisdiction: r for r in self.rules}


def load_default() -> RuleBook:
    """The reviewed default shipped with clinphoto, validated."""
    raw = resources.files("clinphoto.records").joinpath("retention_rules.json").read_text("utf-8")
    return RuleBook.model_validate(json.loads(raw))


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years; 29 February into a common year gives 1 March."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def age_on(dob: date, day: date) -> int:
    """Completed years of age on ``day``."""
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def destroy_not_before(rule: RetentionRule, *, dob: date, last_entry: date) -> date:
    """The first day on which records under ``rule`` may be destroyed."""
    until = add_years(last_entry, rule.years_after_last_entry)
    if age_on(dob, last_entry) < rule.age_of_majority:
        majority = add_years(dob, rule.age_of_majority)
        until = max(until, add_years(majority, rule.years_after_majority))
    if rule.keep_until_age is not None:
        until = max(until, add_years(dob, rule.keep_until_age))
    return until
