"""One frozen settings object, read from ``CLINPHOTO_*`` environment variables.

Secrets have no defaults. The embedded defaults (SQLite and blobs under the data directory,
keys on disk) are for a single machine and say so loudly at start-up.
"""

from __future__ import annotations

import base64
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
    # Where the blob store's data lives (CLD-1, TRN-2): an ISO 3166-2 code, e.g. CA-ON.
    storage_jurisdiction: str = "CA"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Seconds between the records custodian's inspection passes inside `serve`; 0: off.
    custodian_interval: float = Field(default=2.0, ge=0)

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
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'clinphoto.sqlite3').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def key_dir(self) -> Path:
        return self.data_dir / "keys"
