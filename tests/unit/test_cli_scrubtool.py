"""How `clinphoto scrub` reads its command line without Typer (DEI-1, TRN-3).

:func:`clinphoto.cli.scrubtool.parse` takes the common line and hands everything else to the
Typer command, which explains or refuses it; these tests pin which is which.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinphoto.cli.scrubtool import _join, as_path, parse


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["a.jpg", "--out", "clean"], (["a.jpg"], "clean", False)),
        (["--out", "clean", "a.jpg", "b.png"], (["a.jpg", "b.png"], "clean", False)),
        (["a.jpg", "--json", "--out=clean", "b.png"], (["a.jpg", "b.png"], "clean", True)),
        (["--json", "--json", "-", "--out", "c"], (["-"], "c", True)),  # "-" is a file name
        (["./x/../a.jpg", "--out", "./clean/"], (["x/../a.jpg"], "clean", False)),
    ],
)
def test_the_common_line_is_read_like_click_reads_it(
    args: list[str], expected: tuple[list[str], str, bool]
) -> None:
    files, out, as_json = expected
    assert parse(args) == ([str(Path(f)) for f in files], str(Path(out)), as_json)


@settings(max_examples=500)
@given(
    st.lists(st.sampled_from(["", "/", "//", "///", ".", "..", "a", "b.jpg", " ", "-"])).map(
        "".join
    )
)
def test_paths_are_written_as_pathlib_writes_them(word: str) -> None:
    """Without importing pathlib (decision 009) the fast path names files as Click's Path
    objects name them, so its lines and records are the Typer command's."""
    if not word:
        return  # Path("") is "."; the command line never gives an empty word to as_path
    assert as_path(word) == str(Path(word))
    assert _join(as_path(word), "f0.jpg") == str(Path(word) / "f0.jpg")


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["a.jpg"],  # no --out: Typer says it is missing
        ["--out", "clean"],  # no input
        ["a.jpg", "--out"],  # --out without its value
        ["a.jpg", "--out", "clean", "--out", "other"],  # given twice
        ["a.jpg", "--out="],
        ["a.jpg", "--out", "--json"],  # Click would take "--json" as the folder's name
        ["--help"],
        ["a.jpg", "--out", "clean", "--help"],
        ["a.jpg", "-h", "--out", "clean"],
        ["--", "-a.jpg", "--out", "clean"],
        ["a.jpg", "--outdir", "clean"],
        ["a.jpg", "--out", "clean", "--json=1"],
    ],
)
def test_anything_else_is_left_to_typer(args: list[str]) -> None:
    assert parse(args) is None
