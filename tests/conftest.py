"""Shared fixtures. Each test gets its own data directory; nothing touches ./var."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

# The command line's tables and messages are laid out for the terminal's width, and tests run
# without a terminal (80 columns, or whatever a pytest-xdist worker inherits): one wide,
# fixed width, set before any Rich console exists, so output never wraps inside a word a
# test looks for. The CLI run in a subprocess inherits it.
os.environ["COLUMNS"] = "200"
from sqlalchemy import Engine, create_engine

from clinphoto import crypto
from clinphoto.accounts import service as accounts
from clinphoto.accounts.models import Role
from clinphoto.api.app import create_app
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
    """Development mode: the fast test KDF and the KEK on disk, which production refuses."""
    for var in ("CLINPHOTO_KEK", "CLINPHOTO_DATABASE_URL", "CLINPHOTO_DATA_DIR", "CLINPHOTO_ENV"):
        monkeypatch.delenv(var, raising=False)
    return Settings(data_dir=tmp_path / "var", kdf_profile="test", env="development")


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


# --- HTTP: the real app on the parametrised database, and enrolled test devices ----------


@dataclass
class EnrolledDevice:
    """What a device client holds: its keys and a session token."""

    user_id: str
    email: str
    device_id: str
    token: str
    age: crypto.AgeIdentity
    signing: crypto.SigningKey
    password: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def client(settings: Settings, instance: Instance) -> Iterator[TestClient]:
    with TestClient(create_app(settings, instance)) as c:
        yield c


def make_user(instance: Instance, role: Role, email: str, name: str = "Dr Test") -> str:
    """Create a user and return a one-time enrollment code (what `admin create-user` does)."""
    with instance.unit_of_work() as db:
        user = accounts.create_user(
            db,
            email=email,
            display_name=name,
            role=role,
            institution="Test Hospital",
            password=None,
            kdf=FAST_TEST_KDF,
        )
        return accounts.issue_enrollment_code(db, user=user, issued_by="test")


def enroll(
    client: TestClient, code: str, password: str = "a long clinical passphrase"
) -> EnrolledDevice:
    age, signing = crypto.AgeIdentity.generate(), crypto.SigningKey.generate()
    r = client.post(
        "/v1/enroll",
        json={
            "code": code,
            "password": password,
            "device_name": "test phone",
            "age_recipient": age.recipient,
            "signing_public": signing.public,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    return EnrolledDevice(
        user_id=body["user"]["id"],
        email=body["user"]["email"],
        device_id=body["device"]["id"],
        token=body["token"],
        age=age,
        signing=signing,
        password=password,
    )


@pytest.fixture
def new_device(client: TestClient, instance: Instance) -> Callable[..., EnrolledDevice]:
    def make(role: Role = Role.CLINICIAN, email: str | None = None) -> EnrolledDevice:
        email = email or f"{uuid.uuid4().hex[:8]}@hospital.example"
        return enroll(client, make_user(instance, role, email))

    return make
