"""Throttling guesses at secrets: sign-in, enrollment codes, device approval (AUD-2).

Every key is a keyed hash (HMAC with the instance's lookup key) of ``client:<address>``,
``account:<e-mail>``, ``code:<code hash>`` or ``approval:<user id>``, so the table holds no
address or e-mail in clear. A key collects failures in a window; past the limit it is
blocked for a delay that doubles with each further failure, up to a cap:

- per client: a flood from one address is stopped (answered 429, before any password
  work) long before it touches an account much. The answer depends on the client alone,
  so it says nothing about any account.
- per account and per code: at most a couple of minutes at a time, so nobody can lock a
  clinician out for long. A blocked account answers exactly like a wrong password.

The caller decides what counts as a failure (see ``accounts.service``).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as DbSession

from clinphoto import crypto
from clinphoto.accounts.models import SignInThrottle
from clinphoto.core.errors import RateLimited

_KIND = "sign-in-throttle"


@dataclass(frozen=True)
class Limit:
    """``failures`` within ``window`` before a block of ``first_block``, doubling to
    ``max_block`` with each failure after that."""

    failures: int
    window: timedelta
    first_block: timedelta
    max_block: timedelta

    def block_for(self, failures: int) -> timedelta:
        over = min(max(failures - self.failures, 0), 16)
        block: timedelta = self.first_block * (1 << over)
        return min(block, self.max_block)


# One address: 20 failed guesses in 15 minutes, then 1, 2, 4 ... up to 15 minutes.
CLIENT = Limit(
    failures=20,
    window=timedelta(minutes=15),
    first_block=timedelta(minutes=1),
    max_block=timedelta(minutes=15),
)
# One account or one enrollment code: 5 wrong passwords in 15 minutes, then 15 s, 30 s,
# 1 min, and never more than 2 minutes at a time.
ACCOUNT = Limit(
    failures=5,
    window=timedelta(minutes=15),
    first_block=timedelta(seconds=15),
    max_block=timedelta(minutes=2),
)
# Enrollment codes issued for one account: 10 an hour (each is a way in).
APPROVAL = Limit(
    failures=10,
    window=timedelta(hours=1),
    first_block=timedelta(minutes=10),
    max_block=timedelta(hours=1),
)
_LONGEST_WINDOW = max(CLIENT.window, ACCOUNT.window, APPROVAL.window)


def key(lookup_key: bytes, scope: str, value: str) -> str:
    """The row key for ``scope`` (client, account, code, approval) and ``value``."""
    return crypto.blind_index(lookup_key, _KIND, f"{scope}:{value}")


def blocked_for(db: DbSession, row_key: str, now: datetime) -> timedelta | None:
    """How long ``row_key`` stays blocked, or None when it is not blocked."""
    row = db.get(SignInThrottle, row_key)
    if row is None or row.blocked_until is None:
        return None
    left = (row.blocked_until) - now
    return left if left > timedelta(0) else None


def _locked_row(db: DbSession, row_key: str, now: datetime) -> SignInThrottle:
    """The row for ``row_key``, created if needed and locked for this transaction.

    Created with INSERT ... ON CONFLICT DO NOTHING so that two first failures in parallel
    do not collide on the primary key.
    """
    values = {"key": row_key, "failures": 0, "window_started_at": now, "blocked_until": None}
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        db.execute(postgresql.insert(SignInThrottle).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        db.execute(sqlite.insert(SignInThrottle).values(**values).on_conflict_do_nothing())
    elif db.get(SignInThrottle, row_key) is None:
        db.add(SignInThrottle(**values))
        db.flush()
    row = db.execute(
        select(SignInThrottle)
        .where(SignInThrottle.key == row_key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    return row


def record_failure(db: DbSession, row_key: str, limit: Limit, now: datetime) -> bool:
    """Count one failure against ``row_key``; True when the key is (now) blocked."""
    row = _locked_row(db, row_key, now)
    blocked = row.blocked_until is not None and (row.blocked_until) > now
    if not blocked and now - (row.window_started_at) >= limit.window:
        row.failures, row.window_started_at, row.blocked_until = 0, now, None
    row.failures += 1
    if row.failures >= limit.failures:
        row.blocked_until = now + limit.block_for(row.failures)
    db.flush()
    if random.random() < 1 / 64:  # noqa: S311 - housekeeping, not security
        prune(db, now)
    return row.blocked_until is not None and (row.blocked_until) > now


def clear(db: DbSession, row_key: str) -> None:
    """Forget the failures of ``row_key`` (after a success)."""
    db.execute(
        delete(SignInThrottle)
        .where(SignInThrottle.key == row_key)
        .execution_options(synchronize_session=False)
    )


def prune(db: DbSession, now: datetime) -> int:
    """Delete rows that carry no information any more: window over, not blocked."""
    stale = now - _LONGEST_WINDOW
    result = db.execute(
        delete(SignInThrottle)
        .where(
            SignInThrottle.window_started_at < stale,
            or_(SignInThrottle.blocked_until.is_(None), SignInThrottle.blocked_until < now),
        )
        # Not evaluated in Python against loaded rows: SQLite hands back naive datetimes.
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def client_blocked(wait: timedelta) -> RateLimited:
    """The answer to a blocked client: it depends on the address alone."""
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return RateLimited(
        f"too many failed attempts from your network address: try again in {minutes} {unit}"
    )
