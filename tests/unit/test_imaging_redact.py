"""Redaction into a derived image (DEI-3): boxes, pixelation, blur, and a JPEG with nothing else.

Every image is built in code with Pillow; exiftool reads the JPEGs we write.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageDraw

from clinphoto.imaging.redact import (
    PAD_FRACTION,
    PAD_MIN_PX,
    PIXELATE_BLOCKS,
    redact,
    redact_to_jpeg,
)
from clinphoto.imaging.regions import Box, Region
from tests.unit.test_imaging_jpeg import _exiftool

needs_exiftool = pytest.mark.skipif(
    shutil.which("exiftool") is None, reason="exiftool is not installed"
)

NAME = "Jane Doe MRN 1234567"
BOX = Box(40, 30, 50, 40)


def _noise(size: tuple[int, int] = (160, 120), seed: int = 7) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB")


def _smooth(size: tuple[int, int] = (160, 120)) -> Image.Image:
    """Gradients only, so JPEG round trips stay within a few levels."""
    gradient = Image.linear_gradient("L").resize(size)
    return Image.merge(
        "RGB", [gradient, gradient.transpose(Image.Transpose.ROTATE_180), Image.new("L", size, 90)]
    )


def _pad(box: Box) -> Box:
    pad_x = max(PAD_MIN_PX, math.ceil(box.w * PAD_FRACTION))
    pad_y = max(PAD_MIN_PX, math.ceil(box.h * PAD_FRACTION))
    return Box(box.x - pad_x, box.y - pad_y, box.w + 2 * pad_x, box.h + 2 * pad_y)


def _pixels(image: Image.Image) -> np.ndarray[Any, Any]:
    return np.asarray(image).astype(np.int32)


def _outside(mask_box: Box, shape: tuple[int, ...], margin: int = 0) -> np.ndarray[Any, Any]:
    mask = np.ones(shape[:2], dtype=bool)
    mask[
        max(0, mask_box.y - margin) : mask_box.y + mask_box.h + margin,
        max(0, mask_box.x - margin) : mask_box.x + mask_box.w + margin,
    ] = False
    return mask


def _inside(box: Box, array: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return array[box.y : box.y + box.h, box.x : box.x + box.w]


def _camera_jpeg(tmp_path: Path) -> bytes:
    """A JPEG with EXIF (description, GPS), a comment, XMP, ICC and an EXIF thumbnail."""
    exif = Image.Exif()
    exif[0x010E] = NAME
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (43.0, 39.0, 12.5)
    buf = io.BytesIO()
    _smooth().save(
        buf,
        "JPEG",
        quality=95,
        exif=exif,
        comment=NAME,
        xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>Jane Doe</x:xmpmeta>",
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    )
    path = tmp_path / "camera.jpg"
    path.write_bytes(buf.getvalue())
    thumb = tmp_path / "thumb.jpg"
    _smooth((80, 60)).save(thumb, "JPEG")
    subprocess.run(
        ["exiftool", "-q", "-overwrite_original", f"-ThumbnailImage<={thumb}", str(path)],
        check=True,
        timeout=60,
    )
    return path.read_bytes()


# --- what changes and what does not ----------------------------------------------------------


def test_dei3_box_blacks_out_the_padded_region_and_nothing_else() -> None:
    image = _noise()
    out = redact(image, [BOX], "box")
    padded = _pad(BOX)
    before, after = _pixels(image), _pixels(out)
    assert (_inside(padded, after) == 0).all()
    outside = _outside(padded, after.shape)
    assert (after[outside] == before[outside]).all()
    assert (after[~outside] != before[~outside]).any()


def test_dei3_padding_is_ten_percent_with_a_two_pixel_minimum() -> None:
    assert (PAD_FRACTION, PAD_MIN_PX) == (0.10, 2)
    assert _pad(BOX) == Box(35, 26, 60, 48)
    assert _pad(Box(10, 10, 4, 4)) == Box(8, 8, 8, 8)
    out = _pixels(redact(_noise(), [Box(10, 10, 4, 4)], "box"))
    assert (out[8:16, 8:16] == 0).all()
    assert (out[7, 8:16] != 0).any()
    assert (out[16, 8:16] != 0).any()


def test_dei3_input_is_untouched_and_output_is_new() -> None:
    image = _noise()
    image.info["comment"] = NAME
    before = image.tobytes()
    for method in ("box", "pixelate", "blur"):
        out = redact(image, [BOX], method)
        assert out is not image
    assert image.tobytes() == before
    assert image.info["comment"] == NAME


def test_dei3_regions_are_clipped_and_those_outside_ignored() -> None:
    image = _noise((100, 80))
    out = redact(image, [Box(-20, -20, 40, 40), Box(500, 500, 10, 10), Box(90, 70, 50, 50)])
    after = _pixels(out)
    assert out.size == (100, 80)
    assert (after[0:22, 0:22] == 0).all()  # clipped at the top-left, padded by 4
    assert (after[65:80, 85:100] == 0).all()  # clipped at the bottom-right, padded by 5
    assert (after[30:60, 30:80] == _pixels(image)[30:60, 30:80]).all()


def test_dei3_regions_may_be_detector_regions() -> None:
    image = _noise()
    by_region = redact(image, [Region(BOX, "face", 0.9)], "box")
    assert by_region.tobytes() == redact(image, [BOX], "box").tobytes()


def test_dei3_no_regions_gives_an_equal_copy() -> None:
    image = _noise()
    out = redact(image, [], "blur")
    assert out.tobytes() == image.tobytes()


def test_dei3_pixelate_leaves_at_most_eight_blocks_across() -> None:
    image = _noise()
    out = redact(image, [BOX], "pixelate")
    region = _inside(_pad(BOX), _pixels(out))
    columns = {region[:, x].tobytes() for x in range(region.shape[1])}
    rows = {region[y].tobytes() for y in range(region.shape[0])}
    assert len(columns) <= PIXELATE_BLOCKS
    assert len(rows) <= PIXELATE_BLOCKS
    outside = _outside(_pad(BOX), _pixels(out).shape)
    assert (_pixels(out)[outside] == _pixels(image)[outside]).all()


def test_dei3_blur_removes_fine_detail() -> None:
    image = _noise()
    out = redact(image, [BOX], "blur")
    padded = _pad(BOX)
    before, after = _inside(padded, _pixels(image)), _inside(padded, _pixels(out))
    detail_before = np.abs(np.diff(before, axis=1)).mean()
    detail_after = np.abs(np.diff(after, axis=1)).mean()
    assert detail_after < detail_before / 20
    # Nothing of the original pattern is left to correlate with.
    correlation = np.corrcoef(before.ravel(), after.ravel())[0, 1]
    assert abs(correlation) < 0.3
    outside = _outside(padded, _pixels(out).shape)
    assert (_pixels(out)[outside] == _pixels(image)[outside]).all()


def test_dei3_blur_hides_a_large_face_like_pattern() -> None:
    """Eyes and a mouth drawn large: after blurring, no feature stands out."""
    face = Image.new("RGB", (200, 200), (200, 170, 150))
    draw = ImageDraw.Draw(face)
    for left in (50, 120):
        draw.ellipse((left, 60, left + 30, 80), fill=(20, 20, 20))
    draw.rectangle((70, 140, 130, 150), fill=(120, 0, 0))
    out = _pixels(redact(face, [Box(20, 20, 160, 160)], "blur")).mean(axis=2)
    assert out[20:180, 20:180].max() - out[20:180, 20:180].min() < 60
    assert out[70, 65] > 120  # the eye's centre is no longer dark


def test_dei3_unknown_method_and_negative_padding_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown redaction method"):
        redact(_noise(), [BOX], "smudge")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pad_fraction"):
        redact(_noise(), [BOX], pad_fraction=-0.1)


@pytest.mark.parametrize(
    ("mode", "out_mode"),
    [
        ("L", "L"),
        ("LA", "LA"),
        ("RGBA", "RGBA"),
        ("CMYK", "CMYK"),
        ("1", "L"),
        ("P", "RGB"),
        ("YCbCr", "RGB"),
    ],
)
@pytest.mark.parametrize("method", ["box", "pixelate", "blur"])
def test_dei3_every_mode_is_redacted(mode: str, out_mode: str, method: str) -> None:
    image = _noise().convert(mode)
    out = redact(image, [BOX], method)  # type: ignore[arg-type]
    assert out.mode == out_mode
    padded = _pad(BOX)
    before = _pixels(image.convert(out_mode))
    after = _pixels(out)
    assert (_inside(padded, after) != _inside(padded, before)).any()
    outside = _outside(padded, after.shape)
    assert (after[outside] == before[outside]).all()


def test_dei3_boxes_are_in_displayed_pixels() -> None:
    """An EXIF orientation of 6 (rotate 90 CW to display) is applied before redacting."""
    stored = Image.new("RGB", (120, 80), (255, 255, 255))
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    stored.save(buf, "JPEG", exif=exif, quality=95)
    with Image.open(io.BytesIO(buf.getvalue())) as image:
        out = redact(image, [Box(10, 90, 20, 20)], "box")
    assert out.size == (80, 120)
    assert _pixels(out)[100, 20].max() == 0
    assert _pixels(out)[20, 20].min() > 200
    assert dict(out.getexif()) == {}
    assert out.info == {}


def test_dei3_result_carries_no_metadata() -> None:
    image = _noise()
    exif = Image.Exif()
    exif[0x010E] = NAME
    image.info.update({"exif": exif.tobytes(), "comment": NAME, "icc_profile": b"icc"})
    out = redact(image, [BOX])
    assert out.info == {}
    assert dict(out.getexif()) == {}


# --- JPEG output ----------------------------------------------------------------------------


@needs_exiftool
def test_dei3_jpeg_has_no_exif_thumbnail_xmp_comment_or_icc(tmp_path: Path) -> None:
    camera = _camera_jpeg(tmp_path)
    tags_in = _exiftool(camera, tmp_path, "in.jpg")
    assert "IFD1:ThumbnailImage" in tags_in  # the fixture really carries a thumbnail
    assert tags_in["IFD0:ImageDescription"] == NAME
    with Image.open(io.BytesIO(camera)) as image:
        data = redact_to_jpeg(image, [BOX], "blur")
    tags = _exiftool(data, tmp_path)
    groups = {key.split(":", 1)[0] for key in tags}
    assert not groups & {"IFD0", "IFD1", "ExifIFD", "GPS", "XMP-x", "ICC_Profile", "MPF0"}
    assert not [k for k in tags if "Thumbnail" in k or k.startswith(("MPF", "MPImage"))]
    assert not [k for k in tags if k.startswith("XMP") or k.endswith(":Comment")]
    assert not any("Jane" in str(value) for value in tags.values())
    assert b"Jane" not in data
    assert data.count(b"\xff\xd8") == 1  # one picture: no thumbnail or second image inside
    assert b"Exif\x00\x00" not in data
    assert b"ICC_PROFILE" not in data


@needs_exiftool
def test_dei3_jpeg_from_a_multi_picture_file_has_one_picture(tmp_path: Path) -> None:
    buf = io.BytesIO()
    _smooth().save(buf, "MPO", save_all=True, append_images=[_noise()])
    assert _exiftool(buf.getvalue(), tmp_path, "in.mpo")["MPF0:NumberOfImages"] == 2
    with Image.open(io.BytesIO(buf.getvalue())) as image:
        data = redact_to_jpeg(image, [BOX])
    tags = _exiftool(data, tmp_path)
    assert not [k for k in tags if k.startswith(("MPF", "MPImage"))]
    assert data.count(b"\xff\xd8") == 1
    with Image.open(io.BytesIO(data)) as decoded:
        assert getattr(decoded, "n_frames", 1) == 1


@needs_exiftool
def test_dei3_jpeg_keeps_an_icc_profile_only_when_given(tmp_path: Path) -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = redact_to_jpeg(_smooth(), [BOX], icc_profile=profile)
    tags = _exiftool(data, tmp_path)
    assert any(key.startswith("ICC_Profile:") for key in tags)
    assert not any(key.startswith(("IFD0:", "ExifIFD:", "IFD1:")) for key in tags)


def test_dei3_jpeg_pixels_change_inside_and_stay_outside() -> None:
    image = _smooth()
    data = redact_to_jpeg(image, [BOX], "box", quality=92)
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.format == "JPEG"
        assert decoded.size == image.size
        after = _pixels(decoded.convert("RGB"))
    before = _pixels(image)
    padded = _pad(BOX)
    inside = _inside(padded, after)
    assert inside.mean() < 4  # black, give or take JPEG ringing at the edges
    assert inside[4:-4, 4:-4].max() <= 8
    far = _outside(padded, after.shape, margin=16)
    assert np.abs(after[far] - before[far]).mean() < 2.0
    assert np.abs(after[far] - before[far]).max() <= 16


def test_dei3_jpeg_flattens_transparency_over_white() -> None:
    image = Image.new("RGBA", (64, 64), (255, 0, 0, 0))  # red hidden under full transparency
    data = redact_to_jpeg(image, [])
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.mode == "RGB"
        assert _pixels(decoded).min() >= 240


def test_dei3_jpeg_quality_is_checked() -> None:
    with pytest.raises(ValueError, match="quality"):
        redact_to_jpeg(_smooth(), [], quality=0)
