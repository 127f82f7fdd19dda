"""Lossless JPEG metadata scrubbing by segment rewrite.

The scrubber never decodes pixels. It walks the marker segments of a baseline, progressive,
arithmetic-coded or lossless JPEG and rebuilds the file from only what a decoder needs to
display it:

* SOI, a fresh minimal JFIF APP0 (no thumbnail), and - only when the input's EXIF Orientation
  is not 1 - a minimal EXIF APP1 carrying that single tag, so the picture still displays
  upright (see :mod:`clinphoto.imaging.exif`);
* the frame header (SOFn) and the table and restart segments a scan uses (DHT, DAC, DQT, DRI);
* ICC colour profiles (APP2 ``ICC_PROFILE``) when they assemble into a valid profile, with
  its text blanked in place (:mod:`clinphoto.imaging.icc`), and the Adobe APP14
  colour-transform segment that decoders read (the last one before the first scan, its 12
  bytes only);
* every SOS header with its entropy-coded data, byte for byte;
* EOI.

Everything else is dropped wherever it appears, before the frame or between scans: other
APPn segments (EXIF, XMP, IPTC, MPF, maker notes, JFXX thumbnails...), comments, DNL
segments (the frame must give the height), and anything after the EOI that ends the last scan
(multi-picture files hide whole second images there). The pixels decode bit-identical to the
input's. The file type is judged by magic bytes only.

Nothing is copied unread. The frame header, every scan header and every table segment is
parsed field by field and must be filled exactly by what its length declares, with every
field in the range a decoder accepts; anything else is refused as malformed, so no segment
can carry bytes that decoders skip. A table definition that no scan uses before it is
replaced (or at all) is left out, as decoders never read it either: a segment whose tables
are all used is copied unchanged, one with unused tables is rewritten without them.
"""

from __future__ import annotations

import functools
import struct

from clinphoto.imaging.errors import Reason, ScrubError
from clinphoto.imaging.exif import EXIF_HEADER, orientation_from_tiff, orientation_tiff
from clinphoto.imaging.icc import clean_icc
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
_M_DHT = 0xC4
_M_DAC = 0xCC
_M_DQT = 0xDB
_M_DRI = 0xDD
_SOF_MARKERS = frozenset(
    (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF)
)
_PROGRESSIVE = frozenset((0xC2, 0xC6, 0xCA, 0xCE))
_LOSSLESS = frozenset((0xC3, 0xC7, 0xCB, 0xCF))
_ARITHMETIC = frozenset((0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF))
# Huffman tables, arithmetic conditioning, quantisation tables, restart interval: what a scan
# reads. (DNL, the height given after the first scan, is dropped: the frame must give it.)
_TABLE_MARKERS = frozenset((_M_DHT, _M_DAC, _M_DQT, _M_DRI))
_SEGMENT_NAMES = {
    _M_DHT: "Huffman table segment (DHT)",
    _M_DAC: "arithmetic conditioning segment (DAC)",
    _M_DQT: "quantisation table segment (DQT)",
    _M_DRI: "restart interval segment (DRI)",
    _M_SOS: "scan header (SOS)",
    **{marker: f"frame header (SOF{marker - 0xC0})" for marker in _SOF_MARKERS},
}
# Bytes holding two numbers of 1 to 4 (sampling factors), and two of 0 to 3 (table numbers).
_SAMPLING_FACTORS = bytes(h << 4 | v for h in range(1, 5) for v in range(1, 5))
_TABLE_PAIRS = bytes(dc << 4 | ac for dc in range(4) for ac in range(4))
_RST_MARKERS = frozenset(range(0xD0, 0xD8))
_ADOBE_LENGTH = 12  # "Adobe", version, flags0, flags1, transform: all that decoders read


def _entropy_end_py(data: bytes, pos: int) -> int:
    """Offset of the first marker at or after ``pos`` in entropy-coded data, or -1 if none.

    Inside entropy-coded data 0xFF is always followed by 0x00 (a stuffed byte), 0xD0-0xD7 (a
    restart marker) or 0xFF (a fill byte); an 0xFF followed by anything else is a marker,
    and the offset of that 0xFF is returned. This is exactly the first match of the regular
    expression ``\\xff[^\\x00\\xd0-\\xd7\\xff]`` from ``pos`` (tests hold it to that), but found
    by jumping from one 0xFF to the next with ``bytes.find`` (memchr) and looking at the byte
    after each: every 0xFF at or after ``pos`` is looked at, none is skipped.

    This is the reference, and the scan in use where the compiled one (``_jpegscan.c``, the
    same loop in C) was not built; see :data:`SCAN`. It takes 0.9 ms on the 5.5 MB
    benchmark photo, nearly all of it one ``find`` call per 0xFF (decision 009).
    """
    if pos < 0:
        raise ValueError("pos must not be negative")
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


