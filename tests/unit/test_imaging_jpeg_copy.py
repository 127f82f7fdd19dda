"""`scrub_file`'s copy path writes what the in-memory scrub writes, and checks what it publishes
(DEI-1, issue 8).

A JPEG over 256 KiB whose first scan header lies in its first 256 KiB has its headers rebuilt
in memory and its scan data copied by the kernel into the temporary file, then scanned there
(imaging.scrub._scrub_jpeg_by_copy). Every file here goes through ``scrub_file`` and
through ``scrub_jpeg`` on the same bytes; the two must give the same output, or the same
refusal. Files the copy path cannot finish alone (a second scan, a segment in the scan
data, no EOI...) must go back to the in-memory path, leaving nothing behind. Every JPEG is
made here with Pillow.
"""

from __future__ import annotations

import errno
import io
import os
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from clinphoto.imaging import scrub as scrub_module
from clinphoto.imaging.jpeg import ScrubError, scrub_jpeg
from clinphoto.imaging.scrub import scrub_file

SECRET = b"Jane Doe MRN 1234567"


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def _photo(mode: str = "RGB", **params: Any) -> bytes:
    """A 600 KB-or-so JPEG of noise with EXIF holding a name: over the copy path's 256 KiB."""
    image = Image.effect_noise((900, 700), 90).convert(mode)
    exif = Image.Exif()
    exif[0x010E] = SECRET.decode()
    exif[0x0112] = 6
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=95, exif=exif.tobytes(), **params)
    data = buf.getvalue()
    assert len(data) > 300 * 1024
    assert SECRET in data
    return data


BASELINE = _photo()
SOS = BASELINE.index(b"\xff\xda")
SCAN = SOS + 2 + struct.unpack(">H", BASELINE[SOS + 2 : SOS + 4])[0]  # first scan data byte
EOI = len(BASELINE) - 2
assert BASELINE[EOI:] == b"\xff\xd9"


def _scrub_both(data: bytes, tmp_path: Path) -> tuple[object, object, list[bool]]:
    """(scrub_jpeg's output or refusal, scrub_file's, what the copy path answered)."""
    answers: list[bool] = []
    real = scrub_module._scrub_jpeg_by_copy

    def spy(*args: Any) -> bool:
        answers.append(real(*args))
        return answers[-1]

    src, dst = tmp_path / "in.jpg", tmp_path / "out.jpg"
    src.write_bytes(data)
    try:
        want: object = scrub_jpeg(data)
    except ScrubError as exc:
        want = (exc.reason, str(exc))
    scrub_module._scrub_jpeg_by_copy = spy
    try:
        scrub_file(src, dst)
        got: object = dst.read_bytes()
    except ScrubError as exc:
        got = (exc.reason, str(exc))
    finally:
        scrub_module._scrub_jpeg_by_copy = real
        dst.unlink(missing_ok=True)
    assert [p.name for p in tmp_path.iterdir()] == ["in.jpg"]  # no temporary file left
    return want, got, answers


TAKEN = {
    "baseline": BASELINE,
    "grey": _photo("L"),
    "cmyk (Adobe APP14)": _photo("CMYK"),
    "4:4:4 with an ICC profile": _photo(subsampling=0, icc_profile=b"not a profile" * 100),
    "fill bytes before EOI": BASELINE[:EOI] + b"\xff" * 7 + BASELINE[EOI:],
    "data after EOI": BASELINE + _segment(0xE1, b"Exif\x00\x00" + SECRET) * 40,
    "a second picture after EOI": BASELINE + BASELINE,
    "200 KB of APPn before the frame": BASELINE[:2]
    + _segment(0xED, SECRET * 3000)
    + _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + SECRET * 3000)
    + _segment(0xE2, SECRET * 3000)
    + BASELINE[2:],
    "an early EOI, then text (cut there)": BASELINE[: SCAN + 7]
    + b"\xff\xd9"
    + SECRET
    + BASELINE[SCAN + 7 :],
    "comment between the tables": BASELINE[:SOS] + _segment(0xFE, SECRET) + BASELINE[SOS:],
}


@pytest.mark.parametrize("name", sorted(TAKEN))
def test_dei1_copy_path_writes_what_scrub_jpeg_returns(name: str, tmp_path: Path) -> None:
    want, got, answers = _scrub_both(TAKEN[name], tmp_path)
    assert answers == [True]  # the copy path finished it
    assert isinstance(got, bytes)
    assert got == want
    assert SECRET not in got


