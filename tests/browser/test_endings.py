"""How the app ends on a phone: 10 wrong passcodes wipe it, a revoked device wipes itself at
its next contact with the server, and an iPhone outside the Home Screen is asked to install
the app before enrolling. Each screen passes axe-core in English and French."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import Server
from tests.browser.phone import (
    APP_PASSCODE,
    assert_accessible,
    enroll,
    new_phone,
    stored_bytes,
    unlock,
)

pytestmark = pytest.mark.slow

IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def test_ten_wrong_passcodes_wipe_the_app(server: Server, browser: Browser) -> None:
    code = server.create_user("w.wrong@chu.example", "Dr W. Wrong")
    context = new_phone(browser, server)
    page = context.new_page()
    page.goto("/")
    enroll(page, code)
    page.reload()
    expect(page.get_by_role("heading", name="Unlock clinphoto", exact=True)).to_be_visible()

    alert = page.get_by_role("alert")
    for left in range(9, 0, -1):
        unlock(page, "000000")
        expect(alert).to_contain_text(f"{left} tr" if left > 1 else "1 try left")
        if left == 9:
            assert_accessible(page, "wrong passcode")
    # The right passcode still works before the tenth mistake, and resets the count.
    unlock(page, APP_PASSCODE)
    expect(page.get_by_role("heading", name="Find a patient", exact=True)).to_be_visible()
    page.reload()
    for _ in range(9):
        unlock(page, "111111")
        expect(alert).to_be_visible()
    expect(alert).to_contain_text("1 try left")
    unlock(page, "111111")
    expect(page.get_by_role("heading", name="clinphoto was erased from this phone")).to_be_visible()
    assert_accessible(page, "wiped")
    _, where = stored_bytes(page)
    assert where["databases"] == [], where

    # What is left is the enrollment screen; a reload shows it too.
    page.get_by_role("button", name="Enroll again").click()
    expect(page.get_by_role("heading", name="Enroll this phone", exact=True)).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Enroll this phone", exact=True)).to_be_visible()
    context.close()


def test_a_revoked_device_wipes_itself_at_next_contact(server: Server, browser: Browser) -> None:
    email = "r.revoked@chu.example"
    code = server.create_user(email, "Dr R. Revoked")
    context = new_phone(browser, server)
    page = context.new_page()
    page.goto("/")
    enroll(page, code)
    _, where = stored_bytes(page)
    assert "clinphoto" in where["databases"], where
    # The service worker is installed and keeps the shell: there is something to wipe.
    shell = page.evaluate("navigator.serviceWorker.ready.then(() => caches.keys())")
    assert shell, shell

    listed = server.cli("admin", "devices", "--email", email).stdout.splitlines()
    device_id = listed[1].split()[0]
    assert len(device_id) == 32
    server.cli("admin", "revoke-device", device_id)

    # The next request to the server: a search.
    page.get_by_label("Search", exact=True).fill("1234567")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("heading", name="This phone was revoked")).to_be_visible()
    assert_accessible(page, "revoked")
    _, where = stored_bytes(page)
    assert where["databases"] == [], where
    assert where["caches"] == [], where
    workers = "navigator.serviceWorker.getRegistrations().then((r) => r.length)"
    assert page.evaluate(workers) == 0
    page.reload()
    expect(page.get_by_role("heading", name="Enroll this phone", exact=True)).to_be_visible()
    context.close()


def test_an_iphone_outside_the_home_screen_is_asked_to_install_first(
    server: Server, browser: Browser
) -> None:
    context = new_phone(browser, server, user_agent=IPHONE_SAFARI)
    page = context.new_page()
    page.goto("/")
    expect(page.get_by_role("heading", name="Install clinphoto first")).to_be_visible()
    expect(page.get_by_text("7 days")).to_be_visible()  # why: Safari's storage limit
    assert page.get_by_label("One-time code").count() == 0
    assert_accessible(page, "install first")
    context.close()
