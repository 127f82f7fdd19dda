"""JSON parsed with a nesting limit checked before the parser runs.

Python's parser recurses once per level, so a small body of ``[[[[...`` exhausts the stack
(a 500 with no audit entry, issue #7). The depth is counted first, on the bytes with every
string removed, in time linear in the input; the parser only sees what passed.
"""

from __future__ import annotations

import json
import re
from typing import Any

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_OPEN = frozenset(b"[{")


class TooDeep(ValueError):
    """Nested deeper than allowed."""


def depth(raw: bytes, *, stop_above: int | None = None) -> int:
    """The deepest nesting of arrays and objects in ``raw`` (brackets inside strings aside);
    counting stops as soon as it passes ``stop_above``."""
    level = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if match.group()[0] in _OPEN:
            level += 1
            if level > deepest:
                deepest = level
                if stop_above is not None and deepest > stop_above:
                    break
        else:
            level -= 1
    return deepest


def loads(raw: bytes, *, max_depth: int) -> Any:
    """Parse ``raw``; :class:`TooDeep` beyond ``max_depth`` levels, ValueError when it is not
    JSON (``json.JSONDecodeError``, or ``UnicodeDecodeError`` for bytes that are not UTF-8)."""
    if depth(raw, stop_above=max_depth) > max_depth:
        raise TooDeep(f"nested deeper than {max_depth} levels")
    return json.loads(raw)
