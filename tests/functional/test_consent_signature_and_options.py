"""Consent signatures sealed like media (CON-3), and every consent option walked through
capture, storage, reads and audit to show none of them lowers a control (CON-5)."""

from __future__ import annotations

import io
import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from clinphoto import crypto
from clinphoto.accounts.models import Role
from clinphoto.audit import service as audit
from clinphoto.audit.models import AuditEntry
from clinphoto.client.capture import SealedCapture, open_capture, seal_capture
from clinphoto.core import protocol
from clinphoto.instance.runtime import Instance
from clinphoto.media.models import Media
from tests.conftest import EnrolledDevice

NewDevice = Callable[..., EnrolledDevice]


def _signature_jpeg() -> bytes:
    """A drawn signature, with metadata a tablet might add."""
    img = Image.new("RGB", (320, 120), "white")
    for x in range(20, 300):
        img.putpixel((x, 60 + (x % 23) - 11), (10, 10, 60))
    exif = Image.Exif()
    exif[0x010E] = "Signed by Marie Tremblay"
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92, exif=exif.tobytes())
    return buf.getvalue()


def _patient(client: TestClient, dev: EnrolledDevice) -> str:
    r = client.post(
        "/v1/patients",
        json={
            "name": "Marie Tremblay",
            "dob": "1971-04-05",
            "mrn": uuid.uuid4().hex[:12],
            "province": "QC",
        },
        headers=dev.auth,
    )
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def _consent(client: TestClient, dev: EnrolledDevice, pid: str, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "patient_id": pid,
        "purposes": ["clinical_care"],
        "method": "electronic_signature",
        "informed_of_rights": True,
        "text_version": "2026-11-en",
    }
    body.update(over)
    r = client.post("/v1/consents", json=body, headers=dev.auth)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _seal(
    instance: Instance,
    dev: EnrolledDevice,
    consent: dict[str, Any],
    *,
    image: bytes,
    for_consent: str | None = None,
    recipients: list[str] | None = None,
) -> SealedCapture:
    return seal_capture(
        image,
        patient_id=consent["patient_id"],
        encounter_id=consent["encounter_id"],
        device_id=dev.device_id,
        signing=dev.signing,
        recipients=recipients or [instance.keys.records.recipient, dev.age.recipient],
        consent_id=for_consent,
    )


def _post(
    client: TestClient, path: str, dev: EnrolledDevice, sealed: SealedCapture, body: bytes
) -> Any:
    return client.post(
        path,
        content=body,
        headers={
            **dev.auth,
            protocol.MANIFEST_HEADER: protocol.manifest_header(sealed.manifest_bytes),
            protocol.SIGNATURE_HEADER: sealed.signature,
        },
    )


