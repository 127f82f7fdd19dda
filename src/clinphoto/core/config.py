"""One frozen settings object, read from ``CLINPHOTO_*`` environment variables.

Secrets have no defaults. The embedded defaults (SQLite and blobs under the data directory,
keys on disk) are for a single machine and say so loudly at start-up. Outside the explicit
development mode (``CLINPHOTO_ENV=development``) the server refuses to start with the fast
test password-hashing profile, a placeholder key-encryption key, or its key on disk
(:meth:`Settings.unsafe_for_production`).
"""

from __future__ import annotations

import base64
import itertools
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLINPHOTO_", frozen=True, extra="ignore")

    data_dir: Path = Path("./var")
    # Default: SQLite (WAL) at <data_dir>/clinphoto.sqlite3.
    database_url: str | None = None
    # Base64 of 32 bytes. When absent the key-encryption key is read from <data_dir>/keys/kek.
    kek: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # "production" uses RFC 9106 Argon2id parameters; "test" is refused outside the suite.
    kdf_profile: Literal["production", "test"] = "production"
    # Where the blob store's data lives (CLD-1, TRN-2): an ISO 3166 code, e.g. CA or CA-ON;
    # and the assurance relied on for it (a certification, or for the server's own disk the
    # operator's statement). `serve` refuses a store declaring either badly; media of a
    # patient go outside Canada only with that patient's consent (storage.jurisdiction).
    storage_jurisdiction: str = "CA"
    storage_certification: str = "operator's statement: the server's own disk, in Canada"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Seconds between the records custodian's inspection passes inside `serve`; 0: off.
    custodian_interval: float = Field(default=2.0, ge=0)
    # Seconds between retention sweeps inside `serve` (RET-5); 0: off. The first sweep runs
    # one interval after start-up, so a short-lived test server never sweeps unless asked.
    retention_sweep_interval: float = Field(default=86400.0, ge=0)
    # A federal setting (e.g. a federal health service): the federal retention rule governs
    # every patient instead of the patient's province's (RET-1).
    retention_federal: bool = False
    # "development": the embedded single-machine setup (`make run`), where the KEK may sit
    # on disk and the test KDF is allowed. Anything else is production and is checked.
    env: Literal["production", "development"] = "production"
    # Largest request body, in bytes, of a JSON route; refused (413) before it is parsed.
    # The streamed uploads of sealed media have their own, larger, declared sizes.
    max_json_body: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    # The devices' idle lock (STO-3): the institution's choice, 2 minutes by default. The
    # phone app reads it from GET /v1/me at each unlock and warns 20 seconds before.
    lock_after_seconds: int = Field(default=120, ge=30, le=1800)
    # Days the devices' status reports are kept (decision 014); the breach register's own
    # (each device's latest, and the last before each breach's time of loss) are kept always.
    # Pruned with the retention sweep inside `serve`, or by `clinphoto breach prune-status`.
    status_history_days: int = Field(default=90, ge=1, le=3650)
    # The phone app's build, served at /. Unset: web/dist of the source checkout this
    # package runs from (`make web` builds it), if it is one.
    web_dir: Path | None = None
    # The institution's certificate (PEM, with its chain) and private key (PEM, not
    # encrypted, readable by the service only): `serve` then speaks HTTPS itself. Both or
    # neither; behind a reverse proxy that ends TLS, neither (docs/deployment.md).
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: comma-separated
    # addresses or networks, or "*" (uvicorn's forwarded_allow_ips). Only a proxy's.
    forwarded_allow_ips: str = "127.0.0.1"

    @field_validator("kek")
    @classmethod
    def _kek_is_32_bytes(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None:
            return v
        try:
            raw = base64.b64decode(v.get_secret_value(), validate=True)
        except ValueError as exc:
            raise ValueError("CLINPHOTO_KEK must be base64 of 32 random bytes") from exc
        if len(raw) != 32:
            raise ValueError("CLINPHOTO_KEK must be base64 of 32 random bytes")
        return v

    @property
    def development(self) -> bool:
        return self.env == "development"

    def unsafe_for_production(self) -> list[str]:
        """What must change before this configuration may serve outside development: one
        sentence per problem, naming the setting and the fix. Empty when it may serve."""
        problems = []
        if self.kdf_profile == "test":
            problems.append(
                "CLINPHOTO_KDF_PROFILE=test is the fast password-hashing profile of the test "
                "suite; unset it (production uses RFC 9106 Argon2id)."
            )
        if self.kek is None:
            problems.append(
                "CLINPHOTO_KEK is not set, so the key-encryption key would be read from "
                f"{self.key_dir / 'kek'}, next to the data it protects. Set CLINPHOTO_KEK from "
                "a secret store (for an existing instance, the value in that file; then "
                "delete the file) before starting the server."
            )
        elif _is_placeholder(base64.b64decode(self.kek.get_secret_value())):
            problems.append(
                "CLINPHOTO_KEK is a placeholder (repeated, sequential or typed bytes), not a "
                "random key; create the instance with a value from `clinphoto admin new-kek`, "
                "kept in a secret store."
            )
        return problems

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'clinphoto.sqlite3').resolve()}"

    @property
    def resolved_web_dir(self) -> Path | None:
        """Where the phone app's build is (or will be, once built), or None."""
        if self.web_dir is not None:
            return self.web_dir
        checkout = Path(__file__).resolve().parents[3]
        if (checkout / "web" / "package.json").is_file():
            return checkout / "web" / "dist"
        return None

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def key_dir(self) -> Path:
        return self.data_dir / "keys"


def _is_placeholder(raw: bytes) -> bool:
    """True for a key no random generator would produce: few distinct bytes (all zero, a
    repeated word), one constant step (0, 1, 2...), or printable text (a typed passphrase,
    a value copied from an example). A random 32-byte key trips none of these but with
    negligible probability."""
    steps = {(b - a) % 256 for a, b in itertools.pairwise(raw)}
    return len(set(raw)) < 16 or len(steps) == 1 or all(0x20 <= b < 0x7F for b in raw)
