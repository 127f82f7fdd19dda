"""The instance's keys: created at ``init``, sealed by a key-encryption key (KEK).

The KEK comes from ``CLINPHOTO_KEK`` or, for the embedded default, from ``<data>/keys/kek``
(with a loud warning: a key next to the data it protects only guards against a stolen
database or blob store, not a stolen disk). Everything else is sealed under it in
``<data>/keys/instance-keys.json``:

- the records key (age X25519 identity): every media object is also sealed to it;
- the field keyring (AES-256-GCM, key ids) and the blind-index key (HMAC-SHA256);
- the audit checkpoint key (Ed25519).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clinphoto.core.config import Settings
from clinphoto.crypto import AgeIdentity, FieldKeyring, SigningKey, unwrap_key, wrap_key

KEYS_FILE = "instance-keys.json"
KEK_FILE = "kek"
_CONTEXT = b"clinphoto-instance-keys-v1"


class KeyFileError(Exception):
    """The instance keys are missing, or cannot be opened with the configured KEK."""


@dataclass(frozen=True)
class InstanceKeys:
    records: AgeIdentity
    fields: FieldKeyring
    blind_index_key: bytes
    audit_key: SigningKey
    audit_key_id: str
    audit_public_by_id: dict[str, str]
    kek_on_disk: bool


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _kek(settings: Settings, *, create: bool) -> tuple[bytes, bool]:
    if settings.kek is not None:
        return base64.b64decode(settings.kek.get_secret_value()), False
    path = settings.key_dir / KEK_FILE
    if not path.exists():
        if not create:
            raise KeyFileError(f"no CLINPHOTO_KEK and no key file at {path}")
        _write_private(path, _b64(secrets.token_bytes(32)).encode("ascii") + b"\n")
    return base64.b64decode(path.read_text().strip()), True


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def exists(settings: Settings) -> bool:
    return (settings.key_dir / KEYS_FILE).exists()


def create(settings: Settings) -> InstanceKeys:
    """Generate every instance key and seal them under the KEK. Refuses to overwrite."""
    if exists(settings):
        raise KeyFileError("instance keys already exist; refusing to overwrite them")
    kek, _ = _kek(settings, create=True)
    secrets_doc: dict[str, object] = {
        "records_identity": AgeIdentity.generate().secret,
        "field_keys": {"k1": _b64(secrets.token_bytes(32))},
        "field_primary": "k1",
        "blind_index_key": _b64(secrets.token_bytes(32)),
        "audit_keys": {"a1": _b64(SigningKey.generate().raw)},
        "audit_primary": "a1",
    }
    _store(settings, kek, secrets_doc)
    return load(settings)


def _store(settings: Settings, kek: bytes, secrets_doc: dict[str, object]) -> None:
    sealed = wrap_key(kek, json.dumps(secrets_doc).encode("utf-8"), _CONTEXT)
    doc = {
        "format": "clinphoto-instance-keys-v1",
        "written_at": datetime.now(UTC).isoformat(),
        "sealed": _b64(sealed),
    }
    _write_private(settings.key_dir / KEYS_FILE, json.dumps(doc, indent=2).encode("utf-8"))


def _open(settings: Settings) -> tuple[bytes, bool, dict[str, object]]:
    path = settings.key_dir / KEYS_FILE
    if not path.exists():
        raise KeyFileError(f"no instance keys at {path}; run `clinphoto init` first")
    kek, on_disk = _kek(settings, create=False)
    doc = json.loads(path.read_text())
    from clinphoto.crypto import CryptoError

    try:
        raw = unwrap_key(kek, base64.b64decode(doc["sealed"]), _CONTEXT)
    except CryptoError:
        raise KeyFileError("the key-encryption key does not open the instance keys") from None
    return kek, on_disk, json.loads(raw)


def load(settings: Settings) -> InstanceKeys:
    _, on_disk, s = _open(settings)
    field_keys = {k: base64.b64decode(v) for k, v in dict(s["field_keys"]).items()}  # type: ignore[call-overload]
    audit_keys = dict(s["audit_keys"])  # type: ignore[call-overload]
    audit_primary = str(s["audit_primary"])
    return InstanceKeys(
        records=AgeIdentity(str(s["records_identity"])),
        fields=FieldKeyring(field_keys, str(s["field_primary"])),
        blind_index_key=base64.b64decode(str(s["blind_index_key"])),
        audit_key=SigningKey(base64.b64decode(audit_keys[audit_primary])),
        audit_key_id=audit_primary,
        audit_public_by_id={
            kid: SigningKey(base64.b64decode(raw)).public for kid, raw in audit_keys.items()
        },
        kek_on_disk=on_disk,
    )


def rotate_field_key(settings: Settings) -> str:
    """Add a new field key and make it primary; old keys stay to open existing fields.

    Re-encrypting existing rows under the new key is the caller's job (``admin rotate-keys``).
    """
    kek, _, s = _open(settings)
    keys = dict(s["field_keys"])  # type: ignore[call-overload]
    new_id = f"k{len(keys) + 1}"
    keys[new_id] = _b64(secrets.token_bytes(32))
    s["field_keys"] = keys
    s["field_primary"] = new_id
    _store(settings, kek, s)
    return new_id


def export_records_key(settings: Settings, out: Path) -> str:
    """Write the records key as an age identity file for disaster recovery; returns recipient.

    With this file the stock ``age -d -i FILE`` opens every stored media object.
    """
    keys = load(settings)
    if out.exists():
        raise KeyFileError(f"{out} exists; refusing to overwrite it")
    _write_private(out, keys.records.identity_file().encode("ascii"))
    return keys.records.recipient
