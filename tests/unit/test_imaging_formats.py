"""Scrubbing every still-image format (DEI-1, TRN-3, STO-4): metadata gone, pixels kept, bad
input refused with a reason.

Every file here is made in code with Pillow / pillow-heif (metadata written by them or by hand),
and exiftool is the independent judge of what is left (:mod:`tests.corpus.oracle`).
"""

from __future__ import annotations

import io
import os
import pickle
import random
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import pillow_heif
import pytest
from PIL import Image, ImageCms, ImageOps, ImageSequence, PngImagePlugin

from clinphoto.imaging.errors import REASONS, ScrubError
from clinphoto.imaging.exif import orientation_tiff
from clinphoto.imaging.icc import clean_icc
from clinphoto.imaging.limits import DEFAULT_LIMITS, Limits
from clinphoto.imaging.png import png_orientation, scrub_png
from clinphoto.imaging.sandbox import run_isolated
from clinphoto.imaging.scrub import Scrubbed, scrub_bytes, scrub_file
from clinphoto.imaging.sniff import Kind, sniff
from clinphoto.imaging.tiff import convert_tiff
from clinphoto.imaging.webp import webp_orientation
from tests.corpus.oracle import EXIFTOOL, exiftool_json, leaks
from tests.unit.test_imaging_jpeg import NAME, XMP

needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool is not installed")

_open_heif: Any = pillow_heif.open_heif
_register_heif: Any = pillow_heif.register_heif_opener
_register_heif()


# --- fixtures made in code -----------------------------------------------------------------


def _photo(size: tuple[int, int] = (96, 64), seed: int = 1) -> Image.Image:
    """Photo-like content (noise over gradients) with a red top-left marker."""
    noise = Image.frombytes("L", size, random.Random(seed).randbytes(size[0] * size[1]))
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.merge(
        "RGB", [Image.blend(noise, gradient, 0.6), gradient, Image.blend(noise, gradient, 0.3)]
    )
    image.paste((255, 0, 0), (0, 0, size[0] // 4, size[1] // 4))
    return image


def _exif(orientation: int | None = 6) -> Image.Exif:
    """A fresh EXIF (Pillow's savers may mutate it) with the usual identifying tags."""
    exif = Image.Exif()
    exif[0x010E] = NAME  # ImageDescription
    exif[0x010F] = "Apple"  # Make
    exif[0x0110] = "iPhone 15 Pro"  # Model
    exif[0x0132] = "2024:01:02 03:04:05"  # DateTime
    exif[0x013B] = "Dr Who"  # Artist
    if orientation is not None:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (43.0, 39.0, 12.5)
    gps[3] = "W"
    gps[4] = (79.0, 23.0, 1.0)
    return exif


def _save(image: Image.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def _frames(data: bytes) -> list[tuple[str, tuple[int, int], bytes]]:
    with Image.open(io.BytesIO(data)) as image:
        return [(f.mode, f.size, f.tobytes()) for f in ImageSequence.Iterator(image)]


def _shown(data: bytes) -> Image.Image:
    """The picture as a viewer shows it: decoded, EXIF orientation applied."""
    with Image.open(io.BytesIO(data)) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def _tags(data: bytes, tmp_path: Path, name: str = "probe.bin") -> dict[str, Any]:
    path = tmp_path / name
    path.write_bytes(data)
    return exiftool_json([path])[str(path)]


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(kind))
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _png_chunks(data: bytes) -> list[bytes]:
    kinds, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        kinds.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return kinds


def _reason(data: bytes, limits: Limits = DEFAULT_LIMITS) -> str:
    with pytest.raises(ScrubError) as caught:
        scrub_bytes(data, limits)
    assert caught.value.reason in REASONS
    return caught.value.reason


# --- sniffing: magic bytes decide, never the name ---------------------------------------------


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08mdat"


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (_ftyp(b"heic", b"mif1", b"heic"), Kind.HEIF),
        (_ftyp(b"mif1", b"mif1", b"heic", b"miaf"), Kind.HEIF),
        (_ftyp(b"msf1", b"msf1", b"hevc"), Kind.HEIF),
        (_ftyp(b"avif", b"avif", b"mif1", b"miaf"), Kind.AVIF),
        (_ftyp(b"mif1", b"mif1", b"avif", b"miaf"), Kind.AVIF),
        (_ftyp(b"avis", b"avis", b"msf1"), Kind.AVIF),
        (_ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), Kind.MP4),
        (_ftyp(b"mp42", b"mp42", b"isom"), Kind.MP4),
        (_ftyp(b"M4V ", b"M4V ", b"M4A ", b"mp42"), Kind.MP4),
        (_ftyp(b"qt  ", b"qt  "), Kind.MOV),
        (_ftyp(b"XXXX", b"isom", b"mp42"), Kind.MP4),
        (b"\x00\x00\x00\x08wide\x00\x00\x00\x10mdat", Kind.MOV),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", Kind.WEBM),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", Kind.MKV),
        (b"\xff\xd8\xff\xe0", Kind.JPEG),
        (b"\x89PNG\r\n\x1a\n", Kind.PNG),
        (b"GIF89a", Kind.GIF),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", Kind.WEBP),
        (b"II*\x00\x08\x00\x00\x00", Kind.TIFF),
        (b"MM\x00*\x00\x00\x00\x08", Kind.TIFF),
    ],
)
def test_dei1_sniff_decides_by_magic_bytes_and_brands(head: bytes, kind: Kind) -> None:
    assert sniff(head) is kind


