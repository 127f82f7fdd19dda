"""The blocks of metadata every format can hold, read into masked findings (DEI-1, DEI-2).

EXIF (IFD0, IFD1, Exif, GPS and Interop IFDs, read by Pillow one IFD at a time: no chain is
followed further and no maker note is parsed), XMP (a linear tokenizer, never an XML
parser, up to :data:`MAX_XMP_BYTES` a file), IPTC datasets and Photoshop image resources.
:mod:`clinphoto.imaging.metadata` finds them in each file format and says what a report is.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Final, TypedDict

from PIL import ExifTags, Image

from clinphoto.imaging.metadata_tags import (
    EXIF_POINTERS,
    EXIF_SKIPPED,
    EXIF_TAGS,
    EXIF_TECHNICAL,
    GPS_POSITION,
    IPTC_DATASETS,
    PHOTOSHOP_TECHNICAL,
    Category,
    Rule,
    classify_name,
)

__all__ = [
    "MAX_BLOCKS",
    "MAX_FINDINGS",
    "MAX_XMP_BYTES",
    "MetadataFinding",
    "MetadataJson",
    "Report",
    "byte_count",
    "describe",
    "mask_text",
    "read_exif",
    "read_iptc",
    "read_photoshop",
    "read_xmp",
]

MAX_XMP_BYTES: Final = 4 << 20  # XMP tokenized in one file, at most
MAX_BLOCKS: Final = 200_000  # chunks, segments, blocks or XMP tokens walked, at most
MAX_FINDINGS: Final = 500  # listed one by one in a report, at most
_MAX_XMP_DEPTH: Final = 64


class MetadataJson(TypedDict):
    category: str
    where: str
    tag: str
    preview: str
    identifying: bool


@dataclass(frozen=True, slots=True)
class MetadataFinding:
    """One piece of metadata: ``preview`` is masked (see the module docstring)."""

    category: Category
    where: str  # "EXIF", "EXIF GPS", "XMP", "IPTC", "JPEG COM", "PNG tEXt", "JPEG trailer"...
    tag: str  # "Artist", "dc:creator", "By-line", "embedded thumbnail"...
    preview: str
    identifying: bool

    @property
    def label(self) -> str:
        """Where and what, for a reason line: "EXIF Artist", "EXIF GPS position"."""
        return f"{self.where} {self.tag}"

    def to_json(self) -> MetadataJson:
        return {
            "category": self.category,
            "where": self.where,
            "tag": self.tag,
            "preview": self.preview,
            "identifying": self.identifying,
        }


def describe(findings: Iterable[MetadataFinding], limit: int = 6) -> str:
    """The findings' labels for one line: the first ``limit``, then how many more."""
    labels = list(dict.fromkeys(finding.label for finding in findings))
    shown = ", ".join(labels[:limit])
    return shown if len(labels) <= limit else f"{shown} and {len(labels) - limit} more"


# --- masking -------------------------------------------------------------------------------

_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|2\d\d\d)(?!\d)")


def _text_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return bytes(value).decode("latin-1")
    if isinstance(value, tuple | list):
        return " ".join(_text_of(item) for item in value)
    return str(value)


def _blank(text: str) -> bool:
    return not text.strip(" \t\r\n\x00")


def mask_text(text: str) -> str | None:
    shown = text.strip(" \t\r\n\x00")
    if not shown:
        return None
    if len(shown) < 4:  # the first character would be too much of the value
        return f"{len(shown)} character{'s' if len(shown) > 1 else ''}"
    return f"{shown[0]}… ({len(shown)} characters)"


def _mask_date(text: str) -> str | None:
    if _blank(text) or not text.strip(" \t\r\n\x00:-.+0TZ/"):  # "0000:00:00 00:00:00"
        return None
    year = _YEAR.search(text)
    return f"{year.group(1)} (year only)" if year else "present"


def byte_count(size: int) -> str:
    return f"{size} byte{'' if size == 1 else 's'}"


