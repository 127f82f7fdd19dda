"""Lossless JPEG metadata scrubbing by segment rewrite.

The scrubber never decodes pixels. It walks the marker segments of a baseline or progressive
JPEG and rebuilds the file from only what a decoder needs to display it:

* SOI, a fresh minimal JFIF APP0, and - only when the input's EXIF Orientation is not 1 - a
  minimal EXIF APP1 carrying that single tag, so the picture still displays upright;
* frame, table and restart segments (SOFn, DHT, DAC, DQT, DRI, DNL);
* ICC colour profiles (APP2 ``ICC_PROFILE``) and Adobe APP14 colour-transform segments;
* every SOS header with its entropy-coded data, byte for byte;
* EOI.

Everything else is dropped wherever it appears: other APPn segments (EXIF, XMP, IPTC, MPF,
maker notes...), comments, and anything after the EOI that ends the last scan (multi-picture
files hide whole second images there). The file type is judged by its magic bytes only.
"""

from __future__ import annotations

import re
import struct

__all__ = ["MAX_JPEG_BYTES", "ScrubError", "exif_orientation", "scrub_jpeg"]

MAX_JPEG_BYTES = 256 * 1024 * 1024

_SOI = b"\xff\xd8"
_EOI = b"\xff\xd9"

# APP0 "JFIF\0", version 1.01, units 0 (aspect ratio only), density 1:1, no thumbnail.
_JFIF_APP0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"

_EXIF_HEADER = b"Exif\x00\x00"
_ICC_HEADER = b"ICC_PROFILE\x00"
_ADOBE_HEADER = b"Adobe"
_JFIF_HEADER = b"JFIF\x00"

_TAG_ORIENTATION = 0x0112
_TIFF_SHORT = 3
_TIFF_LONG = 4

_M_SOS = 0xDA
_M_EOI = 0xD9
_M_SOI = 0xD8
_M_TEM = 0x01
_M_APP1 = 0xE1
_M_APP2 = 0xE2
_M_APP14 = 0xEE
_SOF_MARKERS = frozenset(
    (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF)
)
# DHT, DAC, DQT, DNL, DRI: tables and restart/line-count information a decoder needs.
_TABLE_MARKERS = frozenset((0xC4, 0xCC, 0xDB, 0xDC, 0xDD))
_RST_MARKERS = frozenset(range(0xD0, 0xD8))

# Inside entropy-coded data 0xFF is always followed by 0x00 (stuffing), 0xD0-0xD7 (restart
# markers) or 0xFF (fill). Any other byte after 0xFF is the next marker. The pattern starts with
# a literal so the regex engine scans for it at C speed.
_ENTROPY_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


class ScrubError(ValueError):
    """The input is not a JPEG we can scrub safely; the message says why."""


def _check_input(data: bytes) -> None:
    if len(data) > MAX_JPEG_BYTES:
        raise ScrubError(
            f"input is {len(data)} bytes, over the {MAX_JPEG_BYTES}-byte limit for a JPEG"
        )
    if len(data) < 2 or data[0] != 0xFF or data[1] != 0xD8:
        raise ScrubError("not a JPEG: the data does not start with the SOI marker FF D8")


def _read_marker(data: bytes, pos: int) -> tuple[int, int]:
    """Read the marker at ``pos`` (after any fill bytes); return (marker, offset after it)."""
    n = len(data)
    if pos >= n:
        raise ScrubError("truncated JPEG: the data ends before the EOI marker")
    if data[pos] != 0xFF:
        raise ScrubError(f"malformed JPEG: expected a marker at offset {pos}")
    while pos < n and data[pos] == 0xFF:
        pos += 1
    if pos >= n:
        raise ScrubError("truncated JPEG: the data ends before the EOI marker")
    marker = data[pos]
    if marker == 0x00:
        raise ScrubError(f"malformed JPEG: stray FF 00 outside entropy-coded data at offset {pos}")
    if marker == _M_SOI:
        raise ScrubError(f"malformed JPEG: unexpected second SOI marker at offset {pos}")
    return marker, pos + 1


def _segment_end(data: bytes, pos: int, marker: int) -> int:
    """Given ``pos`` just past a marker with a length field, return the segment's end."""
    if pos + 2 > len(data):
        raise ScrubError(f"truncated JPEG: segment FF {marker:02X} at offset {pos - 2} is cut off")
    length = (data[pos] << 8) | data[pos + 1]
    if length < 2:
        raise ScrubError(
            f"malformed JPEG: segment FF {marker:02X} at offset {pos - 2} has invalid length"
            f" {length}"
        )
    end = pos + length
    if end > len(data):
        raise ScrubError(
            f"malformed JPEG: segment FF {marker:02X} at offset {pos - 2} declares {length} bytes,"
            " running past the end of the data"
        )
    return end


