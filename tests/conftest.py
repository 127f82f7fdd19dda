"""Shared fixtures. Each test gets its own data directory; nothing touches ./var."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinphoto.core.config import Settings
from clinphoto.crypto import FAST_TEST_KDF, KdfParams


@pytest.fixture
def kdf() -> KdfParams:
    """The fast Argon2id setting: for tests only (tests/unit/test_crypto.py checks it)."""
    return FAST_TEST_KDF


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for var in ("CLINPHOTO_KEK", "CLINPHOTO_DATABASE_URL", "CLINPHOTO_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    return Settings(data_dir=tmp_path / "var", kdf_profile="test")
