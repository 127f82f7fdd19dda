"""The device client's profile: its keys and session, sealed under the user's passcode.

A profile directory holds ``vault.json``: Argon2id parameters and salt, and an AES-256-GCM
ciphertext of the device's private keys, ids and session token (STO-3). The vault key is
derived from the passcode and never stored. After ``MAX_FAILED_UNLOCKS`` wrong passcodes in a
row the vault is destroyed (STO-3, BRE-4); the counter sits outside the ciphertext, so it
deters guessing through the client, not an attacker who copies the file (Argon2id does that).

Beside the vault, ``status_key`` holds the device's *status key* (decision 014): an Ed25519
key used only to sign status reports and wipe and deletion confirmations, kept OUTSIDE the
vault on purpose, so that a report and a wipe confirmation need no passcode. It signs nothing
that opens a photo. A profile from before it existed gets one at its next unlocked command.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from clinphoto import crypto
from clinphoto.core import protocol

VAULT = "vault.json"
STATUS_KEY = "status_key"
RECIPIENTS_CACHE = "recipients.json"  # public keys only: who captures are sealed to offline
OUTBOX = "queue"
MAX_FAILED_UNLOCKS = protocol.MAX_FAILED_UNLOCKS
MIN_PASSCODE_LENGTH = 6
_CONTEXT = b"clinphoto-device-vault-v1"


class ProfileError(Exception):
    """The profile is missing, locked with another passcode, was wiped, or cannot be
    written."""


def check_passcode(passcode: str) -> None:
    """Raise :class:`ProfileError` saying what to change, or return: the device's own rules
    for a passcode, checked before anything is sent anywhere."""
    if len(passcode) < MIN_PASSCODE_LENGTH:
        raise ProfileError(f"the passcode must be at least {MIN_PASSCODE_LENGTH} characters")


@dataclass
class DeviceSecrets:
    server: str
    user_id: str
    email: str
    device_id: str
    age_secret: str
    signing_key: str  # base64 of the 32-byte Ed25519 seed
    token: str

    @property
    def age(self) -> crypto.AgeIdentity:
        return crypto.AgeIdentity(self.age_secret)

    @property
    def signing(self) -> crypto.SigningKey:
        return crypto.SigningKey(base64.b64decode(self.signing_key))


@dataclass
class StatusKey:
    """The status key, as kept outside the vault: the device it belongs to, the 32-byte
    Ed25519 seed (base64) and whether the server accepted its public half."""

    device_id: str
    seed: str
    registered: bool = False

    @property
    def signing(self) -> crypto.SigningKey:
        return crypto.SigningKey(base64.b64decode(self.seed))

    @property
    def public(self) -> str:
        return self.signing.public


def _erase(path: Path) -> bool:
    """Overwrite, then remove, a file; False when there was none."""
    if not path.exists():
        return False
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.write(secrets.token_bytes(size))
        fh.flush()
        os.fsync(fh.fileno())
    path.unlink()
    return True


class Profile:
    def __init__(self, directory: Path, kdf: crypto.KdfParams = crypto.RFC9106_KDF) -> None:
        self.directory = directory
        self.kdf = kdf

    @property
    def vault_path(self) -> Path:
        return self.directory / VAULT

    def exists(self) -> bool:
        return self.vault_path.exists()

    def check_writable(self) -> None:
        """Raise :class:`ProfileError` unless the profile directory can hold a vault: a
        probe file is written and removed (before an enrollment spends its one-time code)."""
        probe = self.directory / f".write-check-{secrets.token_hex(4)}"
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            probe.unlink()
        except OSError as exc:
            raise ProfileError(
                f"cannot write the device profile in {self.directory}: {exc.strerror}"
            ) from None

    def save(self, secrets_: DeviceSecrets, passcode: str) -> None:
        check_passcode(passcode)
        salt = secrets.token_bytes(16)
        key = crypto.derive_vault_key(passcode, salt, self.kdf)
        sealed = crypto.wrap_key(key, json.dumps(asdict(secrets_)).encode(), _CONTEXT)
        doc = {
            "format": "clinphoto-device-vault-v1",
            "kdf": {
                "time_cost": self.kdf.time_cost,
                "memory_kib": self.kdf.memory_kib,
                "parallelism": self.kdf.parallelism,
            },
            "salt": base64.b64encode(salt).decode(),
            "sealed": base64.b64encode(sealed).decode(),
            "failed_unlocks": 0,
        }
        self._write(doc)

    def _write(self, doc: dict[str, object], path: Path | None = None) -> None:
        path = path or self.vault_path
        tmp = path.with_suffix(".tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(doc, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            raise ProfileError(f"cannot write the device profile {path}: {exc.strerror}") from None

    def unlock(self, passcode: str) -> DeviceSecrets:
        if not self.exists():
            raise ProfileError(f"no device profile at {self.directory}; run `device enroll`")
        doc = json.loads(self.vault_path.read_text())
        params = crypto.KdfParams(**doc["kdf"])
        key = crypto.derive_vault_key(passcode, base64.b64decode(doc["salt"]), params)
        try:
            raw = crypto.unwrap_key(key, base64.b64decode(doc["sealed"]), _CONTEXT)
        except crypto.CryptoError:
            doc["failed_unlocks"] = int(doc.get("failed_unlocks", 0)) + 1
            if doc["failed_unlocks"] >= MAX_FAILED_UNLOCKS:
                self.wipe()
                raise ProfileError(
                    f"wrong passcode {MAX_FAILED_UNLOCKS} times: the device vault was wiped"
                ) from None
            self._write(doc)
            left = MAX_FAILED_UNLOCKS - doc["failed_unlocks"]
            raise ProfileError(f"wrong passcode ({left} attempts left before wipe)") from None
        if doc.get("failed_unlocks"):
            doc["failed_unlocks"] = 0
            self._write(doc)
        return DeviceSecrets(**json.loads(raw))

    def update(self, secrets_: DeviceSecrets, passcode: str) -> None:
        self.save(secrets_, passcode)

    def wipe(self) -> bool:
        """Overwrite, then remove, the vault and the status key (BRE-4); True when there was a
        vault to erase."""
        _erase(self.status_key_path)
        return _erase(self.vault_path)

    # --- the status key (decision 014), outside the vault ---------------------------------

    @property
    def status_key_path(self) -> Path:
        return self.directory / STATUS_KEY

    def status_key(self) -> StatusKey | None:
        """The stored status key, or None (none yet, or unreadable)."""
        try:
            doc = json.loads(self.status_key_path.read_text(encoding="utf-8"))
            return StatusKey(str(doc["device_id"]), str(doc["seed"]), bool(doc["registered"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def ensure_status_key(self, device_id: str) -> StatusKey:
        """This device's status key, made now if the profile has none (a profile enrolled
        before status keys, or enrolled into this directory again)."""
        key = self.status_key()
        if key is None or key.device_id != device_id:
            raw = crypto.SigningKey.generate().raw
            key = StatusKey(device_id, base64.b64encode(raw).decode())
            self.save_status_key(key)
        return key

    def save_status_key(self, key: StatusKey) -> None:
        doc: dict[str, object] = {"format": "clinphoto-status-key-v1", **asdict(key)}
        self._write(doc, self.status_key_path)