def test_dei1_sniff_tells_mp4_from_heic() -> None:
    heic = _save(_photo(), "HEIF", quality=50)
    assert sniff(heic[:4096]) is Kind.HEIF
    assert sniff(_ftyp(b"isom", b"isom", b"avc1")) is Kind.MP4
    with pytest.raises(ScrubError, match="video") as caught:
        scrub_bytes(_ftyp(b"isom", b"isom", b"avc1"))
    assert caught.value.reason == "unsupported-format"


@pytest.mark.parametrize(
    ("head", "reason", "words"),
    [
        (b"", "empty", "empty"),
        (b"BM\x00\x00", "unsupported-format", "BMP"),
        (b"8BPS\x00\x01", "unsupported-format", "Photoshop"),
        (b"II*\x00\x10\x00\x00\x00CR\x02\x00", "unsupported-format", "CR2"),
        (_ftyp(b"crx ", b"crx ", b"isom"), "unsupported-format", "CR3"),
        (b"IIRO\x08\x00", "unsupported-format", "ORF"),
        (b"%PDF-1.7", "unsupported-format", "PDF"),
        (b"hello, world", "unsupported-format", "unknown"),
        (b"\x00\x00\x00\x10ftyp", "truncated", "ftyp"),
    ],
)
def test_trn3_sniff_refuses_other_formats_with_a_reason(
    head: bytes, reason: str, words: str
) -> None:
    with pytest.raises(ScrubError, match=words) as caught:
        sniff(head)
    assert caught.value.reason == reason


def test_dei1_png_named_jpg_is_scrubbed_as_png(tmp_path: Path) -> None:
    src = tmp_path / "wound.jpg"
    src.write_bytes(_save(_photo(), "PNG", pnginfo=_png_text()))
    result = scrub_file(src, tmp_path / "out.jpg")
    assert (result.kind, result.media_type, result.extension) == ("png", "image/png", ".png")
    assert (tmp_path / "out.jpg").read_bytes() == result.data
    assert (tmp_path / "out.jpg").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jpg", "wound.jpg"]
    assert result.data.startswith(b"\x89PNG")
    assert NAME.encode() not in result.data


# --- PNG ------------------------------------------------------------------------------------


def _png_text() -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", NAME)
    info.add_text("Comment", NAME, zip=True)  # zTXt
    info.add_itxt("Description", NAME, lang="en", tkey="Description")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add(b"tIME", struct.pack(">HBBBBB", 2024, 1, 2, 3, 4, 5))
    return info


def _tagged_png(image: Image.Image | None = None) -> bytes:
    """A PNG with text, time, EXIF (GPS, orientation 6), a private chunk and a trailer."""
    data = _save(image or _photo(), "PNG", pnginfo=_png_text(), exif=_exif())
    iend = data.rindex(b"IEND") - 4
    private = _chunk(b"prVt", NAME.encode())
    return data[:iend] + private + data[iend:] + b"trailing " + NAME.encode()


