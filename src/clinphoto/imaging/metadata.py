"""The metadata a picture or video carries and what it says about a person (DEI-1, DEI-2).

:func:`identifying_metadata` lists what the scrubber (:mod:`clinphoto.imaging.scrub`) will
remove from a file: GPS positions, names, serial numbers, capture times, descriptions,
embedded thumbnails and second pictures, and everything it cannot classify. Each item is a
:class:`MetadataFinding` with a category (:mod:`clinphoto.imaging.metadata_tags`), where it
was found, the tag's name and a *masked* preview: the first character and the length of a
text, the year of a date, "present" for a GPS position or a number, a byte count for binary
data. The report never repeats a value, so it can be shown, logged and stored.

What the scrubber keeps is not listed: the EXIF Orientation, ICC colour profiles (their
text blanked), JFIF density, Adobe colour transform, and the colour, transparency and
animation chunks of PNG, WebP and GIF. So a scrubbed file lists nothing. In a file not yet
scrubbed, the text of an ICC profile is listed when it reads like an identifier
(:func:`_icc`), and a profile the scrubber drops (broken, with bytes that no tag points to,
or a tag it cannot read) is listed by size.

``identifying`` says whether a finding identifies on its own. Make, model and software do
not (they narrow a photo to a model of camera, used by thousands); serial numbers, owner
names, places, times, free text and embedded pictures do. What we cannot classify - an
unknown JPEG segment, PNG chunk, XMP namespace or EXIF tag, data after the end of the
picture, a block we cannot parse ("unreadable EXIF, 412 bytes") - is listed as ``other``
with its size and counts as identifying: nothing says it is harmless (fail closed).

Where each format is read:

* JPEG: Pillow's parser for the segments before the first scan (``applist``, the Photoshop
  resources and IPTC, the MPF index); after it, a bounded walk to the end-of-image marker
  finds segments between scans and data after the picture (motion-photo videos, second
  pictures) that Pillow does not read.
* PNG: every chunk, with Pillow's chunk reader; compressed text inflated up to
  :data:`MAX_TEXT_BYTES`.
* WebP and GIF: every RIFF chunk or GIF block, up to :data:`MAX_BLOCKS`; Pillow reads only
  the first frame's GIF extensions.
* TIFF: every tag of the first two IFDs and the EXIF, GPS and Interop IFDs (Pillow).
* HEIF and AVIF: libheif's view of the container (pillow-heif): EXIF, XMP, other metadata
  items, thumbnails, depth maps, auxiliary pictures and further pictures.
* MP4, MOV, WebM, Matroska: FFmpeg's view (PyAV): container and stream tags, data tracks
  (GPS telemetry), cover pictures, subtitles. The scrubber remuxes a video and keeps one
  video and the audio streams only, so whatever FFmpeg does not show is dropped as well.

EXIF, XMP, IPTC and Photoshop resources, wherever they are found, are read by
:mod:`clinphoto.imaging.metadata_blocks`: EXIF by Pillow one IFD at a time (IFD0, IFD1,
Exif, GPS, Interop; no chain followed further, no maker note parsed), so a looping or deep
IFD structure costs nothing; XMP with a linear tokenizer, never an XML parser, up to
:data:`MAX_XMP_BYTES`. Nothing here decodes a pixel.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

from PIL import Image, IptcImagePlugin, JpegImagePlugin, PngImagePlugin

from clinphoto.imaging.errors import ScrubError
from clinphoto.imaging.icc import MAX_ICC_BYTES, clean_icc, tag_table
from clinphoto.imaging.limits import DEFAULT_LIMITS, Limits
from clinphoto.imaging.metadata_blocks import (
    MAX_BLOCKS,
    MAX_XMP_BYTES,
    MetadataFinding,
    MetadataJson,
    Report,
    describe,
    mask_text,
    read_exif,
    read_iptc,
    read_photoshop,
    read_xmp,
)
from clinphoto.imaging.metadata_tags import (
    PNG_KEPT,
    PNG_KEYWORDS,
    PNG_TECHNICAL,
    Rule,
    classify_name,
)
from clinphoto.imaging.sniff import HEAD_BYTES, Kind, sniff

__all__ = [
    "MAX_BLOCKS",
    "MAX_TEXT_BYTES",
    "MAX_XMP_BYTES",
    "MetadataFinding",
    "MetadataJson",
    "describe",
    "identifying_metadata",
    "metadata_of_file",
]

MAX_TEXT_BYTES: Final = 1 << 20  # inflated from one compressed PNG text chunk, at most
_MAX_SUB_BLOCKS: Final = 1_000_000  # GIF data sub-blocks skipped (255 MB of data), at most


# --- JPEG ----------------------------------------------------------------------------------

_XMP_STANDARD = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_EXTENSION = b"http://ns.adobe.com/xmp/extension/\x00"
# Names of vendor segments shown as they are; any other segment is listed by its marker.
_VENDOR_SEGMENTS = (
    b"Ducky", b"PictureInfo", b"AROT", b"HDR_RI", b"FPXR", b"Meta", b"Qualcomm", b"SCALADO",
    b"ssuniqueid", b"QVCI", b"FLIR", b"GoPro", b"AVI1", b"Mtgr", b"HPQ", b"CIFF", b"Photoshop",
)  # fmt: skip
# After the first scan only a marker ends entropy-coded data: FF then not 00, D0-D7 or FF.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _jpeg_segment(
    report: Report, name: str, payload: bytes, extended: bytearray, *, header: bool
) -> None:
    if name == "COM":
        report.value(("free-text", True, "text"), "JPEG COM", "comment", payload)
        return
    marker = int(name[3:])
    if marker == 0 and payload.startswith(b"JFIF\x00"):
        if len(payload) >= 14 and payload[12] and payload[13]:
            report.opaque("JPEG APP0", "JFIF thumbnail", len(payload) - 14, "embedded-image")
        return
    if marker == 0 and payload.startswith(b"JFXX\x00"):
        report.opaque("JPEG APP0", "JFXX thumbnail", len(payload) - 6, "embedded-image")
        return
    if marker == 1 and payload.startswith(b"Exif\x00\x00"):
        read_exif(report, payload)
        return
    if marker == 1 and payload.startswith(_XMP_STANDARD):
        read_xmp(report, payload[len(_XMP_STANDARD) :])
        return
    if marker == 1 and payload.startswith(_XMP_EXTENSION):
        extended += payload[len(_XMP_EXTENSION) + 40 :]  # GUID, full length, offset
        return
    if marker == 2 and payload.startswith((b"ICC_PROFILE\x00", b"MPF\x00")):
        return  # the profile is kept; the MPF index is read on its own
    if marker == 14 and payload.startswith(b"Adobe"):
        return  # kept: the colour transform
    if marker == 13 and header and payload.startswith(b"Photoshop 3.0\x00"):
        return  # Pillow splits it into resources, read on their own
    vendor = next((v for v in _VENDOR_SEGMENTS if payload.startswith(v)), None)
    tag = f"{vendor.decode()} segment" if vendor else "segment"
    report.opaque(f"JPEG {name}", tag, len(payload))


def _after_first_scan(data: bytes, pos: int) -> tuple[list[tuple[str, bytes]], int | None]:
    """APPn and COM segments between the scans, and where the picture's EOI ends (None when
    there is none: a truncated file)."""
    segments: list[tuple[str, bytes]] = []
    for _ in range(MAX_BLOCKS):
        found = _NEXT_MARKER.search(data, pos)
        if found is None:
            return segments, None
        marker, at = data[found.end() - 1], found.end()
        if marker == 0xD9:
            return segments, at
        if marker == 0x01:  # TEM: no length
            pos = at
            continue
        length = int.from_bytes(data[at : at + 2], "big")
        if at + 2 > len(data) or length < 2 or at + length > len(data):
            return segments, None
        if 0xE0 <= marker <= 0xEF:
            segments.append((f"APP{marker & 0x0F}", data[at + 2 : at + length]))
        elif marker == 0xFE:
            segments.append(("COM", data[at + 2 : at + length]))
        pos = at + length
    segments.append(("APP15", b""))  # too many segments: listed as unknown, fail closed
    return segments, None


def _mpf(report: Report, mp: dict[int, Any] | None, base: int) -> list[tuple[int, int]]:
    """The MPF index's further pictures; returns the byte ranges they cover in the file."""
    covered: list[tuple[int, int]] = []
    if not mp:
        return covered
    for number, entry in enumerate(mp.get(0xB002, []), start=1):
        size, offset = int(entry.get("Size", 0)), int(entry.get("DataOffset", 0))
        if offset == 0:
            continue  # the primary picture: this one
        kind = entry.get("Attribute", {}).get("MPType", "picture")
        report.add("embedded-image", "MPF", f"picture {number}", f"{kind}, {size} bytes", True)
        covered.append((base + offset, base + offset + size))
    return covered


