"""The device client's profile: its keys and session, sealed under the user's passcode.

A profile directory holds ``vault.json``: Argon2id parameters and salt, and an AES-256-GCM
ciphertext of the device's private keys, ids and session token (STO-3). The vault key is
derived from the passcode and never stored. After ``MAX_FAILED_UNLOCKS`` wrong passcodes in a
row the vault is destroyed (STO-3, BRE-4); the counter sits outside the ciphertext, so it
deters guessing through the client, not an attacker who copies the file (Argon2id does that).
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

    def _write(self, doc: dict[str, object]) -> None:
        tmp = self.vault_path.with_suffix(".tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(doc, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.vault_path)
        except OSError as exc:
            raise ProfileError(
                f"cannot write the device profile {self.vault_path}: {exc.strerror}"
            ) from None

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

    def wipe(self) -> None:
        """Overwrite, then remove, the vault (BRE-4)."""
        if self.vault_path.exists():
            size = self.vault_path.stat().st_size
            with self.vault_path.open("r+b") as fh:
                fh.write(secrets.token_bytes(size))
                fh.flush()
                os.fsync(fh.fileno())
            self.vault_path.unlink()
