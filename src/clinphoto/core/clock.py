"""Time, in one place, always UTC."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """A random identifier: carries no information about what it names (TRN-3)."""
    return uuid.uuid4().hex
