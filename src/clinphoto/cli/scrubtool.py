"""`clinphoto scrub FILES... --out DIR [--json]` without Typer and Rich (DEI-1, TRN-3).

Scripts run ``clinphoto scrub`` on every photo of a folder, often one call per file, so its
start-up is paid again and again. Typer, Click and Rich take about 0.25 s to import, more
than scrubbing a hundred photos; this module reads the common command line by hand and
imports only the scrubber. It does exactly what ``clinphoto.cli.deid.scrub`` does: the same
output files, the same lines on stdout and stderr, the same JSON records and the same exit
status (0, or 2 when any file was refused). Anything else - ``--help``, an unknown or
repeated option, ``--``, no input, shell completion - is left to the Typer command (``run``
answers None), which explains or refuses it as before.

Lines are printed as they are: unlike Rich, no markup is read in a file name (``[red]``
stays in it) and a long line is not wrapped at 80 columns when the output is piped.
"""

from __future__ import annotations

import os
import sys
import time

from clinphoto.imaging.errors import ScrubError
from clinphoto.imaging.scrub import scrub_file

# Neither typing nor pathlib is imported at run time: with the scrubber's own modules kept
# as lean, a start costs about 15 ms less, which matters when scripts call this once per
# photo (decision 009).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

    StrPath = str | os.PathLike[str]


def as_path(word: str) -> str:
    """``word`` as ``str(pathlib.Path(word))`` writes it on POSIX, as Click hands it over:
    empty and ``.`` components dropped, a trailing slash removed, ``..`` kept, two leading
    slashes kept but three or more made one. Tests hold it to pathlib."""
    if os.name != "posix":  # pragma: no cover - clinphoto's servers and CLI run on POSIX
        from pathlib import Path

        return str(Path(word))
    root = "/" if word.startswith("/") else ""
    if word.startswith("//") and not word.startswith("///"):
        root = "//"
    parts = [part for part in word.split("/") if part and part != "."]
    return root + "/".join(parts) if (root or parts) else "."


def _join(folder: str, name: str) -> str:
    """``str(Path(folder) / name)`` for a folder already written as :func:`as_path` writes it."""
    if folder == ".":
        return name
    return folder + name if folder.endswith("/") else f"{folder}/{name}"


def parse(args: list[str]) -> tuple[list[str], str, bool] | None:
    """(inputs, out_dir, as_json) from the words after ``scrub``, or None to let Typer decide.

    Accepted: file names, ``--out DIR`` or ``--out=DIR`` once, and ``--json``, in any order
    (Click allows options between arguments). A word starting with ``-`` other than these
    (``--help``, ``--``, ``-x``...) hands the whole line to Typer; so does a missing
    ``--out``, an empty or dash-led directory, or no input file.
    """
    inputs: list[str] = []
    out: str | None = None
    as_json = False
    words = iter(args)
    for word in words:
        if word == "--json":
            as_json = True
        elif word == "--out" or word.startswith("--out="):
            value = next(words, None) if word == "--out" else word[len("--out=") :]
            if out is not None or not value or value.startswith("-"):
                return None
            out = value
        elif word.startswith("-") and word != "-":
            return None
        else:
            inputs.append(as_path(word))
    if out is None or not inputs:
        return None
    return inputs, as_path(out), as_json


class _Progress:
    """``scrubbing 3/100`` on a terminal's stderr, for two files or more; erased at the end."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.shown = total >= 2 and stream.isatty()
        self.last = 0.0

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def advance(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.shown and (now - self.last >= 0.1 or self.done == self.total):
            self.last = now
            self.stream.write(f"\r\x1b[Kscrubbing {self.done}/{self.total}")
            self.stream.flush()


def scrub_one(src: StrPath, out_dir: StrPath) -> dict[str, Any]:
    """Scrub ``src`` into ``out_dir`` under a random name; the record ``--json`` prints.

    Paths are written as pathlib writes them (the Typer command passes ``Path`` objects,
    the fast path strings from :func:`as_path`)."""
    record: dict[str, Any] = {"file": as_path(os.fspath(src))}
    try:
        # a file name can identify a patient (TRN-3)
        dst = _join(as_path(os.fspath(out_dir)), os.urandom(8).hex())
        result = scrub_file(src, dst)
        final = dst + result.extension
        os.replace(dst, final)
        record |= {
            "ok": True,
            "out": final,
            "format": result.source_kind,
            "output_format": result.kind,
            "converted": result.converted,
            "note": result.note,
        }
    except ScrubError as exc:
        record |= {"ok": False, "reason": exc.reason, "message": str(exc)}
    except OSError as exc:
        record |= {"ok": False, "reason": "unreadable", "message": exc.strerror or ""}
    return record


def scrub(inputs: list[str], out_dir: str, as_json: bool) -> int:
    """Scrub every input into ``out_dir``; print a line (or a JSON record) for each.

    Returns the exit status: 0 when every input was scrubbed, 2 when any was refused.
    """
    if as_json:
        import json  # only when asked for: a few milliseconds of every start otherwise
    os.makedirs(out_dir, exist_ok=True)
    refused = 0
    bar = _Progress(len(inputs), sys.stderr)
    for src in inputs:
        record = scrub_one(src, out_dir)
        bar.clear()
        if as_json:
            print(json.dumps(record), flush=True)
        elif record["ok"]:
            print(f"{src} -> {record['out']} ({record['note']})", flush=True)
        else:
            refused_line = f"{src}: refused ({record['reason']}): {record['message']}"
            print(refused_line, file=sys.stderr, flush=True)
        refused += not record["ok"]
        bar.advance()
    bar.clear()
    return 2 if refused else 0


def run(args: list[str]) -> int | None:
    """Run ``clinphoto scrub`` with the words after ``scrub``; None if Typer should instead."""
    if any(name.endswith("_COMPLETE") for name in os.environ):  # shell completion: Click's
        return None
    parsed = parse(args)
    if parsed is None:
        return None
    try:
        return scrub(*parsed)
    except KeyboardInterrupt:
        print("\nAborted!", file=sys.stderr)  # as Click says it
        return 1
    except BrokenPipeError:  # `clinphoto scrub ... | head`: stop quietly, as Click does
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - replaces stdout until exit
        return 1
