"""Capture on the device: scrub, name, seal, sign (steps 2-3 of "How a photo flows").

The plaintext never leaves this function except inside an age ciphertext addressed to the
records key and the author's own active devices.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from clinphoto import crypto
from clinphoto.core import protocol
from clinphoto.imaging.jpeg import scrub_jpeg


@dataclass(frozen=True)
class SealedCapture:
    object_id: str
    manifest_bytes: bytes
    signature: str
    ciphertext: bytes
    plaintext_sha256: str


def seal_capture(
    jpeg: bytes,
    *,
    patient_id: str,
    encounter_id: str,
    device_id: str,
    signing: crypto.SigningKey,
    recipients: list[str],
) -> SealedCapture:
    """Scrub a JPEG losslessly, seal it to ``recipients`` and sign its manifest."""
    clean = scrub_jpeg(jpeg)
    object_id = secrets.token_hex(16)  # random: carries nothing about the patient (TRN-3)
    plain_hash = hashlib.sha256(clean).hexdigest()
    ciphertext = crypto.seal(clean, recipients)
    manifest = {
        "v": 1,
        "object_id": object_id,
        "kind": "photo",
        "content_type": "image/jpeg",
        "patient_id": patient_id,
        "encounter_id": encounter_id,
        "device_id": device_id,
        "plaintext_sha256": plain_hash,
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
        "size": len(ciphertext),
        "recipients": sorted(recipients),
        "captured_at": datetime.now(UTC).isoformat(),
    }
    manifest_bytes = protocol.encode_manifest(manifest)
    return SealedCapture(
        object_id=object_id,
        manifest_bytes=manifest_bytes,
        signature=crypto.sign(signing, manifest_bytes),
        ciphertext=ciphertext,
        plaintext_sha256=plain_hash,
    )


def open_capture(
    ciphertext: bytes,
    *,
    identity: crypto.AgeIdentity,
    manifest_bytes: bytes,
    signature: str,
    author_signing_public: str,
    plaintext_sha256: str,
) -> bytes:
    """Verify the author's signature, decrypt, and check the plaintext against the manifest."""
    if not crypto.verify_signature(author_signing_public, manifest_bytes, signature):
        raise crypto.CryptoError
    plain = crypto.open_sealed(ciphertext, identity)
    if hashlib.sha256(plain).hexdigest() != plaintext_sha256:
        raise crypto.CryptoError
    return plain


def reseal_for_share(
    plain: bytes,
    *,
    device_id: str,
    signing: crypto.SigningKey,
    recipients: list[str],
    recipient_user_id: str,
    purpose: str,
) -> SealedCapture:
    """Re-seal an opened photo for one recipient's devices and the records key (TRN-4)."""
    object_id = secrets.token_hex(16)
    ciphertext = crypto.seal(plain, recipients)
    manifest = {
        "v": 1,
        "object_id": object_id,
        "kind": "share",
        "content_type": "image/jpeg",
        "device_id": device_id,
        "plaintext_sha256": hashlib.sha256(plain).hexdigest(),
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
        "size": len(ciphertext),
        "recipients": sorted(recipients),
        "recipient_user_id": recipient_user_id,
        "purpose": purpose,
        "sent_at": datetime.now(UTC).isoformat(),
    }
    manifest_bytes = protocol.encode_manifest(manifest)
    return SealedCapture(
        object_id=object_id,
        manifest_bytes=manifest_bytes,
        signature=crypto.sign(signing, manifest_bytes),
        ciphertext=ciphertext,
        plaintext_sha256=str(manifest["plaintext_sha256"]),
    )
