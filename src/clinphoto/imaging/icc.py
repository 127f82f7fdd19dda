"""Structural check of ICC colour profiles, the one embedded block we keep from the input.

A profile is kept only when it looks like what decoders would use: its declared size is its
real size, it carries the ``acsp`` signature, and its tag table points inside the profile.
Anything else is dropped (decoders ignore a broken profile anyway), so the profile cannot be
a container for arbitrary bytes that no colour engine reads. What a valid profile says
(description, copyright, its own creation date) names a colour space, not a person.
"""

from __future__ import annotations

import struct

__all__ = ["MAX_ICC_BYTES", "valid_icc"]

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
    for index in range(count):
        _signature, offset, length = struct.unpack_from(">4sII", profile, _HEADER + 4 + 12 * index)
        if offset < _HEADER + 4 or offset + length > size:
            return False
    return True