def _preview(value: Any, kind: str) -> str | None:
    """The masked value, or None when it is blank (nothing to report). A list holds the
    values of one property (XMP, IPTC): the first is shown, and how many there are."""
    if isinstance(value, list):
        shown = [p for p in (_preview(item, kind) for item in value) if p is not None]
        return (
            None
            if not shown
            else shown[0]
            if len(shown) == 1
            else f"{shown[0]}; {len(shown)} values"
        )
    if isinstance(value, bytes | bytearray):
        data = bytes(value)
        if not data.strip(b"\x00 "):
            return None
        if kind == "bytes":
            return byte_count(len(data))
    if isinstance(value, tuple) and value and all(isinstance(v, int) for v in value):
        if not any(value):
            return None
        if kind == "bytes":
            return f"{len(value)} values"
    text = _text_of(value)
    if kind == "date":
        return _mask_date(text)
    if _blank(text):
        return None
    if kind == "presence":
        return "present"
    if kind == "bytes":
        return f"{len(text)} characters"
    return mask_text(text)


# --- the report ----------------------------------------------------------------------------


class Report:
    """Findings in the order found. A repeated finding (the same tag in many blocks) is
    listed once with how many more there are; technical tags are counted per place and
    listed at the end; past :data:`MAX_FINDINGS` the rest are only counted."""

    def __init__(self) -> None:
        self.findings: list[MetadataFinding] = []
        self.repeats: dict[tuple[str, str, str], int] = {}
        self.technical: dict[str, int] = {}
        self.dropped: list[bool] = []  # whether each finding past the cap identifies
        self.xmp_budget = MAX_XMP_BYTES

    def add(self, category: Category, where: str, tag: str, preview: str, ident: bool) -> None:
        key = (category, where, tag)
        if key in self.repeats:
            self.repeats[key] += 1
        elif len(self.findings) >= MAX_FINDINGS:
            self.dropped.append(ident)
        else:
            self.repeats[key] = 0
            self.findings.append(MetadataFinding(category, where, tag, preview, ident))

    def value(self, rule: Rule, where: str, tag: str, value: Any) -> None:
        category, identifying, kind = rule
        shown = _preview(value, kind)
        if shown is None:
            return
        if category == "technical":
            self.tech(where)
        else:
            self.add(category, where, tag, shown, identifying)

    def opaque(self, where: str, tag: str, size: int, category: Category = "other") -> None:
        """Data we list by size only; identifying (we cannot say it is harmless)."""
        self.add(category, where, tag, byte_count(size), True)

    def unreadable(self, where: str, size: int, why: str = "unreadable") -> None:
        self.add("other", where, why, f"{size} bytes that could not be read", True)

    def tech(self, where: str, count: int = 1) -> None:
        self.technical[where] = self.technical.get(where, 0) + count

    def done(self) -> list[MetadataFinding]:
        for where, count in self.technical.items():
            shown = f"{count} tag{'s' if count > 1 else ''}"
            self.add("technical", where, "camera and format settings", shown, False)
        self.technical = {}
        out = []
        for found in self.findings:
            more = self.repeats[(found.category, found.where, found.tag)]
            out.append(
                replace(found, preview=f"{found.preview}, and {more} more") if more else found
            )
        if self.dropped:
            count = len(self.dropped)
            out.append(
                MetadataFinding(
                    "other", "file", "further findings", f"{count} more", any(self.dropped)
                )
            )
        return out


# --- EXIF, XMP, IPTC, Photoshop ------------------------------------------------------------


def _as_bytes(value: Any) -> bytes | None:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, tuple) and all(isinstance(v, int) and 0 <= v < 256 for v in value):
        return bytes(value)
    return None


def _exif_text(tag: int, value: Any) -> Any:
    """UserComment and the Windows XP tags as text (for their length), else the value."""
    raw = _as_bytes(value)
    if raw is None:
        return value
    if tag == 0x9286:  # UserComment: an 8-byte character-set code, then the text
        code, body = raw[:8], raw[8:]
        return body.decode("utf-16-le" if code.startswith(b"UNICODE") else "latin-1", "replace")
    if 0x9C9B <= tag <= 0x9C9F:  # XPTitle, XPComment, XPAuthor, XPKeywords, XPSubject
        return raw.decode("utf-16-le", "replace")
    return value


