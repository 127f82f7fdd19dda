"""The only EXIF we ever write: a TIFF block whose IFD0 holds the Orientation tag alone.

Lossless rewrites (JPEG, PNG, WebP) keep the input's pixels exactly, so the picture still
displays upright only if the orientation travels with it. One SHORT between 1 and 8 says how
to rotate or mirror for display and carries nothing about a person, a device or a time.
"""

from __future__ import annotations

import struct

__all__ = ["EXIF_HEADER", "orientation_from_tiff", "orientation_tiff"]

EXIF_HEADER = b"Exif\x00\x00"

_TAG_ORIENTATION = 0x0112
_TIFF_SHORT = 3
_TIFF_LONG = 4


def orientation_from_tiff(tiff: bytes) -> int:
    """Orientation (1..8) from a TIFF/EXIF block in either byte order; 1 if absent or invalid.

    An ``Exif\\0\\0`` prefix (as JPEG APP1 and some WebP/PNG writers put it) is skipped.
    """
    if tiff.startswith(EXIF_HEADER):
        tiff = tiff[len(EXIF_HEADER) :]
    if len(tiff) < 8:
        return 1
    order = tiff[:2]
    if order == b"II":
        endian = "<"
    elif order == b"MM":
        endian = ">"
    else:
        return 1
    magic, ifd0 = struct.unpack_from(endian + "HI", tiff, 2)
    if magic != 42 or ifd0 + 2 > len(tiff):
        return 1
    (count,) = struct.unpack_from(endian + "H", tiff, ifd0)
    for index in range(count):
        entry = ifd0 + 2 + 12 * index
        if entry + 12 > len(tiff):
            return 1
        tag, kind, number = struct.unpack_from(endian + "HHI", tiff, entry)
        if tag != _TAG_ORIENTATION:
            continue
        if number < 1:
            return 1
        if kind == _TIFF_SHORT:
            (value,) = struct.unpack_from(endian + "H", tiff, entry + 8)
        elif kind == _TIFF_LONG:
            (value,) = struct.unpack_from(endian + "I", tiff, entry + 8)
        else:
            return 1
        return int(value) if 1 <= value <= 8 else 1
    return 1


def orientation_tiff(orientation: int) -> bytes:
    """A minimal big-endian TIFF block whose IFD0 holds only ``orientation`` (1..8)."""
    if not 1 <= orientation <= 8:
        raise ValueError(f"EXIF orientation is 1..8, not {orientation}")
    return (
        b"MM\x00\x2a\x00\x00\x00\x08"
        + struct.pack(">H", 1)
        + struct.pack(">HHIHH", _TAG_ORIENTATION, _TIFF_SHORT, 1, orientation, 0)
        + struct.pack(">I", 0)
    )
