"""A phone reported lost, end to end in Chromium (issue 10 §5; BRE-1, BRE-2, BRE-4, BRE-5).

A clinician's phone captures a photo while offline (it stays in the outbox), is locked, and
reports what it holds by id once it has a network again; their other phone reports it lost
from "Report a problem"; the breach register lists the patient whose photo it held as
captured_not_uploaded, and the phone as locked; the lost phone, opened again (locked, as a
thief would find it), is told to wipe at its first contact, signs the confirmation, erases
its IndexedDB databases and caches and shows the ending; the register then shows the signed
confirmation. A phone reported lost by its own user asks first, then erases itself at once.
The report screen passes axe-core in English and French.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from clinphoto import crypto
from tests.browser.conftest import PASSWORD, Server, run_server
from tests.browser.phone import (
    assert_accessible,
    assert_no_violation,
    enroll,
    new_phone,
    screenshot,
    switch_language,
)
from tests.browser.test_devices import _capture_a_photo

pytestmark = pytest.mark.slow

EMAIL = "l.lost@chu.example"
SPACING_S = 31  # the app spaces reports so; the server keeps one per device per 30 s


@pytest.fixture
def own_server(tmp_path: Path, web_dist: Path) -> Iterator[Server]:
    """A server of its own: the register's answer depends on every report the phones sent."""
    with run_server(tmp_path, web_dist) as srv:
        yield srv


def enrollment_code(server: Server, email: str) -> str:
    out = server.cli("admin", "enrollment-code", "--email", email).stdout
    return out.split("(valid 24 hours):")[1].split()[0]


def desk(server: Server, email: str) -> httpx.Client:
    """Another device of the same user, over HTTP: enrolled with a new code, signed in."""
    session = httpx.post(
        f"{server.url}/v1/enroll",
        json={
            "code": enrollment_code(server, email),
            "password": PASSWORD,
            "device_name": "Desk computer",
            "age_recipient": crypto.AgeIdentity.generate().recipient,
            "signing_public": crypto.SigningKey.generate().public,
        },
    )
    session.raise_for_status()
    token = session.json()["token"]
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})


def second_phone(
    browser: Browser, server: Server, email: str, name: str
) -> tuple[BrowserContext, Page]:
    context = new_phone(browser, server)
    page = context.new_page()
    page.goto("/")
    enroll(page, enrollment_code(server, email), first=False, name=name)
    return context, page


# The phone's status reports as the page itself timed them (Resource Timing: every fetch of
# the page, whether or not the service worker saw it), oldest first.
REPORTS = """() => performance.getEntriesByType("resource")
    .filter((e) => e.name.endsWith("/v1/device-status"))
    .map((e) => ({ start: e.startTime, end: e.responseEnd, status: e.responseStatus }))"""


def kept_report_since(page: Page, since: float) -> bool:
    """True once the server answered a status report sent after ``since`` (page time, ms)
    and at least 31 s after the report before it: the server kept that one (it keeps one
    per device per 30 s)."""
    reports = page.evaluate(REPORTS)
    for i, r in enumerate(reports):
        spaced = i == 0 or r["start"] - reports[i - 1]["start"] >= SPACING_S * 1000
        if r["start"] > since and spaced and r["status"] == 200 and r["end"] > 0:
            return True
    return False


def storage(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        """async () => ({
            databases: (await indexedDB.databases()).map((d) => d.name),
            caches: await caches.keys(),
            confirmation: localStorage.getItem("clinphoto.wipe-confirmation"),
        })"""
    )
    return result


