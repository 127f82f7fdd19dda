"""One corpus worker: scrub the files named on stdin, one JSON line of findings per file.

Run by ``test_corpus.py`` as ``python -m tests.corpus.worker OUT_DIR`` so that a file that
hangs or kills its process costs one worker, never the test session. Each stdin line is
``INDEX<TAB>PATH``; each stdout line answers it. Besides the scrub itself it checks what
exiftool cannot: that lossless rewrites decode to exactly the input's pixels (every frame),
that conversions decode at the expected size, and that JPEG keeps its orientation.
"""

from __future__ import annotations

import io
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, ImageSequence

from clinphoto.imaging.errors import ScrubError
from clinphoto.imaging.limits import DEFAULT_LIMITS
from clinphoto.imaging.scrub import Scrubbed, scrub_file
from clinphoto.imaging.sniff import HEAD_BYTES, sniff

_MAX_FRAMES = 200


def _frames(data: bytes, count: int = _MAX_FRAMES) -> list[tuple[str, tuple[int, int], bytes]]:
    with Image.open(io.BytesIO(data)) as image:
        return [
            (frame.mode, frame.size, frame.tobytes())
            for frame, _ in zip(ImageSequence.Iterator(image), range(count), strict=False)
        ]


def _orientation(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as image:
        value = image.getexif().get(0x0112, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _decode_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:100]}"


def _lossless(src: bytes, out: bytes, kind: str) -> str:
    # A JPEG keeps its primary picture only: an MPO's further pictures are dropped on purpose.
    count = 1 if kind == "jpeg" else _MAX_FRAMES
    try:
        before = _frames(src, count)
    except Exception as exc:  # noqa: BLE001 - the input is hostile; note how Pillow sees it
        try:
            _frames(out)
        except Exception:  # noqa: BLE001
            return "both-undecodable"
        return f"input-undecodable ({_decode_error(exc)})"
    try:
        after = _frames(out)
    except Exception as exc:  # noqa: BLE001
        return f"output-undecodable ({_decode_error(exc)})"
    if kind == "jpeg" and len(after) != 1:
        return "second-picture-left"
    if before != after:
        return "different"
    if kind == "jpeg" and _orientation(src) != _orientation(out):
        return "orientation-lost"
    return "identical"


def _converted(src: bytes, out: bytes, result: Scrubbed) -> str:
    try:
        with Image.open(io.BytesIO(out)) as image:
            image.load()
            size, decoded = image.size, image.copy()
    except Exception as exc:  # noqa: BLE001
        return f"output-undecodable ({_decode_error(exc)})"
    if result.source_kind != "tiff":
        return "decodes"
    with Image.open(io.BytesIO(src)) as original:
        upright = ImageOps.exif_transpose(original)
    if upright.size != size:
        return "size-differs"
    if decoded.mode == "I;16":
        same = np.array_equal(np.asarray(upright.convert("I")), np.asarray(decoded.convert("I")))
    else:
        same = upright.convert(decoded.mode).tobytes() == decoded.tobytes()
    return "identical" if same else "different"


def _sniffed(src: Path) -> str:
    with src.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    try:
        return sniff(head).value
    except ScrubError:
        return "other"


def check(index: int, src: Path, out_dir: Path) -> dict[str, Any]:
    dst = out_dir / f"{index:05d}.tmp"
    started = time.perf_counter()
    try:
        result = scrub_file(src, dst, DEFAULT_LIMITS)
    except ScrubError as exc:
        seconds = time.perf_counter() - started
        return {
            "status": "rejected",
            "reason": exc.reason,
            "message": str(exc),
            "source_kind": _sniffed(src),
            "s": seconds,
        }
    except Exception as exc:  # noqa: BLE001 - anything but ScrubError is a scrubber bug
        return {"status": "crashed", "error": repr(exc), "s": time.perf_counter() - started}
    seconds = time.perf_counter() - started
    final = dst.with_suffix(result.extension)
    dst.rename(final)
    src_bytes, out_bytes = src.read_bytes(), final.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if result.converted:
                pixels = _converted(src_bytes, out_bytes, result)
            else:
                pixels = _lossless(src_bytes, out_bytes, result.kind)
        except Exception as exc:  # noqa: BLE001 - a check that fails is reported, not fatal
            pixels = f"check-failed ({_decode_error(exc)})"
    return {
        "status": "accepted",
        "source_kind": result.source_kind,
        "kind": result.kind,
        "output": str(final),
        "pixels": pixels,
        "s": seconds,
    }


def main() -> None:
    out_dir = Path(sys.argv[1])
    Image.MAX_IMAGE_PIXELS = None  # the checks decode what the scrubber accepted, no more
    for line in sys.stdin:
        index, _, path = line.rstrip("\n").partition("\t")
        answer = check(int(index), Path(path), out_dir)
        sys.stdout.write(json.dumps({"index": int(index), **answer}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