LEFT = {
    "progressive (several scans)": _photo(progressive=True),
    "comment in the scan data": BASELINE[: SCAN + 5000]
    + _segment(0xFE, SECRET)
    + BASELINE[SCAN + 5000 :],
    "EXIF in the scan data": BASELINE[: SCAN + 90000]
    + _segment(0xE1, b"Exif\x00\x00" + SECRET)
    + BASELINE[SCAN + 90000 :],
    "a second SOI in the scan": BASELINE[: SCAN + 7] + b"\xff\xd8" + BASELINE[SCAN + 7 :],
    "a table after the scan": BASELINE[:EOI]
    + _segment(0xC4, b"\x00" + bytes([1] + [0] * 15) + b"\x05")
    + BASELINE[EOI:],
    "no EOI": BASELINE[:EOI],
    "ends in a lone 0xFF": BASELINE[:EOI] + b"\xff",
    "first scan beyond 256 KiB": BASELINE[:2] + _segment(0xE1, b"x" * 65000) * 5 + BASELINE[2:],
}


@pytest.mark.parametrize("name", sorted(LEFT))
def test_dei1_copy_path_leaves_other_files_to_the_in_memory_path(name: str, tmp_path: Path) -> None:
    want, got, answers = _scrub_both(LEFT[name], tmp_path)
    assert answers == [False]
    assert got == want
    if isinstance(got, bytes):
        assert SECRET not in got


def test_dei1_a_refused_header_is_refused_with_the_same_reason(tmp_path: Path) -> None:
    """A frame header longer than its components (room for a name): the copy path gives the
    file back, and the in-memory path refuses it as before."""
    at = BASELINE.index(b"\xff\xc0")
    length = struct.unpack(">H", BASELINE[at + 2 : at + 4])[0]
    body = BASELINE[at + 4 : at + 2 + length] + SECRET
    data = BASELINE[:at] + _segment(0xC0, body) + BASELINE[at + 2 + length :]
    want, got, answers = _scrub_both(data, tmp_path)
    assert answers == [False]
    assert isinstance(got, tuple)
    assert got == want
    assert got[0] == "malformed"


def test_dei1_the_copy_is_checked_not_the_input_read_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The input changes between the header read and the copy: a comment appears inside its
    scan data. The copy path scans what it copied, finds it, and leaves the file to the
    in-memory path, which reads the changed file whole and drops it."""
    src = tmp_path / "in.jpg"
    comment = _segment(0xFE, SECRET)  # written over scan data: the length stays the same
    changed = BASELINE[: SCAN + 5000] + comment + BASELINE[SCAN + 5000 + len(comment) :]
    real = os.copy_file_range
    calls: list[int] = []

    def change_then_copy(*args: Any) -> int:
        if not calls:
            src.write_bytes(changed)
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(scrub_module.os, "copy_file_range", change_then_copy)
    want, got, answers = _scrub_both(BASELINE, tmp_path)
    assert calls
    assert answers == [False]
    assert want == scrub_jpeg(BASELINE)
    with pytest.raises(ScrubError) as refused:  # this one: the comment broke the scan
        scrub_jpeg(changed)
    assert got == (refused.value.reason, str(refused.value))


@pytest.mark.parametrize("code", [errno.EXDEV, errno.ENOSYS, errno.EINVAL])
def test_dei1_without_copy_file_range_the_in_memory_path_scrubs(
    code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unsupported(*args: Any) -> int:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(scrub_module.os, "copy_file_range", unsupported)
    want, got, answers = _scrub_both(BASELINE, tmp_path)
    assert answers == [False]
    assert got == want


def test_dei1_another_io_error_is_not_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(scrub_module.os, "copy_file_range", disk_full)
    src = tmp_path / "in.jpg"
    src.write_bytes(BASELINE)
    with pytest.raises(OSError, match="No space"):
        scrub_file(src, tmp_path / "out.jpg")
    assert [p.name for p in tmp_path.iterdir()] == ["in.jpg"]


_INJECTED = st.one_of(
    st.sampled_from(
        [
            _segment(0xFE, SECRET),
            _segment(0xE1, b"Exif\x00\x00" + SECRET),
            b"\xff\xd9" + SECRET,
            b"\xff\xd0\xff\xfe\x00\x16" + SECRET,
            b"\xff\xff\xff" + _segment(0xED, SECRET),
            b"\xff\x00" + SECRET,
            b"\xff",
        ]
    ),
    st.binary(min_size=1, max_size=24).map(lambda b: b"\xff" + b + SECRET),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(where=st.integers(SCAN, EOI + 2), injected=_INJECTED)
def test_dei1_copy_path_agrees_with_scrub_jpeg_on_injected_bytes(
    where: int, injected: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data = BASELINE[:where] + injected + BASELINE[where:]
    want, got, _ = _scrub_both(data, tmp_path_factory.mktemp("inj"))
    assert got == want  # (what scrub_jpeg makes of scan data: tests/unit/test_imaging_jpeg_scan)
