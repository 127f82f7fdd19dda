"""`clinphoto inspect` reads every picture of the corpus or says it cannot (DEI-2).

Pillow's readers signal a broken file with ``SyntaxError`` as well as ``OSError``; one that
escaped stopped `clinphoto inspect` with a traceback (a broken APNG of Pillow's tests). Every
picture the corpus holds is read the way the command reads it (its frames and its
metadata): it is read, or the error is one the command reports as "cannot be read". A
picture whose later frame is broken is read up to that frame and marked so.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from tools.corpus import corpus_dirs, default_cache

from clinphoto.imaging.inspect import frames_to_inspect
from clinphoto.imaging.metadata import metadata_of_file

pytestmark = pytest.mark.corpus

_MAGIC = (b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*")


def _pictures() -> list[Path]:
    roots = corpus_dirs()
    if not roots:
        pytest.skip(
            f"image corpus not in {default_cache()}: run `python -m tools.corpus` (make corpus)"
        )
    found = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.stat().st_size > 30_000_000:
                continue
            with path.open("rb") as handle:
                head = handle.read(12)
            if head.startswith(_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
                found.append(path)
    return found


def test_dei2_every_corpus_picture_is_read_or_refused_cleanly() -> None:
    pictures = _pictures()
    assert len(pictures) > 500
    crashed: dict[str, str] = {}
    cut_short: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about the corpus's broken tags
        for path in pictures:
            for read in (frames_to_inspect, metadata_of_file):
                try:
                    result = read(path)
                except (OSError, ValueError):  # "cannot be read", as the command says
                    continue
                except Exception as exc:  # noqa: BLE001 - what this test looks for
                    crashed[f"{path.name} ({read.__name__})"] = f"{type(exc).__name__}: {exc}"
                    continue
                if read is frames_to_inspect and "unread" in result[0].info:
                    cut_short.append(path.name)
    assert not crashed, crashed
    # Pillow's own broken APNGs and MPOs: the first frame read, the rest marked unread.
    assert {"sequence_gap.png", "sugarshack_no_data.mpo"} <= set(cut_short), cut_short
