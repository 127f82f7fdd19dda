"""The instance's keys: created at ``init``, sealed by a key-encryption key (KEK).

The KEK comes from ``CLINPHOTO_KEK`` or, for the embedded default, from ``<data>/keys/kek``
(with a loud warning: a key next to the data it protects only guards against a stolen
database or blob store, not a stolen disk). Everything else is sealed under it in
``<data>/keys/instance-keys.json``:

- the records key (age X25519 identity): every media object is also sealed to it;
- the field keyring (AES-256-GCM, key ids) and the blind-index key (HMAC-SHA256);
- the audit checkpoint key (Ed25519).

A running server reads them through a :class:`KeyStore`, which loads the file again when it
changes on disk, so a key rotation done by ``admin rotate-keys`` in another process reaches
the server without a restart. A rotation is staged in ``instance-keys.pending.json``,
audited, then promoted over the keys file (``instance.service.rotate_field_key``); at
start-up a staged rotation is promoted if its audit entry committed and discarded if not.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clinphoto.core.config import Settings
from clinphoto.crypto import AgeIdentity, FieldKeyring, SigningKey, unwrap_key, wrap_key

KEYS_FILE = "instance-keys.json"
PENDING_FILE = "instance-keys.pending.json"
LOCK_FILE = "keys.lock"
KEK_FILE = "kek"
_CONTEXT = b"clinphoto-instance-keys-v1"
log = logging.getLogger(__name__)


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
    _sync_dir(path.parent)


def _sync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (it is the commit point of a key file)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - not on every platform
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


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


def _store(
    settings: Settings,
    kek: bytes,
    secrets_doc: dict[str, object],
    *,
    name: str = KEYS_FILE,
    rotation: dict[str, str] | None = None,
) -> None:
    sealed = wrap_key(kek, json.dumps(secrets_doc).encode("utf-8"), _CONTEXT)
    doc: dict[str, object] = {
        "format": "clinphoto-instance-keys-v1",
        "written_at": datetime.now(UTC).isoformat(),
        "sealed": _b64(sealed),
    }
    if rotation is not None:
        doc["rotation"] = rotation  # ids only, no secret: which staged rotation this is
    _write_private(settings.key_dir / name, json.dumps(doc, indent=2).encode("utf-8"))


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


class KeyStore:
    """The instance keys as the keys file holds them now; thread-safe.

    :meth:`current` looks at the file's identity (inode, modification time, size) on each
    call, a ``stat`` of a few microseconds, and loads the file again when it changed: a
    rotation promoted by another process is in use from the next request on, both to open
    fields sealed under the new key and to seal new ones with it.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._path = settings.key_dir / KEYS_FILE
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._keys = load(settings)

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self._path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def current(self) -> InstanceKeys:
        stamp = self._stat()
        if stamp is not None and stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    try:
                        keys = load(self._settings)
                    except (KeyFileError, OSError, ValueError):
                        log.exception("the instance keys changed on disk but cannot be read")
                    else:
                        self._keys, self._stamp = keys, stamp
                        log.info("instance keys reloaded (field key %s)", keys.fields.primary)
        return self._keys


@dataclass(frozen=True)
class StagedRotation:
    """A new field key written to the pending file, not yet in use."""

    rotation_id: str
    field_primary: str


@contextmanager
def rotation_lock(settings: Settings) -> Iterator[None]:
    """Held while a rotation is staged, audited and promoted, and while start-up resolves a
    staged one, so neither sees the other half done. Released if the holder dies."""
    import fcntl

    settings.key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(settings.key_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def stage_field_key_rotation(settings: Settings) -> StagedRotation:
    """Write the keyring with a new primary field key to the pending file; old keys stay to
    open existing fields. Nothing uses it until :func:`promote_rotation`."""
    kek, _, s = _open(settings)
    keys = dict(s["field_keys"])  # type: ignore[call-overload]
    number = len(keys) + 1
    while f"k{number}" in keys:
        number += 1
    new_id = f"k{number}"
    keys[new_id] = _b64(secrets.token_bytes(32))
    s["field_keys"] = keys
    s["field_primary"] = new_id
    staged = StagedRotation(rotation_id=secrets.token_hex(16), field_primary=new_id)
    _store(
        settings,
        kek,
        s,
        name=PENDING_FILE,
        rotation={"id": staged.rotation_id, "field_primary": new_id},
    )
    return staged


def staged_rotation(settings: Settings) -> StagedRotation | None:
    """The rotation waiting in the pending file, if any."""
    path = settings.key_dir / PENDING_FILE
    try:
        rotation = json.loads(path.read_text())["rotation"]
        return StagedRotation(str(rotation["id"]), str(rotation["field_primary"]))
    except FileNotFoundError:
        return None
    except (KeyError, TypeError, ValueError):
        return StagedRotation("", "")  # unreadable: never audited, so discarded


def promote_rotation(settings: Settings, staged: StagedRotation) -> None:
    """Make the staged keyring the instance's keys (an atomic rename, made durable)."""
    if staged_rotation(settings) != staged:
        raise KeyFileError("the staged key rotation is not the one expected")
    os.replace(settings.key_dir / PENDING_FILE, settings.key_dir / KEYS_FILE)
    _sync_dir(settings.key_dir)


def discard_rotation(settings: Settings) -> None:
    """Forget a staged rotation (its audit entry never committed)."""
    try:
        os.unlink(settings.key_dir / PENDING_FILE)
    except FileNotFoundError:
        return
    _sync_dir(settings.key_dir)


def create_private_file(out: Path) -> int:
    """Create ``out`` empty, readable by its owner only; refuses to overwrite. Returns its
    descriptor (the records-key export creates it before auditing, writes it after)."""
    try:
        return os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{out} exists; refusing to overwrite it") from None
    except OSError as exc:
        raise KeyFileError(f"{out} cannot be created ({exc.strerror})") from None


def write_records_key(keys: InstanceKeys, fd: int) -> str:
    """Write the records key as an age identity file to ``fd`` (closed after); returns its
    recipient. With this file the stock ``age -d -i FILE`` opens every stored media object.
    """
    with os.fdopen(fd, "wb") as fh:
        fh.write(keys.records.identity_file().encode("ascii"))
        fh.flush()
        os.fsync(fh.fileno())
    return keys.records.recipient
