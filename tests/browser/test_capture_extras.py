"""The phone app's wristband scan, body map, drawn consent signature, caption check, file
import and consent withdrawal, in Chromium against a real server.

This module runs its own Chromium whose fake camera shows a hospital wristband: a Code 128
barcode of the patient's MRN, drawn by tests/browser/wristband.py. What the app uploads is
read back from the server's blob store and opened with the exported records key and the stock
`age` CLI; exiftool looks for metadata in it. Every screen changed here passes axe-core in
English and French, and nothing is requested from another origin.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import (
    Browser,
    BrowserContext,
    FloatRect,
    Page,
    Response,
    Route,
    expect,
)

from tests.browser.conftest import CHROMIUM, Server, chromium_args, run_server, write_y4m
from tests.browser.phone import assert_accessible, enroll, focusables, new_phone, tab_walk
from tests.browser.wristband import wristband_picture

pytestmark = pytest.mark.slow

NAME = "Gabrielle Ouellet-Nadeau"
DOB = "1975-06-14"
MRN = "40918273"
SNOMED = "http://snomed.info/sct"
FOREARM, LEFT = "14975008", "7771000"


@dataclass
class Phone:
    server: Server
    context: BrowserContext
    page: Page
    token: str
    patient_id: str
    keys: Path
    requests: list[str] = field(default_factory=list)  # every request, the worker's too
    page_requests: list[str] = field(default_factory=list)  # the page's own

    def api(self, path: str) -> Any:
        r = httpx.get(f"{self.server.url}{path}", headers={"Authorization": f"Bearer {self.token}"})
        r.raise_for_status()
        return r.json()

    def opened(self, ciphertext_sha256: str) -> bytes:
        """An uploaded object's plaintext: its blob, opened with the records key by `age`."""
        sha = ciphertext_sha256
        blob = self.server.data / "blobs" / "objects" / sha[:2] / sha[2:4] / sha
        return self.age(blob.read_bytes())

    def age(self, ciphertext: bytes) -> bytes:
        return subprocess.run(
            ["age", "-d", "-i", str(self.keys)], input=ciphertext, capture_output=True, check=True
        ).stdout

    def photos(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.api(
            f"/v1/patients/{self.patient_id}/media?purpose=clinical_care"
        )
        return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, web_dist: Path) -> Iterator[Server]:
    """A server of this module's own: what it uploads stays out of the other tests' counts."""
    with run_server(tmp_path_factory.mktemp("extras-server"), web_dist) as srv:
        yield srv


@pytest.fixture(scope="module")
def wristband_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Chromium whose camera shows the patient's wristband."""
    from playwright.sync_api import sync_playwright

    y4m = tmp_path_factory.mktemp("wristband") / "wristband.y4m"
    write_y4m(wristband_picture(MRN), y4m)
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=chromium_args(y4m),
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def phone(
    server: Server, wristband_browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Phone]:
    """An enrolled phone, with the patient registered on it."""
    assert shutil.which("age"), "the age CLI is needed"
    assert shutil.which("exiftool"), "exiftool is needed"
    keys = tmp_path_factory.mktemp("keys") / "records-key.txt"
    server.cli("admin", "records-key", "export", "--out", str(keys))
    code = server.create_user("g.cote@chu.example", "Dr G. Côté")
    # Without the service worker, so that the test sees (and can hold) the page's requests
    # for the reader; the worker's own precaching is the journey test's.
    context = new_phone(wristband_browser, server, service_workers="block")
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page_requests: list[str] = []
    enrolled: list[Response] = []
    context.on("response", lambda r: enrolled.append(r) if r.url.endswith("/v1/enroll") else None)
    page = context.new_page()
    page.on("request", lambda r: page_requests.append(r.url))
    page.goto("/")
    enroll(page, code)
    token = json.loads(enrolled[0].body())["token"]
    page.get_by_role("link", name="Register a new patient").click()
    page.get_by_label("Full name").fill(NAME)
    page.get_by_label("Date of birth").fill(DOB)
    page.get_by_label("Medical record number (MRN)").fill(MRN)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Consent", exact=True)).to_be_visible()
    patient_id = page.evaluate("location.hash").rsplit("/", 1)[1]
    yield Phone(server, context, page, token, patient_id, keys, requests, page_requests)
    context.close()


