"""JPEG metadata scrubbing (DEI-1, TRN-3): lossless, identifying metadata gone, bad input refused.

Every JPEG here is built in code with Pillow; nothing is read from committed files.
"""

from __future__ import annotations

import io
import random
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageCms

from clinphoto.imaging.icc import clean_icc
from clinphoto.imaging.jpeg import ScrubError, exif_orientation, scrub_jpeg
from clinphoto.imaging.limits import DEFAULT_LIMITS, Limits
from tests.corpus.oracle import exiftool_json

needs_exiftool = pytest.mark.skipif(
    shutil.which("exiftool") is None, reason="exiftool is not installed"
)

NAME = "Jane Doe MRN 1234567"
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
    b' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    b"<dc:creator><rdf:Seq><rdf:li>Jane Doe</rdf:li></rdf:Seq></dc:creator>"
    b'</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
TRAILER = b"SECOND IMAGE"


def _photo(size: tuple[int, int] = (640, 480)) -> Image.Image:
    """Photo-like content (noise over gradients), the same on every call."""
    noise = Image.frombytes("L", size, random.Random(size[0]).randbytes(size[0] * size[1]))
    gradient = Image.linear_gradient("L").resize(size)
    return Image.merge(
        "RGB",
        [
            Image.blend(noise, gradient, 0.6),
            gradient.transpose(Image.Transpose.ROTATE_180),
            Image.blend(noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient, 0.5),
        ],
    )


def _srgb_icc() -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert isinstance(profile, bytes)
    return profile


def _exif(orientation: int | None = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010E] = NAME  # ImageDescription
    if orientation is not None:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (43.0, 39.0, 12.5)
    gps[3] = "W"
    gps[4] = (79.0, 23.0, 1.0)
    return exif


def _jpeg(image: Image.Image | None = None, **params: Any) -> bytes:
    buf = io.BytesIO()
    (image or _photo()).save(buf, "JPEG", quality=90, **params)
    return buf.getvalue()


def _tagged_jpeg_alone(*, progressive: bool = False) -> bytes:
    """A camera-style JPEG: EXIF with GPS, a comment, XMP and an ICC profile."""
    return _jpeg(
        exif=_exif(),
        comment="patient " + NAME,
        xmp=XMP,
        icc_profile=_srgb_icc(),
        progressive=progressive,
    )


def _tagged_jpeg(*, progressive: bool = False) -> bytes:
    """The camera-style JPEG followed by a hidden second picture and trailing bytes."""
    return _tagged_jpeg_alone(progressive=progressive) + _jpeg(_photo((64, 48))) + TRAILER


def _pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.mode, image.size, image.tobytes()


def _segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of the header segments before the first SOS, for white-box checks."""
    out: list[tuple[int, bytes]] = []
    pos = 2
    while data[pos + 1] != 0xDA:
        marker = data[pos + 1]
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        out.append((marker, data[pos + 4 : pos + 2 + length]))
        pos += 2 + length
    return out


def _exiftool(data: bytes, tmp_path: Path, name: str = "probe.jpg") -> dict[str, Any]:
    """exiftool's ``-j -a -u -G1`` record of ``data`` written to ``tmp_path/name``."""
    path = tmp_path / name
    path.write_bytes(data)
    return exiftool_json([path])[str(path)]


# --- DEI-1: identifying metadata is removed -------------------------------------------------


@needs_exiftool
def test_dei1_fixture_really_carries_the_metadata(tmp_path: Path) -> None:
    tags = _exiftool(_tagged_jpeg(), tmp_path)
    assert tags["IFD0:ImageDescription"] == NAME
    assert any(key.startswith("GPS:") for key in tags)
    assert "File:Comment" in tags
    assert any(key.startswith("XMP") for key in tags)


