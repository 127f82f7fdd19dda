"""A phone enrolls from the link in the QR code that `clinphoto device approve` shows: the app
opens with the one-time code filled in, and the code leaves the address at once."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from clinphoto.cli.device import enrollment_link
from tests.browser.conftest import Server
from tests.browser.phone import enroll, new_phone

pytestmark = pytest.mark.slow


def test_the_enrollment_link_fills_in_the_code_and_leaves_no_trace(
    server: Server, browser: Browser
) -> None:
    code = server.create_user("q.link@chu.example", "Dr Q. Link")
    context = new_phone(browser, server)
    page = context.new_page()
    page.goto(enrollment_link(server.url, code))
    expect(page.get_by_label("One-time code")).to_have_value(code)
    assert code not in page.url  # replaced in its history entry, not only hidden
    enroll(page, code)
    context.close()
