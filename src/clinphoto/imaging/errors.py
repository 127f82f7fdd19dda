"""The one error every scrubber raises, with a stable machine-readable reason code."""

from __future__ import annotations

# `typing` is only for the type checker: `clinphoto scrub` imports this module at every start
# and pays for each import (decision 009). At run time a reason is a str from REASONS.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final, Literal

    Reason = Literal[
        "empty",  # no bytes at all
        "unsupported-format",  # not a format we accept (unknown magic, BMP, raw/DNG, JPEG 2000..)
        "unsupported-feature",  # a format we accept, but a variant we cannot scrub safely
        "too-large",  # more bytes than the limit
        "too-many-pixels",  # declared width, height or pixel count over the limit
        "decompression-bomb",  # decoded data would dwarf the input (frames x pixels, zlib bombs)
        "malformed",  # broken structure: bad lengths, checksums, order, or the decoder refused it
        "truncated",  # the data ends before the format says it should
        "timeout",  # a decoder ran longer than the limit and was stopped
        "decoder-crashed",  # an isolated decoder died (signal, out of memory) instead of answering
        "unsupported-codec",  # a video whose codec we do not copy (e.g. Motion-JPEG)
        "no-video",  # a video container without a video stream
        "io-error",  # the file could not be read or written
    ]
else:
    Reason = str

__all__ = ["REASONS", "Reason", "ScrubError"]

# The same codes, in the same order (tests/unit/test_imaging_formats.py holds them together).
REASONS: Final[tuple[Reason, ...]] = (
    "empty",
    "unsupported-format",
    "unsupported-feature",
    "too-large",
    "too-many-pixels",
    "decompression-bomb",
    "malformed",
    "truncated",
    "timeout",
    "decoder-crashed",
    "unsupported-codec",
    "no-video",
    "io-error",
)


class ScrubError(ValueError):
    """The input cannot be scrubbed safely; nothing of it may be used.

    ``reason`` is one of :data:`REASONS`, stable for programs (API error codes, counters);
    ``str(error)`` is a message for people. Messages name the problem, never file contents.
    """

    def __init__(self, message: str, *, reason: Reason = "malformed") -> None:
        super().__init__(message)
        self.reason: Reason = reason
        self.message = message

    def __reduce__(self) -> tuple[object, ...]:  # keep the reason across process boundaries
        return (_rebuild, (self.message, self.reason))


def _rebuild(message: str, reason: Reason) -> ScrubError:
    return ScrubError(message, reason=reason)
