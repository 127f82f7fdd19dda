"""Capture on the device: scrub, name, seal, sign (steps 2-3 of "How a photo flows").

The plaintext never leaves this function except inside an age ciphertext addressed to the
records key and the author's own active devices.
"""

from __future__ import annotations

import hashlib
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clinphoto import crypto
from clinphoto.core import protocol
from clinphoto.imaging.scrub import scrub_bytes, scrub_file
from clinphoto.imaging.sniff import HEAD_BYTES, sniff


@dataclass(frozen=True)
class SealedCapture:
    object_id: str
    manifest_bytes: bytes
    signature: str
    ciphertext: bytes
    plaintext_sha256: str


def _scrub(data: bytes) -> tuple[bytes, str]:
    """The scrubbed picture or video and its media type (DEI-1).

    Raises :class:`ScrubError` with a reason for anything that cannot be shown harmless.
    A video is remuxed through a private temporary directory, removed at once.
    """
    kind = sniff(data[:HEAD_BYTES])
    if not kind.is_video:
        result = scrub_bytes(data)
        return result.data, result.media_type
    with tempfile.TemporaryDirectory(prefix="clinphoto-capture-") as tmp:
        src, dst = Path(tmp) / "in", Path(tmp) / "out"
        src.write_bytes(data)
        result = scrub_file(src, dst)
        return dst.read_bytes(), result.media_type


def seal_capture(
    image: bytes,
    *,
    patient_id: str,
    encounter_id: str,
    device_id: str,
    signing: crypto.SigningKey,
    recipients: list[str],
    consent_id: str | None = None,
    derived_from: str | None = None,
    text: dict[str, object] | None = None,
    body_site: dict[str, str] | None = None,
) -> SealedCapture:
    """Scrub an image, seal it to ``recipients`` and sign its manifest.

    With ``consent_id`` the image is the patient's signature on that consent (CON-3); it is
    scrubbed and sealed exactly like a photo. With ``derived_from`` it is a new version (a
    redaction) of that photo, which itself is never changed.
    """
    clean, content_type = _scrub(image)
    object_id = secrets.token_hex(16)  # random: carries nothing about the patient (TRN-3)
    plain_hash = hashlib.sha256(clean).hexdigest()
    ciphertext = crypto.seal(clean, recipients)
    manifest: dict[str, object] = {
        "v": 1,
        "object_id": object_id,
        "kind": "photo" if consent_id is None else "consent-signature",
        "content_type": content_type,
        "patient_id": patient_id,
        "encounter_id": encounter_id,
        "device_id": device_id,
        "plaintext_sha256": plain_hash,
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
        "size": len(ciphertext),
        "recipients": sorted(recipients),
        "captured_at": datetime.now(UTC).isoformat(),
    }
    if consent_id is not None:
        manifest["consent_id"] = consent_id
    if derived_from is not None:
        manifest["derived_from"] = derived_from  # a redacted version of that photo
    if body_site is not None:
        manifest["body_site"] = body_site  # SNOMED CT body structure (BEY-2)
    manifest.update(text or {})  # a sealed caption and its resolved warnings (TRN-3)
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
    text: dict[str, object] | None = None,
    content_type: str = "image/jpeg",
) -> SealedCapture:
    """Re-seal an opened photo for one recipient's devices and the records key (TRN-4)."""
    object_id = secrets.token_hex(16)
    ciphertext = crypto.seal(plain, recipients)
    manifest: dict[str, object] = {
        "v": 1,
        "object_id": object_id,
        "kind": "share",
        "content_type": content_type,
        "device_id": device_id,
        "plaintext_sha256": hashlib.sha256(plain).hexdigest(),
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
        "size": len(ciphertext),
        "recipients": sorted(recipients),
        "recipient_user_id": recipient_user_id,
        "purpose": purpose,
        "sent_at": datetime.now(UTC).isoformat(),
    }
    manifest.update(text or {})  # a sealed message and its resolved warnings (TRN-3)
    manifest_bytes = protocol.encode_manifest(manifest)
    return SealedCapture(
        object_id=object_id,
        manifest_bytes=manifest_bytes,
        signature=crypto.sign(signing, manifest_bytes),
        ciphertext=ciphertext,
        plaintext_sha256=str(manifest["plaintext_sha256"]),
    )
