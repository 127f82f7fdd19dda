"""The consent texts a patient is shown, by version (CON-1, CON-2).

A consent records the id of the text shown (``text_version``); the text itself is kept here,
word for word, so that a consent can be printed later exactly as it was read (the patient's
copy, a privacy officer's review, a court). A text never changes once shipped: a new wording
is a new id, and :data:`SHIPPED` pins each shipped file's SHA-256 so a test catches an edit.

- Shipped texts live in ``consent/texts/<id>.txt``; ids end in the language (``-en``, ``-fr``)
  and :data:`CURRENT` names the version the apps offer.
- An institution adds its own (a paper form's wording, say) as ``<data_dir>/consent-texts/
  <id>.txt``; they are listed beside the shipped ones and cannot replace one.

Recording a consent with an id that names no text here is refused: a version nobody can
print is no record of what the patient agreed to.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

CURRENT = "2026-11"
LANGUAGES = ("en", "fr")
SHIPPED = {
    "2026-11-en": "9343402292544b877d7272072ad96fbb99a264a1534951ff6d5838a29cce8d5a",
    "2026-11-fr": "20e8c19809d2c2abdd2f13796a422b3b5d18606e29f3877301a17c43dd8858f3",
}
# An id: letters, digits, dot, dash and underscore; it is a file name, so nothing else.
ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_TEXT_BYTES = 64 * 1024


@dataclass(frozen=True)
class ConsentText:
    id: str
    language: str  # "en", "fr", or "" when the id does not say
    body: str
    sha256: str
    shipped: bool


def _language(text_id: str) -> str:
    for lang in LANGUAGES:
        if text_id.endswith(f"-{lang}"):
            return lang
    return ""


def _text(text_id: str, raw: bytes, *, shipped: bool) -> ConsentText:
    return ConsentText(
        id=text_id,
        language=_language(text_id),
        body=raw.decode("utf-8"),
        sha256=hashlib.sha256(raw).hexdigest(),
        shipped=shipped,
    )


@cache
def shipped() -> dict[str, ConsentText]:
    """The texts that ship with clinphoto, by id."""
    folder = resources.files("clinphoto.consent") / "texts"
    return {
        text_id: _text(text_id, (folder / f"{text_id}.txt").read_bytes(), shipped=True)
        for text_id in SHIPPED
    }


def catalogue(institution_dir: Path | None) -> dict[str, ConsentText]:
    """Every text a consent may name: the shipped ones, then the institution's own (files
    that are not valid UTF-8, too long, badly named or named like a shipped text are left
    out)."""
    texts = dict(shipped())
    if institution_dir is None or not institution_dir.is_dir():
        return texts
    for path in sorted(institution_dir.glob("*.txt")):
        text_id = path.stem
        if text_id in texts or not ID.match(text_id) or path.stat().st_size > MAX_TEXT_BYTES:
            continue
        try:
            texts[text_id] = _text(text_id, path.read_bytes(), shipped=False)
        except UnicodeDecodeError:
            continue
    return texts


def current() -> dict[str, ConsentText]:
    """The version the apps offer, in each language, by language."""
    texts = shipped()
    return {lang: texts[f"{CURRENT}-{lang}"] for lang in LANGUAGES}
