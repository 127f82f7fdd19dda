"""The custodian's inspection and the sharing gate (DEI-2, CON-4), with the real detectors.

A photo with a face or the patient's identifiers burned in is flagged identifiable; it cannot
be shared unless its consent allows identifiable images; a redacted version derived from it
is inspected on its own and can travel. What the OCR read is never stored.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Callable

from fastapi.testclient import TestClient
from PIL import Image, ImageDraw, ImageFont
from skimage import data

from clinphoto import crypto
from clinphoto.client.capture import SealedCapture, seal_capture
from clinphoto.imaging.redact import redact_to_jpeg
from clinphoto.imaging.regions import Box
from clinphoto.instance.custodian import inspect_pending
from clinphoto.instance.runtime import Instance
from tests.conftest import EnrolledDevice
from tests.functional.test_media_api import _upload
from tests.functional.test_sharing_api import _reseal

NewDevice = Callable[..., EnrolledDevice]
MRN = "4417302"


def _photo(*, face: bool = False, label: str | None = None) -> bytes:
    """A 1600x1200 wound photo, optionally with a face and a printed label."""
    image = Image.new("RGB", (1600, 1200), (196, 152, 128))
    draw = ImageDraw.Draw(image)
    draw.ellipse((700, 450, 1100, 750), fill=(120, 40, 40))
    if face:
        head = Image.fromarray(data.astronaut()).crop((150, 30, 330, 250))
        image.paste(head.resize((270, 330)), (120, 120))
    if label:
        font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 56)
        left, top, right, bottom = draw.textbbox((900, 950), label, font=font)
        draw.rectangle((left - 12, top - 12, right + 12, bottom + 12), fill="white")
        draw.text((900, 950), label, font=font, fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def _patient(
    client: TestClient, dev: EnrolledDevice, identifiable_allowed: bool
) -> tuple[str, str]:
    patient = client.post(
        "/v1/patients",
        json={"name": "Marguerite Tremblay", "dob": "1961-07-14", "mrn": MRN, "province": "QC"},
        headers=dev.auth,
    )
    assert patient.status_code == 200, patient.text
    pid = patient.json()["id"]
    consent = client.post(
        "/v1/consents",
        json={
            "patient_id": pid,
            "purposes": ["clinical_care"],
            "method": "written",
            "informed_of_rights": True,
            "text_version": "2026-11-en",
            "identifiable_allowed": identifiable_allowed,
        },
        headers=dev.auth,
    )
    assert consent.status_code == 200, consent.text
    return pid, consent.json()["encounter_id"]


def _capture(
    client: TestClient,
    instance: Instance,
    dev: EnrolledDevice,
    photo: bytes,
    pid: str,
    eid: str,
    derived_from: str | None = None,
) -> SealedCapture:
    sealed = seal_capture(
        photo,
        patient_id=pid,
        encounter_id=eid,
        device_id=dev.device_id,
        signing=dev.signing,
        recipients=[instance.keys.records.recipient, dev.age.recipient],
        derived_from=derived_from,
    )
    uploaded = _upload(client, dev, sealed)
    assert uploaded.status_code == 201, uploaded.text  # type: ignore[attr-defined]
    return sealed


def _verdict(client: TestClient, dev: EnrolledDevice, media_id: str) -> dict[str, object]:
    got = client.get(f"/v1/media/{media_id}/inspection?purpose=clinical_care", headers=dev.auth)
    assert got.status_code == 200, got.text
    verdict: dict[str, object] = got.json()
    return verdict


def _share(
    client: TestClient,
    instance: Instance,
    sender: EnrolledDevice,
    media_id: str,
    plain: bytes,
    to: str,
) -> object:
    shown = client.get(f"/v1/directory?email={to}", headers=sender.auth).json()
    recipients = [d["age_recipient"] for d in shown["devices"]] + [instance.keys.records.recipient]
    return _reseal(client, sender, media_id, plain, shown["id"], recipients)


def test_dei2_a_face_blocks_sharing_until_redacted(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    alice, _bob = new_device(), new_device(email="bob@h.example")
    pid, eid = _patient(client, alice, identifiable_allowed=False)
    sealed = _capture(client, instance, alice, _photo(face=True), pid, eid)
    plain = crypto.open_sealed(sealed.ciphertext, alice.age)

    # Before the custodian has looked, nothing travels.
    assert _verdict(client, alice, sealed.object_id)["status"] == "pending"
    early = _share(client, instance, alice, sealed.object_id, plain, "bob@h.example")
    assert early.status_code == 422  # type: ignore[attr-defined]
    assert "still being inspected" in early.json()["error"]["message"]  # type: ignore[attr-defined]

    [outcome] = inspect_pending(instance)
    assert outcome.status == "done"
    assert outcome.identifiable
    verdict = _verdict(client, alice, sealed.object_id)
    assert verdict["identifiable"] is True
    faces = [r for r in verdict["regions"] if r["kind"] == "face"]  # type: ignore[attr-defined]
    assert faces, verdict
    # The findings, counted for the app to say in the user's language, match the regions.
    assert verdict["findings"] == {"faces": len(faces), "text": 0, "metadata": False}, verdict
    x, y, w, h = faces[0]["box"]
    assert 120 <= x + w / 2 <= 390  # on the pasted head
    assert 120 <= y + h / 2 <= 450

    refused = _share(client, instance, alice, sealed.object_id, plain, "bob@h.example")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "identifiable" in refused.json()["error"]["message"]  # type: ignore[attr-defined]

    # The clinician redacts the suggested regions and uploads the result as a new version,
    # then looks at the new version's verdict, as the app shows it, and redacts again what
    # it still suggests: a solid box can make a neighbouring texture (here the collar of a
    # space suit) look like a face. Two rounds at most.
    picture, parent, regions = plain, sealed.object_id, faces
    for _round in range(2):
        boxes = [Box(*r["box"]).clipped(1600, 1200) for r in regions]  # type: ignore[index]
        redacted = redact_to_jpeg(Image.open(io.BytesIO(picture)), boxes, "box")
        version = _capture(client, instance, alice, redacted, pid, eid, derived_from=parent)
        [second] = inspect_pending(instance)
        assert second.status == "done"
        if not second.identifiable:
            break
        picture, parent = crypto.open_sealed(version.ciphertext, alice.age), version.object_id
        regions = [
            r
            for r in _verdict(client, alice, version.object_id)["regions"]  # type: ignore[attr-defined]
            if r["kind"] == "face"
        ]
        assert regions, second.reasons  # what makes it identifiable is shown to redact
    assert not second.identifiable, second.reasons
    opened = crypto.open_sealed(version.ciphertext, alice.age)
    sent = _share(client, instance, alice, version.object_id, opened, "bob@h.example")
    assert sent.status_code == 201, sent.text  # type: ignore[attr-defined]
    # The original is untouched and still refused.
    again = _share(client, instance, alice, sealed.object_id, plain, "bob@h.example")
    assert again.status_code == 422  # type: ignore[attr-defined]


def test_con4_consent_to_identifiable_images_lets_a_face_travel(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    alice, _bob = new_device(), new_device(email="bob@h.example")
    pid, eid = _patient(client, alice, identifiable_allowed=True)
    sealed = _capture(client, instance, alice, _photo(face=True), pid, eid)
    [outcome] = inspect_pending(instance)
    assert outcome.identifiable
    plain = crypto.open_sealed(sealed.ciphertext, alice.age)
    sent = _share(client, instance, alice, sealed.object_id, plain, "bob@h.example")
    assert sent.status_code == 201, sent.text  # type: ignore[attr-defined]


def test_dei2_burned_in_mrn_is_flagged_and_never_stored(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    alice = new_device()
    pid, eid = _patient(client, alice, identifiable_allowed=False)
    sealed = _capture(client, instance, alice, _photo(label=f"MRN {MRN}"), pid, eid)
    [outcome] = inspect_pending(instance)
    assert (outcome.status, outcome.identifiable) == ("done", True)
    verdict = _verdict(client, alice, sealed.object_id)
    texts = [r for r in verdict["regions"] if r["kind"] == "text"]  # type: ignore[attr-defined]
    assert texts
    assert all("text" not in r or not r["text"] for r in texts)
    assert any("MRN" in reason or "record number" in reason for reason in verdict["reasons"])  # type: ignore[attr-defined]
    assert all(MRN not in reason for reason in verdict["reasons"])  # type: ignore[attr-defined]

    # Nothing the OCR read reaches the database file, its WAL, or the blob store.
    files = [p for p in instance.settings.data_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert MRN.encode() not in path.read_bytes(), path


def test_dei2_the_verdict_of_someone_elses_photo_is_not_found(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    alice, mallory = new_device(), new_device(email="mallory@h.example")
    pid, eid = _patient(client, alice, identifiable_allowed=False)
    sealed = _capture(client, instance, alice, _photo(), pid, eid)
    inspect_pending(instance)
    theirs = client.get(
        f"/v1/media/{sealed.object_id}/inspection?purpose=clinical_care", headers=mallory.auth
    )
    missing = client.get(
        f"/v1/media/{secrets.token_hex(16)}/inspection?purpose=clinical_care",
        headers=mallory.auth,
    )
    assert theirs.status_code == missing.status_code == 404
    for key in ("code", "message"):
        assert theirs.json()["error"][key] == missing.json()["error"][key]
    assert (
        client.get(f"/v1/media/{sealed.object_id}/inspection?purpose=clinical_care").status_code
        == 401
    )


def _video_with_a_face() -> bytes:
    """A 2 s H.264 MP4, 640x480, a head in every frame; made with PyAV in memory."""
    import av
    import numpy as np

    frame = _photo(face=True)
    picture = Image.open(io.BytesIO(frame)).convert("RGB").resize((640, 480))
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        for i in range(20):
            pixels = np.asarray(picture).copy()
            pixels[:8, : 8 * (i + 1)] = 255  # frames differ a little
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def test_dei2_a_video_is_inspected_on_sampled_frames(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    alice = new_device()
    pid, eid = _patient(client, alice, identifiable_allowed=False)
    sealed = _capture(client, instance, alice, _video_with_a_face(), pid, eid)
    assert json.loads(sealed.manifest_bytes)["content_type"] == "video/mp4"
    [outcome] = inspect_pending(instance)
    assert (outcome.status, outcome.identifiable) == ("done", True), outcome.reasons
    verdict = _verdict(client, alice, sealed.object_id)
    assert verdict["reasons"]
    assert all(str(r).startswith("frame ") for r in verdict["reasons"])  # type: ignore[attr-defined]


def test_dei2_a_failed_inspection_blocks_sharing_until_it_is_retried(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    """A detector that cannot run leaves the photo identifiable; a retry gives the verdict."""
    from clinphoto.audit import service as audit
    from clinphoto.inspection import service as inspection
    from clinphoto.instance.custodian import reopen_failed
    from clinphoto.media.models import Media

    alice, _bob = new_device(), new_device(email="bob@h.example")
    pid, eid = _patient(client, alice, identifiable_allowed=False)
    sealed = _capture(client, instance, alice, _photo(), pid, eid)
    plain = crypto.open_sealed(sealed.ciphertext, alice.age)
    with instance.unit_of_work() as db:  # what inspect_one records when a detector fails
        media = db.get(Media, sealed.object_id)
        assert media is not None
        inspection.record(
            db,
            media,
            status=inspection.FAILED,
            identifiable=False,
            reasons=["inspection failed (DetectorUnavailable); treated as identifiable"],
            regions=[],
            inspector="test",
        )
    verdict = _verdict(client, alice, sealed.object_id)
    assert (verdict["status"], verdict["identifiable"]) == ("failed", True)
    refused = _share(client, instance, alice, sealed.object_id, plain, "bob@h.example")
    assert refused.status_code == 422  # type: ignore[attr-defined]

    assert reopen_failed(instance) == [sealed.object_id]
    assert _verdict(client, alice, sealed.object_id)["status"] == "pending"
    [outcome] = inspect_pending(instance)
    assert (outcome.status, outcome.identifiable) == ("done", False)
    sent = _share(client, instance, alice, sealed.object_id, plain, "bob@h.example")
    assert sent.status_code == 201, sent.text  # type: ignore[attr-defined]
    with instance.unit_of_work() as db:
        assert audit.verify(db, instance.audit_keys.public_by_id) is None


def _sealed_to(
    instance: Instance,
    dev: EnrolledDevice,
    pid: str,
    eid: str,
    *,
    records_can_open: bool = False,
    content: bytes | None = None,
) -> SealedCapture:
    """What a broken or hostile device uploads: a manifest naming the records key, over a
    ciphertext sealed to the device alone (or over other content than the signed hash)."""
    import hashlib

    from clinphoto.core import protocol

    honest = seal_capture(
        _photo(),
        patient_id=pid,
        encounter_id=eid,
        device_id=dev.device_id,
        signing=dev.signing,
        recipients=[instance.keys.records.recipient, dev.age.recipient],
    )
    plain = content if content is not None else crypto.open_sealed(honest.ciphertext, dev.age)
    to = [dev.age.recipient] + ([instance.keys.records.recipient] if records_can_open else [])
    ciphertext = crypto.seal(plain, to)
    manifest = json.loads(honest.manifest_bytes)
    manifest["ciphertext_sha256"] = hashlib.sha256(ciphertext).hexdigest()
    manifest["size"] = len(ciphertext)
    manifest_bytes = protocol.encode_manifest(manifest)
    sealed = SealedCapture(
        object_id=honest.object_id,
        manifest_bytes=manifest_bytes,
        signature=crypto.sign(dev.signing, manifest_bytes),
        ciphertext=ciphertext,
        plaintext_sha256=honest.plaintext_sha256,
    )
    return sealed


def test_dei2_a_photo_the_records_key_cannot_open_is_quarantined_and_never_shared(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    """Even under a consent that allows identifiable images, and even after --retry-failed."""
    from clinphoto.inspection import service as inspection
    from clinphoto.instance.custodian import reopen_failed

    alice, _bob = new_device(), new_device(email="bob@h.example")
    pid, eid = _patient(client, alice, identifiable_allowed=True)
    sealed = _sealed_to(instance, alice, pid, eid)
    uploaded = _upload(client, alice, sealed)
    assert uploaded.status_code == 201, uploaded.text  # type: ignore[attr-defined]

    [outcome] = inspect_pending(instance)
    assert (outcome.status, outcome.identifiable) == ("quarantined", True)
    verdict = _verdict(client, alice, sealed.object_id)
    assert verdict["status"] == "quarantined"
    assert any("capture it again" in str(r) for r in verdict["reasons"])  # type: ignore[attr-defined]
    with instance.unit_of_work() as db:
        assert inspection.is_quarantined(db, sealed.object_id)

    plain = crypto.open_sealed(sealed.ciphertext, alice.age)
    refused = _share(client, instance, alice, sealed.object_id, plain, "bob@h.example")
    assert refused.status_code in (403, 422), refused.text  # type: ignore[attr-defined]
    assert "quarantined" in refused.json()["error"]["message"]  # type: ignore[attr-defined]

    # Retrying failed inspections does not reopen it: the key still cannot open it.
    assert reopen_failed(instance) == []
    assert inspect_pending(instance) == []
    assert _verdict(client, alice, sealed.object_id)["status"] == "quarantined"
    again = _share(client, instance, alice, sealed.object_id, plain, "bob@h.example")
    assert again.status_code in (403, 422)  # type: ignore[attr-defined]


def test_dei2_a_photo_that_does_not_match_its_signed_hash_is_quarantined(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    alice = new_device()
    pid, eid = _patient(client, alice, identifiable_allowed=True)
    sealed = _sealed_to(
        instance, alice, pid, eid, records_can_open=True, content=_photo(label="other")
    )
    assert _upload(client, alice, sealed).status_code == 201  # type: ignore[attr-defined]
    [outcome] = inspect_pending(instance)
    assert outcome.status == "quarantined"
    assert "does not match" in outcome.reasons[0]


def test_dei2_privacy_officers_list_quarantined_photos_and_clinicians_cannot(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    from sqlalchemy import select

    from clinphoto.accounts.models import Role
    from clinphoto.audit.models import AuditEntry

    alice = new_device()
    officer = new_device(Role.PRIVACY_OFFICER)
    pid, eid = _patient(client, alice, identifiable_allowed=False)
    sealed = _sealed_to(instance, alice, pid, eid)
    assert _upload(client, alice, sealed).status_code == 201  # type: ignore[attr-defined]
    assert client.get("/v1/review/quarantine", headers=officer.auth).json() == []
    inspect_pending(instance)

    listed = client.get("/v1/review/quarantine", headers=officer.auth)
    assert listed.status_code == 200, listed.text
    [row] = listed.json()
    assert (row["media_id"], row["patient_ref"]) == (sealed.object_id, pid)
    assert row["author_user_id"] == alice.user_id
    assert any("capture it again" in r for r in row["reasons"])

    refused = client.get("/v1/review/quarantine", headers=alice.auth)
    assert refused.status_code == 403
    assert client.get("/v1/review/quarantine").status_code == 401
    with instance.unit_of_work() as db:
        entries = db.execute(
            select(AuditEntry.actor, AuditEntry.outcome, AuditEntry.patient_ref).where(
                AuditEntry.action == "review.quarantine"
            )
        ).all()
    assert (officer.user_id, "success", pid) in entries
    assert (alice.user_id, "denied", "") in entries