def _trailer(report: Report, data: bytes, eoi: int, covered: list[tuple[int, int]]) -> None:
    """Data after the picture's end, less what the MPF index accounts for; zero padding is
    not data."""
    spans: list[tuple[int, int]] = []
    pos = eoi
    for start, end in sorted(covered):
        if start > pos:
            spans.append((pos, start))
        pos = max(pos, end)
    if pos < len(data):
        spans.append((pos, len(data)))
    filled = [(s, e) for s, e in spans if data[s:e].strip(b"\x00\xff")]
    if not filled:
        return
    size = sum(e - s for s, e in filled)
    head = data[filled[0][0] : filled[0][0] + 64]
    if head.lstrip(b"\x00").startswith(b"\xff\xd8\xff"):
        report.opaque("JPEG trailer", "picture after the end of the image", size, "embedded-image")
    elif b"ftyp" in head:
        report.opaque("JPEG trailer", "video after the end of the image", size, "embedded-image")
    else:
        report.opaque("JPEG trailer", "data after the end of the image", size)


def _jpeg(report: Report, data: bytes) -> None:
    with JpegImagePlugin.JpegImageFile(io.BytesIO(data)) as image:  # headers only
        assert image.fp is not None
        scan = image.fp.tell()  # Pillow stops reading at the first scan's data
        segments = list(image.applist)
        photoshop = dict(image.info.get("photoshop") or {})
        base = int(image.info.get("mpoffset", 0))
        profile = image.info.get("icc_profile")
        try:
            iptc = IptcImagePlugin.getiptcinfo(image)
        except Exception:  # noqa: BLE001 - reported; the other segments are still read
            iptc = None
            report.unreadable("IPTC", len(photoshop.get(0x0404, b"")), "unreadable IPTC")
        try:
            mp = image._getmp()  # Pillow's MPF reader, as its jpeg_factory uses it
        except Exception:  # noqa: BLE001 - reported; the other segments are still read
            mp = None
            report.unreadable("MPF", len(image.info.get("mp", b"")), "unreadable MPF index")
    extended = bytearray()
    later, eoi = _after_first_scan(data, scan)
    for name, payload in segments:
        _jpeg_segment(report, name, payload, extended, header=True)
    for name, payload in later:
        _jpeg_segment(report, name, payload, extended, header=False)
    if photoshop:
        read_photoshop(report, photoshop)
    if iptc:
        read_iptc(report, iptc)
    if extended:
        read_xmp(report, bytes(extended), "XMP extension")
    if profile:
        _icc(report, "JPEG APP2 ICC profile", profile)
    covered = _mpf(report, mp, base)
    if eoi is not None:
        _trailer(report, data, eoi, covered)


