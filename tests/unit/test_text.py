"""Text that can be audited as it is (issue #7): NFC, nothing invisible, bounded; exact ids."""

from __future__ import annotations

import unicodedata

import pytest

from clinphoto.core import text
from clinphoto.core.errors import Invalid


def test_clean_normalises_to_nfc_and_strips_surrounding_space() -> None:
    decomposed = unicodedata.normalize("NFD", "  Émilie Côté ")
    assert decomposed != "Émilie Côté"
    assert text.clean(decomposed, "name", max_len=200) == "Émilie Côté"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Jean\x00Roy", "control characters"),
        ("Jean\x1bRoy", "control characters"),
        ("Jean\u0085Roy", "control characters"),  # C1 next line
        ("Jean\u2028Roy", "control characters"),  # line separator
        ("Jean\u200bRoy", "invisible formatting"),  # zero-width space
        ("Jean\u202eyoR", "invisible formatting"),  # right-to-left override
        ("Jean\ufeffRoy", "invisible formatting"),  # byte-order mark
        ("Jean\ud800Roy", "valid Unicode"),  # lone surrogate
    ],
)
def test_clean_refuses_what_cannot_be_audited_and_names_the_field(
    value: str, expected: str
) -> None:
    with pytest.raises(Invalid) as refused:
        text.clean(value, "name", max_len=200)
    assert refused.value.message.startswith("name: expected")
    assert expected in refused.value.message
    assert refused.value.field == "name"
    assert "Jean" not in refused.value.message


def test_clean_refuses_text_longer_than_its_bound() -> None:
    assert text.clean("x" * 40, "mrn", max_len=40) == "x" * 40
    with pytest.raises(Invalid, match="mrn: expected at most 40 characters"):
        text.clean("x" * 41, "mrn", max_len=40)


def test_clean_keeps_letters_of_every_script() -> None:
    for name in ("Nguyễn Thị Minh", "Ōkawa 大川", "Ἀλέξανδρος", "O'Brien-Smith", "Zoë\u00a0Roy"):
        assert text.clean(name, "name", max_len=200) == unicodedata.normalize("NFC", name)


@pytest.mark.parametrize(
    "value",
    ["a" * 31, "a" * 33, "A" * 32, "g" * 32, "a" * 32 + "\n", "\n" + "a" * 31, "a" * 31 + " "],
)
def test_check_id_matches_exactly_32_lowercase_hex_characters(value: str) -> None:
    with pytest.raises(Invalid, match="patient_id: expected 32 lowercase hexadecimal"):
        text.check_id(value, "patient_id")


def test_check_id_accepts_an_id() -> None:
    assert text.check_id("0123456789abcdef" * 2, "patient_id") == "0123456789abcdef" * 2
