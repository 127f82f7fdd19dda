"""`clinphoto scrub` without Typer answers exactly as the Typer command does (DEI-1, TRN-3).

The installed ``clinphoto`` command is run in a subprocess for the common line (which
:mod:`clinphoto.cli.scrubtool` reads) and, on the same files, the Typer command of
:mod:`clinphoto.cli.deid` is run the way ``clinphoto.cli.entry`` ran it before. Records, lines,
output files and exit status must match; only the random output names differ.
"""

from __future__ import annotations

import ast
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, PngImagePlugin

CLINPHOTO = str(Path(sys.executable).with_name("clinphoto"))
TYPER = "import sys; from clinphoto.cli.deid import tools; tools(prog_name='clinphoto')"
NAME = "Marguerite Tremblay MRN 4417302"

pytestmark = pytest.mark.skipif(not Path(CLINPHOTO).exists(), reason="clinphoto not installed")


def _fast(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLINPHOTO, "scrub", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def _typer(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", TYPER, "scrub", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def _inputs(folder: Path) -> list[str]:
    """A JPEG with EXIF, a PNG with text, a truncated JPEG, a missing file and a folder."""
    folder.mkdir()
    photo = Image.new("RGB", (320, 240), (196, 152, 128))
    ImageDraw.Draw(photo).ellipse((100, 80, 220, 160), fill=(120, 40, 40))
    exif = Image.Exif()
    exif[0x010E] = NAME
    exif[0x0112] = 6
    photo.save(folder / "a.jpg", "JPEG", quality=90, exif=exif.tobytes())
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", NAME)
    photo.save(folder / "b.png", "PNG", pnginfo=info)
    (folder / "c.jpg").write_bytes((folder / "a.jpg").read_bytes()[:-100])
    (folder / "e").mkdir()
    return ["in/a.jpg", "in/b.png", "in/c.jpg", "in/d.jpg", "in/e"]


def _same_outputs(fast: dict[str, object], slow: dict[str, object], cwd: Path) -> None:
    """The two records agree but for the random name; the files they name are identical."""
    assert fast.keys() == slow.keys()
    assert {k: v for k, v in fast.items() if k != "out"} == {
        k: v for k, v in slow.items() if k != "out"
    }
    if fast["ok"]:
        mine, theirs = cwd / str(fast["out"]), cwd / str(slow["out"])
        assert mine != theirs
        assert mine.suffix == theirs.suffix
        assert re.fullmatch(r"[0-9a-f]{16}", mine.stem)
        assert mine.read_bytes() == theirs.read_bytes()
        assert NAME.encode() not in mine.read_bytes()


def test_dei1_fast_scrub_json_records_match_the_typer_command(tmp_path: Path) -> None:
    files = _inputs(tmp_path / "in")
    fast = _fast(*files, "--out", "fast", "--json", cwd=tmp_path)
    slow = _typer(*files, "--out", "slow", "--json", cwd=tmp_path)
    assert (fast.returncode, slow.returncode) == (2, 2), fast.stderr + slow.stderr
    mine = [json.loads(line) for line in fast.stdout.splitlines()]
    theirs = [json.loads(line) for line in slow.stdout.splitlines()]
    assert [r["file"] for r in mine] == files
    assert [r["ok"] for r in mine] == [True, True, False, False, False]
    for fast_record, slow_record in zip(mine, theirs, strict=True):
        _same_outputs(fast_record, slow_record, tmp_path)
    assert fast.stderr == slow.stderr == ""
    assert sorted(p.suffix for p in (tmp_path / "fast").iterdir()) == [".jpg", ".png"]


def test_dei1_fast_scrub_prints_the_typer_command_lines_unwrapped(tmp_path: Path) -> None:
    """The same words; but one line per file, where Rich wraps lines at 80 columns in a pipe."""
    files = _inputs(tmp_path / "in")
    fast = _fast("--out", "f", *files, cwd=tmp_path)
    slow = _typer("--out", "s", *files, cwd=tmp_path)
    assert fast.returncode == slow.returncode == 2

    def masked(text: str) -> list[str]:
        return re.sub(r"(f|s)/[0-9a-f]{16}\.", "OUT/NAME.", text).split()

    assert masked(fast.stdout) == masked(slow.stdout)
    assert masked(fast.stderr) == masked(slow.stderr)
    assert [line.split(" ")[0] for line in fast.stdout.splitlines()] == files[:2]
    assert [line.split(":")[0] for line in fast.stderr.splitlines()] == files[2:]
    assert "in/c.jpg: refused (truncated): truncated JPEG: scan data runs" in fast.stderr


def test_dei1_fast_scrub_exits_0_when_every_file_is_scrubbed(tmp_path: Path) -> None:
    files = _inputs(tmp_path / "in")[:2]
    done = _fast(*files, "--out", "clean", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "clean").iterdir())) == 2


