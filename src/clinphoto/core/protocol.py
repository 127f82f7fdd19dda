"""Messages that clients sign and the server verifies: part of the API contract, shared by
the server's services and the device client (which must not import server internals)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from clinphoto.core import boundedjson

# What every device does, whatever the client (STO-3): wipe its vault after this many wrong
# passcodes in a row; warn this long before the idle lock.
MAX_FAILED_UNLOCKS = 10
LOCK_WARNING_SECONDS = 20
# A status report lists at most this many unsent captures (`holding`), so that it always fits
# the server's 64 KiB JSON body limit; a device holding more reports its oldest this many.
MAX_STATUS_HOLDING = 400

MANIFEST_HEADER = "X-Clinphoto-Manifest"
SIGNATURE_HEADER = "X-Clinphoto-Signature"
AGE_MAGIC = b"age-encryption.org/v1\n"


def login_message(device_id: str, email: str, timestamp: str) -> bytes:
    """What a device signs to sign in, alongside the password."""
    return "\x1f".join(["clinphoto-login-v1", device_id, email.lower(), timestamp]).encode()


def canonical_json(value: Any) -> bytes:
    """The project's canonical JSON: keys sorted by code point, no spaces, non-ASCII as
    \\u escapes (web/src/lib/canonical.ts canonicalJson makes the same bytes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")


def encode_manifest(manifest: dict[str, Any]) -> bytes:
    """Canonical bytes of an upload manifest: what the author's device signs."""
    return canonical_json(manifest)


def manifest_header(manifest_bytes: bytes) -> str:
    return base64.urlsafe_b64encode(manifest_bytes).decode("ascii")


# A manifest is a few hundred bytes of ids, digests and sealed text (a caption and its age
# header). The bounds keep a hostile header from costing the server memory or stack before
# its signature is even checked (issue #7).
MAX_MANIFEST_BYTES = 16 * 1024
MAX_MANIFEST_DEPTH = 8


def read_manifest_header(value: str) -> tuple[bytes, dict[str, Any]]:
    """The signed bytes and the parsed manifest; ValueError when malformed, larger than
    :data:`MAX_MANIFEST_BYTES` or nested deeper than :data:`MAX_MANIFEST_DEPTH`."""
    if len(value) > (MAX_MANIFEST_BYTES + 2) // 3 * 4:
        raise ValueError("manifest too large")
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (UnicodeEncodeError, binascii.Error):
        raise ValueError("manifest is not base64") from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ValueError("manifest too large")
    parsed = boundedjson.loads(raw, max_depth=MAX_MANIFEST_DEPTH)
    if not isinstance(parsed, dict):
        raise ValueError("manifest is not an object")
    return raw, parsed


def ack_message(share_id: str, plaintext_sha256: str) -> bytes:
    """What a recipient's device signs to acknowledge receipt of a share (TRN-4)."""
    return "\x1f".join(["clinphoto-ack-v1", share_id, plaintext_sha256]).encode()


# --- Text that travels with an image (TRN-3) ------------------------------------------------
# A caption (at capture) or a message (with a share) travels sealed inside the signed
# manifest as base64 of an age ciphertext to the object's own recipients, so the server never
# reads it. The sender's device checks it for identifiers first; each warning is resolved by
# editing the text or by confirming it with one of these reasons, which the server audits.
SEALED_TEXT_FIELDS = ("caption_sealed", "message_sealed")
MAX_SEALED_TEXT = 12 * 1024  # within the manifest's own bound
TEXT_WARNINGS_FIELD = "text_warnings"  # finding kinds only, never the values
TEXT_CONFIRMED_FIELD = "text_warnings_confirmed"
TEXT_CONFIRMATIONS = ("patient-requested", "clinically-necessary", "false-positive")
# A share carries the patient's details (name, date of birth, record numbers) sealed to the
# share's recipients, so the recipient's inbox says which patient without asking the server.
SEALED_PATIENT_FIELD = "patient_sealed"


# --- Device status, remote wipe and recalled shares (BRE-2, BRE-4, BRE-5) -------------------
# Signed with the device's *status key*: a second Ed25519 key kept outside the vault, so a
# locked device can still report and confirm a wipe (docs/wire/device-status.md, decision 014).
STATUS_POLL_SECONDS = 300


def device_status_message(
    device_id: str,
    time: str,
    locked: bool,
    locked_since: str | None,
    holding: list[dict[str, str]] | None,
) -> bytes:
    """What a device signs to report its state: locked or not, and what its outbox holds
    (None: not known now, e.g. locked; []: nothing)."""
    held = "null" if holding is None else canonical_json(holding).decode("ascii")
    fields = [
        "clinphoto-device-status-v1",
        device_id,
        time,
        "locked" if locked else "unlocked",
        locked_since or "",
        held,
    ]
    return "\x1f".join(fields).encode()


def wipe_confirmation_message(
    device_id: str, wipe_id: str, wiped_at: str, erased: dict[str, Any]
) -> bytes:
    """What a device signs, before erasing, to confirm a remote wipe (BRE-4)."""
    fields = [
        "clinphoto-wipe-confirmation-v1",
        device_id,
        wipe_id,
        wiped_at,
        canonical_json(erased).decode("ascii"),
    ]
    return "\x1f".join(fields).encode()


def share_deleted_message(device_id: str, share_id: str, deleted_at: str) -> bytes:
    """What a recipient's device signs once it deleted its copy of a recalled share (BRE-2)."""
    return "\x1f".join(["clinphoto-share-deleted-v1", device_id, share_id, deleted_at]).encode()
