"""A patient's copy of their record (RET-4, AUD-3 "print", BEY-6), end to end on SQLite and
PostgreSQL: photos taken and a signed consent recorded through the real API, then the
privacy officer's report (read back with pdftotext, pdfimages, pdftoppm) and the sealed
package, opened with the stock `age` CLI and the passphrase typed at its prompt."""

from __future__ import annotations

import io
import os
import pty
import select as fd_select
import shutil
import subprocess
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from sqlalchemy import select

from clinphoto import crypto
from clinphoto.accounts.models import Role
from clinphoto.audit.models import AuditEntry
from clinphoto.client.capture import seal_capture
from clinphoto.instance.runtime import Instance
from clinphoto.patientrights.models import CopyRequest
from tests.conftest import EnrolledDevice
from tests.functional.test_consent_signature_and_options import _post, _seal, _signature_jpeg
from tests.functional.test_media_api import _upload

NewDevice = Callable[..., EnrolledDevice]
AGE = shutil.which("age")
PATIENT = "François Lévesque"


def photo_jpeg(colour: tuple[int, int, int], size: tuple[int, int] = (800, 600)) -> bytes:
    image = Image.new("RGB", size, colour)
    ImageDraw.Draw(image).ellipse((200, 150, 600, 450), fill=(120, 40, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


@dataclass
class World:
    clinician: EnrolledDevice
    officer: EnrolledDevice
    patient_id: str
    encounter_id: str
    consent_id: str
    photos: dict[str, bytes]  # id -> the plaintext in the record (scrubbed at capture)
    signature: bytes  # the signature image's plaintext in the record


def build(client: TestClient, instance: Instance, new_device: NewDevice, photos: int = 2) -> World:
    """A clinician photographs a patient under a signed French consent and opens a photo."""
    clinician = new_device(email=f"{uuid.uuid4().hex[:6]}@hospital.example")
    officer = new_device(Role.PRIVACY_OFFICER)
    r = client.post(
        "/v1/patients",
        json={"name": PATIENT, "dob": "1968-03-14", "mrn": uuid.uuid4().hex[:12],
              "province": "QC"},
        headers=clinician.auth,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    pid = r.json()["id"]
    r = client.post(
        "/v1/consents",
        json={"patient_id": pid, "purposes": ["clinical_care", "education"],
              "method": "electronic_signature", "informed_of_rights": True,
              "text_version": "2026-11-fr"},
        headers=clinician.auth,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    consent = r.json()
    sig = _seal(instance, clinician, consent, image=_signature_jpeg(), for_consent=consent["id"])
    r = _post(client, f"/v1/consents/{consent['id']}/signature", clinician, sig, sig.ciphertext)
    assert r.status_code == 201, r.text
    taken: dict[str, bytes] = {}
    for i in range(photos):
        sealed = seal_capture(
            photo_jpeg((196, 152 - 20 * i, 128)),
            patient_id=pid,
            encounter_id=consent["encounter_id"],
            device_id=clinician.device_id,
            signing=clinician.signing,
            recipients=[instance.keys.records.recipient, clinician.age.recipient],
            body_site={"system": "http://snomed.info/sct", "code": "368208006",
                       "laterality": "7771000"},
        )  # fmt: skip
        assert _upload(client, clinician, sealed).status_code == 201  # type: ignore[attr-defined]
        taken[sealed.object_id] = crypto.open_sealed(sealed.ciphertext, instance.keys.records)
    for first in list(taken)[:1]:  # a colleague's look, for "who accessed"
        seen = client.get(
            f"/v1/media/{first}/content?purpose=clinical_care", headers=clinician.auth
        )
        assert seen.status_code == 200
    return World(
        clinician, officer, pid, consent["encounter_id"], consent["id"], taken,
        crypto.open_sealed(sig.ciphertext, instance.keys.records),
    )  # fmt: skip


def poppler(tool: list[str], pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / f"{uuid.uuid4().hex[:8]}.pdf"
    path.write_bytes(pdf)
    args = [*tool, str(path)] + (["-"] if tool[0] == "pdftotext" else [])
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def images_in(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    rows = [
        line.split() for line in poppler(["pdfimages", "-list"], pdf, tmp_path).splitlines()[2:]
    ]
    return [r for r in rows if r and r[2] == "image"]


def page_one_is_not_blank(pdf: bytes, tmp_path: Path) -> bool:
    (tmp_path / "r.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png",
                    str(tmp_path / "r.pdf"), str(tmp_path / "page")], check=True)  # fmt: skip
    [page] = list(tmp_path.glob("page*.png"))
    with Image.open(page) as image:
        grey = image.convert("L")
    return sum(grey.histogram()[:128]) > 0.005 * grey.width * grey.height


def age_decrypt(path: Path, passphrase: str, out: Path) -> None:
    """The stock `age -d`, which reads a passphrase only from a terminal: given one (a pty)."""
    assert AGE is not None
    pid, fd = pty.fork()
    if pid == 0:  # the child: age, with the pty as its terminal
        os.execv(AGE, [AGE, "-d", "-o", str(out), str(path)])
    said = b""
    typed = False
    while True:
        ready, _, _ = fd_select.select([fd], [], [], 60)
        if not ready:
            os.kill(pid, 9)
            raise AssertionError(f"age said nothing for 60 s: {said!r}")
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        said += chunk
        if not typed and b"passphrase" in said.lower():
            os.write(fd, passphrase.encode() + b"\n")
            typed = True
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, said


def _copy_request(client: TestClient, w: World, language: str = "fr") -> dict[str, Any]:
    r = client.post(
        f"/v1/patients/{w.patient_id}/copy-requests",
        json={"language": language, "received_at": "2026-11-20"},
        headers=w.officer.auth,
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_ret4_copy_report_in_french_shows_photos_consent_signature_and_accessors(
    client: TestClient, instance: Instance, new_device: NewDevice, tmp_path: Path
) -> None:
    w = build(client, instance, new_device)
    req = _copy_request(client, w)
    assert req["status"] == "open"
    assert req["language"] == "fr"
    r = client.get(f"/v1/copy-requests/{req['id']}/report.pdf", headers=w.officer.auth)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    pdf = r.content
    said = poppler(["pdftotext", "-layout"], pdf, tmp_path)
    flat = " ".join(said.split())
    for words in ("Copie de votre dossier de photographie clinique", "Vos photos",
                  "Vos consentements", "Qui a consulté votre dossier", PATIENT,
                  "soins cliniques, enseignement", "2026-11-fr", "signature électronique",
                  "a ouvert la photo", "Dr Test", "gauche", "Page 1 de"):  # fmt: skip
        assert words in flat, words
    # One image per photo and one for the signature, each as stored.
    found = images_in(pdf, tmp_path)
    sizes = sorted((int(row[3]), int(row[4])) for row in found)
    assert sizes == sorted([(800, 600)] * len(w.photos) + [(320, 120)])
    assert page_one_is_not_blank(pdf, tmp_path)
    # Audited: who, which request, what it showed by ids and hashes.
    with instance.unit_of_work() as db:
        entry = db.execute(
            select(AuditEntry).where(AuditEntry.action == "request.copy_report")
        ).scalar_one()
        assert entry.actor == w.officer.user_id
        assert entry.object_id == req["id"]
        for pid, plain in w.photos.items():
            assert pid in entry.details
            assert crypto_sha(plain) in entry.details
        assert PATIENT not in entry.details


def crypto_sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


@pytest.mark.skipif(AGE is None, reason="the age CLI is not installed")
def test_ret4_package_opens_with_age_cli_and_holds_the_report_and_the_images_byte_equal(
    client: TestClient, instance: Instance, new_device: NewDevice, tmp_path: Path
) -> None:
    w = build(client, instance, new_device)
    req = _copy_request(client, w, "en")
    r = client.post(f"/v1/copy-requests/{req['id']}/package", headers=w.officer.auth)
    assert r.status_code == 200, r.text
    made = r.json()
    assert r.headers["cache-control"] == "no-store"
    passphrase = made["passphrase"]
    assert len(passphrase) >= 30
    got = client.get(made["download"], headers=w.officer.auth)
    assert got.status_code == 200
    assert len(got.content) == made["size"]
    assert got.content.startswith(b"age-encryption.org/v1\n-> scrypt ")
    sealed = tmp_path / "record.age"
    sealed.write_bytes(got.content)
    opened = tmp_path / "record.zip"
    age_decrypt(sealed, passphrase, opened)
    with zipfile.ZipFile(opened) as zf:
        names = zf.namelist()
        photos = {n: zf.read(n) for n in names if n.startswith("photos/")}
        assert sorted(photos.values()) == sorted(w.photos.values())
        [sig] = [n for n in names if n.startswith("consents/signature-")]
        assert zf.read(sig) == w.signature
        report = zf.read("report-en.pdf")
        form = zf.read(f"consents/consent-{w.consent_id[:12]}-en.pdf")
    text = " ".join(poppler(["pdftotext"], report, tmp_path).split())
    assert "Copy of your clinical photography record" in text
    assert "Who accessed your record" in text
    assert "opened the photo" in text
    assert "Consentement à la photographie clinique" in poppler(["pdftotext"], form, tmp_path)
    # The passphrase is not stored, only its hash; the package is gone once downloaded.
    with instance.unit_of_work() as db:
        row = db.get(CopyRequest, req["id"])
        assert row is not None
        assert row.passphrase_sha256 == crypto_sha(passphrase.encode())
        assert row.status == "delivered"
        assert row.package_sha256 is None
        entries = (
            db.execute(
                select(AuditEntry.details).where(AuditEntry.action == "request.copy_package")
            )
            .scalars()
            .all()
        )
        assert passphrase not in " ".join(entries)
        assert crypto_sha(got.content) in entries[0]
    assert client.get(made["download"], headers=w.officer.auth).status_code == 409
    # A wrong passphrase opens nothing.
    with pytest.raises(crypto.CryptoError):
        crypto.open_with_passphrase(got.content, "wrong-" + passphrase)


def test_ret4_copy_requests_are_a_privacy_officers_clinicians_get_not_found(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    w = build(client, instance, new_device, photos=1)
    r = client.post(
        f"/v1/patients/{w.patient_id}/copy-requests",
        json={"language": "en", "received_at": "2026-11-20"},
        headers=w.clinician.auth,
    )
    assert r.status_code == 404
    req = _copy_request(client, w)
    for path in (f"/v1/copy-requests/{req['id']}/report.pdf",):
        assert client.get(path, headers=w.clinician.auth).status_code == 404
    assert client.post(f"/v1/copy-requests/{req['id']}/package",
                       headers=w.clinician.auth).status_code == 404  # fmt: skip
    assert client.get(f"/v1/copy-requests/{'0' * 32}/report.pdf",
                      headers=w.officer.auth).status_code == 404  # fmt: skip
    listed = client.get("/v1/copy-requests", headers=w.officer.auth).json()["requests"]
    assert [x["id"] for x in listed] == [req["id"]]
