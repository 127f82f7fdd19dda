"""Shared fixtures. Each test gets its own data directory; nothing touches ./var."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from clinphoto.core.config import Settings
from clinphoto.crypto import FAST_TEST_KDF, KdfParams
from clinphoto.instance import keys, schema
from clinphoto.instance.runtime import Instance, open_instance
from clinphoto.storage.db import make_engine


@pytest.fixture
def kdf() -> KdfParams:
    """The fast Argon2id setting: for tests only (tests/unit/test_crypto.py checks it)."""
    return FAST_TEST_KDF


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for var in ("CLINPHOTO_KEK", "CLINPHOTO_DATABASE_URL", "CLINPHOTO_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    return Settings(data_dir=tmp_path / "var", kdf_profile="test")


# --- databases: every test that asks for `engine` runs on SQLite and on PostgreSQL -------

POSTGRES_URL = os.environ.get(
    "CLINPHOTO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_reachable() -> str | None:
    try:
        probe = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with probe.connect():
            pass
        probe.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


@pytest.fixture(scope="session")
def postgres_problem() -> str | None:
    return _postgres_reachable()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_problem: str | None
) -> Iterator[Engine]:
    """A clean, migrated database: a fresh SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'test.sqlite3'}")
        schema.upgrade(eng)
        yield eng
        eng.dispose()
        return
    if postgres_problem is not None:
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} is not reachable ({postgres_problem})")
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in POSTGRES_URL else "?"
    eng = make_engine(f"{POSTGRES_URL}{sep}options=-csearch_path%3D{name}")
    try:
        schema.upgrade(eng)
        yield eng
    finally:
        eng.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
        admin.dispose()


@pytest.fixture
def instance(settings: Settings, engine: Engine) -> Instance:
    """An initialised instance (keys, blob store) on the parametrised database."""
    keys.create(settings)
    return open_instance(settings, engine=engine)