@needs_exiftool
def test_dei1_png_fixture_really_carries_the_metadata(tmp_path: Path) -> None:
    tags = _tags(_tagged_png(), tmp_path, "in.png")
    assert any(k.startswith("GPS:") for k in tags)
    assert tags.get("PNG:Author") == NAME
    assert any(k.startswith("XMP") for k in tags)
    assert leaks(tags)


@needs_exiftool
def test_dei1_png_scrub_leaves_only_allowed_tags(tmp_path: Path) -> None:
    out = scrub_bytes(_tagged_png()).data
    tags = _tags(out, tmp_path, "out.png")
    assert leaks(tags) == []
    assert tags["IFD0:Orientation"] == "Rotate 90 CW"
    assert NAME.encode() not in out
    assert b"Jane" not in out


def test_dei1_png_scrub_keeps_pixels_and_orientation_and_drops_the_rest() -> None:
    data = _tagged_png()
    out = scrub_png(data)
    assert _frames(out) == _frames(data)
    assert png_orientation(out) == 6
    assert _png_chunks(out) == [b"IHDR", b"eXIf", b"IDAT", b"IEND"]
    assert out.endswith(b"IEND\xaeB`\x82")


def test_dei1_png_keeps_rendering_chunks_and_renames_the_icc_profile() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _save(_photo().convert("P"), "PNG", icc_profile=icc, transparency=3, dpi=(300, 300))
    renamed = data.replace(b"iCCP", b"iCCP", 1)
    at = renamed.index(b"iCCP")
    (length,) = struct.unpack_from(">I", renamed, at - 4)
    payload = renamed[at + 4 : at + 4 + length]
    named = NAME.encode()[:40] + payload[payload.index(b"\x00") :]
    data = renamed[: at - 4] + _chunk(b"iCCP", named) + renamed[at + 8 + length :]
    out = scrub_png(data)
    assert NAME.encode()[:10] not in out
    assert {b"PLTE", b"tRNS", b"pHYs", b"iCCP"} <= set(_png_chunks(out))
    assert _frames(out) == _frames(data)
    with Image.open(io.BytesIO(out)) as image:
        assert image.info["icc_profile"] == clean_icc(icc)


def test_dei1_png_keeps_16_bit_and_interlaced_pixels() -> None:
    deep = Image.linear_gradient("L").resize((64, 40)).convert("I").point(lambda v: v * 257)
    for data in (
        _save(deep.convert("I;16"), "PNG", pnginfo=_png_text()),
        _save(_photo(), "PNG", pnginfo=_png_text(), interlace=1),
        _save(_photo().convert("RGBA"), "PNG", pnginfo=_png_text()),
    ):
        out = scrub_png(data)
        assert _frames(out) == _frames(data)
        assert b"Jane" not in out


def test_dei1_apng_frames_kept_text_dropped() -> None:
    frames = [_photo(seed=seed) for seed in range(3)]
    data = _save(frames[0], "PNG", save_all=True, append_images=frames[1:], pnginfo=_png_text())
    out = scrub_png(data)
    assert len(_frames(out)) == 3
    assert _frames(out) == _frames(data)
    assert b"Jane" not in out