try:  # the same scan in C, built by setup.py when a compiler is at hand (decision 009)
    from clinphoto.imaging._jpegscan import entropy_end as _entropy_end_c
except ImportError:  # pragma: no cover - depends on the install
    _entropy_end_c = None  # type: ignore[assignment]

#: Which scan :func:`entropy_end` is: ``"c"`` or ``"python"`` (same answers, tests hold both).
SCAN = "c" if _entropy_end_c is not None else "python"
entropy_end = _entropy_end_c if _entropy_end_c is not None else _entropy_end_py


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


class _Frame:
    """What the scans need from the frame header: the coding process and the components."""

    __slots__ = ("ids", "latched", "marker", "precision", "quant")

    def __init__(self, marker: int, precision: int, ids: bytes, quant: bytes) -> None:
        self.marker = marker
        self.precision = precision
        self.ids = ids  # component ids, in frame order (not always distinct: decoders cope)
        self.quant = quant  # each component's quantisation table
        self.latched = [False] * len(ids)  # whether a scan has taken in the component yet


def _bad(marker: int, offset: int, problem: str) -> ScrubError:
    """A "malformed" refusal naming the segment and its offset (built only when raised)."""
    return _fail(f"malformed JPEG: {_SEGMENT_NAMES[marker]} at offset {offset} {problem}")


def _frame(data: bytes, marker: int, body: int, end: int, limits: Limits) -> _Frame:
    """Parse a frame header (SOFn): it must hold exactly its components, each in range."""
    size = end - body
    if size < 6:
        raise _bad(marker, body - 4, "is too short")
    precision = data[body]
    height, width = struct.unpack_from(">HH", data, body + 1)
    count = data[body + 5]
    if size != 6 + 3 * count:
        raise _bad(
            marker,
            body - 4,
            f"declares {size + 2} bytes for {count} components, not {8 + 3 * count}",
        )
    if count == 0:
        raise _bad(marker, body - 4, "declares no components")
    if count > 4:
        raise _fail(
            f"JPEG with {count} components is not supported (1 to 4)", "unsupported-feature"
        )
    if not (2 <= precision <= 16 if marker in _LOSSLESS else precision in (8, 12)):
        raise _bad(marker, body - 4, f"declares {precision}-bit samples")
    if height == 0:
        raise _fail(
            "JPEG with the height deferred to a DNL segment is not supported",
            "unsupported-feature",
        )
    check_size(width, height, limits, "the JPEG frame header")
    if data[body + 7 : end : 3].translate(None, _SAMPLING_FACTORS):
        raise _bad(marker, body - 4, "gives a sampling factor outside 1 to 4")
    quant = data[body + 8 : end : 3]
    if max(quant) > 3:
        raise _bad(marker, body - 4, "names a quantisation table outside 0 to 3")
    return _Frame(marker, precision, data[body + 6 : end : 3], quant)


class _Tables:
    """A kept DHT, DAC, DQT or DRI segment: where each definition in it lies, and whether a
    scan has used it. Definitions no scan uses are left out of the output."""

    __slots__ = ("end", "spans", "start", "used")

    def __init__(self, start: int, end: int) -> None:
        self.start = start  # offset of the marker
        self.end = end
        self.spans: list[tuple[int, int]] = []
        self.used: list[bool] = []

    def output(self, data: bytes, view: memoryview) -> bytes | memoryview | None:
        """The segment as it is when every definition is used, without the unused ones
        otherwise, or None when none is used (or it defines nothing)."""
        if not any(self.used):
            return None
        if all(self.used):
            return view[self.start : self.end]
        kept = [data[a:b] for (a, b), used in zip(self.spans, self.used, strict=True) if used]
        payload = b"".join(kept)
        return data[self.start : self.start + 2] + struct.pack(">H", 2 + len(payload)) + payload


class _Definitions:
    """Table definitions waiting for the first scan that reads them.

    A key names a table slot (``(marker, slot)``); a definition is used when a scan reads its
    slot before the slot is defined again. Decoders parse but never apply one that is replaced
    first, or one no scan reads (a quantisation table is taken in by the first scan of each
    component that names it, as libjpeg does), so such a definition could carry anything: it
    is not kept.
    """

    __slots__ = ("waiting",)

    def __init__(self) -> None:
        self.waiting: dict[tuple[int, int], tuple[_Tables, int]] = {}

    def define(self, key: tuple[int, int], segment: _Tables, start: int, end: int) -> None:
        segment.spans.append((start, end))
        segment.used.append(False)
        self.waiting[key] = (segment, len(segment.used) - 1)  # replaces any unused one

    def use(self, keys: list[tuple[int, int]]) -> None:
        pop = self.waiting.pop
        for key in keys:
            found = pop(key, None)
            if found is not None:
                found[0].used[found[1]] = True