# --- ICC profiles ---------------------------------------------------------------------------

_ICC_TEXT_TYPES = (b"desc", b"text", b"mluc")


def _icc(report: Report, where: str, profile: bytes) -> None:
    """What a colour profile carries besides colour. One that the scrubber drops
    (:func:`clinphoto.imaging.icc.clean_icc`: broken, with bytes that no tag points to, or
    with a tag of a type it cannot read) is listed by size; in one it keeps, text in its
    text tags (description, copyright...) that reads like an identifier (a labelled number,
    a date, a phone number, an e-mail or postal address: ``find_identifiers``). The scrubber
    blanks all of that text, but a profile's own text names a colour space or its maker, so
    it is listed only then.
    """
    if clean_icc(profile) is None:
        report.opaque(where, "colour profile the scrubber drops (not only colour)", len(profile))
        return
    texts: list[tuple[str, str]] = []
    for signature, offset, length in tag_table(profile):
        body = profile[offset : offset + length]
        if body[:4] in _ICC_TEXT_TYPES:
            texts.append((signature.decode("latin-1"), _icc_text(body)))
    if texts:
        from clinphoto.imaging.identifiers import find_identifiers  # its patterns: on demand

        for name, text in texts:
            if find_identifiers(text):
                report.value(("free-text", True, "text"), where, f"{name.strip()} text", text)


