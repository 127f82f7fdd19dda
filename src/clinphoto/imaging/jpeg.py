"""Lossless JPEG metadata scrubbing by segment rewrite.

The scrubber never decodes pixels. It walks the marker segments of a baseline, progressive,
arithmetic-coded or lossless JPEG and rebuilds the file from only what a decoder needs to
display it:

* SOI, a fresh minimal JFIF APP0 (no thumbnail), and - only when the input's EXIF Orientation
  is not 1 - a minimal EXIF APP1 carrying that single tag, so the picture still displays
  upright (see :mod:`clinphoto.imaging.exif`);
* frame, table and restart segments (SOFn, DHT, DAC, DQT, DRI, DNL);
* ICC colour profiles (APP2 ``ICC_PROFILE``) when they assemble into a valid profile
  (:mod:`clinphoto.imaging.icc`), and Adobe APP14 colour-transform segments;
* every SOS header with its entropy-coded data, byte for byte;
* EOI.

Everything else is dropped wherever it appears, before the frame or between scans: other
APPn segments (EXIF, XMP, IPTC, MPF, maker notes, JFXX thumbnails...), comments, and anything
after the EOI that ends the last scan (multi-picture files hide whole second images there).
The pixels decode bit-identical to the input's. The file type is judged by magic bytes only.
"""

from __future__ import annotations

import struct

from clinphoto.imaging.errors import Reason, ScrubError
from clinphoto.imaging.exif import EXIF_HEADER, orientation_from_tiff, orientation_tiff
from clinphoto.imaging.icc import valid_icc
from clinphoto.imaging.limits import DEFAULT_LIMITS, Limits, check_size

__all__ = ["ScrubError", "exif_orientation", "scrub_jpeg", "scrub_jpeg_parts"]

_SOI = b"\xff\xd8"
_EOI = b"\xff\xd9"

# APP0 "JFIF\0", version 1.01, units 0 (aspect ratio only), density 1:1, no thumbnail.
_JFIF_APP0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"

_ICC_HEADER = b"ICC_PROFILE\x00"
_ADOBE_HEADER = b"Adobe"
_JFIF_HEADER = b"JFIF\x00"

_M_SOS = 0xDA
_M_EOI = 0xD9
_M_SOI = 0xD8
_M_TEM = 0x01
_M_APP0 = 0xE0
_M_APP1 = 0xE1
_M_APP2 = 0xE2
_M_APP14 = 0xEE
_M_DHP = 0xDE
_SOF_MARKERS = frozenset(
    (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF)
)
# DHT, DAC, DQT, DNL, DRI: tables and restart/line-count information a decoder needs.
_TABLE_MARKERS = frozenset((0xC4, 0xCC, 0xDB, 0xDC, 0xDD))
_RST_MARKERS = frozenset(range(0xD0, 0xD8))


def entropy_end(data: bytes, pos: int) -> int:
    """Offset of the first marker at or after ``pos`` in entropy-coded data, or -1 if none.

    Inside entropy-coded data 0xFF is always followed by 0x00 (a stuffed byte), 0xD0-0xD7 (a
    restart marker) or 0xFF (a fill byte); an 0xFF followed by anything else is a marker,
    and the offset of that 0xFF is returned. This is exactly the first match of the regular
    expression ``\\xff[^\\x00\\xd0-\\xd7\\xff]`` from ``pos`` (tests hold it to that), but found
    by jumping from one 0xFF to the next with ``bytes.find`` (memchr) and looking at the byte
    after each: every 0xFF at or after ``pos`` is looked at, none is skipped. The expression
    steps through the bytes one at a time and took 1.6 ms on the 5.5 MB benchmark photo; this
    takes 0.9 ms, nearly all of it one ``find`` call per 0xFF (see decision 009).
    """
    find = data.find
    last = len(data) - 1
    at = find(0xFF, pos)
    while 0 <= at < last:
        after = data[at + 1]
        if after == 0x00:  # stuffing: the 0x00 cannot start a marker, look past it
            at = find(0xFF, at + 2)
        elif after == 0xFF or 0xD0 <= after <= 0xD7:  # fill byte or RSTn: look at the next byte
            at = find(0xFF, at + 1)
        else:
            return at
    return -1


def _fail(message: str, reason: Reason = "malformed") -> ScrubError:
    return ScrubError(message, reason=reason)