def _exif_tag(report: Report, where: str, tag: int, value: Any, *, in_tiff: bool) -> None:
    if tag in EXIF_POINTERS or tag in EXIF_SKIPPED:
        return
    if tag == 0x02BC and (packet := _as_bytes(value)) is not None:
        read_xmp(report, packet)
        return
    if tag == 0x83BB and in_tiff:
        return  # a TIFF's IPTC is read with Pillow's IPTC reader
    name = ExifTags.TAGS.get(tag, f"tag 0x{tag:04X}")
    rule = EXIF_TAGS.get(tag)
    if rule is None and tag in EXIF_TECHNICAL:
        report.tech(where)
        return
    if rule is None:
        rule = classify_name(name) if tag in ExifTags.TAGS else None
    report.value(rule or ("other", True, "bytes"), where, name, _exif_text(tag, value))


def _gps(report: Report, gps: dict[int, Any]) -> None:
    where = "EXIF GPS"
    position = [gps[k] for k in sorted(GPS_POSITION) if k in gps]
    if any(_preview(v, "presence") for v in position):
        report.add("location", where, "position", "present", True)
    for tag, value in gps.items():
        name = ExifTags.GPSTAGS.get(tag, f"tag {tag}")
        if tag == 0 or tag in GPS_POSITION:
            continue
        if tag in (7, 29):  # GPSTimeStamp, GPSDateStamp
            report.value(
                ("date-time", True, "date" if tag == 29 else "presence"), where, name, value
            )
        elif tag == 18:  # GPSMapDatum: "WGS-84"
            report.value(("technical", False, "presence"), where, name, value)
        elif tag in (27, 28):  # GPSProcessingMethod, GPSAreaInformation: text
            report.value(("location", True, "text"), where, name, value)
        else:
            report.value(("location", True, "presence"), where, name, value)


def read_exif(report: Report, blob: bytes, *, in_tiff: bool = False) -> None:
    """Every tag of an EXIF block (JPEG APP1, PNG eXIf, WebP EXIF...) or of a TIFF file.

    ``in_tiff``: ``blob`` is a whole TIFF file, whose IFD1 is a second picture.
    """
    where = "TIFF" if in_tiff else "EXIF"
    exif = Image.Exif()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exif.load(blob)
            ifd0 = dict(exif)
            exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
            gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
            interop = exif.get_ifd(ExifTags.IFD.Interop)
            ifd1 = exif.get_ifd(ExifTags.IFD.IFD1)
        except Exception:  # noqa: BLE001 - a hostile block raises anything; it is reported
            report.unreadable(where, len(blob), "unreadable EXIF")
            return
    for tag, value in ifd0.items():
        _exif_tag(report, where, tag, value, in_tiff=in_tiff)
    for tag, value in [*exif_ifd.items(), *interop.items()]:
        _exif_tag(report, "EXIF", tag, value, in_tiff=in_tiff)
    _gps(report, gps)
    if ifd1:
        if in_tiff:
            report.add("embedded-image", where, "second picture (IFD1)", "present", True)
        else:
            if 0x0201 in ifd1 or 0x0111 in ifd1 or 0x0144 in ifd1:
                size = ifd1.get(0x0202)
                shown = f"{size} bytes" if isinstance(size, int) else "present"
                report.add("embedded-image", where, "embedded thumbnail", shown, True)
            for tag, value in ifd1.items():
                if tag not in EXIF_TECHNICAL:
                    _exif_tag(report, where, tag, value, in_tiff=in_tiff)
    if caught:
        report.unreadable(where, len(blob), "partly unreadable EXIF")


