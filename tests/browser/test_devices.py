"""Devices come and go, from the phone alone (decision 011): a clinician whose only device is a
phone adds a second phone and gives it access to an earlier photo, in Chromium.

Phone A enrolls and captures a photo; under Your devices it asks for a one-time code, shown
with a QR code of the enrollment link (decoded here by OpenCV, a reader independent of the
app's); phone B (a browser profile of its own) enrolls from that link and cannot open the
photo yet; phone A shows B's name and the fingerprint it computes from B's keys (the same
one B shows), refuses when the server's fingerprint does not match the keys, then gives
access; B opens the photo; giving access again finds nothing left to do; A revokes B, and
B wipes itself at its next contact. Every new screen passes axe-core in English and French.
"""

from __future__ import annotations

import json
import re

import cv2
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.conftest import Camera, Server
from tests.browser.phone import (
    PHONE_WIDTH,
    assert_accessible,
    assert_no_violation,
    enroll,
    focusables,
    new_phone,
    switch_language,
    tab_walk,
)

pytestmark = pytest.mark.slow

NAME = "Rosalie Tremblay-Ouellet"
DOB = "1958-03-02"
MRN = "5520931"


def _capture_a_photo(page: Page, *, identifiable: bool = False) -> None:
    """Register a patient, record a verbal consent, take one photo with the fake camera.

    With ``identifiable`` the consent allows identifiable images, so that what the custodian
    makes of the camera's picture (a coffee cup that scores near the face threshold) does not
    decide whether it may be shared."""
    page.get_by_role("link", name="Register a new patient").click()
    page.get_by_label("Full name").fill(NAME)
    page.get_by_label("Date of birth").fill(DOB)
    page.get_by_label("Medical record number (MRN)").fill(MRN)
    page.get_by_label("Province or territory").select_option("QC")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Consent", exact=True)).to_be_visible()
    if identifiable:
        page.locator("#identifiable-true").check()
    page.get_by_label("Witness\N{RIGHT SINGLE QUOTATION MARK}s name").fill("N. Roy, RN")
    page.get_by_label("I told the patient").check()
    page.get_by_role("button", name="Record consent").click()
    shutter = page.get_by_role("button", name="Take photo")
    expect(shutter).to_be_enabled(timeout=15_000)
    shutter.click()
    expect(page.get_by_role("status")).to_have_text("Photo sent.", timeout=30_000)


def _open_timeline(page: Page) -> None:
    page.get_by_role("link", name="Patients", exact=True).click()
    page.get_by_label("Search", exact=True).fill(MRN)
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name=NAME).click()
    page.get_by_role("link", name="See this patient\N{RIGHT SINGLE QUOTATION MARK}s photos").click()
    expect(page.get_by_test_id("timeline").locator("li")).to_have_count(1, timeout=30_000)


def _devices(page: Page) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Devices").click()
    expect(page.get_by_role("heading", name="Your devices", exact=True)).to_be_visible()
    expect(page.get_by_test_id("this-device")).to_be_visible()