def test_trn3_png_bad_crc_truncation_and_unknown_critical_chunk_are_refused() -> None:
    data = _save(_photo(), "PNG")
    broken = bytearray(data)
    broken[40] ^= 0xFF  # inside IDAT
    assert _reason(bytes(broken)) == "malformed"
    assert _reason(data[: len(data) // 2]) == "truncated"
    assert _reason(data[:-12]) == "truncated"  # no IEND
    critical = data[:33] + _chunk(b"CgBI", b"\x50\x00\x20\x06") + data[33:]
    assert _reason(critical) == "unsupported-feature"


def test_dei1_png_declared_size_is_checked_before_anything_else() -> None:
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
    bomb += _chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + _chunk(b"IEND", b"")
    assert _reason(bomb) == "too-many-pixels"


def test_dei1_png_icc_profile_bomb_is_refused() -> None:
    data = _save(_photo(), "PNG")
    huge = zlib.compress(b"\x00" * (17 * 1024 * 1024), 9)
    iccp = _chunk(b"iCCP", b"icc\x00\x00" + huge)
    assert _reason(data[:33] + iccp + data[33:]) == "decompression-bomb"


# --- WebP -----------------------------------------------------------------------------------


def _tagged_webp(**params: Any) -> bytes:
    return _save(_photo(), "WEBP", exif=_exif(), xmp=XMP, **params)


@needs_exiftool
def test_dei1_webp_scrub_leaves_only_allowed_tags(tmp_path: Path) -> None:
    data = _tagged_webp(quality=90)
    before = _tags(data, tmp_path, "in.webp")
    assert any(k.startswith("GPS:") for k in before)
    assert any(k.startswith("XMP") for k in before)
    out = scrub_bytes(data).data
    tags = _tags(out, tmp_path, "out.webp")
    assert leaks(tags) == []
    assert tags["IFD0:Orientation"] == "Rotate 90 CW"
    assert b"Jane" not in out
    assert b"Apple" not in out


@pytest.mark.parametrize("params", [{"quality": 90}, {"lossless": True}])
def test_dei1_webp_keeps_pixels_orientation_and_fixes_riff_size(params: dict[str, Any]) -> None:
    data = _tagged_webp(**params) + b"trailing bytes " + NAME.encode()
    out = scrub_bytes(data).data
    assert _frames(out) == _frames(data)
    assert webp_orientation(out) == 6
    assert struct.unpack_from("<I", out, 4)[0] == len(out) - 8
    assert b"XMP " not in out
    assert b"Jane" not in out


def test_dei1_webp_animation_kept_metadata_dropped() -> None:
    frames = [_photo(seed=seed).convert("RGBA") for seed in range(3)]
    data = _save(
        frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True, exif=_exif()
    )
    out = scrub_bytes(data).data
    assert len(_frames(out)) == 3
    assert _frames(out) == _frames(data)
    assert b"Jane" not in out


def test_trn3_webp_truncated_and_bomb_are_refused() -> None:
    data = _tagged_webp(quality=90)
    assert _reason(data[: len(data) // 2]) == "truncated"
    assert _reason(data, Limits(max_pixels=96 * 64 - 1)) == "too-many-pixels"


# --- GIF ------------------------------------------------------------------------------------


def _gif_extension(label: int, *blocks: bytes) -> bytes:
    body = b"".join(bytes((len(block),)) + block for block in blocks)
    return b"\x21" + bytes((label,)) + body + b"\x00"


def _tagged_gif() -> bytes:
    """An animated GIF with a comment, an XMP and a private application block, a trailer."""
    frames = [_photo(seed=seed).convert("P") for seed in range(3)]
    data = _save(frames[0], "GIF", save_all=True, append_images=frames[1:], loop=0, comment=NAME)
    xmp = _gif_extension(0xFF, b"XMP DataXMP", XMP[:200])
    private = _gif_extension(0xFF, b"ACMECORP1.0", NAME.encode())
    text = _gif_extension(0x01, bytes(12), NAME.encode())
    first = data.index(b"\x21\xf9")
    return data[:first] + xmp + private + text + data[first:] + b"after the end " + b"Jane"


@needs_exiftool
def test_dei1_gif_scrub_leaves_only_allowed_tags(tmp_path: Path) -> None:
    data = _tagged_gif()
    assert leaks(_tags(data, tmp_path, "in.gif"))
    out = scrub_bytes(data).data
    tags = _tags(out, tmp_path, "out.gif")
    assert leaks(tags) == []
    assert tags["GIF:FrameCount"] == 3
    assert b"Jane" not in out
    assert b"ACME" not in out


def test_dei1_gif_keeps_every_frame_and_the_loop() -> None:
    data = _tagged_gif()
    out = scrub_bytes(data).data
    assert _frames(out) == _frames(data)
    with Image.open(io.BytesIO(out)) as image:
        assert image.info.get("loop") == 0
    assert out.endswith(b"\x3b")


def test_trn3_gif_truncated_and_bomb_are_refused() -> None:
    data = _tagged_gif()
    assert _reason(data[: len(data) // 2]) == "truncated"
    bomb = b"GIF89a" + struct.pack("<HHBBB", 65535, 65535, 0, 0, 0)
    bomb += b"\x2c" + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0) + b"\x02\x02\x44\x01\x00\x3b"
    assert _reason(bomb) == "too-many-pixels"
    assert _reason(data, Limits(max_frames=2)) == "decompression-bomb"


# --- TIFF -----------------------------------------------------------------------------------


def _tagged_tiff(image: Image.Image | None = None, orientation: int = 1, **params: Any) -> bytes:
    exif = _exif(orientation)
    exif[0x8298] = "Copyright " + NAME
    exif[0x0131] = "Scanner 9000"  # Software
    return _save(image or _photo(), "TIFF", exif=exif, **params)


@needs_exiftool
def test_dei1_tiff_becomes_png_with_only_allowed_tags(tmp_path: Path) -> None:
    data = _tagged_tiff()
    before = _tags(data, tmp_path, "in.tif")
    assert before["IFD0:Artist"] == "Dr Who"
    result = scrub_bytes(data)
    assert (result.kind, result.source_kind, result.converted) == ("png", "tiff", True)
    assert leaks(_tags(result.data, tmp_path, "out.png")) == []
    assert b"Jane" not in result.data


@pytest.mark.parametrize("compression", [None, "tiff_lzw", "tiff_adobe_deflate", "packbits"])
def test_dei1_tiff_pixels_identical_after_conversion(compression: str | None) -> None:
    data = _tagged_tiff(compression=compression)
    out = scrub_bytes(data).data
    assert _frames(out) == _frames(data)


def test_dei1_tiff_16_bit_grey_kept_exactly() -> None:
    deep = Image.linear_gradient("L").resize((64, 40)).convert("I").point(lambda v: v * 257)
    data = _tagged_tiff(deep.convert("I;16"))
    out = scrub_bytes(data).data
    with Image.open(io.BytesIO(out)) as image, Image.open(io.BytesIO(data)) as original:
        assert image.mode == "I;16"
        assert image.tobytes() == original.tobytes()


def test_dei1_tiff_orientation_is_applied_to_the_pixels() -> None:
    data = _tagged_tiff(orientation=6)
    out = scrub_bytes(data).data
    assert _shown(out).tobytes() == _shown(data).tobytes()
    assert _shown(out).size == (64, 96)
    with Image.open(io.BytesIO(out)) as image:
        assert 0x0112 not in image.getexif()


def test_trn3_tiff_multipage_dng_and_cmyk_are_refused() -> None:
    pages = _save(_photo(), "TIFF", save_all=True, append_images=[_photo(seed=2)])
    assert _reason(pages) == "unsupported-feature"
    dng = _save(_photo(), "TIFF", tiffinfo={50706: b"\x01\x04\x00\x00"})
    assert _reason(dng) == "unsupported-format"
    assert _reason(_save(_photo().convert("CMYK"), "TIFF")) == "unsupported-feature"
    data = _tagged_tiff()
    assert _reason(data[: len(data) // 3]) in ("truncated", "malformed")
    assert _reason(data, Limits(max_width=95)) == "too-many-pixels"


# --- HEIC / AVIF ----------------------------------------------------------------------------


def _marked(size: tuple[int, int] = (256, 128)) -> Image.Image:
    """White with a red top-left block: where it lands shows how the picture was turned."""
    image = Image.new("RGB", size, "white")
    image.paste((255, 0, 0), (0, 0, size[0] // 4, size[1] // 4))
    return image


def _tagged_heif(fmt: str = "HEIF", orientation: int = 6, **params: Any) -> bytes:
    return _save(_marked(), fmt, quality=90, exif=_exif(orientation).tobytes(), xmp=XMP, **params)


def _red_corner(image: Image.Image) -> str:
    width, height = image.size
    corners = {
        "top-left": (2, 2),
        "top-right": (width - 3, 2),
        "bottom-left": (2, height - 3),
        "bottom-right": (width - 3, height - 3),
    }
    red = [name for name, xy in corners.items() if _is_red(image.getpixel(xy))]
    assert len(red) == 1, red
    return red[0]


def _is_red(pixel: Any) -> bool:
    r, g, b = pixel[:3]
    return bool(r > 200 and g < 80 and b < 80)


@needs_exiftool
def test_dei1_heic_fixture_carries_exif_gps_and_a_thumbnail(tmp_path: Path) -> None:
    data = _tagged_heif(thumbnails=[64])
    tags = _tags(data, tmp_path, "in.heic")
    assert any(k.startswith("GPS:") for k in tags)
    assert tags["IFD0:Make"] == "Apple"
    assert _open_heif(io.BytesIO(data)).info["thumbnails"] == [64]


@needs_exiftool
def test_dei1_heic_becomes_jpeg_without_metadata_or_thumbnail(tmp_path: Path) -> None:
    result = scrub_bytes(_tagged_heif(thumbnails=[64]))
    assert (result.kind, result.source_kind, result.converted) == ("jpeg", "heif", True)
    tags = _tags(result.data, tmp_path, "out.jpg")
    assert leaks(tags) == []
    assert not any(k.startswith(("IFD1", "MPF")) for k in tags)
    assert result.data.count(b"\xff\xd8") == 1  # no embedded thumbnail or second picture
    assert b"Exif" not in result.data
    assert b"Jane" not in result.data
    assert b"Apple" not in result.data


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_dei1_heic_and_avif_orientation_displays_correctly(fmt: str) -> None:
    source = _marked()
    expected = ImageOps.exif_transpose(_with_orientation(source, 6))
    assert _red_corner(expected) == "top-right"
    out = scrub_bytes(_tagged_heif(fmt, orientation=6)).data
    shown = _shown(out)
    assert shown.size == (128, 256)  # turned once, not twice
    assert _red_corner(shown) == "top-right"
    with Image.open(io.BytesIO(out)) as image:
        assert 0x0112 not in image.getexif()


def _with_orientation(image: Image.Image, orientation: int) -> Image.Image:
    copy = image.copy()
    copy.getexif()[0x0112] = orientation
    return copy


def test_dei1_heic_with_transparency_becomes_png() -> None:
    image = _marked().convert("RGBA")
    image.putalpha(Image.linear_gradient("L").resize(image.size))
    data = _save(image, "HEIF", quality=90, exif=_exif(1).tobytes())
    result = scrub_bytes(data)
    assert (result.kind, result.extension) == ("png", ".png")
    decoded = _open_heif(io.BytesIO(data)).to_pillow()
    with Image.open(io.BytesIO(result.data)) as image_out:
        assert image_out.mode == "RGBA"
        assert image_out.tobytes() == decoded.tobytes()


def test_dei1_heic_keeps_icc_profile() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _save(_marked(), "HEIF", quality=90, icc_profile=icc)
    with Image.open(io.BytesIO(scrub_bytes(data).data)) as image:
        assert image.info.get("icc_profile") == clean_icc(icc)


def test_trn3_heic_truncated_and_too_large_are_refused() -> None:
    data = _tagged_heif()
    assert _reason(data[: len(data) // 2]) == "malformed"
    assert _reason(data, Limits(max_pixels=256 * 128 - 1)) == "too-many-pixels"
    assert _reason(_tagged_heif("AVIF"), Limits(max_height=127)) == "too-many-pixels"


# --- limits, files, errors, isolation -------------------------------------------------------


def test_dei1_limits_refuse_non_positive_values() -> None:
    with pytest.raises(ValueError, match="max_pixels"):
        Limits(max_pixels=0)
    assert DEFAULT_LIMITS.max_image_bytes == 100 * 1024 * 1024
    assert DEFAULT_LIMITS.max_video_bytes == 4 * 1024**3


def test_trn3_oversized_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    src = tmp_path / "huge.jpg"
    with src.open("wb") as handle:
        handle.write(b"\xff\xd8\xff\xe0")
        handle.truncate(DEFAULT_LIMITS.max_image_bytes + 1)  # sparse: nothing to read
    started = time.perf_counter()
    with pytest.raises(ScrubError) as caught:
        scrub_file(src, tmp_path / "out")
    assert caught.value.reason == "too-large"
    assert time.perf_counter() - started < 1
    assert not (tmp_path / "out").exists()
    assert _reason(b"\xff\xd8\xff" + bytes(100), Limits(max_image_bytes=50)) == "too-large"


def test_trn3_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    with pytest.raises(ScrubError) as caught:
        scrub_file(fifo, tmp_path / "out")
    assert caught.value.reason == "unsupported-format"


def test_dei1_video_file_goes_to_the_video_scrubber(tmp_path: Path) -> None:
    src = tmp_path / "clip.mp4"
    src.write_bytes(_ftyp(b"isom", b"isom", b"avc1") + b"garbage" * 10)
    with pytest.raises(ScrubError) as caught:
        scrub_file(src, tmp_path / "out.mp4")
    assert caught.value.reason in ("malformed", "truncated")
    assert not (tmp_path / "out.mp4").exists()


def test_dei1_scrub_error_keeps_its_reason_across_pickling() -> None:
    error = ScrubError("a message", reason="timeout")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.reason, str(copy)) == ("timeout", "a message")
    assert isinstance(copy, ValueError)
    assert ScrubError("old style").reason == "malformed"


def test_dei1_isolated_decoder_is_stopped_at_the_deadline() -> None:
    started = time.monotonic()
    with pytest.raises(ScrubError) as caught:
        run_isolated(time.sleep, 30, limits=Limits(max_decode_seconds=1.0))
    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 10


def test_dei1_isolated_decoder_crash_and_memory_blowup_are_errors() -> None:
    with pytest.raises(ScrubError) as caught:
        run_isolated(os._exit, 3, limits=DEFAULT_LIMITS)
    assert caught.value.reason == "decoder-crashed"
    small = Limits(max_decoder_memory=1024 * 1024 * 1024)
    with pytest.raises(ScrubError) as caught:
        run_isolated(bytearray, 4 * 1024 * 1024 * 1024, limits=small)
    assert caught.value.reason == "decoder-crashed"


def test_dei1_isolated_decoder_passes_reasons_and_results_through() -> None:
    with pytest.raises(ScrubError) as caught:
        run_isolated(convert_tiff, b"II*\x00junk", DEFAULT_LIMITS, limits=DEFAULT_LIMITS)
    assert caught.value.reason == "malformed"
    png = run_isolated(convert_tiff, _tagged_tiff(), DEFAULT_LIMITS, limits=DEFAULT_LIMITS)
    assert png == convert_tiff(_tagged_tiff(), DEFAULT_LIMITS)


def test_dei1_scrubbed_result_describes_the_output() -> None:
    result = scrub_bytes(_tagged_tiff())
    assert isinstance(result, Scrubbed)
    assert (result.media_type, result.extension, result.source_kind) == (
        "image/png",
        ".png",
        "tiff",
    )
    assert "PNG" in result.note
    jpeg = scrub_bytes(_save(_photo(), "JPEG", exif=_exif()))
    assert (jpeg.kind, jpeg.converted, jpeg.source_kind) == ("jpeg", False, "jpeg")


def test_dei1_minimal_exif_holds_only_orientation() -> None:
    tiff = orientation_tiff(3)
    assert len(tiff) == 8 + 2 + 12 + 4
    with pytest.raises(ValueError, match="orientation"):
        orientation_tiff(9)


def test_dei1_reason_codes_are_the_type_checkers_codes() -> None:
    """REASONS (used at run time) and the Literal ``Reason`` (seen by mypy only, so that the
    scrubber does not import typing at every start) list the same codes in the same order."""
    import ast

    import clinphoto.imaging.errors as errors

    tree = ast.parse(Path(errors.__file__).read_text())
    literal = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and getattr(node.targets[0], "id", None) == "Reason"
        and isinstance(node.value, ast.Subscript)
    )
    assert isinstance(literal.slice, ast.Tuple)
    codes = tuple(ast.literal_eval(element) for element in literal.slice.elts)
    assert codes == REASONS
    assert len(set(REASONS)) == len(REASONS)


def test_limits_are_values() -> None:
    """Limits behave as the frozen dataclass they were: compared, hashed, pickled to the
    sandbox's child by value, immutable, checked when made and when changed."""
    custom = Limits(max_frames=2)
    assert custom == DEFAULT_LIMITS.replace(max_frames=2) != DEFAULT_LIMITS
    assert hash(custom) == hash(Limits(max_frames=2))
    assert pickle.loads(pickle.dumps(custom)) == custom
    assert custom.max_frames == 2
    assert custom.max_width == DEFAULT_LIMITS.max_width
    assert "max_frames=2" in repr(custom)
    with pytest.raises(AttributeError):
        custom.max_frames = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="max_width must be positive"):
        DEFAULT_LIMITS.replace(max_width=0)
    with pytest.raises(TypeError, match="no max_bogus"):
        Limits(max_bogus=1)
