"""Device-side capture (TRN-1, TRN-3, DEI-1): scrub, random name, seal, sign; and open."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from PIL import Image

from clinphoto import crypto
from clinphoto.client.capture import open_capture, seal_capture
from clinphoto.imaging.jpeg import ScrubError


def _jpeg_with_identifiers() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = "Jane Doe MRN 1234567"
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 60)).save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def test_trn1_capture_is_sealed_signed_and_opens_to_the_scrubbed_photo() -> None:
    records, device = crypto.AgeIdentity.generate(), crypto.AgeIdentity.generate()
    signing = crypto.SigningKey.generate()
    original = _jpeg_with_identifiers()
    sealed = seal_capture(
        original,
        patient_id="p" * 32,
        encounter_id="e" * 32,
        device_id="d" * 32,
        signing=signing,
        recipients=[records.recipient, device.recipient],
    )
    assert b"Jane Doe" not in sealed.ciphertext
    manifest = json.loads(sealed.manifest_bytes)
    assert manifest["ciphertext_sha256"] == hashlib.sha256(sealed.ciphertext).hexdigest()
    assert "Jane" not in sealed.manifest_bytes.decode()
    for identity in (records, device):
        plain = open_capture(
            sealed.ciphertext,
            identity=identity,
            manifest_bytes=sealed.manifest_bytes,
            signature=sealed.signature,
            author_signing_public=signing.public,
            plaintext_sha256=sealed.plaintext_sha256,
        )
        assert b"Jane Doe" not in plain
        assert Image.open(io.BytesIO(plain)).tobytes() == Image.open(io.BytesIO(original)).tobytes()


def test_trn3_object_ids_are_random() -> None:
    signing, r = crypto.SigningKey.generate(), crypto.AgeIdentity.generate().recipient
    ids = {
        seal_capture(
            _jpeg_with_identifiers(),
            patient_id="p" * 32,
            encounter_id="e" * 32,
            device_id="d" * 32,
            signing=signing,
            recipients=[r],
        ).object_id
        for _ in range(3)
    }
    assert len(ids) == 3


def test_open_refuses_a_forged_manifest_or_a_wrong_hash() -> None:
    ident, signing = crypto.AgeIdentity.generate(), crypto.SigningKey.generate()
    sealed = seal_capture(
        _jpeg_with_identifiers(),
        patient_id="p" * 32,
        encounter_id="e" * 32,
        device_id="d" * 32,
        signing=signing,
        recipients=[ident.recipient],
    )
    kwargs = {
        "identity": ident,
        "manifest_bytes": sealed.manifest_bytes,
        "signature": sealed.signature,
        "author_signing_public": signing.public,
        "plaintext_sha256": sealed.plaintext_sha256,
    }
    with pytest.raises(crypto.CryptoError):
        open_capture(
            sealed.ciphertext,
            **{**kwargs, "author_signing_public": crypto.SigningKey.generate().public},
        )  # type: ignore[arg-type]
    with pytest.raises(crypto.CryptoError):
        open_capture(sealed.ciphertext, **{**kwargs, "plaintext_sha256": "0" * 64})  # type: ignore[arg-type]


def test_capture_refuses_what_it_cannot_scrub() -> None:
    with pytest.raises(ScrubError):
        seal_capture(
            b"\x89PNG\r\n\x1a\n not a jpeg",
            patient_id="p" * 32,
            encounter_id="e" * 32,
            device_id="d" * 32,
            signing=crypto.SigningKey.generate(),
            recipients=[crypto.AgeIdentity.generate().recipient],
        )