def _qr_text(page: Page) -> str:
    """What the QR code on the screen says, read by OpenCV from a picture of it."""
    qr = page.get_by_test_id("enroll-qr")
    qr.evaluate("(e) => e.scrollIntoView({ block: 'center' })")  # clear of the status bar
    png = qr.screenshot()
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    return str(text)


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def test_a_phone_adds_a_phone_and_gives_it_access(
    server: Server, browser: Browser, camera: Camera
) -> None:
    code = server.create_user("r.devices@chu.example", "Dr R. Devices")
    ctx_a = new_phone(browser, server)
    page_a = ctx_a.new_page()
    page_a.goto("/")
    enroll(page_a, code, name="Old phone")
    _capture_a_photo(page_a)

    # Your devices: reachable from the main navigation, fits a 360-pixel screen in French too.
    _devices(page_a)
    assert "Old phone (this device)" in page_a.get_by_test_id("this-device").inner_text()
    assert_accessible(page_a, "devices")
    switch_language(page_a)
    assert page_a.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    switch_language(page_a)

    # Add a device: a one-time code, its expiry, and a QR code of the enrollment link.
    page_a.get_by_role("link", name="Add a device").click()
    expect(page_a.get_by_role("heading", name="Add a device", exact=True)).to_be_visible()
    assert_accessible(page_a, "add a device")
    page_a.get_by_role("button", name="Get a code").click()
    new_code = page_a.get_by_test_id("enroll-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{5}(-[A-Z0-9]{5}){3}", new_code), new_code
    expect(page_a.get_by_text("Valid for 24 hours")).to_be_visible()
    link = f"{server.url}/#/enroll/{new_code}"
    assert _qr_text(page_a) == link
    assert_accessible(page_a, "add a device, code shown")

    # Phone B enrolls from the link (what scanning the QR code opens): not the first device.
    ctx_b = new_phone(browser, server)
    page_b = ctx_b.new_page()
    page_b.goto(link)
    expect(page_b.get_by_label("One-time code")).to_have_value(new_code)
    enroll(page_b, new_code, first=False, name="New phone")
    _open_timeline(page_b)
    timeline_b = page_b.get_by_test_id("timeline")
    # Not yet its photo: the timeline says what to do.
    expect(timeline_b).to_contain_text(
        "give it access from another of your devices", timeout=30_000
    )
    _devices(page_b)
    fingerprint_b = page_b.get_by_test_id("this-device").locator(".mono").inner_text()

    # Phone A: B is listed; a server whose fingerprint does not match B's keys is refused.
    _devices(page_a)
    new_item = page_a.locator("[data-testid=device]", has_text="New phone")
    expect(new_item).to_contain_text(fingerprint_b)
    b_id = new_item.get_attribute("data-device-id")
    assert b_id
    walk = tab_walk(page_a)  # every control of the list by keyboard, with a visible focus
    assert len(walk) == focusables(page_a), walk
    assert all(w["visible"] for w in walk), walk

    def tampered(route: Route) -> None:
        listed = route.fetch().json()
        for d in listed:
            if d["id"] == b_id:
                d["fingerprint"] = "0000 " + d["fingerprint"][5:]
        route.fulfill(status=200, content_type="application/json", body=json.dumps(listed))

    page_a.route("**/v1/devices", tampered)
    new_item.get_by_role("link", name="Give access to New phone").click()
    expect(page_a.get_by_role("alert")).to_contain_text("does not match its keys")
    expect(page_a.get_by_role("button", name="Give access")).to_have_count(0)
    page_a.unroute("**/v1/devices")

    # Then the real list: B's name and the fingerprint computed here from B's keys.
    page_a.get_by_role("link", name="Back to your devices").click()
    page_a.locator("[data-testid=device]", has_text="New phone").get_by_role(
        "link", name="Give access to New phone"
    ).click()
    expect(page_a.get_by_role("heading", name="Give access to a new device")).to_be_visible()
    expect(page_a.get_by_test_id("new-device-fingerprint")).to_have_text(fingerprint_b)
    expect(page_a.get_by_test_id("new-device")).to_contain_text("New phone")
    assert_accessible(page_a, "give access")
    page_a.get_by_role("button", name="Give access").click()
    expect(page_a.get_by_role("alert")).to_have_text(re.compile("Check the fingerprint first"))
    page_a.get_by_label("The new device shows this same fingerprint").check()
    page_a.get_by_role("button", name="Give access").click()
    result = page_a.get_by_test_id("grant-result")
    expect(result).to_contain_text("Done.", timeout=60_000)
    granted, existing, objects = _numbers(result.inner_text())
    assert (granted, existing, objects) == (1, 0, 1), result.inner_text()  # the one photo
    assert_no_violation(page_a, "give access, done")

    # Safe to run again: nothing is left to give.
    page_a.get_by_role("button", name="Run again").click()
    expect(result).to_contain_text("Nothing to do", timeout=60_000)

    # Phone B now opens the earlier photo, verified against the author's signed manifest.
    _open_timeline(page_b)
    expect(timeline_b.locator("img.thumb")).to_have_count(1, timeout=30_000)
    timeline_b.get_by_role("link").first.click()
    expect(page_b.get_by_test_id("verified")).to_be_visible(timeout=30_000)
    size = page_b.get_by_test_id("photo").evaluate("(i) => [i.naturalWidth, i.naturalHeight]")
    assert size == [camera.width, camera.height]

    # Phone A revokes B (after confirming); B wipes itself at its next contact.
    _devices(page_a)
    item = page_a.locator("[data-testid=device]", has_text="New phone")
    item.get_by_role("button", name="Revoke New phone").click()
    dialog = page_a.get_by_test_id("revoke-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Keep it")).to_be_focused()
    assert_no_violation(page_a, "revoke a device (en)")
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_have_count(0)
    switch_language(page_a)  # the dialog is modal: French is checked with it opened again
    item.get_by_role("button", name="R\N{LATIN SMALL LETTER E WITH ACUTE}voquer New phone").click()
    assert_no_violation(page_a, "revoke a device (fr)")
    page_a.keyboard.press("Escape")  # Escape keeps it too
    expect(dialog).to_have_count(0)
    switch_language(page_a)
    expect(item).to_contain_text("Active")
    item.get_by_role("button", name="Revoke New phone").click()
    dialog.get_by_role("button", name="Revoke it").click()
    expect(page_a.get_by_role("status")).to_have_text("New phone is revoked.")
    expect(item).to_contain_text("Revoked")
    expect(item.get_by_role("button")).to_have_count(0)
    page_b.get_by_role("link", name="Patients", exact=True).click()
    page_b.get_by_label("Search", exact=True).fill(MRN)
    page_b.get_by_role("button", name="Find").click()
    expect(page_b.get_by_role("heading", name="This phone was revoked")).to_be_visible()
    ctx_a.close()
    ctx_b.close()
