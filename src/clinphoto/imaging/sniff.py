"""What a file is, judged by its first bytes only: never by its name or a declared type.

:func:`sniff` answers with a :class:`Kind` we know how to scrub, or raises
:class:`~clinphoto.imaging.errors.ScrubError` (``unsupported-format``, or ``empty``) with a
message naming what the bytes look like when we recognise it (BMP, camera raw, PDF...).

ISO base media files (HEIC, AVIF, MP4, MOV) all start with an ``ftyp`` box; they are told
apart by its major brand and then by its compatible brands, image brands first, because a
HEIF or AVIF image also lists structural brands such as ``mif1`` or ``iso8``.
"""

from __future__ import annotations

import struct
from enum import StrEnum

from clinphoto.imaging.errors import ScrubError

__all__ = ["HEAD_BYTES", "Kind", "sniff"]

HEAD_BYTES = 4096  # enough for every signature below, the ftyp brands and the EBML DocType


class Kind(StrEnum):
    """A format we accept, with the media type and file extension of its scrubbed output."""

    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    GIF = "gif"
    TIFF = "tiff"
    HEIF = "heif"  # HEIC and other HEIF images and image sequences
    AVIF = "avif"
    MP4 = "mp4"
    MOV = "mov"
    WEBM = "webm"
    MKV = "mkv"

    @property
    def is_video(self) -> bool:
        return self in _VIDEO

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self]


_VIDEO = frozenset((Kind.MP4, Kind.MOV, Kind.WEBM, Kind.MKV))
_MEDIA_TYPES = {
    Kind.JPEG: "image/jpeg",
    Kind.PNG: "image/png",
    Kind.WEBP: "image/webp",
    Kind.GIF: "image/gif",
    Kind.TIFF: "image/tiff",
    Kind.HEIF: "image/heic",
    Kind.AVIF: "image/avif",
    Kind.MP4: "video/mp4",
    Kind.MOV: "video/quicktime",
    Kind.WEBM: "video/webm",
    Kind.MKV: "video/x-matroska",
}
_EXTENSIONS = {
    Kind.JPEG: ".jpg",
    Kind.PNG: ".png",
    Kind.WEBP: ".webp",
    Kind.GIF: ".gif",
    Kind.TIFF: ".tif",
    Kind.HEIF: ".heic",
    Kind.AVIF: ".avif",
    Kind.MP4: ".mp4",
    Kind.MOV: ".mov",
    Kind.WEBM: ".webm",
    Kind.MKV: ".mkv",
}

# ISO-BMFF brands (ISO/IEC 14496-12, 23008-12 HEIF, AV1-AVIF, QuickTime).
_AVIF_BRANDS = frozenset((b"avif", b"avis"))
_HEIF_BRANDS = frozenset(
    (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"heif", b"jpeg")
)
_HEIF_STRUCTURAL = frozenset((b"mif1", b"msf1", b"mif2", b"miaf"))
_MOV_BRANDS = frozenset((b"qt  ",))
_MP4_BRANDS = frozenset(
    (
        b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9",
        b"mp41", b"mp42", b"mp71", b"avc1", b"hvc1", b"av01", b"M4V ", b"M4VH", b"M4VP",
        b"MSNV", b"dash", b"3gp4", b"3gp5", b"3gp6", b"3gp7", b"3gp8", b"3gp9", b"3g2a",
        b"3g2b", b"3g2c", b"f4v ", b"XAVC", b"mmp4", b"NDAS", b"caqv",
    )
)  # fmt: skip
# Brands that say "camera raw" or "not a picture we take", named in the refusal.
_REJECTED_BRANDS = {
    b"crx ": "a Canon CR3 camera raw file",
    b"M4A ": "an MPEG-4 audio file",
    b"M4B ": "an MPEG-4 audio book",
    b"jp2 ": "a JPEG 2000 image",
    b"jpx ": "a JPEG 2000 image",
    b"jxl ": "a JPEG XL image",
}
# QuickTime files older than the ftyp box start with one of these top-level atoms.
_QT_ATOMS = frozenset((b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"))

# Signatures of formats we refuse, so the refusal can say what the file is.
_REJECTED_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"BM", "a BMP image"),
    (0, b"8BPS", "a Photoshop document"),
    (0, b"%PDF", "a PDF document"),
    (0, b"%!PS", "a PostScript document"),
    (0, b"\xc5\xd0\xd3\xc6", "an EPS document"),
    (0, b"\xff\x4f\xff\x51", "a JPEG 2000 codestream"),
    (0, b"\x00\x00\x00\x0cjP  \r\n\x87\n", "a JPEG 2000 image"),
    (0, b"\xff\x0a", "a JPEG XL image"),
    (0, b"\x00\x00\x00\x0cJXL \r\n\x87\n", "a JPEG XL image"),
    (0, b"\x00\x00\x01\x00", "a Windows icon"),
    (0, b"\x00\x00\x02\x00", "a Windows cursor"),
    (0, b"icns", "a macOS icon"),
    (0, b"qoif", "a QOI image"),
    (0, b"DDS ", "a DirectDraw surface"),
    (0, b"gimp xcf", "a GIMP document"),
    (0, b"FUJIFILMCCD-RAW", "a Fujifilm RAF camera raw file"),
    (0, b"IIRO", "an Olympus ORF camera raw file"),
    (0, b"IIRS", "an Olympus ORF camera raw file"),
    (0, b"MMOR", "an Olympus ORF camera raw file"),
    (0, b"IIU\x00", "a Panasonic RW2 camera raw file"),
    (0, b"FOVb", "a Sigma X3F camera raw file"),
    (0, b"OggS", "an Ogg stream"),
    (0, b"FLV", "a Flash video"),
    (0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "an ASF/WMV video"),
    (0, b"\x00\x00\x01\xba", "an MPEG program stream"),
    (0, b"\x00\x00\x01\xb3", "an MPEG video stream"),
    (0, b"PK\x03\x04", "a ZIP archive"),
    (0, b"\x1f\x8b", "a gzip archive"),
    (0, b"<svg", "an SVG drawing"),
    (0, b"<?xml", "an XML document"),
    (0, b"\xd7\xcd\xc6\x9a", "a Windows metafile"),
    (0, b"\x01\x00\x00\x00", "an enhanced metafile or other binary"),
    (0, b"\x59\xa6\x6a\x95", "a Sun raster image"),
    (0, b"\x01\xda", "an SGI image"),
    (0, b"\x76\x2f\x31\x01", "an OpenEXR image"),
    (0, b"#?RADIANCE", "a Radiance HDR image"),
    (0, b"SIMPLE  =", "a FITS image"),
    (0, b"\x00\x00\x00\x00\x00\x00\x00\x00", "binary data with no signature"),
)