def _consent_screen(phone: Phone) -> None:
    phone.page.evaluate("(h) => { location.hash = h; }", f"#/consent/{phone.patient_id}")
    expect(phone.page.get_by_role("heading", name="Consent", exact=True)).to_be_visible()


def _verbal_consent(phone: Phone, *uses: str) -> None:
    """Record a spoken consent (clinical care and ``uses``); ends on the capture screen."""
    page = phone.page
    _consent_screen(phone)
    for use in uses:
        page.get_by_label(use, exact=True).check()
    page.get_by_label("Witness\N{RIGHT SINGLE QUOTATION MARK}s name").fill("N. Roy, RN")
    page.get_by_label("I told the patient").check()
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_role("heading", name="Take photos", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Take photo")).to_be_enabled(timeout=15_000)


def _draw(page: Page, box: FloatRect) -> None:
    """A signature drawn with a finger: touch events through the DevTools protocol."""
    cdp = page.context.new_cdp_session(page)
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    points = [(x0 + w * (0.1 + 0.8 * i / 20), y0 + h * (0.5 + 0.3 * (-1) ** i)) for i in range(21)]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [_pt(*points[0])]})
    for p in points[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [_pt(*p)]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def _pt(x: float, y: float) -> dict[str, float]:
    return {"x": x, "y": y, "radiusX": 2, "radiusY": 2, "force": 0.5}


def _exif(data: bytes, suffix: str, tmp: Path) -> dict[str, Any]:
    path = tmp / f"opened{suffix}"
    path.write_bytes(data)
    out = subprocess.run(
        ["exiftool", "-j", "-a", "-u", "-G1", str(path)], capture_output=True, text=True, check=True
    ).stdout
    tags: dict[str, Any] = json.loads(out)[0]
    return tags


# What exiftool reports of any picture: the file itself and its bare format header.
BARE = {"ExifTool", "System", "File", "JFIF", "PNG", "Composite", "SourceFile"}


def test_wristband_scan_finds_the_patient(phone: Phone) -> None:
    page = phone.page
    page.get_by_role("link", name="Patients").click()
    expect(page.get_by_role("heading", name="Find a patient", exact=True)).to_be_visible()
    # The reader is not part of the first load: the page asks for it when a scan starts.
    before = len(phone.page_requests)
    assert not [u for u in phone.page_requests if u.endswith(".wasm") or "/detector-" in u]
    held: list[Route] = []  # the reader's WebAssembly, held while the scanner is checked
    page.route("**/*.wasm", lambda route: held.append(route))
    page.get_by_role("button", name="Scan a wristband").click()
    expect(page.get_by_role("heading", name="Scan the wristband")).to_be_visible()
    expect(page.get_by_role("button", name="Type the number instead")).to_be_visible()
    for _ in range(300):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the reader was asked for"
    assert_accessible(page, "wristband scanner")
    # Typing stays: the scanner closes on request and the search field takes focus.
    page.get_by_role("button", name="Type the number instead").click()
    expect(page.get_by_label("Search", exact=True)).to_be_focused()
    held[0].continue_()
    page.unroute("**/*.wasm")
    # Scanned: the MRN on the wristband finds the patient.
    page.get_by_role("button", name="Scan a wristband").click()
    expect(page.get_by_role("link", name=NAME)).to_be_visible(timeout=30_000)
    expect(page.get_by_label("Search", exact=True)).to_have_value(MRN)
    scanned = phone.page_requests[before:]
    wasm = [u for u in scanned if u.endswith(".wasm")]
    assert wasm, scanned
    assert all(u.startswith(phone.server.url + "/assets/zxing_reader-") for u in wasm), scanned
    assert all(u.startswith(phone.server.url + "/") for u in scanned), scanned


def test_drawn_signature_is_sealed_like_a_photo(phone: Phone, tmp_path: Path) -> None:
    page = phone.page
    _consent_screen(phone)
    page.get_by_label("Signed on this screen").check()
    box = page.get_by_test_id("signature-box")
    expect(box).to_be_visible()
    page.get_by_text("Lire en français").click()  # the rights in the other language
    expect(page.get_by_text("Vous pouvez demander une copie")).to_be_visible()
    assert_accessible(page, "consent with signature")
    walk = tab_walk(page, limit=120)
    assert len(walk) == focusables(page), walk
    assert all(w["visible"] for w in walk), walk
    page.get_by_label("I told the patient").check()
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_role("alert")).to_contain_text("must sign")  # nothing drawn yet
    where = box.bounding_box()
    assert where is not None
    _draw(page, where)
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_role("heading", name="Take photos", exact=True)).to_be_visible()
    consents = phone.api(f"/v1/patients/{phone.patient_id}/consents")
    signed = [c for c in consents if c["method"] == "electronic_signature"]
    assert len(signed) == 1
    for _ in range(100):  # the outbox sends it right after the consent
        signed = [
            c
            for c in phone.api(f"/v1/patients/{phone.patient_id}/consents")
            if c["method"] == "electronic_signature"
        ]
        if signed[0]["signature_object_id"]:
            break
        page.wait_for_timeout(100)
    media_id = signed[0]["signature_object_id"]
    assert media_id, signed
    meta = phone.api(f"/v1/media/{media_id}?purpose=clinical_care")
    manifest = json.loads(meta["manifest"])
    assert manifest["kind"] == "consent-signature"
    assert manifest["consent_id"] == signed[0]["id"]
    assert manifest["content_type"] == "image/png"
    png = phone.opened(meta["ciphertext_sha256"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    tags = _exif(png, ".png", tmp_path)
    assert {k.split(":")[0] for k in tags} <= BARE, tags
    drawing = Image.open(io.BytesIO(png)).convert("L")
    dark = sum(1 for v in drawing.tobytes() if v < 100)
    assert dark > 50, "the drawn strokes are in the sealed image"
    assert signed[0]["signature_sha256"] == meta["plaintext_sha256"]


def _signed_consent(phone: Phone) -> tuple[dict[str, Any], dict[str, Any]]:
    """The newest electronic-signature consent once the outbox has sent its signature, and
    the signature's media record."""
    for _ in range(100):  # the outbox sends it right after the consent
        signed = [
            c
            for c in phone.api(f"/v1/patients/{phone.patient_id}/consents")
            if c["method"] == "electronic_signature"
        ]
        if signed and signed[-1]["signature_object_id"]:
            break
        phone.page.wait_for_timeout(100)
    newest = signed[-1]
    assert newest["signature_object_id"], signed
    meta = phone.api(f"/v1/media/{newest['signature_object_id']}?purpose=clinical_care")
    return newest, meta


def test_typed_name_signature_and_the_consent_text_shown(phone: Phone, tmp_path: Path) -> None:
    """Whoever cannot draw types their name instead (WCAG 2.5.1); the consent records the id
    of the text the screen showed, in the language shown (CON-1, CON-2, CON-3)."""
    page = phone.page
    _consent_screen(phone)
    texts = phone.api("/v1/consent-texts")["current"]
    # The text as the server keeps it, in the language shown; the other one a tap away.
    expect(page.get_by_text(texts["en"]["id"], exact=False).first).to_be_visible()
    expect(page.get_by_text("Consent to clinical photography")).to_be_visible()
    page.get_by_role("button", name="Read the whole text in French").click()
    expect(page.get_by_text("Consentement à la photographie clinique")).to_be_visible()
    page.get_by_label("Signed on this screen").check()
    page.get_by_label("Or, instead of drawing", exact=False).fill("Émilie Côté-Tremblay")
    page.get_by_label("I told the patient").check()
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_role("heading", name="Take photos", exact=True)).to_be_visible()
    consent, meta = _signed_consent(phone)
    assert consent["text_version"] == texts["en"]["id"]
    png = phone.opened(meta["ciphertext_sha256"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    tags = _exif(png, ".png", tmp_path)
    assert {k.split(":")[0] for k in tags} <= BARE, tags
    written = Image.open(io.BytesIO(png)).convert("L")
    assert sum(1 for v in written.tobytes() if v < 100) > 50, "the typed name is written out"
    assert consent["signature_sha256"] == meta["plaintext_sha256"]


def test_body_site_and_caption_check(phone: Phone) -> None:
    page = phone.page
    _verbal_consent(phone)
    shutter = page.get_by_role("button", name="Take photo")
    # Every control, the body map's regions too, reachable by keyboard with focus shown.
    walk = tab_walk(page, limit=150)
    assert len(walk) == focusables(page), [(w["tag"], w["text"], w["index"]) for w in walk]
    assert all(w["visible"] for w in walk), [w for w in walk if not w["visible"]]
    assert any(w["text"] == "Forearm (left)" for w in walk), walk
    # The body map: the patient's left forearm, on the front view (the viewer's right).
    page.get_by_role("button", name="Forearm (left)").click()
    expect(page.get_by_test_id("body-site-chosen")).to_have_text("Body site: Forearm (left)")
    # The list alternative finds the same region by its French name too.
    page.get_by_label("Or find the region in the list").fill("avant")
    expect(page.get_by_role("button", name="Forearm (both sides)")).to_be_visible()
    page.get_by_label("Or find the region in the list").fill("")
    # A caption with the patient's MRN warns, and the shutter refuses it until resolved.
    caption = page.get_by_label("Caption (optional)")
    caption.fill(f"Ulcer, MRN {MRN}, day 3")
    warnings = page.get_by_test_id("caption-warnings")
    expect(warnings.locator("[data-kind=patient-mrn]")).to_be_visible()
    expect(warnings.locator("mark")).to_have_text(MRN)
    assert_accessible(page, "capture with caption warning")
    count = len(phone.photos())
    shutter.click()
    expect(page.get_by_role("alert")).to_contain_text("may identify the patient")
    expect(caption).to_be_focused()
    page.wait_for_timeout(300)
    assert len(phone.photos()) == count  # nothing was sealed
    # Edited: the warning goes and the photo goes without a caption warning.
    caption.fill("Ulcer, day 3")
    expect(warnings).to_be_hidden()
    shutter.click()
    expect(page.get_by_role("status")).to_have_text("Photo sent.", timeout=30_000)
    edited = json.loads(phone.photos()[-1]["manifest"])
    assert edited["body_site"] == {"system": SNOMED, "code": FOREARM, "laterality": LEFT}
    assert "text_warnings" not in edited
    assert phone.age(base64.b64decode(edited["caption_sealed"])) == b"Ulcer, day 3"
    # Confirmed: kept as written, with the kinds found and the reason, never the value.
    caption.fill(f"Ulcer, MRN {MRN}, day 3")
    expect(warnings).to_be_visible()
    page.get_by_label("it is clinically necessary").check()
    shutter.click()
    expect(page.get_by_role("status")).to_have_text("Photo sent.", timeout=30_000)
    kept = json.loads(phone.photos()[-1]["manifest"])
    assert "patient-mrn" in kept["text_warnings"]
    assert kept["text_warnings_confirmed"] == "clinically-necessary"
    assert MRN not in json.dumps(kept)
    assert (
        phone.age(base64.b64decode(kept["caption_sealed"])).decode() == f"Ulcer, MRN {MRN}, day 3"
    )
    assert kept["body_site"]["code"] == FOREARM
    expect(caption).to_have_value("")  # each photo its own caption; the site stays
    page.get_by_role("button", name="Back", exact=True).click()
    page.get_by_role("button", name="Head").click()
    expect(page.get_by_test_id("body-site-chosen")).to_have_text("Body site: Head")
    assert_accessible(page, "capture (back view)")


def _gps_jpeg() -> bytes:
    size = (64, 48)
    image = Image.merge(
        "RGB",
        [Image.linear_gradient("L").resize(size)] * 2 + [Image.new("L", size, 90)],
    )
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15 Pro"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (45.0, 30.0, 15.5), "W", (73.0, 34.0, 2.0)
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif, quality=90)
    return buf.getvalue()


def test_import_is_scrubbed_like_the_server(phone: Phone, tmp_path: Path) -> None:
    from clinphoto.imaging.scrub import scrub_bytes

    page = phone.page
    _verbal_consent(phone)
    original = _gps_jpeg()
    assert any(k.startswith("GPS:") for k in _exif(original, ".jpg", tmp_path))
    count = len(phone.photos())
    picker = page.get_by_label("Import a JPEG or PNG file")
    picker.set_input_files({"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": original})
    expect(page.get_by_role("status")).to_have_text("Photo sent.", timeout=30_000)
    photos = phone.photos()
    assert len(photos) == count + 1
    manifest = json.loads(photos[-1]["manifest"])
    assert manifest["content_type"] == "image/jpeg"
    opened = phone.opened(photos[-1]["ciphertext_sha256"])
    assert opened == scrub_bytes(original).data  # byte for byte the server's scrubber
    tags = _exif(opened, ".jpg", tmp_path)
    assert {k.split(":")[0] for k in tags} <= BARE, tags
    # A PNG screenshot carrying the patient's name in a text chunk and a GPS position in
    # its EXIF chunk: scrubbed on the phone byte for byte as the server's scrubber does.
    png = _tagged_png()
    assert {"PNG:Author", "GPS:GPSLatitude"} <= set(_exif(png, ".png", tmp_path)), "test input"
    picker.set_input_files({"name": "Screenshot.png", "mimeType": "image/png", "buffer": png})
    expect(page.get_by_role("status")).to_have_text("Photo sent.", timeout=30_000)
    photos = phone.photos()
    assert len(photos) == count + 2
    assert json.loads(photos[-1]["manifest"])["content_type"] == "image/png"
    opened = phone.opened(photos[-1]["ciphertext_sha256"])
    assert opened == scrub_bytes(png).data
    tags = _exif(opened, ".png", tmp_path)
    assert {k.split(":")[0] for k in tags} <= BARE, tags
    # Not a picture: refused, with the reason, and nothing queued.
    picker.set_input_files(
        {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"GIF89a" + bytes(40)}
    )
    expect(page.get_by_test_id("import-refused")).to_contain_text("cannot be imported")
    assert_accessible(page, "capture (import refused)")
    assert len(phone.photos()) == count + 2


# The page's own drawing of the preview (what the clinician saw), as a lossless PNG.
PREVIEW_PNG = """() => {
  const v = document.querySelector("video");
  const c = document.createElement("canvas");
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  c.getContext("2d").drawImage(v, 0, 0);
  return c.toDataURL("image/png").split(",")[1];
}"""


def test_preview_frame_is_the_photo_safaris_way(phone: Phone, tmp_path: Path) -> None:
    """Without ImageCapture (Safari), the photo is the preview's frame, drawn and encoded as
    JPEG in the app's picture worker (DEI-1, STO-2): the photo is the picture the preview
    showed, at the camera's size, with nothing but the picture in the file, and it opens
    with the stock age CLI."""
    page = phone.page
    _verbal_consent(phone)
    count = len(phone.photos())
    page.evaluate(
        "() => { window.__ImageCapture = window.ImageCapture; delete window.ImageCapture; }"
    )
    try:
        page.get_by_role("button", name="Take photo").click()
        expect(page.get_by_role("status")).to_have_text("Photo sent.", timeout=30_000)
        route = page.evaluate(
            "() => performance.getEntriesByName('clinphoto:picture', 'mark').at(-1).detail"
        )
        preview = base64.b64decode(page.evaluate(PREVIEW_PNG))
    finally:
        page.evaluate("() => { window.ImageCapture = window.__ImageCapture; }")
    assert route == "frame-worker"
    photos = phone.photos()
    assert len(photos) == count + 1
    assert json.loads(photos[-1]["manifest"])["content_type"] == "image/jpeg"
    opened = phone.opened(photos[-1]["ciphertext_sha256"])
    tags = _exif(opened, ".jpg", tmp_path)
    # The canvas's encoder embeds the browser's own sRGB profile (Skia's: no device, no
    # maker, no date of ours), which the scrubber also keeps; nothing else.
    assert {k.split(":")[0] for k in tags} <= BARE | {"ICC-header", "ICC_Profile"}, tags
    assert tags.get("ICC_Profile:ProfileDescription", "sRGB") == "sRGB", tags
    assert not tags.get("ICC-header:DeviceManufacturer")
    assert not tags.get("ICC-header:DeviceModel")
    with Image.open(io.BytesIO(opened)) as im, Image.open(io.BytesIO(preview)) as seen:
        assert (im.format, im.size) == ("JPEG", seen.size)
        ours = np.asarray(im.convert("RGB"), dtype=np.float64)
        shown = np.asarray(seen.convert("RGB"), dtype=np.float64)
    # The colours the preview showed (no cast), and its detail, within what JPEG loses.
    assert np.all(np.abs((ours - shown).mean(axis=(0, 1))) < 2.0)
    mse = float(np.mean((ours - shown) ** 2))
    assert 10 * np.log10(255**2 / mse) > 30


WATCH_PREVIEW = """() => {
  const v = document.querySelector('video');
  window.__preview = [];
  for (const kind of ['pause', 'play'])
    v.addEventListener(kind, () => window.__preview.push([kind, performance.now()]));
}"""


def test_the_preview_holds_still_until_the_photo_is_sealed(phone: Phone) -> None:
    """The preview stops on the shutter (the photo's feedback, and no camera frames drawn
    while the photo is encoded and sealed: decision 016) and is live again once the photo is
    sealed, before its upload, whatever the route."""
    page = phone.page
    _verbal_consent(phone)
    page.evaluate(WATCH_PREVIEW)
    page.get_by_role("button", name="Take photo").click()
    expect(page.get_by_role("status")).to_have_text("Photo sent.", timeout=30_000)
    events = page.evaluate("() => window.__preview")
    shutter, sealed = page.evaluate(
        "() => ['clinphoto:shutter', 'clinphoto:sealed'].map("
        "(n) => performance.getEntriesByName(n, 'mark').at(-1).startTime)"
    )
    assert [kind for kind, _ in events] == ["pause", "play"], events
    assert shutter <= events[0][1] <= sealed <= events[1][1], (shutter, sealed, events)
    # Live again: frames move on.
    t0 = page.evaluate("() => document.querySelector('video').currentTime")
    page.wait_for_function(
        "(t) => { const v = document.querySelector('video');"
        " return !v.paused && v.currentTime > t; }",
        arg=t0,
        timeout=10_000,
    )


def _tagged_png() -> bytes:
    """A PNG with what screenshots and editors leave in one: a text chunk naming someone and
    an EXIF chunk with a GPS position."""
    from PIL import PngImagePlugin

    image = Image.new("RGB", (320, 240), (201, 160, 140))
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (45.0, 30.0, 15.5), "W", (73.0, 34.0, 2.0)
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Emilie Cote-Tremblay")
    buf = io.BytesIO()
    image.save(buf, "PNG", pnginfo=info, exif=exif)
    return buf.getvalue()


def test_withdrawal_and_consent_to_follow(phone: Phone) -> None:
    page = phone.page
    _verbal_consent(phone, "Teaching")
    page.evaluate("(h) => { location.hash = h; }", f"#/patient/{phone.patient_id}")
    expect(page.get_by_role("heading", name="Consents")).to_be_visible()
    item = page.get_by_test_id("consent-item").filter(has_text="Teaching").first
    expect(item).to_be_visible()
    assert_accessible(page, "patient with consents")
    item.get_by_role("button", name="Withdraw the chosen uses").click()
    expect(item.get_by_role("alert")).to_contain_text("Choose the uses")
    item.get_by_label("Teaching").check()
    item.get_by_label("Reason (optional)").fill("Changed her mind")
    item.get_by_role("button", name="Withdraw the chosen uses").click()
    expect(page.get_by_role("status")).to_have_text("Consent withdrawn for: Teaching.")
    consents = phone.api(f"/v1/patients/{phone.patient_id}/consents")
    withdrawn = [c for c in consents if "education" in c["purposes"]]
    assert withdrawn[0]["effective_purposes"] == ["clinical_care"]
    assert [w["purpose"] for w in withdrawn[0]["withdrawals"]] == ["education"]
    # The whole consent.
    item = page.get_by_test_id("consent-item").filter(has_text="Uses: Clinical care").first
    item.get_by_role("button", name="Withdraw all uses").click()
    expect(page.get_by_role("status")).to_contain_text("Consent withdrawn")
    expect(page.get_by_text("Withdrawn in full.").first).to_be_visible()
    # Emergency: a consent-to-follow opens an encounter for clinical care.
    _consent_screen(phone)
    page.get_by_text("Emergency: the patient cannot consent now").click()
    page.get_by_role("button", name="Record consent-to-follow").click()
    expect(page.get_by_role("alert")).to_contain_text("Say why")
    page.get_by_label("Why consent cannot be obtained now").fill("Unconscious on arrival")
    page.get_by_label("Consent to be obtained within").select_option("48")
    page.get_by_role("button", name="Record consent-to-follow").click()
    expect(page.get_by_role("heading", name="Take photos", exact=True)).to_be_visible()
    statuses = [c["status"] for c in phone.api(f"/v1/patients/{phone.patient_id}/consents")]
    assert "to_follow" in statuses


def test_nothing_left_the_origin(phone: Phone) -> None:
    others = [u for u in phone.requests if not u.startswith(phone.server.url + "/")]
    assert others == [], others
    assert any(u.endswith(".wasm") for u in phone.requests)
