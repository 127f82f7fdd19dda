"""Capture and reads through HTTP (TRN-1, CON-1, AUD-2, AUD-4): the server checks session,
signature, recipients and consent; stores only ciphertext; reads need a care relationship
and a consented purpose, else "not found"; every attempt is audited."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image

from clinphoto import crypto
from clinphoto.accounts.models import Role
from clinphoto.audit import service as audit
from clinphoto.client.capture import SealedCapture, open_capture, seal_capture
from clinphoto.core import protocol
from clinphoto.instance.runtime import Instance
from tests.conftest import EnrolledDevice

NewDevice = Callable[..., EnrolledDevice]


def _jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = "Jane Doe MRN 1234567"
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (190, 90, 70)).save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def _patient_and_encounter(
    client: TestClient, dev: EnrolledDevice, purposes: tuple[str, ...] = ("clinical_care",)
) -> tuple[str, str, str]:
    patient = client.post(
        "/v1/patients",
        json={
            "name": "Jane Doe",
            "dob": "1980-02-03",
            "mrn": uuid.uuid4().hex[:12],
            "province": "QC",
        },
        headers=dev.auth,
    )
    assert patient.status_code == 200, patient.text
    pid = patient.json()["id"]
    consent = client.post(
        "/v1/consents",
        json={
            "patient_id": pid,
            "purposes": list(purposes),
            "method": "written",
            "informed_of_rights": True,
            "text_version": "2026-11-en",
        },
        headers=dev.auth,
    )
    assert consent.status_code == 200, consent.text
    return pid, consent.json()["encounter_id"], consent.json()["id"]


def _seal(instance: Instance, dev: EnrolledDevice, pid: str, eid: str) -> SealedCapture:
    return seal_capture(
        _jpeg(),
        patient_id=pid,
        encounter_id=eid,
        device_id=dev.device_id,
        signing=dev.signing,
        recipients=[instance.keys.records.recipient, dev.age.recipient],
    )


def _upload(
    client: TestClient, dev: EnrolledDevice, sealed: SealedCapture, body: bytes | None = None
) -> object:
    return client.post(
        "/v1/media",
        content=sealed.ciphertext if body is None else body,
        headers={
            **dev.auth,
            protocol.MANIFEST_HEADER: protocol.manifest_header(sealed.manifest_bytes),
            protocol.SIGNATURE_HEADER: sealed.signature,
        },
    )


def test_trn1_capture_uploads_ciphertext_that_only_the_right_keys_open(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    pid, eid, cid = _patient_and_encounter(client, dev)
    sealed = _seal(instance, dev, pid, eid)
    r = _upload(client, dev, sealed)
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    assert r.json()["consent_id"] == cid  # type: ignore[attr-defined]

    content = client.get(
        f"/v1/media/{sealed.object_id}/content?purpose=clinical_care", headers=dev.auth
    )
    assert content.status_code == 200
    assert content.content == sealed.ciphertext
    plain = open_capture(
        content.content,
        identity=dev.age,
        manifest_bytes=sealed.manifest_bytes,
        signature=sealed.signature,
        author_signing_public=dev.signing.public,
        plaintext_sha256=sealed.plaintext_sha256,
    )
    assert b"Jane Doe" not in plain
    assert crypto.open_sealed(content.content, instance.keys.records) == plain


def _open_encounter(client: TestClient, dev: EnrolledDevice, pid: str) -> str:
    r = client.post(f"/v1/patients/{pid}/encounters", headers=dev.auth)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_con1_capture_without_consent_for_the_encounter_is_refused(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    pid, _, _ = _patient_and_encounter(client, dev)
    r = _upload(client, dev, _seal(instance, dev, pid, "f" * 32))
    assert r.status_code == 404  # type: ignore[attr-defined]  # no such encounter
    r = _upload(client, dev, _seal(instance, dev, pid, _open_encounter(client, dev, pid)))
    assert r.status_code == 403  # type: ignore[attr-defined]
    assert "no consent covers this purpose" in r.json()["error"]["message"]  # type: ignore[attr-defined]


def test_con1_capture_refused_when_consent_does_not_cover_clinical_care(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    pid, eid, _ = _patient_and_encounter(client, dev, purposes=("education",))
    assert _upload(client, dev, _seal(instance, dev, pid, eid)).status_code == 403  # type: ignore[attr-defined]


def test_upload_refuses_bad_signature_foreign_recipients_plaintext_and_mismatch(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev, other = new_device(), new_device()
    pid, eid, _ = _patient_and_encounter(client, dev)
    sealed = _seal(instance, dev, pid, eid)
    forged = SealedCapture(
        sealed.object_id,
        sealed.manifest_bytes,
        crypto.sign(other.signing, sealed.manifest_bytes),
        sealed.ciphertext,
        sealed.plaintext_sha256,
    )
    assert "signature" in _upload(client, dev, forged).json()["error"]["message"]  # type: ignore[attr-defined]

    leaky = seal_capture(
        _jpeg(),
        patient_id=pid,
        encounter_id=eid,
        device_id=dev.device_id,
        signing=dev.signing,
        recipients=[instance.keys.records.recipient, dev.age.recipient, other.age.recipient],
    )
    assert _upload(client, dev, leaky).status_code == 422  # type: ignore[attr-defined]

    no_records = seal_capture(
        _jpeg(),
        patient_id=pid,
        encounter_id=eid,
        device_id=dev.device_id,
        signing=dev.signing,
        recipients=[dev.age.recipient],
    )
    assert "records key" in _upload(client, dev, no_records).json()["error"]["message"]  # type: ignore[attr-defined]

    # The last byte flipped (setting it to a constant left it unchanged one time in 256).
    tampered = sealed.ciphertext[:-1] + bytes([sealed.ciphertext[-1] ^ 0xFF])
    mismatch = _upload(client, dev, sealed, body=tampered)
    assert mismatch.status_code == 422  # type: ignore[attr-defined]
    assert _upload(client, dev, sealed).status_code == 201  # type: ignore[attr-defined]
    assert _upload(client, dev, sealed).status_code == 409  # type: ignore[attr-defined]


def test_aud2_reads_need_care_relationship_and_purpose_else_not_found(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev, stranger = new_device(), new_device()
    admin = new_device(Role.ADMINISTRATOR)
    pid, eid, _ = _patient_and_encounter(client, dev)
    sealed = _seal(instance, dev, pid, eid)
    assert _upload(client, dev, sealed).status_code == 201  # type: ignore[attr-defined]
    url = f"/v1/media/{sealed.object_id}/content"
    missing = client.get(f"/v1/media/{'0' * 32}/content?purpose=clinical_care", headers=dev.auth)
    for who, purpose in [(stranger, "clinical_care"), (admin, "clinical_care"), (dev, "research")]:
        r = client.get(f"{url}?purpose={purpose}", headers=who.auth)
        assert r.status_code == 404
        assert r.json()["error"]["message"] == missing.json()["error"]["message"]
    with instance.unit_of_work() as db:
        lines = list(audit.export_patient(db, pid))
        assert audit.verify(db, instance.audit_keys.public_by_id) is None
    assert any('"media.upload"' in line for line in lines)


def test_aud1_timeline_lists_own_photos_oldest_first_and_is_audited_per_photo(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    pid, eid, _ = _patient_and_encounter(client, dev)
    first, second = _seal(instance, dev, pid, eid), _seal(instance, dev, pid, eid)
    for sealed in (first, second):
        assert _upload(client, dev, sealed).status_code == 201  # type: ignore[attr-defined]
    listed = client.get(f"/v1/patients/{pid}/media?purpose=clinical_care", headers=dev.auth)
    assert [m["id"] for m in listed.json()] == [first.object_id, second.object_id]
    assert listed.json()[0]["manifest"] == first.manifest_bytes.decode()  # signed, as sent
    with instance.unit_of_work() as db:
        lines = [line for line in audit.export_patient(db, pid) if '"media.list"' in line]
    assert len(lines) == 2
    assert {first.object_id, second.object_id} <= {
        oid for line in lines for oid in (first.object_id, second.object_id) if oid in line
    }


def test_revoked_device_can_neither_upload_nor_download(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    pid, eid, _ = _patient_and_encounter(client, dev)
    sealed = _seal(instance, dev, pid, eid)
    assert _upload(client, dev, sealed).status_code == 201  # type: ignore[attr-defined]
    client.delete(f"/v1/devices/{dev.device_id}", headers=dev.auth)
    again = _seal(instance, dev, pid, eid)
    assert _upload(client, dev, again).status_code == 401  # type: ignore[attr-defined]
    r = client.get(f"/v1/media/{sealed.object_id}/content?purpose=clinical_care", headers=dev.auth)
    assert r.status_code == 401


def test_trn1_no_plaintext_or_identifiers_in_blob_store_or_database(
    client: TestClient, instance: Instance, new_device: NewDevice, tmp_path: Path
) -> None:
    dev = new_device()
    pid, eid, _ = _patient_and_encounter(client, dev)
    sealed = _seal(instance, dev, pid, eid)
    assert _upload(client, dev, sealed).status_code == 201  # type: ignore[attr-defined]
    plain = crypto.open_sealed(sealed.ciphertext, dev.age)
    needles = [b"Jane Doe", b"1234567", b"1980-02-03", plain[200:264]]
    stored = b"".join(p.read_bytes() for p in instance.settings.blob_dir.rglob("*") if p.is_file())
    assert sealed.ciphertext in stored
    files = [instance.settings.blob_dir]
    if instance.engine.dialect.name == "sqlite":
        files.append(Path(str(instance.engine.url.database)).parent)
    everything = b"".join(p.read_bytes() for root in files for p in root.rglob("*") if p.is_file())
    for needle in needles:
        assert needle not in everything
