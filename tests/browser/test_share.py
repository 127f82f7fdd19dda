"""Seeing and sharing on the phone app, in Chromium, between two clinicians who each have a
CLI device and a phone (a browser profile of its own): the timeline of a patient's photos,
a photo captured with the CLI opened and verified in the browser with the custodian's
verdict, a redaction made on the phone that the records key opens, before/after, a share
with the recipient's devices and fingerprints shown, the recipient's inbox saying from whom
and about which patient, opening, export and a signed acknowledgement that the sender sees;
and across clients: a photo captured in the browser opens with `clinphoto open`, a share
from the browser opens with `clinphoto open --share`, a share from the CLI opens in the
browser. Every new screen passes axe-core in English and French, and a locked phone keeps
no plaintext of what it showed.
"""

from __future__ import annotations

import re
import shutil
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat
from playwright.sync_api import Browser, BrowserContext, Page, expect
from skimage import data

from tests.browser.conftest import Camera, Server
from tests.browser.phone import (
    APP_PASSCODE,
    assert_accessible,
    assert_no_violation,
    enroll,
    new_phone,
    stored_bytes,
    switch_language,
    unlock,
)
from tests.browser.test_journey import BASIC_GROUPS, _blobs, _exif_groups, _open_with_records_key

pytestmark = pytest.mark.slow

NAME = "Marguerite Bélanger-Roy"
DOB = "1961-07-14"
MRN = "4417302"
HCN = "BELM61071412"
FACE_AT = (120, 120, 270, 330)  # where the face is pasted: x, y, w, h


def _face_photo() -> bytes:
    """A 1200x900 wound photo with a face in it (skimage's astronaut), as a JPEG."""
    image = Image.new("RGB", (1200, 900), (196, 152, 128))
    draw = ImageDraw.Draw(image)
    draw.ellipse((600, 400, 950, 650), fill=(120, 40, 40))
    head = Image.fromarray(data.astronaut()).crop((150, 30, 330, 250))  # type: ignore[no-untyped-call]
    x, y, w, h = FACE_AT
    image.paste(head.resize((w, h)), (x, y))
    out = BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def _cli_device(server: Server, code: str, profile: Path, name: str) -> str:
    """Enroll a CLI device; its fingerprint."""
    out = server.cli(
        "device", "enroll", "--server", server.url, "--code", code, "--name", name,
        "--profile", str(profile),
    ).stdout  # fmt: skip
    return out.split("Fingerprint: ")[1].splitlines()[0].strip()


def _approve(server: Server, profile: Path) -> str:
    out = server.cli("device", "approve", "--profile", str(profile)).stdout
    return out.split("hours): ")[1].split()[0]


def _phone(browser: Browser, server: Server, code: str, name: str) -> tuple[BrowserContext, Page]:
    """A second device of a user enrolled with the CLI: the code comes from `device approve`."""
    context = new_phone(browser, server)
    page = context.new_page()
    page.goto("/")
    enroll(page, code, first=False, name=name)
    return context, page


def cli_consent_and_capture(
    server: Server, profile: Path, patient: str, path: Path, *options: str
) -> str:
    """With a CLI device: verbal consent for care, then a photo (with a face) captured in the
    encounter it opened; the photo's id."""
    recorded = server.cli(
        "consent", "record", "--patient", patient, "--purpose", "clinical_care", "--method",
        "verbal", "--witness", "N. Roy, RN", "--informed-of-rights", "--text-version",
        "2026-11-fr", "--profile", str(profile),
    ).stdout  # fmt: skip
    encounter = recorded.split("encounter ")[1].split()[0]
    path.write_bytes(_face_photo())
    captured = server.cli(
        "capture", str(path), "--patient", patient, "--encounter", encounter,
        "--profile", str(profile), *options,
    ).stdout  # fmt: skip
    return captured.split("captured as ")[1].split()[0]


def phone_consent_and_photo(page: Page, mrn: str, name: str) -> None:
    """On the phone: find the patient, record consent (identifiable images allowed), and take
    a photo with the camera; it is sent."""
    page.get_by_label("Search", exact=True).fill(mrn)
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name="Patient", exact=True)).to_be_visible()
    page.get_by_role("link", name="Record consent and start").click()
    page.get_by_label("Witness\N{RIGHT SINGLE QUOTATION MARK}s name").fill("N. Roy, RN")
    page.get_by_label("I told the patient").check()
    page.locator("#identifiable-true").check()
    page.get_by_role("button", name="Record consent").click()
    shutter = page.get_by_role("button", name="Take photo")
    expect(shutter).to_be_enabled(timeout=15_000)
    shutter.click()
    expect(page.get_by_role("status")).to_have_text("Photo sent.", timeout=30_000)