def _icc_text(body: bytes) -> str:
    """The text of an ICC ``desc`` (ASCII part), ``text`` or ``mluc`` (every record) tag."""
    kind = body[:4]
    if kind == b"text":
        return body[8:].split(b"\x00", 1)[0].decode("latin-1")
    if kind == b"desc" and len(body) >= 12:
        (length,) = struct.unpack_from(">I", body, 8)
        return body[12 : 12 + length].split(b"\x00", 1)[0].decode("latin-1")
    if kind == b"mluc" and len(body) >= 16:
        (records, size) = struct.unpack_from(">II", body, 8)
        parts = []
        for record in range(min(records, 1000)):
            at = 16 + record * max(size, 12)
            if at + 12 > len(body):
                break
            length, offset = struct.unpack_from(">II", body, at + 4)
            parts.append(body[offset : offset + length].decode("utf-16-be", "replace"))
        return "\n".join(parts)
    return ""


# --- PNG, WebP, GIF ------------------------------------------------------------------------


def _inflate(report: Report, where: str, data: bytes) -> bytes | None:
    """At most :data:`MAX_TEXT_BYTES` of a compressed text; None when it is not zlib data.
    Text that inflates further is also reported as not fully read."""
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(data, MAX_TEXT_BYTES)
    except zlib.error:
        return None
    if inflater.unconsumed_tail:
        report.opaque(where, "compressed text not fully read (over the size cap)", len(data))
    return text


def _raw_profile(text: str) -> bytes:
    """An ImageMagick "Raw profile type ..." text: name, length, then hexadecimal."""
    parts = text.split()
    try:
        return bytes.fromhex("".join(parts[2:]))
    except ValueError:
        return b""


def _png_text(report: Report, where: str, keyword: str, text: str) -> None:
    if keyword == "XML:com.adobe.xmp":
        read_xmp(report, text.encode("utf-8"))
        return
    if keyword.lower() in ("raw profile type exif", "raw profile type app1"):
        read_exif(report, _raw_profile(text))
        return
    if keyword.lower() == "raw profile type xmp":
        read_xmp(report, _raw_profile(text))
        return
    rule: Rule | None = PNG_KEYWORDS.get(keyword)
    if rule is None and keyword.partition(":")[0] in ("exif", "xmp", "tiff", "dc", "photoshop"):
        rule = classify_name(keyword) or ("technical", False, "presence")
    if rule is None:  # a keyword of its own: free text, and its name may be text too
        masked = f"keyword {mask_text(keyword) or '(empty)'}"
        report.value(("free-text", True, "text"), where, masked, text)
    else:
        report.value(rule, where, keyword, text)


def _png_chunk(report: Report, kind: bytes, body: bytes) -> None:
    if kind == b"iCCP":
        _name, _, rest = body.partition(b"\x00")
        inflater = zlib.decompressobj()
        try:
            profile = inflater.decompress(rest[1:], MAX_ICC_BYTES)
        except zlib.error:
            return  # not a profile: the scrubber drops it
        _icc(report, "PNG iCCP", profile)
        return
    if kind in PNG_KEPT:
        return
    if kind in (b"tEXt", b"zTXt", b"iTXt"):
        keyword, _, rest = body.partition(b"\x00")
        text: bytes | None = rest
        if kind == b"zTXt":
            text = _inflate(report, f"PNG {kind.decode()}", rest[1:])
        elif kind == b"iTXt":
            compressed = rest[:1] == b"\x01"
            _language, _, rest = rest[2:].partition(b"\x00")
            _translated, _, text = rest.partition(b"\x00")
            text = _inflate(report, f"PNG {kind.decode()}", text) if compressed else text
        where = f"PNG {kind.decode()}"
        if text is None:
            report.unreadable(where, len(body), "unreadable compressed text")
        else:
            encoding = "utf-8" if kind == b"iTXt" else "latin-1"
            _png_text(report, where, keyword.decode("latin-1"), text.decode(encoding, "replace"))
    elif kind == b"eXIf":
        read_exif(report, body)
    elif kind == b"tIME":
        year = struct.unpack(">H", body[:2])[0] if len(body) >= 2 else 0
        report.add("date-time", "PNG tIME", "modification time", f"{year} (year only)", True)
    elif kind in PNG_TECHNICAL:
        report.tech("PNG")
    else:
        report.opaque("PNG", f"{kind.decode('ascii', 'replace')} chunk", len(body))