def test_con3_signature_is_sealed_like_media_and_bound_to_the_consent(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    pid = _patient(client, dev)
    consent = _consent(client, dev, pid)
    sealed = _seal(instance, dev, consent, image=_signature_jpeg(), for_consent=consent["id"])
    r = _post(client, f"/v1/consents/{consent['id']}/signature", dev, sealed, sealed.ciphertext)
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "consent-signature"

    stored = client.get(f"/v1/consents/{consent['id']}", headers=dev.auth).json()
    assert stored["signature_object_id"] == sealed.object_id
    assert stored["signature_sha256"] == sealed.plaintext_sha256

    # It opens like a photo, for its author and for the records key, scrubbed of metadata.
    meta = client.get(
        f"/v1/media/{sealed.object_id}?purpose=clinical_care", headers=dev.auth
    ).json()
    blob = client.get(
        f"/v1/media/{sealed.object_id}/content?purpose=clinical_care", headers=dev.auth
    ).content
    plain = open_capture(
        blob,
        identity=dev.age,
        manifest_bytes=meta["manifest"].encode(),
        signature=meta["signature"],
        author_signing_public=dev.signing.public,
        plaintext_sha256=stored["signature_sha256"],
    )
    assert crypto.open_sealed(blob, instance.keys.records) == plain
    assert b"Marie Tremblay" not in plain
    assert Image.open(io.BytesIO(plain)).size == (320, 120)

    # Once only: the consent record is never rewritten.
    again = _seal(instance, dev, consent, image=_signature_jpeg(), for_consent=consent["id"])
    r2 = _post(client, f"/v1/consents/{consent['id']}/signature", dev, again, again.ciphertext)
    assert r2.status_code == 409

    with instance.unit_of_work() as db:
        attached = [a for a in audit.export_patient(db, pid) if "consent.signature_attach" in a]
        outcomes = db.execute(
            select(AuditEntry.outcome).where(AuditEntry.action == "consent.signature_attach")
        ).scalars()
        assert sorted(outcomes) == ["denied", "success"]  # the refused second attempt too
        assert audit.verify(db, instance.audit_keys.public_by_id) is None
    # Both filed against the patient, by pseudonymous reference: refusals too (AUD-1).
    assert len(attached) == 2


def test_con3_signature_refused_for_others_mismatches_and_consents_to_follow(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev, colleague = new_device(), new_device()
    pid = _patient(client, dev)
    consent = _consent(client, dev, pid)
    other = _consent(client, dev, pid)
    path = f"/v1/consents/{consent['id']}/signature"

    # A colleague cannot attach a signature to a consent they did not obtain: not found.
    theirs = _seal(instance, colleague, consent, image=_signature_jpeg(), for_consent=consent["id"])
    assert _post(client, path, colleague, theirs, theirs.ciphertext).status_code == 404
    # A manifest bound to another consent, or without the records key, is refused.
    wrong = _seal(instance, dev, consent, image=_signature_jpeg(), for_consent=other["id"])
    assert _post(client, path, dev, wrong, wrong.ciphertext).status_code == 422
    no_records = _seal(
        instance,
        dev,
        consent,
        image=_signature_jpeg(),
        for_consent=consent["id"],
        recipients=[dev.age.recipient],
    )
    assert _post(client, path, dev, no_records, no_records.ciphertext).status_code == 422
    # A photo manifest cannot pose as a signature, nor a signature as a photo.
    photo = _seal(instance, dev, consent, image=_signature_jpeg())
    assert _post(client, path, dev, photo, photo.ciphertext).status_code == 422
    sig = _seal(instance, dev, consent, image=_signature_jpeg(), for_consent=consent["id"])
    assert _post(client, "/v1/media", dev, sig, sig.ciphertext).status_code == 422
    # Plaintext is never accepted as the body.
    assert _post(client, path, dev, sig, _signature_jpeg()).status_code == 422

    follow = client.post(
        "/v1/consents/to-follow",
        json={
            "patient_id": pid,
            "reason": "trauma bay",
            "deadline": (datetime.now(UTC) + timedelta(hours=6)).isoformat(),
        },
        headers=dev.auth,
    ).json()
    pending = _seal(instance, dev, follow, image=_signature_jpeg(), for_consent=follow["id"])
    r = _post(client, f"/v1/consents/{follow['id']}/signature", dev, pending, pending.ciphertext)
    assert r.status_code == 422
    assert "consent-to-follow" in r.json()["error"]["message"]
    # Nothing refused left a stored object behind.
    with instance.unit_of_work() as db:
        kinds = db.execute(select(Media.kind)).scalars().all()
    assert kinds == []


OPTIONS = list(itertools.product([False, True], repeat=3))
METHODS = [
    ("verbal", {"witness_name": "N. Roy, RN"}),
    ("written", {}),
    ("electronic_signature", {}),
]


@pytest.mark.parametrize(("method", "extra"), METHODS, ids=[m for m, _ in METHODS])
def test_con5_every_consent_option_leaves_encryption_auth_audit_and_jurisdiction_intact(
    client: TestClient,
    instance: Instance,
    new_device: NewDevice,
    method: str,
    extra: dict[str, str],
) -> None:
    """For each method and each combination of identifiable / unsecure channel / foreign
    storage, the same controls hold: sessions and signatures are required, plaintext and
    foreign recipients are refused, stored media is age ciphertext in Canada, reads outside
    the consent are "not found", administrators see nothing, and every step is audited."""
    dev, stranger = new_device(), new_device()
    admin = new_device(Role.ADMINISTRATOR)
    pid = _patient(client, dev)
    image = _signature_jpeg()
    for identifiable, unsecure, foreign in OPTIONS:
        consent = _consent(
            client,
            dev,
            pid,
            method=method,
            purposes=["clinical_care", "education"],
            identifiable_allowed=identifiable,
            unsecure_channel_allowed=unsecure,
            foreign_storage_allowed=foreign,
            **extra,
        )
        if method == "electronic_signature":
            # An electronic signature documents nothing until it is attached (CON-3).
            early = _seal(instance, dev, consent, image=image)
            refused = _post(client, "/v1/media", dev, early, early.ciphertext)
            assert refused.status_code == 403, refused.text
            sig = _seal(instance, dev, consent, image=image, for_consent=consent["id"])
            path = f"/v1/consents/{consent['id']}/signature"
            assert _post(client, path, dev, sig, sig.ciphertext).status_code == 201
        with instance.unit_of_work() as db:
            entries_before = len(db.execute(select(AuditEntry.seq)).all())
        sealed = _seal(instance, dev, consent, image=image)
        # Authentication: no session, a bogus one, or another device's signature.
        assert _post(client, "/v1/media", dev, sealed, sealed.ciphertext).status_code == 201
        assert client.post("/v1/media", content=sealed.ciphertext).status_code == 401
        retry = _seal(instance, dev, consent, image=image)
        forged = SealedCapture(
            retry.object_id,
            retry.manifest_bytes,
            crypto.sign(stranger.signing, retry.manifest_bytes),
            retry.ciphertext,
            retry.plaintext_sha256,
        )
        assert _post(client, "/v1/media", dev, forged, forged.ciphertext).status_code == 422
        # Encryption: plaintext bodies and recipients beyond the author's devices are refused.
        assert _post(client, "/v1/media", dev, retry, image).status_code == 422
        leaky = _seal(
            instance,
            dev,
            consent,
            image=image,
            recipients=[instance.keys.records.recipient, dev.age.recipient, stranger.age.recipient],
        )
        assert _post(client, "/v1/media", dev, leaky, leaky.ciphertext).status_code == 422
        # Storage: an age file, recorded in Canada, whatever the consent says about abroad.
        with instance.unit_of_work() as db:
            media = db.get(Media, sealed.object_id)
            assert media is not None
            assert media.jurisdiction == "CA"
            blob = b"".join(instance.blobs.open(media.blob_sha256))
        assert blob.startswith(protocol.AGE_MAGIC)
        assert crypto.open_sealed(blob, instance.keys.records) != image  # scrubbed, then sealed
        # Reads: a purpose outside the consent, a stranger and an administrator get 404.
        url = f"/v1/media/{sealed.object_id}/content"
        assert client.get(f"{url}?purpose=education", headers=dev.auth).status_code == 200
        for who, purpose in [(dev, "research"), (stranger, "clinical_care")]:
            assert client.get(f"{url}?purpose={purpose}", headers=who.auth).status_code == 404
        assert client.get(f"{url}?purpose=clinical_care", headers=admin.auth).status_code == 404
        # Audit: the upload, the refusals and the reads were each appended, chain intact.
        with instance.unit_of_work() as db:
            rows = db.execute(
                select(AuditEntry.action, AuditEntry.outcome).where(AuditEntry.seq > entries_before)
            ).all()
            assert audit.verify(db, instance.audit_keys.public_by_id) is None
        actions = [(a, o) for a, o in rows]
        assert ("media.upload", "success") in actions
        assert actions.count(("media.upload", "denied")) == 3
        assert ("media.view", "success") in actions
        assert actions.count(("media.view", "denied")) == 3
