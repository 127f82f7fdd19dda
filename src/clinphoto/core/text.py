"""Text that can be audited as it is: one normal form, nothing invisible, a bounded length.

A name with a zero-width space, a right-to-left override or a NUL byte looks like another
name on screen and in an audit export, so it is refused rather than stored (issue #7). The
services call :func:`clean` on what people type; the HTTP layer calls :func:`problem` on
every string of a request before any route runs.
"""

from __future__ import annotations

import re
import unicodedata

from clinphoto.core.errors import Invalid

# Unicode general categories refused anywhere: control characters (C0, DEL, C1), invisible
# format characters (zero-width, bidirectional controls, soft hyphen...), lone surrogates,
# and the line and paragraph separators, which break a line as a control character would.
_REFUSED = {
    "Cc": "control_character",
    "Cf": "format_character",
    "Cs": "lone_surrogate",
    "Zl": "control_character",
    "Zp": "control_character",
}

# What each problem means for the person who typed it.
EXPECTED = {
    "control_character": "text without control characters (no line breaks, tabs or NUL)",
    "format_character": "text without invisible formatting characters "
    "(zero-width or text-direction marks)",
    "lone_surrogate": "valid Unicode text",
    "too_long": "at most {max_len} characters",
}

_OBJECT_ID = re.compile(r"[0-9a-f]{32}")


def problem(value: str, *, max_len: int) -> str | None:
    """Why ``value`` cannot be audited as it is (a key of :data:`EXPECTED`), or None."""
    if len(value) > max_len:
        return "too_long"
    if value.isprintable():  # fast path: no character of any refused category
        return None
    for ch in value:
        if not ch.isprintable():
            kind = _REFUSED.get(unicodedata.category(ch))
            if kind is not None:
                return kind
    return None


def expected(kind: str, *, max_len: int) -> str:
    return EXPECTED[kind].format(max_len=max_len)


def clean(value: str, field: str, *, max_len: int) -> str:
    """``value`` in NFC without surrounding white space; :class:`Invalid` naming ``field``
    when it holds control or invisible format characters or is longer than ``max_len``."""
    normal = unicodedata.normalize("NFC", value).strip()
    kind = problem(normal, max_len=max_len)
    if kind is not None:
        raise Invalid(f"{field}: expected {expected(kind, max_len=max_len)}", field=field)
    return normal


def check_id(value: str, field: str) -> str:
    """An object id exactly: 32 lowercase hexadecimal characters, nothing before or after
    (a trailing newline included)."""
    if not isinstance(value, str) or _OBJECT_ID.fullmatch(value) is None:
        raise Invalid(f"{field}: expected 32 lowercase hexadecimal characters", field=field)
    return value


def is_id(value: object) -> bool:
    """Whether ``value`` is an object id (see :func:`check_id`), for look-ups where a
    malformed id simply matches nothing."""
    return isinstance(value, str) and _OBJECT_ID.fullmatch(value) is not None
