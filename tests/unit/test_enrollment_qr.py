"""`device approve` shows the enrollment link as a QR code a phone's camera reads off the
screen: the drawing must be the QR code's modules exactly."""

from __future__ import annotations

import qrcode

from clinphoto.cli.device import enrollment_link, qr_text

LIGHT = {
    "\u2588": (True, True),
    "\u2580": (True, False),
    "\u2584": (False, True),
    " ": (False, False),
}


def test_the_link_opens_the_apps_enrollment_with_the_code_after_the_hash() -> None:
    link = enrollment_link("https://photos.chu.example/", "ABCDE-FGHJK-MNPQR-STVWX")
    assert link == "https://photos.chu.example/#/enroll/ABCDE-FGHJK-MNPQR-STVWX"


def test_the_drawing_is_the_qr_codes_modules() -> None:
    link = enrollment_link("https://photos.chu.example", "ABCDE-FGHJK-MNPQR-STVWX")
    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(link)
    qr.make(fit=True)
    dark = qr.get_matrix()
    rows: list[list[bool]] = []
    for line in qr_text(link).splitlines():  # each character is two modules, top and bottom
        rows.append([not LIGHT[c][0] for c in line])
        rows.append([not LIGHT[c][1] for c in line])
    assert rows[: len(dark)] == dark
    assert not any(m for row in rows[len(dark) :] for m in row)  # padding row is light