def _check_input(data: bytes, limits: Limits) -> None:
    if len(data) > limits.max_image_bytes:
        raise _fail(
            f"input is {len(data)} bytes, over the {limits.max_image_bytes}-byte limit for an"
            " image",
            "too-large",
        )
    if len(data) < 2 or data[0] != 0xFF or data[1] != 0xD8:
        reason: Reason = "empty" if not data else "unsupported-format"
        raise _fail("not a JPEG: the data does not start with the SOI marker FF D8", reason)


def _read_marker(data: bytes, pos: int) -> tuple[int, int]:
    """Read the marker at ``pos`` (after any fill bytes); return (marker, offset after it)."""
    n = len(data)
    if pos >= n:
        raise _fail("truncated JPEG: the data ends before the EOI marker", "truncated")
    if data[pos] != 0xFF:
        raise _fail(f"malformed JPEG: expected a marker at offset {pos}")
    while pos < n and data[pos] == 0xFF:
        pos += 1
    if pos >= n:
        raise _fail("truncated JPEG: the data ends before the EOI marker", "truncated")
    marker = data[pos]
    if marker == 0x00:
        raise _fail(f"malformed JPEG: stray FF 00 outside entropy-coded data at offset {pos}")
    if marker == _M_SOI:
        raise _fail(f"malformed JPEG: unexpected second SOI marker at offset {pos}")
    return marker, pos + 1


def _segment_end(data: bytes, pos: int, marker: int) -> int:
    """Given ``pos`` just past a marker with a length field, return the segment's end."""
    if pos + 2 > len(data):
        raise _fail(
            f"truncated JPEG: segment FF {marker:02X} at offset {pos - 2} is cut off", "truncated"
        )
    length = (data[pos] << 8) | data[pos + 1]
    if length < 2:
        raise _fail(
            f"malformed JPEG: segment FF {marker:02X} at offset {pos - 2} has invalid length"
            f" {length}"
        )
    end = pos + length
    if end > len(data):
        raise _fail(
            f"malformed JPEG: segment FF {marker:02X} at offset {pos - 2} declares {length} bytes,"
            " running past the end of the data",
            "truncated",
        )
    return end


def _is_standalone(marker: int) -> bool:
    return marker == _M_TEM or marker in _RST_MARKERS


def _exif_app1(orientation: int) -> bytes:
    """A minimal EXIF APP1 whose IFD0 holds only the Orientation tag."""
    payload = EXIF_HEADER + orientation_tiff(orientation)
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def exif_orientation(data: bytes, limits: Limits = DEFAULT_LIMITS) -> int:
    """Return the EXIF Orientation (1..8) of a JPEG, or 1 when it has none.

    Only the first EXIF APP1 segment before the first scan counts, as for decoders. Raises
    :class:`ScrubError` if the data is not a JPEG or its header segments are malformed.
    """
    _check_input(data, limits)
    pos = 2
    while True:
        marker, pos = _read_marker(data, pos)
        if marker in (_M_SOS, _M_EOI):
            return 1
        if _is_standalone(marker):
            continue
        end = _segment_end(data, pos, marker)
        if marker == _M_APP1 and data.startswith(EXIF_HEADER, pos + 2):
            return orientation_from_tiff(data[pos + 2 + len(EXIF_HEADER) : end])
        pos = end


def _wants_jfif(had_jfif: bool, has_adobe: bool, component_ids: bytes) -> bool:
    """Whether adding a JFIF APP0 leaves the decoder's colour-space guess unchanged.

    libjpeg treats a 3-component JFIF file as YCbCr even when an Adobe APP14 (or R, G, B
    component ids) says RGB, so JFIF is only added where it cannot change the colours.
    """
    if had_jfif:
        return True
    if has_adobe:
        return False
    if len(component_ids) == 1:
        return True
    return len(component_ids) == 3 and component_ids != b"RGB"


def _frame(data: bytes, body: int, end: int, limits: Limits) -> bytes:
    """Check a frame header (SOFn) against the limits; return its component ids."""
    if end - body < 6:
        raise _fail(f"malformed JPEG: frame header at offset {body - 4} is too short")
    height, width = struct.unpack_from(">HH", data, body + 1)
    count = data[body + 5]
    if end - body < 6 + 3 * count or count == 0:
        raise _fail(f"malformed JPEG: frame header at offset {body - 4} is inconsistent")
    if height == 0:
        raise _fail(
            "JPEG with the height deferred to a DNL segment is not supported",
            "unsupported-feature",
        )
    check_size(width, height, limits, "the JPEG frame header")
    return bytes(data[body + 6 + 3 * i] for i in range(count))