@functools.lru_cache(maxsize=64)  # encoders reuse a few tables: 1 us each, 0.05 us cached
def _huffman_codes_fit(counts: bytes) -> bool:
    """Whether code-length counts make a Huffman code with no all-ones code (libjpeg's check)."""
    code = 0
    for length, count in enumerate(counts, 1):
        code += count
        if code >= 1 << length:
            return False
        code <<= 1
    return True


def _tables(data: bytes, marker: int, start: int, end: int, definitions: _Definitions) -> _Tables:
    """Parse a DHT, DAC, DQT or DRI segment: its definitions must fill it exactly."""
    segment = _Tables(start, end)
    at = start + 4  # a segment that defines nothing is dropped (see _Tables.output)
    if marker == _M_DRI:
        if end - at != 2:
            raise _bad(marker, start, f"declares {end - start - 2} bytes, not 4")
        definitions.define((marker, 0), segment, at, end)
        return segment
    while at < end:
        slot = data[at]
        if slot & 0xEC:  # class or precision over 1, or table number over 3
            kind = "of 8- or 16-bit values" if marker == _M_DQT else "for DC or AC"
            raise _bad(marker, start, f"defines a table other than 0 to 3 {kind}")
        if marker == _M_DQT:
            after = at + 1 + (64 << (slot >> 4))
            slot &= 15  # the precision is not part of the table's number
        elif marker == _M_DHT:
            counts = data[at + 1 : at + 17]
            after = at + 17 + sum(counts)
            if len(counts) == 16 and after <= end:
                if after - at > 17 + 256 or not _huffman_codes_fit(counts):
                    raise _bad(marker, start, "has code lengths that do not fit")
                if slot < 0x10 and after > at + 17 and max(data[at + 17 : after]) > 16:
                    raise _bad(marker, start, "has a DC symbol over 16")
        else:  # DAC: a DC pair of bounds L <= U, or an AC threshold 1..63
            after = at + 2
            value = data[at + 1] if after <= end else 1
            if not (1 <= value <= 63 if slot >> 4 else value & 15 <= value >> 4):
                raise _bad(marker, start, "has a conditioning value out of range")
        if after > end:
            raise _bad(
                marker, start, f"declares {end - start - 2} bytes, which its tables do not fill"
            )
        definitions.define((marker, slot), segment, at, after)
        at = after
    return segment


def _scan(data: bytes, body: int, end: int, frame: _Frame, definitions: _Definitions) -> None:
    """Parse a scan header (SOS) and mark the table definitions the scan reads as used.

    It must hold exactly its components, each one of the frame's, with table numbers and
    spectral and successive-approximation parameters that decoders accept.
    """
    size = end - body
    count = data[body] if size else 0
    if size != 4 + 2 * count:
        raise _bad(
            _M_SOS,
            body - 4,
            f"declares {size + 2} bytes for {count} components, not {6 + 2 * count}",
        )
    if not 1 <= count <= 4:
        raise _bad(_M_SOS, body - 4, f"declares {count} components, not 1 to 4")
    selectors = data[body + 1 : end - 3 : 2]
    tables = data[body + 2 : end - 3 : 2]
    if tables.translate(None, _TABLE_PAIRS):
        raise _bad(_M_SOS, body - 4, "names a table outside 0 to 3")
    members: list[int] = []
    ids = frame.ids
    for selector in selectors:
        # The first frame component with this id not already in the scan, as libjpeg picks.
        index = ids.find(selector)
        while index in members:
            index = ids.find(selector, index + 1)
        if index < 0:
            raise _bad(_M_SOS, body - 4, "names a component the frame does not have")
        members.append(index)
    ss, se, ah, al = data[end - 3], data[end - 2], data[end - 1] >> 4, data[end - 1] & 15
    marker = frame.marker
    if marker in _LOSSLESS:
        bad = not 1 <= ss <= 7 or se != 0 or ah != 0 or al >= frame.precision
        dc, ac = True, False
    elif marker in _PROGRESSIVE:  # as libjpeg checks them
        bad = se != 0 if ss == 0 else ss > se or se > 63 or count != 1
        bad = bad or (ah != 0 and al != ah - 1) or al > 13
        dc, ac = ss == 0 and ah == 0, ss > 0
    else:  # sequential: decoders only warn about odd Ss, Se, Ah, Al (some phones write them)
        bad = False
        dc = ac = True
    if bad:
        raise _bad(_M_SOS, body - 4, "has spectral or approximation values out of range")
    coding = _M_DAC if marker in _ARITHMETIC else _M_DHT
    read = [(_M_DRI, 0)]
    if dc:
        read += [(coding, pair >> 4) for pair in tables]
    if ac:
        read += [(coding, 0x10 | pair & 15) for pair in tables]
    if marker not in _LOSSLESS:
        for index in members:
            if not frame.latched[index]:
                frame.latched[index] = True  # decoders take the quantisation table in now
                read.append((_M_DQT, frame.quant[index]))
    definitions.use(read)


