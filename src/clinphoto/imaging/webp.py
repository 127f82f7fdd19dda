"""Lossless WebP metadata scrubbing by RIFF chunk rewrite.

The compressed image data is copied byte for byte, so the pixels are unchanged. Kept: the
VP8X header (with the EXIF and XMP flags cleared and the reserved bits zeroed), ICCP (when it
is a valid profile, its text blanked: :mod:`clinphoto.imaging.icc`), ANIM,
ANMF animation frames (themselves rewritten to keep only their ALPH, VP8 and VP8L sub-chunks),
ALPH, VP8 and VP8L. Dropped: EXIF (a minimal one holding only a non-1 Orientation is written
back, flag set, as for JPEG), XMP, unknown chunks and anything after the RIFF's declared end.
The RIFF size is recomputed.
"""

from __future__ import annotations

import struct

from clinphoto.imaging.errors import Reason, ScrubError
from clinphoto.imaging.exif import orientation_from_tiff, orientation_tiff
from clinphoto.imaging.icc import clean_icc
from clinphoto.imaging.limits import DEFAULT_LIMITS, Limits, check_animation, check_size

__all__ = ["scrub_webp", "webp_orientation"]

_FLAG_ICC = 0x20
_FLAG_ALPHA = 0x10
_FLAG_EXIF = 0x08
_FLAG_ANIMATION = 0x02
_IMAGE = frozenset((b"VP8 ", b"VP8L"))
_FRAME_PARTS = frozenset((b"ALPH", b"VP8 ", b"VP8L"))


def _fail(message: str, reason: Reason = "malformed") -> ScrubError:
    return ScrubError(f"WebP: {message}", reason=reason)


def _chunk(kind: bytes, payload: bytes | memoryview) -> bytes:
    pad = b"\x00" if len(payload) % 2 else b""
    return kind + struct.pack("<I", len(payload)) + bytes(payload) + pad


def _chunks(data: bytes | memoryview, start: int, stop: int) -> list[tuple[bytes, int, int]]:
    """(fourcc, payload start, payload end) of the chunks between ``start`` and ``stop``."""
    out: list[tuple[bytes, int, int]] = []
    pos = start
    while pos < stop:
        if pos + 8 > stop:
            raise _fail(f"chunk header at offset {pos} is cut off", "truncated")
        kind = bytes(data[pos : pos + 4])
        (size,) = struct.unpack_from("<I", data, pos + 4)
        end = pos + 8 + size
        if end > stop:
            raise _fail(f"chunk {kind!r} at offset {pos} runs past its container", "truncated")
        out.append((kind, pos + 8, end))
        pos = end + (size & 1)
    return out


def _bitstream_size(kind: bytes, payload: bytes | memoryview) -> tuple[int, int]:
    """Width and height from a VP8 or VP8L bitstream header."""
    if kind == b"VP8 ":
        if len(payload) < 10 or bytes(payload[3:6]) != b"\x9d\x01\x2a":
            raise _fail("VP8 bitstream header is malformed")
        width, height = struct.unpack_from("<HH", payload, 6)
        return width & 0x3FFF, height & 0x3FFF
    if len(payload) < 5 or payload[0] != 0x2F:
        raise _fail("VP8L bitstream header is malformed")
    (bits,) = struct.unpack_from("<I", payload, 1)
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1


def _riff(data: bytes, limits: Limits) -> list[tuple[bytes, int, int]]:
    if len(data) > limits.max_image_bytes:
        raise _fail(f"input is over the {limits.max_image_bytes}-byte limit", "too-large")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise _fail("the data does not start with a RIFF WEBP header", "unsupported-format")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    stop = 8 + riff_size
    if stop > len(data):
        raise _fail("the data ends before the RIFF size it declares", "truncated")
    chunks = _chunks(data, 12, stop)
    if not chunks:
        raise _fail("no chunks")
    return chunks


def webp_orientation(data: bytes, limits: Limits = DEFAULT_LIMITS) -> int:
    """The EXIF Orientation (1..8) of an extended WebP, 1 when it has none."""
    chunks = _riff(data, limits)
    if chunks[0][0] != b"VP8X":
        return 1
    for kind, start, end in chunks:
        if kind == b"EXIF":
            return orientation_from_tiff(data[start:end])
    return 1


def _frame(data: memoryview, start: int, end: int, canvas: tuple[int, int]) -> bytes:
    """An ANMF chunk rebuilt from its header and only its image sub-chunks."""
    if end - start < 16:
        raise _fail("ANMF frame header is cut off", "truncated")
    x, y, w, h = (int.from_bytes(data[start + i : start + i + 3], "little") for i in (0, 3, 6, 9))
    if 2 * x + w + 1 > canvas[0] or 2 * y + h + 1 > canvas[1]:
        raise _fail("an animation frame lies outside the canvas")
    parts = _chunks(data, start + 16, end)
    kept = [_chunk(kind, data[s:e]) for kind, s, e in parts if kind in _FRAME_PARTS]
    if not any(kind in _IMAGE for kind, _, _ in parts):
        raise _fail("an animation frame has no image data")
    return _chunk(b"ANMF", bytes(data[start : start + 16]) + b"".join(kept))


def scrub_webp(data: bytes, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Return ``data`` rewritten without metadata; see the module docstring."""
    chunks = _riff(data, limits)
    view = memoryview(data)
    first, start, end = chunks[0]
    if first in _IMAGE:  # simple format: the one bitstream chunk is the whole picture
        check_size(*_bitstream_size(first, view[start:end]), limits, "the WebP bitstream")
        body = _chunk(first, view[start:end])
        return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body
    if first != b"VP8X":
        raise _fail(f"unknown first chunk {first!r}", "unsupported-feature")
    if end - start < 10:
        raise _fail("VP8X chunk is too short")
    flags = data[start]
    canvas = (
        int.from_bytes(data[start + 4 : start + 7], "little") + 1,
        int.from_bytes(data[start + 7 : start + 10], "little") + 1,
    )
    check_size(*canvas, limits, "the WebP canvas")
    kept: list[bytes] = []
    orientation = 1
    frames = 0
    has_icc = False
    for kind, s, e in chunks[1:]:
        if kind == b"ANMF":
            frames += 1
            kept.append(_frame(view, s, e, canvas))
        elif kind in _IMAGE:
            check_size(*_bitstream_size(kind, view[s:e]), limits, "the WebP bitstream")
            kept.append(_chunk(kind, view[s:e]))
        elif kind in (b"ALPH", b"ANIM"):
            kept.append(_chunk(kind, view[s:e]))
        elif kind == b"ICCP" and not has_icc and (profile := clean_icc(data[s:e])) is not None:
            has_icc = True
            kept.append(_chunk(kind, profile))
        elif kind == b"EXIF" and orientation == 1:
            orientation = orientation_from_tiff(data[s:e])
        # XMP, further EXIF chunks and unknown chunks are dropped.
    if not frames and not any(kind in _IMAGE for kind, _, _ in chunks[1:]):
        raise _fail("no image data")
    if frames:
        check_animation(frames, frames * canvas[0] * canvas[1], limits, "animated WebP")
    new_flags = flags & (_FLAG_ALPHA | _FLAG_ANIMATION)
    if has_icc:
        new_flags |= _FLAG_ICC
    if orientation != 1:
        new_flags |= _FLAG_EXIF
        kept.append(_chunk(b"EXIF", orientation_tiff(orientation)))
    header = _chunk(b"VP8X", bytes((new_flags, 0, 0, 0)) + bytes(data[start + 4 : start + 10]))
    body = header + b"".join(kept)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body