def _is_standalone(marker: int) -> bool:
    return marker == _M_TEM or marker in _RST_MARKERS


def _orientation_from_tiff(tiff: bytes) -> int:
    """Orientation (1..8) from a TIFF/EXIF block in either byte order; 1 if absent or invalid."""
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
        return value if 1 <= value <= 8 else 1
    return 1


def _exif_app1(orientation: int) -> bytes:
    """A minimal big-endian EXIF APP1 whose IFD0 holds only the Orientation tag."""
    tiff = (
        b"MM\x00\x2a\x00\x00\x00\x08"
        + struct.pack(">H", 1)
        + struct.pack(">HHIHH", _TAG_ORIENTATION, _TIFF_SHORT, 1, orientation, 0)
        + struct.pack(">I", 0)
    )
    payload = _EXIF_HEADER + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def exif_orientation(data: bytes) -> int:
    """Return the EXIF Orientation (1..8) of a JPEG, or 1 when it has none.

    Only the first EXIF APP1 segment before the first scan counts, as for decoders. Raises
    :class:`ScrubError` if the data is not a JPEG or its header segments are malformed.
    """
    _check_input(data)
    pos = 2
    while True:
        marker, pos = _read_marker(data, pos)
        if marker in (_M_SOS, _M_EOI):
            return 1
        if _is_standalone(marker):
            continue
        end = _segment_end(data, pos, marker)
        if marker == _M_APP1 and data.startswith(_EXIF_HEADER, pos + 2):
            return _orientation_from_tiff(data[pos + 2 + len(_EXIF_HEADER) : end])
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


def scrub_jpeg(data: bytes) -> bytes:
    """Return ``data`` rewritten losslessly without identifying metadata.

    See the module docstring for what is kept. Raises :class:`ScrubError` for input that is
    not a JPEG, is truncated or malformed, or is larger than :data:`MAX_JPEG_BYTES`.
    """
    _check_input(data)
    view = memoryview(data)
    kept: list[bytes | memoryview] = []
    orientation: int | None = None
    had_jfif = False
    has_adobe = False
    component_ids: bytes | None = None
    seen_sos = False
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
            if end - body < 6:
                raise ScrubError(f"malformed JPEG: frame header at offset {pos - 2} is too short")
            if component_ids is None:
                count = data[body + 5]
                if end - body < 6 + 3 * count or count == 0:
                    raise ScrubError(
                        f"malformed JPEG: frame header at offset {pos - 2} is inconsistent"
                    )
                component_ids = bytes(data[body + 6 + 3 * i] for i in range(count))
            kept.append(view[pos - 2 : end])
        elif marker in _TABLE_MARKERS:
            kept.append(view[pos - 2 : end])
        elif marker == _M_SOS:
            if component_ids is None:
                raise ScrubError("malformed JPEG: a scan (SOS) comes before any frame header (SOF)")
            seen_sos = True
            found = _ENTROPY_END.search(data, end)
            if found is None:
                raise ScrubError("truncated JPEG: scan data runs to the end without an EOI marker")
            stop = found.start()
            while stop > end and data[stop - 1] == 0xFF:  # fill bytes before the next marker
                stop -= 1
            kept.append(view[pos - 2 : stop])
            end = found.start()
        elif marker == _M_APP2 and data.startswith(_ICC_HEADER, body):
            kept.append(view[pos - 2 : end])
        elif marker == _M_APP14 and data.startswith(_ADOBE_HEADER, body):
            has_adobe = True
            kept.append(view[pos - 2 : end])
        elif marker == _M_APP1 and orientation is None and data.startswith(_EXIF_HEADER, body):
            orientation = _orientation_from_tiff(data[body + len(_EXIF_HEADER) : end])
        elif marker == 0xE0 and data.startswith(_JFIF_HEADER, body):
            had_jfif = True
        # Every other segment (APPn, COM, JPGn, reserved) is dropped.
        pos = end
    if component_ids is None:
        raise ScrubError("malformed JPEG: no frame header (SOF) before EOI")
    if not seen_sos:
        raise ScrubError("malformed JPEG: no scan (SOS) before EOI")
    head: list[bytes | memoryview] = [_SOI]
    if _wants_jfif(had_jfif, has_adobe, component_ids):
        head.append(_JFIF_APP0)
    if orientation is not None and orientation != 1:
        head.append(_exif_app1(orientation))
    return b"".join([*head, *kept, _EOI])