def _icc_cleaned(segments: list[memoryview]) -> list[bytes] | None:
    """The APP2 ICC_PROFILE segments again, in the same order and of the same sizes, holding
    the profile they assemble into with its text blanked (:func:`clean_icc`); None when they
    do not form one complete profile that is kept."""
    header = 4 + len(_ICC_HEADER)  # marker, length, "ICC_PROFILE\0"
    parts: dict[int, memoryview] = {}
    counts = set()
    for segment in segments:
        if len(segment) < header + 2:
            return None
        parts[segment[header]] = segment[header + 2 :]
        counts.add(segment[header + 1])
    if (
        len(counts) != 1
        or len(parts) != len(segments)
        or set(parts) != set(range(1, len(parts) + 1))
    ):
        return None
    if counts.pop() != len(parts):
        return None
    profile = clean_icc(b"".join(parts[i] for i in range(1, len(parts) + 1)))
    if profile is None:
        return None
    starts, at = {}, 0
    for index in range(1, len(parts) + 1):
        starts[index] = at
        at += len(parts[index])
    out = []
    for segment in segments:
        index = segment[header]
        piece = profile[starts[index] : starts[index] + len(parts[index])]
        out.append(bytes(segment[: header + 2]) + piece)
    return out


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
    kept: list[bytes | memoryview | _Tables | None] = []
    orientation: int | None = None
    had_jfif = False
    adobe: int | None = None  # index in kept of the Adobe segment decoders will read
    frame: _Frame | None = None
    definitions = _Definitions()
    seen_sos = False
    icc: list[tuple[int, memoryview]] = []  # where in kept, the segment
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
            if frame is not None:
                raise _fail("malformed JPEG: a second frame header (SOF) in one image")
            frame = _frame(data, marker, body, end, limits)
            kept.append(view[pos - 2 : end])
        elif marker in _TABLE_MARKERS:
            kept.append(_tables(data, marker, pos - 2, end, definitions))
        elif marker == _M_SOS:
            if frame is None:
                raise _fail("malformed JPEG: a scan (SOS) comes before any frame header (SOF)")
            _scan(data, body, end, frame, definitions)
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
            icc.append((len(kept), view[pos - 2 : end]))
            kept.append(icc[-1][1])
        elif (
            marker == _M_APP14
            and not seen_sos
            and end - body >= _ADOBE_LENGTH
            and data.startswith(_ADOBE_HEADER, body)
        ):
            # Decoders read the first 12 bytes of the last one before the first scan.
            if adobe is not None:
                kept[adobe] = None
            adobe = len(kept)
            if end - body == _ADOBE_LENGTH:
                kept.append(view[pos - 2 : end])
            else:
                kept.append(b"\xff\xee\x00\x0e" + data[body : body + _ADOBE_LENGTH])
        elif marker == _M_APP1 and orientation is None and data.startswith(EXIF_HEADER, body):
            orientation = orientation_from_tiff(data[body + len(EXIF_HEADER) : end])
        elif marker == _M_APP0 and data.startswith(_JFIF_HEADER, body):
            had_jfif = True
        # Every other segment (APPn, COM, DNL, JPGn, reserved) is dropped.
        pos = end
    if frame is None:
        raise _fail("malformed JPEG: no frame header (SOF) before EOI")
    if not seen_sos:
        raise _fail("malformed JPEG: no scan (SOS) before EOI")
    if icc:  # the profile's text blanked; a broken profile is dropped, as decoders ignore it
        cleaned = _icc_cleaned([segment for _, segment in icc])
        for n, (at, _) in enumerate(icc):
            kept[at] = None if cleaned is None else cleaned[n]
    head: list[bytes | memoryview] = [_SOI]
    if _wants_jfif(had_jfif, adobe is not None, frame.ids):
        head.append(_JFIF_APP0)
    if orientation is not None and orientation != 1:
        head.append(_exif_app1(orientation))
    parts = head
    for part in kept:
        if isinstance(part, _Tables):
            part = part.output(data, view)
        if part is not None:
            parts.append(part)
    parts.append(_EOI)
    return parts