def test_a_lost_phone_is_listed_in_the_register_then_wipes_and_confirms(
    own_server: Server, browser: Browser
) -> None:
    server = own_server
    code = server.create_user(EMAIL, "Dr L. Lost")
    lost = new_phone(browser, server)
    page = lost.new_page()
    page.goto("/")
    enroll(page, code, name="Lost phone")
    # A first photo goes to the server (the phone learns whom to seal to); the next one,
    # taken offline, is sealed and waits in the outbox. Then the phone is locked.
    _capture_a_photo(page)
    patient_id = re.findall(r"[0-9a-f]{32}", page.evaluate("location.hash"))[0]
    shutter = page.get_by_role("button", name="Take photo")
    expect(shutter).to_be_enabled(timeout=15_000)
    lost.set_offline(True)
    shutter.click()
    page.get_by_role("link", name="Outbox").click()
    expect(page.get_by_test_id("outbox-count")).to_have_text(
        "1 waiting to be sent.", timeout=30_000
    )
    page.get_by_role("navigation").get_by_role("button", name="Lock").click()
    expect(page.get_by_role("heading", name="Unlock clinphoto", exact=True)).to_be_visible()
    media_id = page.evaluate(
        """() => new Promise((resolve) => {
            const r = indexedDB.open("clinphoto");
            r.onsuccess = () => {
                const all = r.result.transaction("outbox").objectStore("outbox").getAllKeys();
                all.onsuccess = () => { r.result.close(); resolve(all.result[0]); };
            };
        })"""
    )
    assert re.fullmatch(r"[0-9a-f]{32}", media_id)

    # Back online, still locked: it reports what its outbox holds (ids read in the clear
    # from the sealed items' manifests), until the server has kept such a report.
    since = page.evaluate("performance.now()")
    lost.set_offline(False)
    page.wait_for_function("navigator.onLine")
    for _ in range(900):
        if kept_report_since(page, since):
            break
        page.wait_for_timeout(100)
    assert kept_report_since(page, since), page.evaluate(REPORTS)

    # Another phone of the same clinician reports it lost.
    other, page_b = second_phone(browser, server, EMAIL, "Spare phone")
    page_b.get_by_role("link", name="Report a problem").click()
    expect(page_b.get_by_role("heading", name="Report a problem", exact=True)).to_be_visible()
    page_b.get_by_role("radio", name="A phone or computer of mine was lost").check()
    devices = page_b.get_by_test_id("report-devices")
    expect(devices.get_by_role("radio", name="Spare phone (this phone)")).to_be_visible()
    assert_accessible(page_b, "report a problem")
    page_b.get_by_role("button", name="Send the report").click()
    expect(page_b.get_by_role("alert")).to_have_text(
        re.compile("Choose the device that was lost or stolen")
    )
    devices.get_by_role("radio", name="Lost phone", exact=True).check()
    page_b.get_by_label("What happened").fill("Left on the bus, between two wards.")
    page_b.get_by_role("button", name="Send the report").click()
    expect(page_b.get_by_role("heading", name="Problem reported")).to_be_visible()
    expect(page_b.get_by_test_id("report-done")).to_contain_text("Lost phone")
    assert_accessible(page_b, "problem reported")
    other.close()

    # The register, read by the same clinician on another device.
    with desk(server, EMAIL) as api:
        breaches = api.get("/v1/breaches").raise_for_status().json()["breaches"]
        (summary,) = [b for b in breaches if b["kind"] == "lost_device"]
        breach_id = summary["id"]
        breach = api.get(f"/v1/breaches/{breach_id}").raise_for_status().json()
        lost_id = breach["device"]["id"]
        assert breach["device"]["name"] == "Lost phone"
        assert breach["device"]["revoked_at"]
        assert breach["device"]["locked"] is True
        assert breach["device"]["wipe"]["confirmed_at"] is None
        patients = {p["patient_id"]: p for p in breach["exposure"]["patients"]}
        assert set(patients) == {patient_id}, patients
        assert "captured_not_uploaded" in patients[patient_id]["reasons"]
        assert media_id in patients[patient_id]["media_ids"]

        # The lost phone is opened again: locked, it wipes at its first contact.
        before = storage(page)
        assert "clinphoto" in before["databases"], before
        assert "clinphoto-status" in before["databases"], before
        page.reload()
        ended = page.get_by_role("heading", name="clinphoto was erased from this phone")
        expect(ended).to_be_visible(timeout=30_000)
        expect(page.get_by_text("reported lost or stolen")).to_be_visible()
        screenshot(page, "wiped remotely")
        page.wait_for_function('localStorage.getItem("clinphoto.wipe-confirmation") === null')
        after = storage(page)
        assert after == {"databases": [], "caches": [], "confirmation": None}, after

        breach = api.get(f"/v1/breaches/{breach_id}").raise_for_status().json()
        wipe = breach["device"]["wipe"]
        assert breach["device"]["id"] == lost_id
        assert wipe["confirmed_at"], wipe
        assert wipe["signature_valid"] is True, wipe
        assert wipe["erased"]["vault"] is True, wipe
        assert wipe["erased"]["outbox_items"] == 1, wipe
        assert wipe["erased"]["databases"] >= 2, wipe
    lost.close()


def test_reporting_this_phone_asks_first_then_erases_it(
    own_server: Server, browser: Browser
) -> None:
    server = own_server
    code = server.create_user("s.stolen@chu.example", "Dr S. Stolen")
    context = new_phone(browser, server)
    page = context.new_page()
    page.goto("/")
    enroll(page, code, name="Work phone")
    # The status key is registered before it is needed (a report follows enrollment).
    page.wait_for_function(
        """() => new Promise((resolve) => {
            const r = indexedDB.open("clinphoto-status");
            r.onsuccess = () => {
                const get = r.result.transaction("key").objectStore("key").get("status");
                get.onsuccess = () => {
                    r.result.close();
                    resolve(get.result?.registered === true);
                };
            };
        })"""
    )
    page.get_by_role("link", name="Report a problem").click()
    page.get_by_role("radio", name="A phone or computer of mine was stolen").check()
    page.get_by_role("radio", name="Work phone (this phone)").check()
    page.get_by_role("button", name="Send the report").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_be_visible()
    keep = dialog.get_by_role("button", name="Keep this phone")
    expect(keep).to_be_focused()  # the choice that loses nothing
    assert_no_violation(page, "report this phone-en")
    keep.click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="Report a problem", exact=True)).to_be_visible()
    switch_language(page)
    page.get_by_role("button", name="Envoyer le signalement").click()
    expect(dialog.get_by_role("button", name="Garder ce téléphone")).to_be_focused()
    assert_no_violation(page, "report this phone-fr")
    page.keyboard.press("Escape")  # Escape keeps the phone too
    expect(dialog).to_be_hidden()
    switch_language(page)

    page.get_by_role("button", name="Send the report").click()
    page.get_by_role("alertdialog").get_by_role(
        "button", name="Report and erase this phone"
    ).click()
    expect(page.get_by_role("heading", name="clinphoto was erased from this phone")).to_be_visible(
        timeout=30_000
    )
    assert_accessible(page, "wiped remotely")
    page.wait_for_function('localStorage.getItem("clinphoto.wipe-confirmation") === null')
    assert storage(page) == {"databases": [], "caches": [], "confirmation": None}
    page.reload()
    expect(page.get_by_role("heading", name="Enroll this phone", exact=True)).to_be_visible()
    context.close()
