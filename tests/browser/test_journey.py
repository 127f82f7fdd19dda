"""A clinician's day on the phone app, in Chromium with a fake camera showing a real photo:
enroll with a code from the CLI, register a patient, record consent, capture and see the
photo reach the server sealed (opened with the exported records key and stock age, no
metadata in it), capture offline and see it wait then go, the idle lock with its warning,
and what a locked app leaves in the browser's storage. Every screen passes axe-core in
English and French; the whole journey talks to no other origin.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops, ImageStat
from playwright.sync_api import Browser, Response, expect

from tests.browser.conftest import Camera, Server, _photo, run_server
from tests.browser.phone import (
    APP_PASSCODE,
    assert_accessible,
    assert_no_violation,
    enroll,
    focusables,
    new_phone,
    recorded_secrets,
    stored_bytes,
    switch_language,
    tab_walk,
    unlock,
)

pytestmark = pytest.mark.slow

NAME = "Émilie Côté-Tremblay"
DOB = "1980-02-03"
MRN = "7654321"
HCN = "TREM80020312"
# What exiftool may report of a clean JPEG: the file itself, its bare JFIF header, and the
# colour profile the browser's encoder writes (sRGB), which the server's own scrubber keeps
# too (imaging/jpeg.py: a valid ICC profile is colour, not a description of anyone).
BASIC_GROUPS = {
    "ExifTool",
    "System",
    "File",
    "JFIF",
    "Composite",
    "SourceFile",
    "ICC_Profile",
    "ICC-header",
}


def _blobs(server: Server) -> list[Path]:
    return sorted(p for p in (server.data / "blobs" / "objects").rglob("*") if p.is_file())


def _open_with_records_key(server: Server, blob: Path, tmp: Path) -> bytes:
    key = tmp / "records-key.txt"
    if not key.exists():
        server.cli("admin", "records-key", "export", "--out", str(key))
    return subprocess.run(
        ["age", "-d", "-i", str(key), str(blob)], capture_output=True, check=True
    ).stdout


def _exif_groups(jpeg: bytes, tmp: Path) -> dict[str, Any]:
    path = tmp / "opened.jpg"
    path.write_bytes(jpeg)
    out = subprocess.run(
        ["exiftool", "-j", "-a", "-u", "-G1", str(path)], capture_output=True, text=True, check=True
    ).stdout
    tags: dict[str, Any] = json.loads(out)[0]
    return tags


def _looks_like(jpeg: bytes, camera: Camera) -> float:
    """Mean difference (0-255) between the photo and the camera's source picture, both
    reduced to 32x24: small when the photo shows what the camera saw."""
    shot = Image.open(BytesIO(jpeg)).convert("RGB").resize((32, 24), Image.Resampling.BOX)
    source = _photo().resize((camera.width, camera.height)).resize((32, 24), Image.Resampling.BOX)
    diff = ImageStat.Stat(ImageChops.difference(shot, source)).mean
    return sum(diff) / 3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, web_dist: Path) -> Iterator[Server]:
    """A server of this test's own: it counts the blobs it stores, and the suite's workers
    may have run other browser tests on the shared one first."""
    with run_server(tmp_path_factory.mktemp("journey-server"), web_dist) as srv:
        yield srv


def test_a_clinicians_day(server: Server, browser: Browser, camera: Camera, tmp_path: Path) -> None:
    assert shutil.which("age"), "the age CLI is needed"
    assert shutil.which("exiftool"), "exiftool is needed"
    code = server.create_user("e.roy@chu.example", "Dr E. Roy")
    context = new_phone(browser, server)
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    sessions: list[Response] = []
    context.on("response", lambda r: sessions.append(r) if r.url.endswith("/v1/sessions") else None)
    page = context.new_page()
    page.clock.install()
    page.goto("/")

    # Enrollment: accessible, and every control reachable by keyboard with visible focus.
    expect(page.get_by_role("heading", name="Enroll this phone", exact=True)).to_be_visible()
    assert page.get_by_text(server.url.split("//")[1]).is_visible()  # the server is this origin
    assert_accessible(page, "enrollment")
    walk = tab_walk(page)
    assert len(walk) == focusables(page), walk
    assert [w["index"] for w in walk] == sorted(w["index"] for w in walk), walk
    assert all(w["visible"] for w in walk), walk
    enroll(page, code)
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then((r) => r.length)") == 1
    assert_accessible(page, "patient search")

    # Register a patient, then consent, which opens the encounter.
    page.get_by_role("link", name="Register a new patient").click()
    expect(page.get_by_role("heading", name="Register a patient", exact=True)).to_be_visible()
    assert_accessible(page, "new patient")
    page.get_by_label("Full name").fill(NAME)
    page.get_by_label("Date of birth").fill(DOB)
    page.get_by_label("Medical record number (MRN)").fill(MRN)
    page.get_by_label("Health-card number (optional)").fill(HCN)
    page.get_by_label("Province or territory").select_option("QC")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Consent", exact=True)).to_be_visible()
    assert_accessible(page, "consent")
    walk = tab_walk(page)
    assert len(walk) == focusables(page), walk
    assert all(w["visible"] for w in walk), walk
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_role("alert")).to_contain_text("witness")  # verbal needs a witness
    page.get_by_label("Witness\N{RIGHT SINGLE QUOTATION MARK}s name").fill("N. Roy, RN")
    page.get_by_label("I told the patient").check()
    page.get_by_role("button", name="Record consent").click()

    # Capture: the fake camera shows the photo; the shutter seals, queues and sends it.
    expect(page.get_by_role("heading", name="Take photos", exact=True)).to_be_visible()
    shutter = page.get_by_role("button", name="Take photo")
    capture_hash = page.evaluate("location.hash")
    expect(shutter).to_be_enabled(timeout=15_000)
    assert_accessible(page, "capture")
    shutter.click()
    expect(page.get_by_role("status")).to_have_text("Photo sent.", timeout=30_000)
    blobs = _blobs(server)
    assert len(blobs) == 1
    assert blobs[0].read_bytes().startswith(b"age-encryption.org/v1\n")
    photo = _open_with_records_key(server, blobs[0], tmp_path)
    assert photo.startswith(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")  # a bare JFIF header
    tags = _exif_groups(photo, tmp_path)
    assert {k.split(":")[0] for k in tags} <= BASIC_GROUPS, tags
    assert _looks_like(photo, camera) < 20  # it is the camera's picture
    page.get_by_role("link", name="Done").click()
    expect(page.get_by_test_id("outbox-empty")).to_be_visible()
    assert_accessible(page, "outbox (empty)")

    # The session ends (signed out elsewhere): the app asks for the password again, signs in
    # with the device's key, and goes on; the keys stay on the phone.
    tokens = [json.loads(r.body())["token"] for r in sessions if r.ok]
    read = len(sessions)
    httpx.delete(
        f"{server.url}/v1/sessions/current", headers={"Authorization": f"Bearer {tokens[-1]}"}
    ).raise_for_status()
    page.get_by_role("link", name="Patients").click()
    page.get_by_label("Search", exact=True).fill(MRN)
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("heading", name="Sign in again", exact=True)).to_be_visible()
    assert_accessible(page, "sign in again")
    page.get_by_label("Account password").fill("a long clinical passphrase")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Find a patient", exact=True)).to_be_visible()
    page.get_by_label("Search", exact=True).fill(MRN)
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("link", name=NAME)).to_be_visible()
    page.evaluate("(hash) => { location.hash = hash; }", capture_hash)

    # Offline, and locked at once after the shutter: the photo is sealed and queued before
    # the lock, never lost; it waits in the outbox.
    expect(shutter).to_be_enabled(timeout=15_000)
    context.set_offline(True)
    shutter.click()
    page.get_by_role("navigation").get_by_role("button", name="Lock").click()
    unlock(page, APP_PASSCODE)
    expect(page.get_by_role("heading", name="Take photos", exact=True)).to_be_visible()
    page.get_by_role("link", name="Outbox").click()
    expect(page.get_by_test_id("outbox-count")).to_have_text("1 waiting to be sent.")
    assert_accessible(page, "outbox (waiting)")

    tokens += [json.loads(r.body())["token"] for r in sessions[read:] if r.ok]
    read = len(sessions)
    # Opened again from cold, still offline: the service worker serves the app shell, the
    # passcode is checked on the phone, and the photo still waits (STO-1).
    page.reload()
    expect(page.get_by_role("heading", name="Unlock clinphoto", exact=True)).to_be_visible()
    unlock(page, APP_PASSCODE)
    page.get_by_role("link", name="Outbox").click()
    expect(page.get_by_test_id("outbox-count")).to_have_text("1 waiting to be sent.")

    # Idle: the warning 20 s before the lock, in a dialog that takes focus; "Stay unlocked"
    # keeps the app open. The page's clock stands still while the warning is checked. Once
    # in English, once in French (the language cannot change while the dialog is open).
    for stay in ("Stay unlocked", "Rester déverrouillé"):
        now_ms = page.evaluate("Date.now()")
        page.clock.pause_at(datetime.fromtimestamp(now_ms / 1000 + 1, tz=UTC))
        page.clock.fast_forward(101_000)
        dialog = page.get_by_role("alertdialog")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("button", name=stay)).to_be_focused()
        assert_no_violation(page, f"lock warning ({stay})", paused=True)
        dialog.get_by_role("button", name=stay).click()
        expect(dialog).to_be_hidden()
        page.clock.resume()
        switch_language(page)
    page.clock.fast_forward(60_000)
    expect(page.get_by_role("heading", name="Outbox", exact=True)).to_be_visible()  # still unlocked
    page.clock.fast_forward(61_000)
    expect(page.get_by_role("heading", name="Unlock clinphoto", exact=True)).to_be_visible()
    expect(page.get_by_role("alertdialog")).to_be_hidden()
    assert page.get_by_text(NAME).count() == 0
    assert_accessible(page, "unlock")

    # Locked: the browser's storage holds the vault, the sealed photo and the app shell,
    # and no plaintext photo, key or patient identifier.
    stored, where = stored_bytes(page)
    assert "clinphoto" in where["databases"], where
    assert where["cached"] > 0, where
    assert b"age-encryption.org/v1\n" in stored  # the queued photo is there, sealed
    # An age secret key in text (the app's own code holds the prefix, so the whole key).
    assert not re.search(rb"(?i)AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", stored)
    needles = [b"\xff\xd8\xff\xe0\x00\x10JFIF"]
    needles += [photo[k * len(photo) // 4 :][:64] for k in (1, 2, 3)]  # the photo's bytes
    needles += [s.encode() for s in (NAME, "Tremblay", MRN, HCN, DOB)]
    # Every session token the phone was given (read before the reload, whose navigation
    # makes earlier response bodies unreadable, and since).
    tokens += [json.loads(r.body())["token"] for r in sessions[read:] if r.ok]
    needles += [t.encode() for t in tokens]
    secrets = recorded_secrets(page)
    assert secrets, "the device's key material was recorded"
    needles += secrets
    for needle in needles:
        assert needle not in stored, needle[:20]

    # Unlock (offline: the passcode is checked on the phone), go online: the photo goes.
    unlock(page, APP_PASSCODE)
    expect(page.get_by_test_id("outbox-count")).to_have_text("1 waiting to be sent.")
    context.set_offline(False)
    expect(page.get_by_test_id("outbox-empty")).to_be_visible(timeout=30_000)
    assert len(_blobs(server)) == 2

    # Find the patient again by the wristband's MRN.
    page.get_by_role("link", name="Patients").click()
    page.get_by_label("Search", exact=True).fill(MRN)
    page.get_by_role("button", name="Find").click()
    result = page.get_by_role("link", name=NAME)
    expect(result).to_be_visible()
    assert_accessible(page, "patient search results")
    result.click()
    expect(page.get_by_role("heading", name="Patient", exact=True)).to_be_visible()
    assert_accessible(page, "patient")

    # Nothing left for another origin during the whole journey.
    others = [u for u in requests if not u.startswith(server.url + "/")]
    assert others == [], others
    assert any("/v1/media" in u for u in requests)
    context.close()