def _icc_is_valid(segments: list[memoryview]) -> bool:
    """Whether the APP2 ICC_PROFILE segments form one complete, valid profile."""
    header = 4 + len(_ICC_HEADER)  # marker, length, "ICC_PROFILE\0"
    parts: dict[int, memoryview] = {}
    counts = set()
    for segment in segments:
        if len(segment) < header + 2:
            return False
        parts[segment[header]] = segment[header + 2 :]
        counts.add(segment[header + 1])
    if (
        len(counts) != 1
        or len(parts) != len(segments)
        or set(parts) != set(range(1, len(parts) + 1))
    ):
        return False
    if counts.pop() != len(parts):
        return False
    return valid_icc(b"".join(parts[i] for i in range(1, len(parts) + 1)))


def scrub_jpeg(data: bytes, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Return ``data`` rewritten losslessly without identifying metadata.

    See the module docstring for what is kept. Raises :class:`ScrubError` for input that is
    not a JPEG, is truncated or malformed, or is over ``limits`` (bytes, or the frame's
    declared width, height and pixel count).
    """
    return b"".join(scrub_jpeg_parts(data, limits))


def scrub_jpeg_parts(data: bytes, limits: Limits = DEFAULT_LIMITS) -> list[bytes | memoryview]:
    """The output of :func:`scrub_jpeg` as pieces, most of them views into ``data``.

    Their concatenation is :func:`scrub_jpeg`'s result, byte for byte; a file can be written
    from them (``os.writev``) without first copying the whole picture into one object. The
    whole input has been checked when this returns: nothing is returned for a file that
    :func:`scrub_jpeg` would refuse.
    """
    _check_input(data, limits)
    view = memoryview(data)
    kept: list[bytes | memoryview] = []
    orientation: int | None = None
    had_jfif = False
    has_adobe = False
    component_ids: bytes | None = None
    seen_sos = False
    icc: list[memoryview] = []
    pos = 2
    while True:
        marker, pos = _read_marker(data, pos)
        if marker == _M_EOI:
            break
        if _is_standalone(marker):
            continue
        end = _segment_end(data, pos, marker)
        body = pos + 2
        if marker in _SOF_MARKERS:
            if component_ids is None:
                component_ids = _frame(data, body, end, limits)
            else:
                raise _fail("malformed JPEG: a second frame header (SOF) in one image")
            kept.append(view[pos - 2 : end])
        elif marker in _TABLE_MARKERS:
            kept.append(view[pos - 2 : end])
        elif marker == _M_SOS:
            if component_ids is None:
                raise _fail("malformed JPEG: a scan (SOS) comes before any frame header (SOF)")
            seen_sos = True
            found = entropy_end(data, end)
            if found < 0:
                raise _fail(
                    "truncated JPEG: scan data runs to the end without an EOI marker", "truncated"
                )
            stop = found
            while stop > end and data[stop - 1] == 0xFF:  # fill bytes before the next marker
                stop -= 1
            kept.append(view[pos - 2 : stop])
            end = found
        elif marker == _M_DHP:
            raise _fail("hierarchical JPEG (DHP) is not supported", "unsupported-feature")
        elif marker == _M_APP2 and data.startswith(_ICC_HEADER, body):
            icc.append(view[pos - 2 : end])
            kept.append(icc[-1])
        elif marker == _M_APP14 and data.startswith(_ADOBE_HEADER, body):
            has_adobe = True
            kept.append(view[pos - 2 : end])
        elif marker == _M_APP1 and orientation is None and data.startswith(EXIF_HEADER, body):
            orientation = orientation_from_tiff(data[body + len(EXIF_HEADER) : end])
        elif marker == _M_APP0 and data.startswith(_JFIF_HEADER, body):
            had_jfif = True
        # Every other segment (APPn, COM, JPGn, reserved) is dropped.
        pos = end
    if component_ids is None:
        raise _fail("malformed JPEG: no frame header (SOF) before EOI")
    if not seen_sos:
        raise _fail("malformed JPEG: no scan (SOS) before EOI")
    if icc and not _icc_is_valid(icc):  # a broken profile is dropped, as decoders ignore it
        dropped = {id(segment) for segment in icc}
        kept = [segment for segment in kept if id(segment) not in dropped]
    head: list[bytes | memoryview] = [_SOI]
    if _wants_jfif(had_jfif, has_adobe, component_ids):
        head.append(_JFIF_APP0)
    if orientation is not None and orientation != 1:
        head.append(_exif_app1(orientation))
    return [*head, *kept, _EOI]
