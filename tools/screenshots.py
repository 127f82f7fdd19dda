"""`make screenshots`: pictures of the phone app for the README, taken in Debian's Chromium.

A real clinphoto server (a fresh instance in a temporary folder, a demo clinician made with
the CLI) serves the built app (web/dist); Chromium, on a 360x780 phone screen with a fake
camera showing a real photograph, goes through enrollment, a new patient, consent signed on
the screen, the camera and the outbox, and keeps one picture of each. The pictures are
reduced to a palette (Pillow) so that each stays under 60 KB: they are committed as
documentation. Everything shown is made up here: the demo patient is nobody.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any

from bench.web import camera_file, launch_chromium, serving
from PIL import Image
from tests.browser.phone import APP_PASSCODE, PHONE_HEIGHT, PHONE_WIDTH
from tests.webtools import WEB

LIMIT = 60_000  # bytes per picture
PASSWORD = "a long clinical passphrase"


def small_png(png: bytes) -> bytes:
    """The screenshot with as many colours as fit under LIMIT (64 down to 16), no dithering:
    flat interface colours stay exact, the camera's photo gets a little banding."""
    image = Image.open(BytesIO(png)).convert("RGB")
    for colours in (64, 48, 32, 24, 16):
        out = BytesIO()
        image.quantize(colours, Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            out, "PNG", optimize=True
        )
        if out.tell() <= LIMIT:
            return out.getvalue()
    raise RuntimeError(f"a screenshot stays over {LIMIT} bytes even with 16 colours")


def sign(page: Any, box: dict[str, float]) -> None:
    """A signature drawn with a finger in ``box``: a looped stroke and an underline, as touch
    events through the DevTools protocol."""
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    loops = []
    for i in range(121):
        t = i / 120
        wave = math.sin(2 * math.pi * 5 * t) * (0.55 + 0.45 * math.sin(math.pi * t))
        loops.append(
            (
                x0 + w * (0.12 + 0.7 * t + 0.035 * math.cos(2 * math.pi * 5 * t)),
                y0 + h * (0.45 - 0.25 * wave),
            )
        )
    underline = [
        (x0 + w * (0.15 + 0.7 * i / 20), y0 + h * (0.8 - 0.04 * i / 20)) for i in range(21)
    ]
    cdp = page.context.new_cdp_session(page)
    for stroke in (loops, underline):
        touch = [{"x": x, "y": y, "radiusX": 2, "radiusY": 2, "force": 0.5} for x, y in stroke]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": touch[:1]})
        for point in touch[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def keep(page: Any, out: Path, name: str) -> None:
    data = small_png(page.screenshot())
    (out / f"{name}.png").write_bytes(data)
    print(f"{out / name}.png: {len(data):,} bytes")


def take(out: Path, dist: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        y4m = camera_file(Path(tmp) / "camera.y4m", (1280, 960))
        with serving(Path(tmp), dist) as server, sync_playwright() as p:
            code = server.create_user("c.demo@chu.example", "Dr C. Demo")
            browser = launch_chromium(p, y4m)
            context = browser.new_context(
                viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
                is_mobile=True,
                has_touch=True,
                base_url=server.url,
                locale="en-CA",
                permissions=["camera"],
            )
            page = context.new_page()
            page.goto("/")

            # Enrollment, the code filled in, as a clinician sees it on the first day.
            expect(
                page.get_by_role("heading", name="Enroll this phone", exact=True)
            ).to_be_visible()
            page.get_by_label("One-time code").fill(code)
            page.get_by_label("Account password", exact=True).fill(PASSWORD)
            page.get_by_label("Account password again").fill(PASSWORD)
            page.get_by_label("Name of this phone").fill("Dr Demo's phone")
            page.get_by_label("App passcode", exact=True).fill(APP_PASSCODE)
            page.get_by_label("App passcode again").fill(APP_PASSCODE)
            page.evaluate("() => { document.activeElement.blur(); window.scrollTo(0, 0); }")
            keep(page, out, "enroll")
            page.get_by_role("button", name="Enroll").click()
            heading = page.get_by_role("heading", name="Find a patient", exact=True)
            expect(heading).to_be_visible(timeout=60_000)

            # A new patient (made up), then consent signed with a finger on the screen.
            page.get_by_role("link", name="Register a new patient").click()
            page.get_by_label("Full name").fill("Alex Demo")
            page.get_by_label("Date of birth").fill("1970-01-01")
            page.get_by_label("Medical record number (MRN)").fill("1234567")
            page.get_by_label("Province or territory").select_option("QC")
            page.get_by_role("button", name="Register").click()
            expect(page.get_by_role("heading", name="Consent", exact=True)).to_be_visible()
            page.get_by_label("Signed on this screen").check()
            box = page.get_by_test_id("signature-box")
            box.scroll_into_view_if_needed()
            where = box.bounding_box()
            assert where is not None
            sign(page, dict(where))
            page.get_by_label("I told the patient").check()
            # The way of signing, the signature and the statement, in one screen.
            box.evaluate("(el) => el.scrollIntoView({ block: 'center', behavior: 'instant' })")
            keep(page, out, "consent")
            page.get_by_role("button", name="Record consent").click()

            # The camera, offline, so that the photo waits in the outbox.
            expect(page.get_by_role("heading", name="Take photos", exact=True)).to_be_visible()
            shutter = page.get_by_role("button", name="Take photo")
            expect(shutter).to_be_enabled(timeout=30_000)
            page.wait_for_function(
                "() => { const v = document.querySelector('video');"
                " return v && v.readyState >= 2 && v.videoWidth > 0; }"
            )
            page.wait_for_timeout(500)  # a few frames of the fake camera
            keep(page, out, "capture")
            context.set_offline(True)
            shutter.click()
            expect(page.get_by_role("status")).to_contain_text("waiting", timeout=30_000)
            page.get_by_role("navigation").get_by_role("link", name="Outbox").click()
            expect(page.get_by_test_id("outbox-count")).to_contain_text("waiting to be sent")
            keep(page, out, "outbox")
            context.close()
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--dist", type=Path, default=WEB / "dist", help="the built app")
    args = parser.parse_args()
    take(args.out, args.dist)


if __name__ == "__main__":
    main()