# One XMP token: an element tag (name, attributes), any other markup, or text.
_XMP_TOKEN = re.compile(
    rb"<(/?)([A-Za-z_][\w.\-]*:[\w.\-]+)((?:[^<>\"']|\"[^\"]*\"|'[^']*')*)>|<[^<>]*>|([^<]+)"
)
_XMP_ATTR = re.compile(rb"([A-Za-z_][\w.\-]*:[\w.\-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_XMP_SYNTAX = frozenset((b"rdf", b"x", b"xmlns", b"xml", b"xe"))
# Schemas whose other properties describe the picture, its editing or its file.
_XMP_TECHNICAL = frozenset(
    {
        "crs", "tiff", "exif", "exifEX", "aux", "photoshop", "xmp", "xmpMM", "stEvt", "stRef",
        "stDim", "stFnt", "stJob", "xmpTPg", "xmpG", "xmpGImg", "GPano", "hdrgm", "pdf", "dc",
        "xmpRights", "Iptc4xmpCore", "lr", "GCamera", "Camera", "Container", "Item",
        "xmpNote", "MicrosoftPhoto", "apple-fi", "HDRGainMap", "xmpDM", "xmpBJ", "illustrator",
        "GDepth", "GImage", "mwg-rs", "stArea",
    }
)  # fmt: skip


def _xmp_rule(prop: str) -> Rule:
    prefix, _, local = prop.partition(":")
    if (prefix in ("GDepth", "GImage") and local == "Data") or local == "image":
        return ("embedded-image", True, "bytes")
    rule = classify_name(local)
    if rule is not None:
        return rule
    return (
        ("technical", False, "presence") if prefix in _XMP_TECHNICAL else ("other", True, "bytes")
    )


def read_xmp(report: Report, packet: bytes, where: str = "XMP") -> None:
    """The properties of an XMP packet, found by a linear tokenizer (never an XML parser)."""
    if report.xmp_budget <= 0:
        report.opaque(where, "packet not read (over the size cap)", len(packet))
        return
    text = packet[: report.xmp_budget]
    report.xmp_budget -= len(text)
    values: dict[str, list[str]] = {}

    def keep(name: bytes, value: bytes) -> None:
        prop = name.decode("ascii", "replace")
        values.setdefault(prop, []).append(value.decode("utf-8", "replace"))

    stack: list[bytes] = []
    for count, token in enumerate(_XMP_TOKEN.finditer(text)):
        if count >= MAX_BLOCKS:
            report.opaque(where, "packet not fully read (too many elements)", len(packet))
            break
        closing, name, attributes, chars = token.groups()
        if name is not None:
            if closing:
                if name in stack:
                    del stack[len(stack) - 1 - stack[::-1].index(name) :]
                continue
            for attribute in _XMP_ATTR.finditer(attributes):
                if attribute.group(1).split(b":", 1)[0] not in _XMP_SYNTAX:
                    keep(attribute.group(1), attribute.group(2) or attribute.group(3) or b"")
            if not attributes.rstrip().endswith(b"/") and len(stack) < _MAX_XMP_DEPTH:
                stack.append(name)
        elif chars is not None and chars.strip():
            owner = next((n for n in reversed(stack) if n.split(b":")[0] not in _XMP_SYNTAX), None)
            if owner is not None:
                keep(owner, chars)
    if len(packet) > len(text):
        report.opaque(where, "packet not fully read (over the size cap)", len(packet))
    for prop, found in values.items():
        rule = _xmp_rule(prop)
        shown = [v for v in found if not _blank(v)]
        if shown:
            report.value(rule, where, prop, shown[0] if len(shown) == 1 else shown)


def read_iptc(report: Report, datasets: dict[tuple[int, int], Any]) -> None:
    for key, value in datasets.items():
        name, rule = IPTC_DATASETS.get(
            key, (f"dataset {key[0]}:{key[1]}", ("other", True, "bytes"))
        )
        items = value if isinstance(value, list) else [value]
        filled = [item for item in items if item and not _blank(_text_of(item))]
        if filled:
            report.value(rule, "IPTC", name, filled[0] if len(filled) == 1 else filled)


def read_photoshop(report: Report, resources: dict[int, Any]) -> None:
    """Photoshop image resources (JPEG APP13), as Pillow splits them; IPTC is read apart."""
    for code, value in resources.items():
        data = value if isinstance(value, bytes) else b""
        if code == 0x0404 or (isinstance(value, bytes) and not value.strip(b"\x00")):
            continue
        if code in (0x0409, 0x040C):
            report.opaque("Photoshop", "thumbnail", len(data), "embedded-image")
        elif code in (0x0422, 0x0423):
            read_exif(report, data)
        elif code == 0x0424:
            read_xmp(report, data)
        elif code in PHOTOSHOP_TECHNICAL or not isinstance(value, bytes):
            report.tech("Photoshop")
        else:
            report.opaque("Photoshop", f"resource 0x{code:04X}", len(data))
