"""What a kept colour profile can carry besides colour is reported (DEI-1, DEI-2).

An insider can write a patient's MRN into a profile's description, or append bytes that no
tag points to. The scrubber blanks the one and drops the other (test_imaging_icc.py); before
a file is scrubbed, `clinphoto inspect` and the custodian list both, so such a photo is
judged identifiable, while real profiles (sRGB, Display P3, a camera's own) list nothing.
"""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image, ImageCms

from clinphoto.imaging.inspect import inspect_content
from clinphoto.imaging.metadata import identifying_metadata
from tests.iccprofiles import profile as make_profile
from tests.iccprofiles import text_tag

FORMATS = ["JPEG", "PNG", "WEBP"]


def _picture(fmt: str, profile: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (150, 120, 110)).save(buffer, fmt, icc_profile=profile)
    data = buffer.getvalue()
    with Image.open(io.BytesIO(data)) as check:
        assert check.info.get("icc_profile") == profile  # the profile really is in the file
    return data


@pytest.mark.parametrize("fmt", FORMATS)
def test_dei1_real_profiles_list_nothing(fmt: str) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert identifying_metadata(_picture(fmt, srgb)) == []
    for name in ("Display P3", "Copyright Apple Inc., 2017", "sRGB IEC61966-2.1"):
        plain = make_profile({b"desc": text_tag(b"mluc", name), b"cprt": text_tag(b"text", name)})
        assert identifying_metadata(_picture(fmt, plain)) == [], name


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", [b"desc", b"text", b"mluc"])
def test_dei2_an_identifier_in_a_profile_text_is_listed_masked(fmt: str, kind: bytes) -> None:
    secret = "MRN 48213377 DOB 1961-04-09"
    data = _picture(fmt, make_profile({b"desc": text_tag(kind, secret)}))
    findings = identifying_metadata(data)
    assert [(f.category, f.tag, f.identifying) for f in findings] == [
        ("free-text", "desc text", True)
    ]
    assert "48213377" not in findings[0].preview
    assert findings[0].where.endswith(("ICC profile", "iCCP", "ICCP"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_dei2_bytes_no_tag_points_to_are_listed_by_size(fmt: str) -> None:
    profile = bytearray(make_profile({b"desc": text_tag(b"text", "sRGB")}) + b"Jane Doe 48213377")
    profile[0:4] = struct.pack(">I", len(profile))
    findings = identifying_metadata(_picture(fmt, bytes(profile)))
    assert [(f.tag, f.preview, f.identifying) for f in findings] == [
        ("colour profile the scrubber drops (not only colour)", f"{len(profile)} bytes", True)
    ]


def test_dei2_the_custodian_judges_such_a_photo_identifiable() -> None:
    profile = make_profile({b"desc": text_tag(b"desc", "patient chart 2024-03-15")})
    verdict = inspect_content(_picture("JPEG", profile), None)
    assert verdict.identifiable
    assert any("desc text" in reason for reason in verdict.reasons), verdict.reasons
    assert not any("2024-03-15" in reason for reason in verdict.reasons)
