"""DEI-1: a kept colour profile keeps its colour and loses its words (imaging.icc.clean_icc).

An ICC profile is the one embedded block the scrubber keeps, because it says how to show the
photo's colours (a wound's redness depends on it). Its description, copyright, dates and
device make-and-model are text that no colour engine reads, where an insider can write a
patient's name. These tests hide a name in every place a profile has room for text and check
that the scrubbed file keeps the profile, the same length, with the same colours, and none
of the text; a profile with a tag we cannot read is dropped whole.
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageCms

from clinphoto.imaging.icc import clean_icc, tag_table, valid_icc
from clinphoto.imaging.jpeg import scrub_jpeg
from clinphoto.imaging.metadata import identifying_metadata
from clinphoto.imaging.png import _stored_zlib, scrub_png
from clinphoto.imaging.webp import scrub_webp
from tests import iccprofiles

NAMED = iccprofiles.with_names()
DROPPED = iccprofiles.dropped()
SCRUB = {"JPEG": scrub_jpeg, "PNG": scrub_png, "WEBP": scrub_webp}
_HIDDEN = [
    form
    for word in ("Jane", "Doe", "MRN", "48213377", "DM")
    for form in (word.encode("latin-1"), word.encode("utf-16-be"))
]


def _picture(fmt: str, profile: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (150, 120, 110)).save(buffer, fmt, icc_profile=profile)
    return buffer.getvalue()


def _kept_profile(data: bytes) -> bytes | None:
    with Image.open(io.BytesIO(data)) as image:
        return image.info.get("icc_profile")


def _colours(profile: bytes) -> bytes:
    """A gradient through ``profile`` into Lab, with Little CMS: what a viewer shows."""
    gradient = Image.new("RGB", (64, 64))
    gradient.putdata([(x * 4, y * 4, (x * y) % 256) for y in range(64) for x in range(64)])
    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    transform = ImageCms.buildTransform(source, ImageCms.createProfile("LAB"), "RGB", "LAB")
    return ImageCms.applyTransform(gradient, transform).tobytes()


@pytest.mark.parametrize("name", sorted(NAMED))
def test_dei1_a_name_is_blanked_wherever_a_profile_has_room_for_text(name: str) -> None:
    profile = NAMED[name]
    assert valid_icc(profile)
    assert any(hidden in profile for hidden in _HIDDEN)
    cleaned = clean_icc(profile)
    assert cleaned is not None
    assert len(cleaned) == len(profile)
    assert [hidden for hidden in _HIDDEN if hidden in cleaned] == []
    assert cleaned[24:36] == bytes(12)  # the creation date
    assert cleaned[84:128] == bytes(44)  # the profile ID and the reserved bytes
    assert tag_table(cleaned) == tag_table(profile)  # every tag where it was
    assert clean_icc(cleaned) == cleaned  # nothing left to blank
    # Little CMS still opens it and finds an empty description.
    opened = ImageCms.ImageCmsProfile(io.BytesIO(cleaned))
    assert ImageCms.getProfileDescription(opened).strip("\0\n ") == ""


@pytest.mark.parametrize("fmt", sorted(SCRUB))
def test_dei1_the_scrubbed_file_keeps_the_blanked_profile(fmt: str) -> None:
    for name, profile in NAMED.items():
        out = SCRUB[fmt](_picture(fmt, profile))
        assert _kept_profile(out) == clean_icc(profile), name
        assert [hidden for hidden in _HIDDEN if hidden in out] == [], name
        assert identifying_metadata(out) == [], name


@pytest.mark.parametrize("fmt", sorted(SCRUB))
def test_dei1_a_profile_with_a_tag_we_cannot_read_is_dropped(fmt: str) -> None:
    for name, profile in DROPPED.items():
        assert valid_icc(profile), name
        assert clean_icc(profile) is None, name
        data = _picture(fmt, profile)
        out = SCRUB[fmt](data)
        assert _kept_profile(out) is None, name
        assert b"Jane" not in out
        # The report says the file carries something the scrubber takes away.
        assert [f.tag for f in identifying_metadata(data)] == [
            "colour profile the scrubber drops (not only colour)"
        ], name


@pytest.mark.parametrize("kind", ["sRGB", "LAB", "XYZ"])
def test_dei1_real_profiles_keep_their_colours(kind: str) -> None:
    profile = bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile(kind)).tobytes())
    cleaned = clean_icc(profile)
    assert cleaned is not None
    for _signature, offset, length in tag_table(profile):
        if profile[offset : offset + 4] not in (b"desc", b"mluc", b"text"):  # numbers: kept
            assert cleaned[offset + 8 : offset + length] == profile[offset + 8 : offset + length]
    if kind == "sRGB":
        assert _colours(cleaned) == _colours(profile)


def test_dei1_text_tags_keep_their_structure() -> None:
    """An mluc keeps its records (count, size, each string's length and offset), with zeros
    for language, country and text; a v2 desc becomes one zero byte of ASCII text."""
    profile = NAMED["a name in the copyright, in several languages"]
    cleaned = clean_icc(profile)
    assert cleaned is not None
    offset = next(o for sig, o, _n in tag_table(profile) if sig == b"cprt")
    assert cleaned[offset : offset + 16] == b"mluc" + bytes(4) + struct.pack(">II", 2, 12)
    for record in (offset + 16, offset + 28):
        assert cleaned[record : record + 4] == bytes(4)
        assert cleaned[record + 4 : record + 12] == profile[record + 4 : record + 12]
    profile = NAMED["a name in a desc description"]
    cleaned = clean_icc(profile)
    assert cleaned is not None
    offset, length = next((o, n) for sig, o, n in tag_table(profile) if sig == b"desc")
    assert cleaned[offset : offset + length] == b"desc" + bytes(7) + b"\x01" + bytes(length - 12)


def test_dei1_a_png_profile_that_changed_is_stored_and_one_that_did_not_is_copied() -> None:
    named = NAMED["lcms sRGB renamed"]
    out = scrub_png(_picture("PNG", named))
    stream = _iccp_stream(out)
    assert stream[:2] == b"\x78\x01"  # stored, not compressed
    assert zlib.decompress(stream) == clean_icc(named)
    already = clean_icc(named)
    assert already is not None
    data = _picture("PNG", already)
    assert _iccp_stream(scrub_png(data)) == _iccp_stream(data)  # as Pillow compressed it


@pytest.mark.parametrize("size", [0, 1, 65_535, 65_536, 200_000])
def test_dei1_stored_zlib_streams_inflate_to_their_data(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    stream = _stored_zlib(data)
    assert zlib.decompress(stream) == data
    assert len(stream) == 2 + 5 * max(1, -(-size // 65_535)) + size + 4


def _iccp_stream(png: bytes) -> bytes:
    at = png.index(b"iCCP")
    (length,) = struct.unpack(">I", png[at - 4 : at])
    payload = png[at + 4 : at + 4 + length]
    return payload[payload.index(b"\0") + 2 :]