def _mean(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    x, y, w, h = box
    return sum(ImageStat.Stat(image.crop((x, y, x + w, y + h)).convert("L")).mean)


def _difference(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int]) -> float:
    x, y, w, h = box
    crop = (x, y, x + w, y + h)
    return sum(ImageStat.Stat(ImageChops.difference(a.crop(crop), b.crop(crop))).mean) / 3


def _open_photo_in_timeline(page: Page, index: int) -> str:
    """Open the index-th photo of the timeline; its media id."""
    item = page.get_by_test_id("timeline").locator("li").nth(index)
    media_id = item.get_attribute("data-media")
    assert media_id
    item.get_by_role("link").click()
    expect(page.get_by_test_id("verified")).to_be_visible(timeout=30_000)
    return media_id


def _photo_shown(page: Page) -> tuple[int, int]:
    size = page.get_by_test_id("photo").evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
    return int(size[0]), int(size[1])


def test_see_redact_share_inbox_and_acknowledge(
    server: Server, browser: Browser, camera: Camera, tmp_path: Path
) -> None:
    assert shutil.which("age"), "the age CLI is needed"
    # Two clinicians; each has a CLI device first, then a phone approved by it.
    a_cli, b_cli = tmp_path / "a-cli", tmp_path / "b-cli"
    a_code = server.create_user("a.levesque@chu.example", "Dr A. Lévesque")
    b_code = server.create_user("b.gagnon@chu.example", "Dr B. Gagnon")
    _cli_device(server, a_code, a_cli, "a-laptop")
    b_laptop_fp = _cli_device(server, b_code, b_cli, "b-laptop")
    ctx_a, page_a = _phone(browser, server, _approve(server, a_cli), "A phone")
    ctx_b, page_b = _phone(browser, server, _approve(server, b_cli), "B phone")
    requests: list[str] = []
    for ctx in (ctx_a, ctx_b):
        ctx.on("request", lambda r: requests.append(r.url))

    # A captures a photo with a face using the CLI; the custodian finds the face.
    pid = server.cli(
        "patient", "add", "--name", NAME, "--dob", DOB, "--mrn", MRN, "--hcn", HCN,
        "--province", "QC", "--profile", str(a_cli),
    ).stdout.strip()  # fmt: skip
    original = tmp_path / "consult.jpg"
    face_id = cli_consent_and_capture(
        server, a_cli, pid, original, "--body-site", "14975008", "--side", "left"
    )

    # On A's phone: find the patient, consent (identifiable images allowed), take a photo.
    phone_consent_and_photo(page_a, MRN, NAME)

    # The timeline: both photos, oldest first, opened on the phone as thumbnails.
    page_a.evaluate("(pid) => { location.hash = '#/patient/' + pid; }", pid)
    page_a.get_by_role(
        "link", name="See this patient\N{RIGHT SINGLE QUOTATION MARK}s photos"
    ).click()
    expect(page_a.get_by_role("heading", name="Photos", exact=True)).to_be_visible()
    timeline = page_a.get_by_test_id("timeline")
    expect(timeline.locator("li")).to_have_count(2)
    expect(timeline.locator("img.thumb")).to_have_count(2, timeout=30_000)
    assert timeline.locator("li").first.get_attribute("data-media") == face_id
    # The body site as the body map names it (SNOMED CT 14975008, laterality left).
    expect(timeline.locator("li").first).to_contain_text("Body site: Forearm (left)")
    assert_accessible(page_a, "timeline")
    coffee_id = timeline.locator("li").nth(1).get_attribute("data-media")
    assert coffee_id

    # The CLI's photo opens in the browser, verified; the custodian's verdict says why.
    a_dev = ["--profile", str(a_cli)]
    verdict = server.cli("inspection", face_id, "--wait", "90", *a_dev, check=False)
    assert verdict.returncode == 1, verdict.stdout + verdict.stderr  # identifiable: a face
    found = re.search(r"face at (\d+),(\d+) (\d+)x(\d+)", verdict.stdout)
    assert found, verdict.stdout
    fx, fy, fw, fh = (int(v) for v in found.groups())
    assert _open_photo_in_timeline(page_a, 0) == face_id
    assert _photo_shown(page_a) == (1200, 900)
    box = page_a.get_by_test_id("verdict")
    expect(box).to_contain_text("Identifiable")
    expect(box).to_contain_text("1 region suggested for redaction.")
    # What was found, in the user's language; the custodian's own words a tap away.
    expect(page_a.get_by_test_id("verdict-findings")).to_have_text("1 face")
    assert_accessible(page_a, "photo")
    page_a.get_by_role("button", name="Full screen").click()
    full = page_a.get_by_role("dialog")
    expect(full.get_by_role("button", name="Close full screen")).to_be_focused()
    page_a.keyboard.press("Escape")
    expect(full).to_be_hidden()

    # Redact: the suggested face region, plus one drawn with a finger-like drag; a region
    # added with the keyboard is moved with the arrow keys, then removed.
    page_a.get_by_role("link", name="Redact").click()
    expect(page_a.get_by_role("heading", name="Redact", exact=True)).to_be_visible()
    suggested = page_a.get_by_label(re.compile(r"^Face 1 "))
    expect(suggested).to_be_checked()
    stage = page_a.get_by_test_id("redact-stage")
    page_a.get_by_role("button", name="Add a region").click()
    region = page_a.get_by_role("button", name=re.compile(r"^Region 1:"))
    expect(region).to_be_focused()
    x_field = page_a.get_by_label("From the left (pixels)")
    before = int(x_field.input_value())
    page_a.keyboard.press("ArrowRight")
    expect(x_field).to_have_value(str(before + 24))  # 1200 / 50 px a step
    assert_accessible(page_a, "redact")
    page_a.get_by_role("button", name="Remove region 1").click()
    stage.scroll_into_view_if_needed()
    bounds = stage.bounding_box()
    assert bounds is not None
    scale = bounds["width"] / 1200
    drawn = (900, 100, 200, 150)  # image pixels: a corner of the photo with nothing in it
    page_a.mouse.move(bounds["x"] + drawn[0] * scale, bounds["y"] + drawn[1] * scale)
    page_a.mouse.down()
    page_a.mouse.move(bounds["x"] + 1000 * scale, bounds["y"] + 170 * scale, steps=4)
    page_a.mouse.move(
        bounds["x"] + (drawn[0] + drawn[2]) * scale, bounds["y"] + (drawn[1] + drawn[3]) * scale
    )
    page_a.mouse.up()
    expect(page_a.get_by_role("button", name=re.compile(r"^Region 1:"))).to_have_count(1)
    blobs_before = set(_blobs(server))
    page_a.get_by_role("button", name="Save the redacted version").click()
    expect(page_a.get_by_role("heading", name="Photos", exact=True)).to_be_visible(timeout=30_000)
    expect(timeline.locator("li")).to_have_count(3)
    derived = timeline.locator("li").nth(2)
    expect(derived).to_contain_text("Redacted version")
    derived_id = derived.get_attribute("data-media")
    assert derived_id

    # The redacted version opens with stock age and the records key: black where the face
    # and the drawn region were, the same picture elsewhere; the original is unchanged.
    [new_blob] = set(_blobs(server)) - blobs_before
    redacted = Image.open(BytesIO(_open_with_records_key(server, new_blob, tmp_path))).convert(
        "RGB"
    )
    source = Image.open(original).convert("RGB")
    assert redacted.size == source.size
    face_box = (fx + 2, fy + 2, fw - 4, fh - 4)  # the region the custodian found
    assert _mean(source, face_box) > 60
    assert _mean(redacted, face_box) < 15
    assert _mean(redacted, (910, 110, 180, 130)) < 15
    assert _difference(redacted, source, (600, 700, 500, 150)) < 6  # untouched there
    redacted_jpeg = _open_with_records_key(server, new_blob, tmp_path)
    assert redacted_jpeg.startswith(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")  # a bare JFIF header
    tags = _exif_groups(redacted_jpeg, tmp_path)
    assert {k.split(":")[0] for k in tags} <= BASIC_GROUPS, tags
    opened_face = tmp_path / "face-again.jpg"
    server.cli("open", face_id, "--out", str(opened_face), "--profile", str(a_cli))
    assert _mean(Image.open(opened_face).convert("RGB"), face_box) > 60

    # Before and after, side by side at the same scale.
    timeline.locator("li").nth(0).get_by_label(re.compile("Compare this one")).check()
    timeline.locator("li").nth(2).get_by_label(re.compile("Compare this one")).check()
    page_a.get_by_role("button", name="Compare the two chosen photos").click()
    expect(page_a.get_by_role("heading", name="Compare photos", exact=True)).to_be_visible()
    pictures = page_a.get_by_test_id("compare").locator("img")
    expect(pictures).to_have_count(2, timeout=30_000)
    widths = pictures.evaluate_all("(imgs) => imgs.map((i) => i.getBoundingClientRect().width)")
    assert abs(widths[0] - widths[1]) < 1, widths  # same pixel size: same scale
    assert_accessible(page_a, "compare")

    # The redacted version is inspected in turn and is not identifiable: A shares it with B.
    verdict = server.cli("inspection", derived_id, "--wait", "90", "--profile", str(a_cli))
    assert "not identifiable" in verdict.stdout
    page_a.evaluate("(h) => { location.hash = h; }", f"#/share/{pid}/{derived_id}")
    expect(page_a.get_by_role("heading", name="Share a photo", exact=True)).to_be_visible()
    page_a.get_by_label("Colleague\N{RIGHT SINGLE QUOTATION MARK}s e-mail").fill(
        "b.gagnon@chu.example"
    )
    page_a.get_by_role("button", name="Look up").click()
    who = page_a.get_by_test_id("recipient")
    expect(who).to_contain_text("Dr B. Gagnon")
    expect(who).to_contain_text("Clinician")
    expect(who).to_contain_text("CHU Example")
    expect(who).to_contain_text("b-laptop")
    expect(who).to_contain_text("B phone")
    expect(who).to_contain_text(b_laptop_fp)
    assert len(re.findall(r"(?:[0-9A-F]{4} ){7}[0-9A-F]{4}", who.inner_text())) == 2
    page_a.get_by_label("Message (optional)").fill(f"MRN {MRN}: day 3 post-op, margin?")
    page_a.get_by_label("I checked the name").check()
    page_a.get_by_role("button", name="Send").click()
    expect(page_a.get_by_test_id("message-warnings")).to_contain_text(MRN)
    expect(page_a.get_by_role("alert")).to_contain_text("Edit the message")
    assert_accessible(page_a, "share")
    page_a.get_by_label("Message (optional)").fill("Day 3 post-op, please review the margin")
    expect(page_a.get_by_test_id("message-warnings")).to_have_count(0)
    page_a.get_by_role("button", name="Send").click()
    expect(page_a.get_by_role("status")).to_have_text("Shared. Status: sent.", timeout=30_000)
    status = page_a.get_by_test_id("share-status")
    expect(status).to_contain_text("To Dr B. Gagnon, CHU Example, for Clinical care: sent")

    # B's phone: the inbox says from whom and about which patient; open, export, acknowledge.
    page_b.get_by_role("navigation").get_by_role("link", name="Inbox").click()
    inbox = page_b.get_by_test_id("inbox")
    expect(inbox.locator("li")).to_have_count(1)
    expect(inbox).to_contain_text("From Dr A. Lévesque, CHU Example")
    expect(inbox).to_contain_text(f"About {NAME}, born July 14, 1961, MRN {MRN}")
    assert_accessible(page_b, "inbox")
    share_id = inbox.locator("a").first.get_attribute("data-share")
    assert share_id
    inbox.locator("a").first.click()
    expect(page_b.get_by_test_id("verified")).to_be_visible(timeout=30_000)
    expect(page_b.get_by_text("Message: Day 3 post-op, please review the margin")).to_be_visible()
    assert _photo_shown(page_b) == (1200, 900)
    expect(page_b.get_by_test_id("received-status")).to_have_text("delivered")
    assert_accessible(page_b, "shared photo")
    # The export warning, in French then in English (the language cannot change while the
    # dialog is open); Cancel has focus, and Escape closes it.
    switch_language(page_b)
    page_b.get_by_role("button", name="Exporter…").click()
    dialog = page_b.get_by_role("alertdialog")
    expect(dialog.get_by_role("button", name="Annuler")).to_be_focused()
    assert_no_violation(page_b, "export warning (fr)")
    page_b.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    switch_language(page_b)
    page_b.get_by_role("button", name="Export…").click()
    expect(dialog).to_contain_text("leaves clinphoto")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    assert_no_violation(page_b, "export warning")
    with page_b.expect_download() as download:
        dialog.get_by_role("button", name="Export", exact=True).click()
    exported = download.value
    assert re.fullmatch(r"clinphoto-[0-9a-f]{16}\.jpg", exported.suggested_filename)
    exported_path = tmp_path / "exported.jpg"
    exported.save_as(exported_path)
    assert Image.open(exported_path).size == (1200, 900)
    tags = _exif_groups(exported_path.read_bytes(), tmp_path)
    assert {k.split(":")[0] for k in tags} <= BASIC_GROUPS, tags
    page_b.get_by_role("button", name="Acknowledge receipt").click()
    expect(page_b.get_by_test_id("received-status")).to_have_text("acknowledged")

    # A sees it acknowledged.
    page_a.get_by_role("button", name="Refresh").click()
    expect(status).to_contain_text("To Dr B. Gagnon, CHU Example, for Clinical care: acknowledged")
    # ... and among all the shares A sent, with nothing left to follow up (TRN-4).
    page_a.get_by_role("navigation").get_by_role("link", name="Inbox").click()
    page_a.get_by_role("link", name="Shares you sent").click()
    sent_list = page_a.get_by_test_id("sent-shares")
    expect(sent_list.locator("li")).to_have_count(1)
    expect(sent_list).to_contain_text(
        "To Dr B. Gagnon, CHU Example, for Clinical care: acknowledged"
    )
    assert_accessible(page_a, "shares sent")
    page_a.get_by_label("Only those not acknowledged yet").check()
    expect(
        page_a.get_by_role("paragraph").filter(has_text="Every share you sent was acknowledged.")
    ).to_be_visible()
    page_a.get_by_label("Only those not acknowledged yet").uncheck()
    sent_list.get_by_role("link", name="Open the photo").click()
    expect(page_a.get_by_test_id("verified")).to_be_visible(timeout=30_000)

    # Across clients: B's CLI device opens the share sent from the browser; A's CLI device
    # opens the photo taken in the browser, and shares it with B from the CLI.
    from_share = tmp_path / "from-share.jpg"
    server.cli("open", "--share", share_id, "--out", str(from_share), "--profile", str(b_cli))
    assert Image.open(from_share).convert("RGB").tobytes() == redacted.tobytes()
    from_browser = tmp_path / "from-browser.jpg"
    server.cli("open", coffee_id, "--out", str(from_browser), "--profile", str(a_cli))
    assert from_browser.read_bytes().startswith(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    server.cli("inspection", coffee_id, "--wait", "90", "--profile", str(a_cli), check=False)
    sent = server.cli(
        "share", coffee_id, "--to", "b.gagnon@chu.example", "--yes", "--message",
        "From the laptop", "--profile", str(a_cli),
    ).stdout  # fmt: skip
    cli_share = sent.split("shared as ")[1].split()[0]
    page_b.get_by_role("link", name="Back").click()
    expect(inbox.locator("li")).to_have_count(2)
    newest = inbox.locator(f'a[data-share="{cli_share}"]')
    expect(newest).to_contain_text(f"About {NAME}")
    newest.click()
    expect(page_b.get_by_test_id("verified")).to_be_visible(timeout=30_000)
    expect(page_b.get_by_text("Message: From the laptop")).to_be_visible()
    # Shown only once the sender's signature and the hash of the very bytes sealed in the
    # browser verified; the picture is the browser's capture.
    assert _photo_shown(page_b) == Image.open(from_browser).size

    # Locked, B's phone keeps nothing of what it showed: no photo, no patient, no message.
    page_b.get_by_role("navigation").get_by_role("button", name="Lock").click()
    unlock_heading = page_b.get_by_role("heading", name="Unlock clinphoto", exact=True)
    expect(unlock_heading).to_be_visible()
    stored, _ = stored_bytes(page_b)
    plain = [redacted_jpeg, from_browser.read_bytes()]
    needles = [b"\xff\xd8\xff\xe0\x00\x10JFIF"]
    needles += [p[k * len(p) // 4 :][:64] for p in plain for k in (1, 2, 3)]
    needles += [s.encode() for s in (NAME, "Bélanger", MRN, HCN, DOB)]
    needles += [b"Day 3 post-op", b"From the laptop"]
    for needle in needles:
        assert needle not in stored, needle[:20]
    unlock(page_b, APP_PASSCODE)

    # Object URLs of the opened photos are the page's own memory (blob: of this origin).
    local = (server.url + "/", f"blob:{server.url}/")
    others = [u for u in requests if not u.startswith(local)]
    assert others == [], others
    ctx_a.close()
    ctx_b.close()
