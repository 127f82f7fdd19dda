"""Points in time survive the database: the same instant, read back with its UTC offset, on
SQLite (which has no time zone type) as on PostgreSQL. Found by schemathesis: the API rendered
times read from SQLite without an offset, which its own document calls no date-time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from clinphoto.accounts.models import Role, User
from clinphoto.instance.runtime import Instance
from tests.conftest import make_user

EMAIL = "times@hospital.example"


def test_times_are_read_back_as_the_same_instant_in_utc(instance: Instance) -> None:
    make_user(instance, Role.CLINICIAN, EMAIL)
    montreal = datetime(2026, 11, 29, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-5)))
    with instance.unit_of_work() as db:
        user = db.execute(select(User).where(User.email == EMAIL)).scalar_one()
        user.locked_until = montreal
    with instance.unit_of_work() as db:
        user = db.execute(select(User).where(User.email == EMAIL)).scalar_one()
        assert user.locked_until == montreal
        assert user.locked_until is not None
        assert user.locked_until.tzinfo == UTC
        assert user.locked_until.isoformat() == "2026-11-29T14:30:15.123456+00:00"
        assert user.created_at.tzinfo == UTC
