"""Animated pictures (GIF, APNG, WebP) are inspected frame by frame (DEI-2, CON-4).

Every frame of an animated picture travels with it when it is shared or exported (the
scrubber keeps them all), so a face in any frame makes it identifiable. Until 2026-12-01
only the first frame was looked at: a GIF whose second frame showed the astronaut was judged
"not identifiable", by `clinphoto inspect` and by the custodian alike.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from clinphoto.imaging.inspect import (
    MAX_PICTURE_FRAMES,
    animation_frames,
    inspect_content,
)


def _astronaut() -> Image.Image:
    data = pytest.importorskip("skimage.data", reason="scikit-image provides the face photo")
    return Image.fromarray(np.asarray(data.astronaut()))  # NASA portrait, public domain


def _animation(frames: list[Image.Image], fmt: str) -> bytes:
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], duration=200, loop=0)
    return buffer.getvalue()


def _plain(n: int, size: int = 96) -> list[Image.Image]:
    return [Image.new("RGB", (size, size), (200 - 3 * i, 180, 170)) for i in range(n)]


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP", "TIFF", "MPO"])
def test_dei2_a_face_in_a_later_frame_makes_the_picture_identifiable(fmt: str) -> None:
    face = _astronaut()
    data = _animation([Image.new("RGB", face.size, (200, 180, 170)), face], fmt)
    with Image.open(io.BytesIO(data)) as opened:
        assert getattr(opened, "n_frames", 1) == 2  # a real two-frame animation
    verdict = inspect_content(data, None)
    assert verdict.identifiable
    assert any(r.startswith("frame 2: face detected") for r in verdict.reasons), verdict.reasons
    assert not any(r.startswith("frame 1:") for r in verdict.reasons)


def test_dei2_the_cli_says_which_frame_shows_the_face(tmp_path: Path) -> None:
    face = _astronaut()
    path = tmp_path / "ward.gif"
    path.write_bytes(_animation([Image.new("RGB", face.size, (200, 180, 170)), face], "GIF"))
    done = subprocess.run(
        [sys.executable, "-m", "clinphoto", "inspect", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # 1: identifiable
    assert "frame 2: face detected" in done.stdout


def test_dei2_a_short_animation_without_faces_is_not_identifiable() -> None:
    verdict = inspect_content(_animation(_plain(MAX_PICTURE_FRAMES), "GIF"), None)
    assert not verdict.identifiable, verdict.reasons


def test_dei2_a_long_animation_is_never_judged_on_a_sample() -> None:
    """More frames than are inspected: the frames between were not seen, so the picture
    cannot be passed as not identifiable, even with no face in any frame looked at."""
    total = MAX_PICTURE_FRAMES + 5
    verdict = inspect_content(_animation(_plain(total), "GIF"), None)
    assert verdict.identifiable
    assert verdict.reasons == [
        f"animated picture of {total} frames: {MAX_PICTURE_FRAMES} of them inspected, spread"
        " over it; the others were not seen, so it cannot be judged not identifiable"
    ]


def test_the_sampled_frames_run_from_the_first_to_the_last_and_are_composited() -> None:
    total = 40
    frames = _plain(total, size=32)
    frames[-1] = Image.new("RGB", (32, 32), (0, 0, 255))
    with Image.open(io.BytesIO(_animation(frames, "GIF"))) as opened:
        picked = animation_frames(opened)
    numbers = [f.info["frame"] for f in picked]
    assert len(numbers) == MAX_PICTURE_FRAMES
    assert numbers[0] == 0
    assert numbers[-1] == total - 1
    assert numbers == sorted(set(numbers))
    assert all(f.info["frames"] == total for f in picked)
    assert picked[-1].convert("RGB").getpixel((5, 5)) == (0, 0, 255)  # the frame as shown


def test_an_animation_beyond_the_frame_limit_is_refused_from_its_headers() -> None:
    from clinphoto.imaging.errors import ScrubError
    from clinphoto.imaging.limits import DEFAULT_LIMITS

    data = _animation(_plain(12, size=8), "GIF")
    with (
        Image.open(io.BytesIO(data)) as opened,
        pytest.raises(ScrubError, match="more than 10 frames"),
    ):
        animation_frames(opened, DEFAULT_LIMITS.replace(max_frames=10))


def _apng_with_a_broken_second_frame() -> bytes:
    """A two-frame APNG whose second frame control chunk is out of sequence (its CRC right):
    Pillow reads the first frame and refuses the second."""
    import struct
    import zlib

    data = _animation(_plain(2, size=32), "PNG")
    second = data.find(b"fcTL", data.find(b"fcTL") + 4) - 4
    (length,) = struct.unpack_from(">I", data, second)
    body = (
        data[second + 4 : second + 8]
        + struct.pack(">I", 7)
        + data[second + 12 : second + 8 + length]
    )
    chunk = struct.pack(">I", length) + body + struct.pack(">I", zlib.crc32(body))
    return data[:second] + chunk + data[second + 12 + length :]


def _mpo_without_its_second_picture() -> bytes:
    data = _animation([Image.new("RGB", (64, 48), (200, 10, 10)), *_plain(1, 64)], "MPO")
    return data[: data.rfind(b"\xff\xd8\xff") + 20]


@pytest.mark.parametrize(
    "make", [_apng_with_a_broken_second_frame, _mpo_without_its_second_picture]
)
def test_dei2_a_picture_whose_later_frame_cannot_be_read_is_not_passed(
    make: Callable[[], bytes],
) -> None:
    """The first frame is inspected; the one that cannot be read was not seen, so the
    picture is not judged "not identifiable" (before, such a file was judged on its first
    frame alone, or, for some, `clinphoto inspect` stopped with a traceback)."""
    data = make()
    frames = animation_frames(Image.open(io.BytesIO(data)))
    assert len(frames) == 1
    verdict = inspect_content(data, None)
    assert verdict.identifiable
    assert any("frame 2 cannot be read" in reason for reason in verdict.reasons), verdict.reasons
