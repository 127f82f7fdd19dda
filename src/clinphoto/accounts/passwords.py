"""Password policy after NIST SP 800-63B: length, a blocklist, context words; no composition
rules, no forced periodic changes."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from clinphoto.core.errors import Invalid

MIN_LENGTH = 12
MAX_LENGTH = 256


@cache
def _blocklist() -> frozenset[str]:
    text = resources.files("clinphoto.accounts").joinpath("common-passwords.txt").read_text()
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def check(password: str, *, context: tuple[str, ...] = ()) -> None:
    """Raise :class:`Invalid` with a reason a person can act on, or return."""
    if len(password) < MIN_LENGTH:
        raise Invalid(f"password must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise Invalid(f"password must be at most {MAX_LENGTH} characters")
    lowered = password.lower()
    core = re.sub(r"[\d\W_]+$", "", lowered)
    blocked = _blocklist()
    if lowered in blocked or core in blocked:
        raise Invalid("password is too common; choose a longer phrase")
    if len(set(password)) < 4:
        raise Invalid("password repeats too few characters")
    for word in context:
        w = word.lower()
        if len(w) >= 4 and w in lowered:
            raise Invalid("password must not contain your name, e-mail or the service's name")
