"""Structural check of ICC colour profiles, the one embedded block we keep from the input.

A profile is kept only when it looks like what decoders would use: its declared size is its
real size, it carries the ``acsp`` signature, its tag table points inside the profile, and
every byte that is not zero belongs to the header, the tag table or a tag. Anything else is
dropped (decoders ignore a broken profile anyway), so the profile cannot be a container for
arbitrary bytes that no colour engine reads (zero bytes pad tags to 4-byte boundaries, and
some encoders pad a whole profile with them). What a valid profile's tags say (description,
copyright, its own creation date) names a colour space, not a person; the metadata report
lists a text tag that reads like an identifier (:mod:`clinphoto.imaging.metadata`).
"""

from __future__ import annotations

import struct

__all__ = ["MAX_ICC_BYTES", "tag_table", "valid_icc"]

MAX_ICC_BYTES = 16 * 1024 * 1024
_HEADER = 128


def valid_icc(profile: bytes) -> bool:
    """Whether ``profile`` is a structurally sound ICC profile (see the module docstring)."""
    if not _HEADER + 4 <= len(profile) <= MAX_ICC_BYTES:
        return False
    (size,) = struct.unpack_from(">I", profile, 0)
    if size != len(profile) or profile[36:40] != b"acsp":
        return False
    (count,) = struct.unpack_from(">I", profile, _HEADER)
    if _HEADER + 4 + 12 * count > size:
        return False
    spans = [(0, _HEADER + 4 + 12 * count)]
    for _signature, offset, length in tag_table(profile):
        if offset < _HEADER + 4 or offset + length > size:
            return False
        spans.append((offset, offset + length))
    return not _stray(profile, spans)


def tag_table(profile: bytes) -> list[tuple[bytes, int, int]]:
    """Each tag's signature, offset and length, as the profile's table lists them (of a
    profile whose table fits in it: :func:`valid_icc` checks)."""
    (count,) = struct.unpack_from(">I", profile, _HEADER)
    return [
        struct.unpack_from(">4sII", profile, _HEADER + 4 + 12 * index) for index in range(count)
    ]


def _stray(profile: bytes, spans: list[tuple[int, int]]) -> bool:
    """Whether a byte outside ``spans`` (the header, the table, the tags) is not zero."""
    covered = 0
    for start, stop in sorted(spans):
        if start > covered and profile.count(0, covered, start) != start - covered:
            return True
        covered = max(covered, stop)
    return profile.count(0, covered) != len(profile) - covered