@needs_exiftool
def test_dei1_scrub_removes_gps_description_comment_xmp_and_trailer(tmp_path: Path) -> None:
    tags = _exiftool(scrub_jpeg(_tagged_jpeg()), tmp_path)
    keys = set(tags)
    assert not [k for k in keys if "GPS" in k]
    assert not [k for k in keys if k.endswith(":ImageDescription")]
    assert not [k for k in keys if k.endswith(":Comment")]
    assert not [k for k in keys if k.startswith("XMP")]
    assert not [k for k in keys if "Trailer" in k or k.startswith(("MPF", "MPImage"))]
    assert "ExifTool:Warning" not in tags
    assert not any(NAME in str(value) or "Jane" in str(value) for value in tags.values())
    assert tags["IFD0:Orientation"] == "Rotate 90 CW"


@needs_exiftool
def test_dei1_scrub_of_progressive_removes_metadata(tmp_path: Path) -> None:
    tags = _exiftool(scrub_jpeg(_tagged_jpeg(progressive=True)), tmp_path)
    assert not [k for k in tags if "GPS" in k or k.startswith("XMP") or k.endswith(":Comment")]
    assert "ExifTool:Warning" not in tags


def test_dei1_scrub_leaves_no_identifying_bytes_and_ends_at_eoi() -> None:
    out = scrub_jpeg(_tagged_jpeg())
    assert b"Jane" not in out
    assert TRAILER not in out
    assert b"http://ns.adobe.com/xap" not in out
    assert out.startswith(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    assert out.endswith(b"\xff\xd9")
    assert out.count(b"\xff\xd8") == 1  # the appended second picture is gone


def test_dei1_scrub_keeps_pixels_identical() -> None:
    data = _tagged_jpeg()
    assert _pixels(scrub_jpeg(data)) == _pixels(data)


def test_dei1_scrub_keeps_progressive_pixels_identical() -> None:
    data = _tagged_jpeg(progressive=True)
    out = scrub_jpeg(data)
    assert _pixels(out) == _pixels(data)
    scans = _tagged_jpeg_alone(progressive=True).count(b"\xff\xda")
    assert scans > 1
    assert out.count(b"\xff\xda") == scans


def test_dei1_scrub_drops_metadata_between_progressive_scans() -> None:
    data = _jpeg(progressive=True)
    second_sos = data.index(b"\xff\xda", data.index(b"\xff\xda") + 2)
    comment = b"\xff\xfe" + struct.pack(">H", 2 + len(NAME)) + NAME.encode()
    app1 = b"\xff\xe1" + struct.pack(">H", 2 + 10) + b"Exif\x00\x00Jane"
    doctored = data[:second_sos] + comment + app1 + data[second_sos:]
    assert _pixels(doctored) == _pixels(data)
    out = scrub_jpeg(doctored)
    assert b"Jane" not in out
    assert out == scrub_jpeg(data)
    assert _pixels(out) == _pixels(data)


def test_dei1_scrub_preserves_orientation() -> None:
    out = scrub_jpeg(_tagged_jpeg())
    assert exif_orientation(out) == 6
    app1 = [payload for marker, payload in _segments(out) if marker == 0xE1]
    # Exactly one IFD0 entry (Orientation, SHORT, 6) and no next IFD: nothing else survives.
    assert app1 == [
        b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01"
        b"\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00"
    ]


@needs_exiftool
def test_dei1_exiftool_sees_only_orientation_in_exif(tmp_path: Path) -> None:
    tags = _exiftool(scrub_jpeg(_tagged_jpeg()), tmp_path)
    exif_keys = {k for k in tags if k.split(":")[0] in {"IFD0", "IFD1", "ExifIFD", "GPS"}}
    assert exif_keys == {"IFD0:Orientation"}


@pytest.mark.parametrize("order", ["<", ">"])
def test_dei1_orientation_read_in_either_byte_order(order: str) -> None:
    mark = b"II" if order == "<" else b"MM"
    tiff = (
        mark
        + struct.pack(order + "HI", 42, 8)
        + struct.pack(order + "H", 2)
        + struct.pack(order + "HHI4s", 0x010E, 2, 4, b"Jan\x00")
        + struct.pack(order + "HHIH2x", 0x0112, 3, 1, 8)
        + struct.pack(order + "I", 0)
    )
    payload = b"Exif\x00\x00" + tiff
    plain = _jpeg()
    data = plain[:2] + b"\xff\xe1" + struct.pack(">H", 2 + len(payload)) + payload + plain[2:]
    assert exif_orientation(data) == 8
    out = scrub_jpeg(data)
    assert exif_orientation(out) == 8
    assert b"Jan" not in out
    assert _pixels(out) == _pixels(plain)


def test_dei1_orientation_1_or_absent_writes_no_exif() -> None:
    for data in (_jpeg(exif=_exif(orientation=None)), _jpeg(exif=_exif(orientation=1)), _jpeg()):
        out = scrub_jpeg(data)
        assert exif_orientation(out) == 1
        assert b"Exif" not in out


def test_dei1_scrub_preserves_icc_profile() -> None:
    icc = _srgb_icc()
    with Image.open(io.BytesIO(scrub_jpeg(_tagged_jpeg()))) as image:
        assert image.info.get("icc_profile") == clean_icc(icc) != icc  # its text blanked


def test_dei1_scrub_preserves_multi_segment_icc_profile() -> None:
    icc = _srgb_icc()
    padded = icc + b"\x00" * 150_000  # Pillow splits this over several APP2 segments
    big = struct.pack(">I", len(padded)) + padded[4:]  # the header's size field must match
    out = scrub_jpeg(_jpeg(icc_profile=big))
    with Image.open(io.BytesIO(out)) as image:
        assert image.info.get("icc_profile") == clean_icc(big)
    # The segments are rewritten in place: as many, of the same sizes, as Pillow wrote.
    assert len(out) == len(scrub_jpeg(_jpeg())) + len(_jpeg(icc_profile=big)) - len(_jpeg())


def test_dei1_scrub_drops_an_invalid_icc_profile() -> None:
    data = _jpeg(icc_profile=b"Jane Doe, not a colour profile" * 10)
    out = scrub_jpeg(data)
    assert b"Jane" not in out
    assert b"ICC_PROFILE" not in out
    assert _pixels(out) == _pixels(data)


def test_dei1_scrub_keeps_adobe_cmyk_colours() -> None:
    data = _jpeg(_photo().convert("CMYK"))
    out = scrub_jpeg(data)
    assert any(m == 0xEE and p.startswith(b"Adobe") for m, p in _segments(out))
    assert _pixels(out) == _pixels(data)


def test_dei1_scrub_keeps_grayscale_pixels() -> None:
    data = _jpeg(_photo().convert("L"), exif=_exif())
    assert _pixels(scrub_jpeg(data)) == _pixels(data)


def test_dei1_scrub_handles_fill_bytes_before_markers() -> None:
    data = _jpeg(exif=_exif())
    eoi = len(data) - 2
    sos = data.index(b"\xff\xda")
    padded = data[:2] + b"\xff\xff" + data[2:sos] + b"\xff\xff\xff" + data[sos:eoi] + b"\xff\xff"
    padded += data[eoi:]
    assert _pixels(padded) == _pixels(data)
    assert scrub_jpeg(padded) == scrub_jpeg(data)


def test_dei1_scrub_is_idempotent() -> None:
    for data in (_tagged_jpeg(), _tagged_jpeg(progressive=True), _jpeg(_photo().convert("CMYK"))):
        once = scrub_jpeg(data)
        assert scrub_jpeg(once) == once


def test_dei1_scrub_keeps_restart_intervals() -> None:
    buf = io.BytesIO()
    _photo().save(buf, "JPEG", quality=90, restart_marker_blocks=4)
    data = buf.getvalue()
    assert b"\xff\xdd" in data
    out = scrub_jpeg(data)
    assert b"\xff\xdd" in out
    assert _pixels(out) == _pixels(data)


# --- TRN-3: only well-formed JPEGs within limits are accepted --------------------------------


def _png() -> bytes:
    buf = io.BytesIO()
    _photo((32, 32)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("func", [scrub_jpeg, exif_orientation])
def test_trn3_rejects_png_bytes(func: Any) -> None:
    with pytest.raises(ScrubError, match="not a JPEG"):
        func(_png())


def test_trn3_rejects_empty_bytes() -> None:
    with pytest.raises(ScrubError, match="not a JPEG"):
        scrub_jpeg(b"")


def test_trn3_rejects_truncated_jpeg() -> None:
    first = _tagged_jpeg_alone()
    with pytest.raises(ScrubError, match="truncated"):
        scrub_jpeg(first[: len(first) // 2])
    with pytest.raises(ScrubError, match="truncated"):
        scrub_jpeg(first[:-2])  # just the EOI missing


def test_trn3_rejects_truncated_progressive_jpeg() -> None:
    data = _jpeg(progressive=True)
    with pytest.raises(ScrubError, match="truncated"):
        scrub_jpeg(data[: len(data) // 2])


def test_trn3_rejects_segment_length_past_end() -> None:
    data = b"\xff\xd8\xff\xe1\x40\x00Exif\x00\x00MM"
    with pytest.raises(ScrubError, match="past the end"):
        scrub_jpeg(data)
    with pytest.raises(ScrubError, match="past the end"):
        exif_orientation(data)


def test_trn3_rejects_jpeg_without_frame_or_scan() -> None:
    data = _jpeg()
    sof = data.index(b"\xff\xc0")
    (sof_length,) = struct.unpack(">H", data[sof + 2 : sof + 4])
    sos = data.index(b"\xff\xda")
    with pytest.raises(ScrubError, match="SOF"):
        scrub_jpeg(data[:sof] + data[sof + 2 + sof_length :])
    with pytest.raises(ScrubError, match="SOS"):
        scrub_jpeg(data[:sos] + b"\xff\xd9")


def test_trn3_rejects_garbage_between_segments() -> None:
    data = _jpeg()
    with pytest.raises(ScrubError, match="malformed"):
        scrub_jpeg(data[:2] + b"junk" + data[2:])


def test_trn3_rejects_input_over_the_size_limit() -> None:
    assert DEFAULT_LIMITS.max_image_bytes == 100 * 1024 * 1024
    data = _jpeg()
    with pytest.raises(ScrubError, match="limit") as caught:
        scrub_jpeg(data, Limits(max_image_bytes=len(data) - 1))
    assert caught.value.reason == "too-large"


def test_dei1_rejects_frame_over_the_pixel_limit() -> None:
    data = _jpeg()  # 640 x 480
    assert scrub_jpeg(data, Limits(max_pixels=640 * 480))
    with pytest.raises(ScrubError, match="pixels") as caught:
        scrub_jpeg(data, Limits(max_pixels=640 * 480 - 1))
    assert caught.value.reason == "too-many-pixels"
    with pytest.raises(ScrubError) as caught:
        scrub_jpeg(data, Limits(max_width=639))
    assert caught.value.reason == "too-many-pixels"


def test_trn3_reasons_name_truncation_and_malformation() -> None:
    data = _tagged_jpeg_alone()
    with pytest.raises(ScrubError) as caught:
        scrub_jpeg(data[: len(data) // 2])
    assert caught.value.reason == "truncated"
    with pytest.raises(ScrubError) as caught:
        scrub_jpeg(data[:2] + b"junk" + data[2:])
    assert caught.value.reason == "malformed"
    with pytest.raises(ScrubError) as caught:
        scrub_jpeg(b"")
    assert caught.value.reason == "empty"


def test_trn3_scrub_error_is_a_value_error() -> None:
    assert issubclass(ScrubError, ValueError)