def _ftyp_kind(head: bytes) -> Kind:
    size = struct.unpack(">I", head[:4])[0]
    if size == 1 and len(head) >= 16:  # 64-bit size follows the type
        size = struct.unpack(">Q", head[8:16])[0]
        brands_at = 16
    else:
        brands_at = 8
    if size < 16 or len(head) < brands_at + 8:
        raise ScrubError("truncated ISO media file: the ftyp box is cut off", reason="truncated")
    end = min(size, len(head))
    major = head[brands_at : brands_at + 4]
    compatible = [head[i : i + 4] for i in range(brands_at + 8, end - 3, 4)]
    named = _REJECTED_BRANDS.get(major)  # before the compatible brands: CR3 lists isom
    if named is not None:
        raise ScrubError(f"{named} is not accepted", reason="unsupported-format")
    for brands in ([major], compatible):
        kind = _kind_of_brands(brands, compatible)
        if kind is not None:
            return kind
    shown = major.decode("ascii", "replace").strip() or "?"
    raise ScrubError(
        f"an ISO media file of brand {shown!r} is neither a HEIF/AVIF image nor an MP4/MOV video",
        reason="unsupported-format",
    )


def _kind_of_brands(brands: list[bytes], compatible: list[bytes]) -> Kind | None:
    if any(b in _AVIF_BRANDS for b in brands):
        return Kind.AVIF
    if any(b in _HEIF_BRANDS for b in brands):
        return Kind.HEIF
    if any(b in _HEIF_STRUCTURAL for b in brands):
        # A generic HEIF brand as major brand: the codec brand may be among the compatible ones.
        return Kind.AVIF if any(b in _AVIF_BRANDS for b in compatible) else Kind.HEIF
    if any(b in _MOV_BRANDS for b in brands):
        return Kind.MOV
    if any(b in _MP4_BRANDS for b in brands):
        return Kind.MP4
    return None


def _ebml_kind(head: bytes) -> Kind:
    """WebM or Matroska from the EBML header's DocType element (ID 42 82)."""
    at = head.find(b"\x42\x82", 4, 64)
    if at < 0 or at + 3 > len(head):
        return Kind.MKV
    size_byte = head[at + 2]
    if size_byte & 0x80:  # one-byte EBML size: the common case
        size = size_byte & 0x7F
        doctype = head[at + 3 : at + 3 + size]
        if doctype == b"webm":
            return Kind.WEBM
    return Kind.MKV


def _tiff_kind(head: bytes) -> Kind:
    if len(head) >= 12 and head[8:10] == b"CR" and head[:2] == b"II":
        raise ScrubError("a Canon CR2 camera raw file is not accepted", reason="unsupported-format")
    return Kind.TIFF


def sniff(head: bytes) -> Kind:
    """The kind of the data whose first bytes (up to :data:`HEAD_BYTES`) are ``head``.

    Raises :class:`ScrubError` with reason ``empty`` for no bytes, ``unsupported-format`` for
    anything that is not one of :class:`Kind`, and ``truncated`` for a cut-off ``ftyp`` box.
    """
    if not head:
        raise ScrubError("the file is empty", reason="empty")
    if head.startswith(b"\xff\xd8\xff"):
        return Kind.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Kind.PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return Kind.GIF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return Kind.WEBP
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return _tiff_kind(head)
    if head[4:8] == b"ftyp":
        return _ftyp_kind(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _ebml_kind(head)
    if head[4:8] in _QT_ATOMS and struct.unpack(">I", head[:4])[0] >= 8:
        return Kind.MOV
    if head.startswith(b"RIFF") and head[8:12] in (b"AVI ", b"WAVE"):
        what = "an AVI video" if head[8:12] == b"AVI " else "a WAV sound file"
        raise ScrubError(f"{what} is not accepted", reason="unsupported-format")
    for offset, magic, what in _REJECTED_MAGIC:
        if head.startswith(magic, offset):
            raise ScrubError(f"{what} is not accepted", reason="unsupported-format")
    if head.startswith(b"\xff\xd8"):
        raise ScrubError(
            "the data starts like a JPEG (FF D8) but no marker follows", reason="malformed"
        )
    raise ScrubError(
        "unknown file format: accepted are JPEG, PNG, WebP, GIF, TIFF, HEIC/HEIF, AVIF,"
        " MP4, MOV, WebM and Matroska",
        reason="unsupported-format",
    )