def test_fast_scrub_starts_without_typer_rich_or_pillow(tmp_path: Path) -> None:
    _inputs(tmp_path / "in")
    probe = (
        "import sys\n"
        "sys.argv = ['clinphoto', 'scrub', 'in/a.jpg', 'in/b.png', '--out', 'o']\n"
        "from clinphoto.cli.entry import main\n"
        "main()\n"
        "heavy = ('typer', 'click', 'rich', 'PIL', 'numpy', 'pydantic', 'sqlalchemy', 'json')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("[]"), run.stdout + run.stderr


def test_fast_scrub_of_jpegs_loads_only_the_jpeg_scrubber(tmp_path: Path) -> None:
    """Scripts call `clinphoto scrub` once per photo: a folder of JPEGs loads neither pathlib,
    typing nor dataclasses (with inspect, ast and tokenize), nor the PNG, WebP and GIF
    rewrites; modules the bare interpreter loads here anyway do not count (decision 009)."""
    _inputs(tmp_path / "in")
    show = "import sys, json\nprint(json.dumps(sorted(sys.modules)))\n"
    probe = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "sys.argv = ['clinphoto', 'scrub', 'in/a.jpg', '--out', 'o']\n"
        "from clinphoto.cli.entry import main\n"
        "main()\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    bare = subprocess.run(
        [sys.executable, "-c", show], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert run.returncode == 0, run.stderr
    loaded = set(ast.literal_eval(run.stdout.strip().splitlines()[-1]))
    assert "clinphoto.imaging.jpeg" in loaded  # the probe did scrub
    unwanted = {
        "pathlib",
        "typing",
        "dataclasses",
        "inspect",
        "ast",
        "tokenize",
        "re",
        "clinphoto.imaging.png",
        "clinphoto.imaging.webp",
        "clinphoto.imaging.gif",
    } - set(json.loads(bare.stdout))
    assert sorted(loaded & unwanted) == []


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (["--help"], 0, "Example: clinphoto scrub"),
        (["in/a.jpg"], 2, "Missing option '--out'"),
        (["in/a.jpg", "--out", "o", "--bogus"], 2, "No such option"),
        (["--out", "o"], 2, "Missing argument"),
    ],
)
def test_help_and_mistakes_still_get_the_typer_answers(
    tmp_path: Path, args: list[str], status: int, says: str
) -> None:
    _inputs(tmp_path / "in")
    done = _fast(*args, cwd=tmp_path)
    assert done.returncode == status
    assert says in done.stdout + done.stderr
    assert not (tmp_path / "o").exists()


def test_fast_scrub_shows_progress_on_a_terminal_and_erases_it(tmp_path: Path) -> None:
    """As the Rich bar did: on a terminal's stderr, for two files or more, gone at the end."""
    files = _inputs(tmp_path / "in")[:2]
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [CLINPHOTO, "scrub", *files, "--out", "o"],
            stdout=subprocess.PIPE,
            stderr=follower,
            cwd=tmp_path,
            timeout=120,
        )
        os.close(follower)
        shown = b""
        while chunk := _read_pty(leader):
            shown += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0
    assert b"scrubbing 2/2" in shown
    assert shown.endswith(b"\r\x1b[K")
    assert done.stdout.count(b"\n") == 2


def _read_pty(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO once the terminal's other end is closed
        return b""
