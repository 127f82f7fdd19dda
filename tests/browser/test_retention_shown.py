"""How long a photo is kept, on the photo screen in Chromium (RET-1, RET-3; issue 10 §1): a
clinician takes a photo of an Ontario child on the phone, the server's retention schedule is
refreshed (`clinphoto retention sweep --dry-run`), and the photo screen shows the
destroy-not-before date that the Ontario rule gives for that child, in English and in French.
A photo of a Nunavut patient says the CMPA's recommendation applies because no Nunavut rule
was confirmed, and a privacy officer's clinical-decision mark shows as "On hold". The expected
dates are computed here from the shipped rule table. Every state passes axe-core in both
languages.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Server
from tests.browser.phone import assert_accessible, switch_language
from tests.browser.test_privacy_office import RULES, _plus_years
from tests.browser.test_share import (
    _approve,
    _cli_device,
    _phone,
    cli_consent_and_capture,
    phone_consent_and_photo,
)

pytestmark = pytest.mark.slow

OFFICER = "r.officer@chu.example"
MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def _expected(rule: dict[str, int], dob: date, last_entry: date) -> date:
    """The rule as docs/retention.md states it: years after the last entry; for a patient who
    was a minor at the last entry, also years after the age of majority, whichever is later."""
    until = _plus_years(last_entry, rule["years_after_last_entry"])
    majority = _plus_years(dob, rule["age_of_majority"])
    if last_entry < majority:
        until = max(until, _plus_years(majority, rule["years_after_majority"]))
    if rule["keep_until_age"] is not None:
        until = max(until, _plus_years(dob, rule["keep_until_age"]))
    return until


def _long_en(d: date) -> str:
    return f"{MONTHS_EN[d.month - 1]} {d.day}, {d.year}"  # en-CA's long form


def _long_fr(d: date) -> str:
    return f"{d.day} {MONTHS_FR[d.month - 1]} {d.year}"  # fr-CA's long form


def _open_photo(page: Page, patient: str, media: str) -> None:
    page.evaluate("(h) => { location.hash = h; }", f"#/photo/{patient}/{media}")
    expect(page.get_by_test_id("verified")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("retention-date")).to_be_visible(timeout=15_000)


def test_ret1_photo_screen_shows_the_date_the_province_rule_gives(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    assert shutil.which("age"), "the age CLI is needed"
    cli_profile = tmp_path / "cli"
    code = server.create_user("c.tremblay@chu.example", "Dr C. Tremblay")
    _cli_device(server, code, cli_profile, "c-laptop")
    context, page = _phone(browser, server, _approve(server, cli_profile), "C phone")
    dev = ["--profile", str(cli_profile)]
    try:
        # An Ontario child, nine years old at most: a minor at the photo, so the years after
        # the age of majority may end later than the years after the last entry.
        today = datetime.now(UTC).date()
        dob = date(today.year - 9, 6, 15)
        mrn = "5520418"
        pid = server.cli(
            "patient", "add", "--name", "Noah Ouellette-Singh", "--dob", dob.isoformat(),
            "--mrn", mrn, "--hcn", "1234567890", "--province", "ON", *dev,
        ).stdout.strip()  # fmt: skip

        # The clinician takes the photo on the phone, after recording consent there.
        phone_consent_and_photo(page, mrn, "Noah Ouellette-Singh")
        last_entry = datetime.now(UTC).date()  # the encounter the consent opened: today

        # The server's schedule is refreshed as its sweep does, without destroying anything.
        preview = server.cli("retention", "sweep", "--dry-run").stdout
        assert "would destroy" in preview, preview

        page.evaluate("(h) => { location.hash = h; }", f"#/photos/{pid}")
        first = page.get_by_test_id("timeline").locator("li").first
        media = first.get_attribute("data-media", timeout=30_000)
        assert media
        assert media not in preview  # a photo of today is not due today
        _open_photo(page, pid, media)
        due = _expected(RULES["ON"], dob, last_entry)
        assert due > _plus_years(last_entry, RULES["ON"]["years_after_last_entry"]) or (
            RULES["ON"]["years_after_majority"] == 0
        )
        shown = page.get_by_test_id("retention-date")
        expect(shown).to_have_attribute("data-date", due.isoformat())
        expect(shown).to_have_text(f"Kept until at least {_long_en(due)} (Ontario rule)")
        expect(page.get_by_test_id("retention-held")).to_have_count(0)
        switch_language(page)
        expect(shown).to_have_text(
            f"Conservée au moins jusqu\N{RIGHT SINGLE QUOTATION MARK}au {_long_fr(due)} "
            "(règle de l\N{RIGHT SINGLE QUOTATION MARK}Ontario)"
        )
        switch_language(page)
        assert_accessible(page, "photo retention")

        # A privacy officer marks the photo integral to a clinical decision: on hold.
        server.cli(
            "admin", "create-user", "--email", OFFICER, "--name", "R. Officer", "--role",
            "privacy_officer", "--institution", "CHU Example",
        )  # fmt: skip
        server.cli(
            "retention", "hold", "place", "--as", OFFICER, "--item", media,
            "--clinical-decision", "--reason", "Basis of the treatment plan",
        )  # fmt: skip
        page.evaluate("(h) => { location.hash = h; }", f"#/photos/{pid}")
        expect(page.get_by_test_id("retention")).to_have_count(0)
        _open_photo(page, pid, media)
        held = page.get_by_test_id("retention-held")
        expect(held).to_have_text("On hold: cannot be destroyed (integral to a clinical decision).")
        expect(page.get_by_test_id("retention")).not_to_contain_text("treatment plan")
        assert_accessible(page, "photo retention held")

        # A Nunavut adult's photo (taken with the CLI): no Nunavut rule was confirmed, so the
        # CMPA's recommendation gives the date, and the screen says so.
        assert RULES["NU"]["basis"] == "cmpa-default"
        adult = date(today.year - 40, 2, 3)
        nu = server.cli(
            "patient", "add", "--name", "Aputi Kilabuk", "--dob", adult.isoformat(),
            "--mrn", "7781203", "--hcn", "NU7781203", "--province", "NU", *dev,
        ).stdout.strip()  # fmt: skip
        nu_media = cli_consent_and_capture(server, cli_profile, nu, tmp_path / "nu.jpg")
        nu_last = datetime.now(UTC).date()
        server.cli("retention", "sweep", "--dry-run")
        _open_photo(page, nu, nu_media)
        nu_due = _expected(RULES["NU"], adult, nu_last)
        shown = page.get_by_test_id("retention-date")
        expect(shown).to_have_attribute("data-date", nu_due.isoformat())
        expect(shown).to_have_text(
            f"Kept until at least {_long_en(nu_due)} "
            "(CMPA recommendation: no Nunavut rule confirmed)"
        )
        switch_language(page)
        expect(shown).to_have_text(
            f"Conservée au moins jusqu\N{RIGHT SINGLE QUOTATION MARK}au {_long_fr(nu_due)} "
            "(recommandation de l\N{RIGHT SINGLE QUOTATION MARK}ACPM : aucune règle du "
            "Nunavut confirmée)"
        )
        switch_language(page)
        assert_accessible(page, "photo retention cmpa")
    finally:
        context.close()
