"""What the browser tests do on the phone: open the app, enroll, unlock, check a screen with
axe-core, read everything the app stores, and walk the page with the Tab key."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import Server
from tests.webtools import WEB

PHONE_WIDTH, PHONE_HEIGHT = 360, 780  # a small phone, in CSS pixels
APP_PASSCODE = "258036"  # the app's passcode on the test phones
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
JS = Path(__file__).parent / "js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Test instrumentation, injected by the test before the app loads (nothing of it is in the
# app): every 32-byte random value the page draws and every private key it imports, so that
# the storage check can look for the device's secret keys among the stored bytes.
RECORD_SECRETS = (JS / "record_secrets.js").read_text()

# Everything the app keeps in IndexedDB and Cache Storage, as bytes (base64): every value
# of every store of every database (strings as UTF-8, binary as is, objects walked), and
# every cached response's URL and body.
DUMP_STORAGE = (JS / "dump_storage.js").read_text()


def new_phone(
    browser: Browser, server: Server, locale: str = "en-CA", **extra: Any
) -> BrowserContext:
    """A fresh phone: its own storage, the camera allowed, secrets recorded for the checks."""
    context = browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        base_url=server.url,
        locale=locale,
        permissions=["camera"],
        **extra,
    )
    context.add_init_script(RECORD_SECRETS)
    return context


def enroll(page: Page, code: str, *, first: bool = True, name: str = "Phone") -> None:
    """Enroll from the app's first screen; ends on the patient search."""
    expect(page.get_by_role("heading", name="Enroll this phone", exact=True)).to_be_visible()
    page.get_by_label("One-time code").fill(code)
    if not first:
        page.get_by_label("This is my first device").uncheck()
    page.get_by_label("Account password", exact=True).fill("a long clinical passphrase")
    if first:
        page.get_by_label("Account password again").fill("a long clinical passphrase")
    page.get_by_label("Name of this phone").fill(name)
    page.get_by_label("App passcode", exact=True).fill(APP_PASSCODE)
    page.get_by_label("App passcode again").fill(APP_PASSCODE)
    page.get_by_role("button", name="Enroll").click()
    heading = page.get_by_role("heading", name="Find a patient", exact=True)
    expect(heading).to_be_visible(timeout=30_000)


def unlock(page: Page, passcode: str = APP_PASSCODE) -> None:
    expect(page.get_by_role("heading", name="Unlock clinphoto", exact=True)).to_be_visible()
    page.get_by_label("App passcode").fill(passcode)
    page.get_by_role("button", name="Unlock").click()


def axe_violations(page: Page, *, paused: bool = False) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now. With ``paused`` (the
    page's clock stopped by the test), axe's own timers are run by stepping the clock."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the app's CSP forbids inline scripts,
        # rightly, and the test keeps that CSP in force rather than bypassing it.
        page.evaluate(AXE.read_text())
    page.evaluate(
        "(tags) => { window.__axe = null; axe.run(document, { runOnly: { type: 'tag', values:"
        " tags } }).then((r) => { window.__axe = r; }); }",
        AXE_TAGS,
    )
    for _ in range(2000):
        if page.evaluate("window.__axe !== null"):
            break
        if paused:
            page.clock.run_for(10)
        else:
            page.wait_for_timeout(20)
    result: dict[str, Any] = page.evaluate("window.__axe")
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
    ]


def screenshot(page: Page, name: str) -> None:
    """With CLINPHOTO_SCREENSHOTS=DIR, keep a picture of the screen (for the README and for
    looking at the app); nothing otherwise."""
    folder = os.environ.get("CLINPHOTO_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{re.sub(r'[^a-z0-9]+', '-', name.lower())}.png"))


def assert_no_violation(page: Page, where: str, *, paused: bool = False) -> None:
    """No axe violation on the page as it is, in the language it shows."""
    screenshot(page, where)
    problems = axe_violations(page, paused=paused)
    assert problems == [], f"{where}: {problems}"


def assert_accessible(page: Page, where: str, *, paused: bool = False) -> None:
    """No axe violation on this screen, in English and in French (switched in the app)."""
    for lang in ("en", "fr"):
        screenshot(page, f"{where}-{lang}")
        problems = axe_violations(page, paused=paused)
        assert problems == [], f"{where} ({lang}): {problems}"
        switch_language(page)
    assert page.evaluate("document.documentElement.lang") == "en-CA"


def switch_language(page: Page) -> None:
    before = page.evaluate("document.documentElement.lang")
    page.locator("header .bar button").click()
    after = "fr-CA" if before == "en-CA" else "en-CA"
    expect(page.locator("html")).to_have_attribute("lang", after)


def stored_bytes(page: Page) -> tuple[bytes, dict[str, Any]]:
    """All the app keeps in IndexedDB and Cache Storage, and what was found where."""
    found: dict[str, Any] = page.evaluate(DUMP_STORAGE)
    return base64.b64decode(found.pop("bytes")), found


def recorded_secrets(page: Page) -> list[bytes]:
    return [bytes(x) for x in page.evaluate("window.__secrets || []")]


def tab_walk(page: Page, limit: int = 80) -> list[dict[str, Any]]:
    """Press Tab until focus has gone all the way round the page; what got focus, in the
    order Tab visits it starting from the page's first control, with whether a focus
    indicator showed."""
    seen: list[dict[str, Any]] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        info = page.evaluate(FOCUSED, FOCUSABLE)
        if info is None:  # focus left the page (the browser's own controls) and comes back
            continue
        if any(s["index"] == info["index"] for s in seen):
            break
        seen.append(info)
    first = min(range(len(seen)), key=lambda i: seen[i]["index"]) if seen else 0
    return seen[first:] + seen[:first]


FOCUSED = (JS / "focused.js").read_text()
FOCUSABLE = (
    "a[href], button:not([disabled]), input:not([disabled]), select, textarea, "
    '[tabindex]:not([tabindex="-1"])'
)


def focusables(page: Page) -> int:
    """How many stops Tab should make: every control, a radio group once."""
    return int(page.evaluate((JS / "tab_stops.js").read_text(), FOCUSABLE))


def waiting_count(page: Page) -> int:
    text = page.get_by_test_id("outbox-count").inner_text()
    m = re.search(r"\d+", text)
    return int(m.group()) if m else 0