def _png(report: Report, data: bytes) -> None:
    handle = io.BytesIO(data)
    handle.seek(8)
    stream = PngImagePlugin.ChunkStream(handle)
    for _ in range(MAX_BLOCKS):
        kind, pos, length = stream.read()  # SyntaxError on a broken chunk header
        end = pos + length
        if end + 4 > len(data):
            report.unreadable("PNG", len(data) - pos, "chunk cut off")
            return
        handle.seek(end + 4)  # CRCs are the scrubber's business; here only content counts
        if kind == b"IEND":
            if data[end + 4 :].strip(b"\x00"):
                report.opaque("PNG", "data after IEND", len(data) - end - 4)
            return
        _png_chunk(report, kind, data[pos:end])
    report.opaque("PNG", "chunks not read (too many)", len(data))


_WEBP_KEPT = frozenset((b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"))


def _webp(report: Report, data: bytes) -> None:
    stop = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    pos = 12
    for _ in range(MAX_BLOCKS):
        if pos + 8 > stop:
            break
        kind, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = data[pos + 8 : pos + 8 + size]
        if kind == b"EXIF":
            read_exif(report, body)
        elif kind == b"XMP ":
            read_xmp(report, body)
        elif kind == b"ICCP":
            _icc(report, "WebP ICCP", body)
        elif kind not in _WEBP_KEPT:
            report.opaque("WebP", f"{kind.decode('ascii', 'replace').strip()} chunk", len(body))
        pos += 8 + size + (size & 1)
    if data[stop:].strip(b"\x00"):
        report.opaque("WebP", "data after the RIFF container", len(data) - stop)


class _TooManyBlocks(Exception):
    """A GIF with more blocks than :data:`MAX_BLOCKS` or sub-blocks than we skip."""


def _gif_sub_blocks(data: bytes, pos: int, budget: list[int]) -> tuple[int, int]:
    """Skip the sub-blocks from ``pos``; (offset after the terminator, bytes of data)."""
    total = 0
    while pos < len(data) and data[pos] and budget[0] > 0:
        total += data[pos]
        pos += 1 + data[pos]
        budget[0] -= 1
    if budget[0] <= 0:
        raise _TooManyBlocks
    return pos + 1, total


def _gif_text(data: bytes, start: int, stop: int) -> str:
    out, pos = bytearray(), start
    while pos < stop and data[pos]:
        out += data[pos + 1 : pos + 1 + data[pos]]
        pos += 1 + data[pos]
    return out.decode("latin-1")


def _gif(report: Report, data: bytes) -> None:
    try:
        _gif_blocks(report, data)
    except _TooManyBlocks:
        report.opaque("GIF", "blocks not read (too many)", len(data))


def _gif_blocks(report: Report, data: bytes) -> None:
    packed = data[10] if len(data) > 10 else 0
    pos = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
    budget = [_MAX_SUB_BLOCKS]
    for _ in range(MAX_BLOCKS):
        if pos >= len(data):
            return
        introducer = data[pos]
        if introducer == 0x3B:
            if data[pos + 1 :].strip(b"\x00"):
                report.opaque("GIF", "data after the trailer", len(data) - pos - 1)
            return
        if introducer == 0x2C:
            local = data[pos + 9] if pos + 9 < len(data) else 0
            pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1  # + LZW code size
            pos, _ = _gif_sub_blocks(data, pos, budget)
        elif introducer == 0x21 and pos + 1 < len(data):
            label, start = data[pos + 1], pos + 2
            pos, size = _gif_sub_blocks(data, start, budget)
            if label == 0xFE:
                report.value(
                    ("free-text", True, "text"), "GIF", "comment", _gif_text(data, start, pos)
                )
            elif label == 0x01:
                report.opaque("GIF", "plain-text extension", size, "free-text")
            elif label == 0xFF:
                ident = data[start + 1 : start + 12] if data[start : start + 1] == b"\x0b" else b""
                if ident == b"XMP DataXMP":
                    read_xmp(report, data[start + 12 : pos])  # XMP is stored raw, lengths included
                elif ident == b"ICCRGBG1012":
                    report.tech("GIF")
                elif ident not in (b"NETSCAPE2.0", b"ANIMEXTS1.0"):
                    report.opaque("GIF", "application extension", size)
            elif label != 0xF9:
                report.opaque("GIF", f"extension 0x{label:02X}", size)
        else:
            report.unreadable("GIF", len(data) - pos, "unreadable block structure")
            return
    raise _TooManyBlocks


# --- TIFF, HEIF/AVIF, video ----------------------------------------------------------------


def _tiff(report: Report, data: bytes) -> None:
    read_exif(report, data, in_tiff=True)
    with Image.open(io.BytesIO(data), formats=["TIFF"]) as image:  # IFD0 only, no pixels
        iptc = IptcImagePlugin.getiptcinfo(image)
    if iptc:
        read_iptc(report, iptc)


def _heif(report: Report, data: bytes) -> None:
    import pillow_heif

    _movie_times(report, data)
    try:
        heif: Any = pillow_heif.open_heif(io.BytesIO(data))  # parses; decodes nothing
    except Exception:  # noqa: BLE001 - libheif refuses it: read what can be found
        try:
            _avif_with_pillow(report, data)
        except Exception:  # noqa: BLE001
            report.unreadable("HEIF", len(data), "unreadable container")
            _scan_for_blocks(report, data)
        return
    seen: set[bytes] = set()
    for image in heif:
        info = image.info
        for key, read in (("exif", read_exif), ("xmp", read_xmp)):
            block = info.get(key)
            if block and bytes(block) not in seen:
                seen.add(bytes(block))
                read(report, bytes(block))
        for item in info.get("metadata") or []:
            size = len(item.get("data") or b"")
            report.opaque("HEIF", f"{item.get('type') or 'metadata'} item", size)
        if thumbnails := info.get("thumbnails"):
            report.add("embedded-image", "HEIF", "thumbnail", f"{len(thumbnails)}", True)
        if depth := info.get("depth_images"):
            report.add("embedded-image", "HEIF", "depth map", f"{len(depth)}", True)
        for kind, ids in (info.get("aux") or {}).items():
            if "alpha" not in str(kind).lower():  # transparency is kept
                name = "HDR gain map" if "gainmap" in str(kind).lower() else "auxiliary picture"
                report.add("embedded-image", "HEIF", name, f"{len(ids)}", True)
    if len(heif) > 1:
        report.add("embedded-image", "HEIF", "further pictures", f"{len(heif) - 1}", True)


def _boxes(data: bytes, start: int, stop: int) -> Iterable[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the ISO boxes between ``start`` and ``stop``."""
    pos = start
    for _ in range(MAX_BLOCKS):
        if pos + 8 > stop:
            return
        size, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
        header = 8
        if size == 1:
            size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif size == 0:
            size = stop - pos
        if size < header or pos + size > stop:
            return
        yield kind, pos + header, pos + size
        pos += size


def _movie_times(report: Report, data: bytes) -> None:
    """The creation and modification times of an image sequence's movie header (``mvhd``),
    which libheif does not show; the conversion drops them."""
    for kind, start, end in _boxes(data, 0, len(data)):
        if kind != b"moov":
            continue
        for child, body, stop in _boxes(data, start, end):
            if child == b"mvhd" and stop - body >= 20:
                wide = data[body] == 1
                created = int.from_bytes(data[body + 4 : body + (12 if wide else 8)], "big")
                if created:  # seconds since 1904
                    year = 1904 + created // 31_556_952
                    report.add(
                        "date-time", "ISO mvhd", "creation time", f"{year} (year only)", True
                    )


_EXIF_IN_BLOB = re.compile(rb"Exif\x00\x00(?:II\*\x00|MM\x00\*)")
_XMP_IN_BLOB = re.compile(rb"<x:xmpmeta[^>]*>")


def _scan_for_blocks(report: Report, data: bytes) -> None:
    """EXIF and XMP found by their signatures in a container no parser would open."""
    if found := _EXIF_IN_BLOB.search(data):
        read_exif(report, data[found.start() : found.start() + (1 << 20)])
    if found := _XMP_IN_BLOB.search(data):
        end = data.find(b"</x:xmpmeta>", found.end())
        read_xmp(report, data[found.start() : end if end > 0 else len(data)])


def _avif_with_pillow(report: Report, data: bytes) -> None:
    with Image.open(io.BytesIO(data), formats=["AVIF"]) as image:
        if exif := image.info.get("exif"):
            read_exif(report, bytes(exif))
        if xmp := image.info.get("xmp"):
            read_xmp(report, bytes(xmp))
        frames = int(getattr(image, "n_frames", 1))
    if frames > 1:
        report.add("embedded-image", "AVIF", "further frames", f"{frames - 1}", True)


# Keys FFmpeg reports for any file, kept by the remux or rewritten empty: not listed.
_VIDEO_KEPT = frozenset(
    {
        "major_brand", "minor_version", "compatible_brands", "handler_name", "language",
        "vendor_id", "rotate", "duration", "doctype", "doctypeversion",
        "com.android.capture.fps", "alpha_mode",
    }
)  # fmt: skip
_TELEMETRY = frozenset(("gpmd", "djmd", "camm", "mett"))


def _video_tags(report: Report, where: str, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        if key.lower() in _VIDEO_KEPT or (key.lower() == "encoder" and value == "Lavf"):
            continue  # "Lavf": what the scrubber's muxer writes in bit-exact mode (WebM, MKV)
        rule = classify_name(key.rsplit(".", 1)[-1]) or ("other", True, "bytes")
        report.value(rule, where, key, value)


def _video(report: Report, kind: Kind, source: bytes | Path) -> None:
    import av

    # The one demuxer of the family the bytes say, as the video scrubber does: FFmpeg never
    # probes the data with the others.
    demuxer = "matroska" if kind in (Kind.WEBM, Kind.MKV) else "mov"
    file = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    opened = av.open(file, format=demuxer)
    with opened as container:
        _video_tags(report, "video container", dict(container.metadata))
        videos = 0
        for stream in container.streams:
            where = f"video stream {stream.index}"
            tag = (getattr(stream.codec_context, "codec_tag", "") or "").strip("\x00 ")
            attached = bool(stream.disposition & av.stream.Disposition.attached_pic)
            if stream.type == "video" and not attached:
                videos += 1
                if videos > 1:
                    report.add("embedded-image", where, "further video stream", "present", True)
            elif attached:
                report.add("embedded-image", where, "cover picture", "present", True)
            elif stream.type == "data" and tag in _TELEMETRY:
                report.add("location", where, f"{tag} telemetry track", "present", True)
            elif stream.type == "data" and tag == "tmcd":
                report.add("date-time", where, "timecode track", "present", True)
            elif stream.type == "subtitle":
                report.add("free-text", where, "subtitles", "present", True)
            elif stream.type != "audio":
                report.add("other", where, f"{stream.type} stream", "present", True)
            _video_tags(report, where, dict(stream.metadata))


# --- entry points --------------------------------------------------------------------------

_PARSERS = {
    Kind.JPEG: _jpeg,
    Kind.PNG: _png,
    Kind.WEBP: _webp,
    Kind.GIF: _gif,
    Kind.TIFF: _tiff,
    Kind.HEIF: _heif,
    Kind.AVIF: _heif,
}


def _read(report: Report, kind: Kind, source: bytes | Path) -> list[MetadataFinding]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind.is_video:
                _video(report, kind, source)
            else:
                assert isinstance(source, bytes)
                _PARSERS[kind](report, source)
    except Exception as exc:  # noqa: BLE001 - hostile input raises anything: fail closed
        size = len(source) if isinstance(source, bytes) else source.stat().st_size
        report.unreadable(kind.name, size, f"unreadable metadata ({type(exc).__name__})")
    return report.done()


def identifying_metadata(data: bytes) -> list[MetadataFinding]:
    """Every piece of metadata in ``data`` that the scrubber removes; see the module
    docstring. Never raises for malformed input: what cannot be read is itself a finding."""
    try:
        kind = sniff(data[:HEAD_BYTES])
    except ScrubError as exc:
        return [
            MetadataFinding("other", "file", f"not read ({exc.reason})", f"{len(data)} bytes", True)
        ]
    return _read(Report(), kind, data)


def metadata_of_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> list[MetadataFinding]:
    """:func:`identifying_metadata` of a file; a video is read from disk by FFmpeg, never
    whole into memory. Raises ``OSError`` when the file cannot be read."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
        size = handle.seek(0, io.SEEK_END)
        try:
            kind = sniff(head)
        except ScrubError as exc:
            return [
                MetadataFinding("other", "file", f"not read ({exc.reason})", f"{size} bytes", True)
            ]
        if kind.is_video:
            return _read(Report(), kind, path)
        if size > limits.max_image_bytes:
            return [MetadataFinding("other", "file", "not read (too large)", f"{size} bytes", True)]
        handle.seek(0)
        return identifying_metadata(handle.read(size + 1))
