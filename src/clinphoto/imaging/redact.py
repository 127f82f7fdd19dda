"""Redaction of image regions into a derived image (DEI-3).

:func:`redact` returns a new image; the input is never changed. Boxes are in displayed
pixels (see :mod:`clinphoto.imaging.regions`), so the image is first turned upright by its
EXIF orientation, and the result needs no orientation tag. Each box is padded by
:data:`PAD_FRACTION` of its width and height on every side (at least :data:`PAD_MIN_PX`
pixels) and clipped to the image; boxes wholly outside are ignored. Methods:

``box``
    a solid black rectangle (opaque where the image has an alpha channel).
``pixelate``
    area-averaged blocks, at most :data:`PIXELATE_BLOCKS` across the longer side of the box
    (blocks are at least 2 pixels).
``blur``
    area-averaged down to at most :data:`BLUR_SAMPLES` samples across the longer side (this
    discards the detail for good; a Gaussian alone can partly be undone by deconvolution),
    scaled back up bilinearly, then a Gaussian blur of radius ``longer side / 16`` applied
    twice so that the result looks smooth. At 8 samples across, a face is not recognisable.

Pixels outside the padded boxes are left exactly as they were. The returned image carries no
metadata at all: it is rebuilt from pixels, so ``info`` (EXIF and its thumbnail, XMP, ICC,
comments) and any further frames of the input (MPO, animated images) are gone. Images in
modes other than L, LA, RGB, RGBA and CMYK are converted first: to RGBA when they have
transparency, else to RGB ("1" becomes L; 16-bit, 32-bit and floating-point ones become L
scaled to 8 bits, :func:`clinphoto.imaging.samples.eight_bit`).

:func:`redact_to_jpeg` encodes that result as a JPEG with nothing but the picture: no EXIF, no
thumbnail, no XMP, no comment, no MPF, and no ICC profile unless one is passed explicitly.
Transparent pixels are composited over white first, so nothing hidden under transparency
shows up in the JPEG.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from typing import Literal

from PIL import Image, ImageFilter, ImageOps

from clinphoto.imaging.regions import Box, Region
from clinphoto.imaging.samples import eight_bit

__all__ = [
    "BLUR_SAMPLES",
    "PAD_FRACTION",
    "PAD_MIN_PX",
    "PIXELATE_BLOCKS",
    "RedactMethod",
    "redact",
    "redact_to_jpeg",
]

RedactMethod = Literal["blur", "pixelate", "box"]

PAD_FRACTION = 0.10
PAD_MIN_PX = 2
PIXELATE_BLOCKS = 8
BLUR_SAMPLES = 8

_KEPT_MODES = frozenset({"L", "LA", "RGB", "RGBA", "CMYK"})
_BLACK: dict[str, int | tuple[int, ...]] = {
    "L": 0,
    "LA": (0, 255),
    "RGB": (0, 0, 0),
    "RGBA": (0, 0, 0, 255),
    "CMYK": (0, 0, 0, 255),
}


def _working_copy(image: Image.Image) -> Image.Image:
    """A fresh, upright image with the input's pixels and nothing else."""
    upright = eight_bit(ImageOps.exif_transpose(image))
    if upright.mode not in _KEPT_MODES:
        if upright.mode == "1":
            upright = upright.convert("L")
        elif upright.has_transparency_data:
            upright = upright.convert("RGBA")
        else:
            upright = upright.convert("RGB")
    fresh = Image.new(upright.mode, upright.size)
    fresh.paste(upright, (0, 0))
    return fresh


def _padded(box: Box, width: int, height: int, pad_fraction: float) -> Box | None:
    pad_x = max(PAD_MIN_PX, math.ceil(box.w * pad_fraction))
    pad_y = max(PAD_MIN_PX, math.ceil(box.h * pad_fraction))
    return Box(box.x - pad_x, box.y - pad_y, box.w + 2 * pad_x, box.h + 2 * pad_y).clipped(
        width, height
    )


def _downsampled(crop: Image.Image, samples: int, min_step: int) -> Image.Image:
    width, height = crop.size
    step = max(min_step, math.ceil(max(width, height) / samples))
    small = (max(1, math.ceil(width / step)), max(1, math.ceil(height / step)))
    return crop.resize(small, Image.Resampling.BOX)


def _pixelate(crop: Image.Image) -> Image.Image:
    small = _downsampled(crop, PIXELATE_BLOCKS, 2)
    return small.resize(crop.size, Image.Resampling.NEAREST)


def _blur(crop: Image.Image) -> Image.Image:
    small = _downsampled(crop, BLUR_SAMPLES, 2)
    smooth = small.resize(crop.size, Image.Resampling.BILINEAR)
    radius = max(1.0, max(crop.size) / 16)
    for _ in range(2):
        smooth = smooth.filter(ImageFilter.GaussianBlur(radius))
    return smooth


def _black(crop: Image.Image) -> Image.Image:
    return Image.new(crop.mode, crop.size, _BLACK[crop.mode])


_METHODS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "blur": _blur,
    "pixelate": _pixelate,
    "box": _black,
}


def redact(
    image: Image.Image,
    regions: Sequence[Box | Region],
    method: RedactMethod = "box",
    *,
    pad_fraction: float = PAD_FRACTION,
) -> Image.Image:
    """A new upright image with every region (padded, clipped) blurred, pixelated or boxed.

    See the module docstring for the padding and the strength of each method. Raises
    ValueError for an unknown method or a negative ``pad_fraction``.
    """
    transform = _METHODS.get(method)
    if transform is None:
        raise ValueError(f"unknown redaction method {method!r}: use blur, pixelate or box")
    if pad_fraction < 0:
        raise ValueError(f"pad_fraction must not be negative, not {pad_fraction}")
    out = _working_copy(image)
    for region in regions:
        box = region.box if isinstance(region, Region) else region
        area = _padded(box, out.width, out.height, pad_fraction)
        if area is None:
            continue
        corners = (area.x, area.y, area.x + area.w, area.y + area.h)
        out.paste(transform(out.crop(corners)), corners[:2])
    return out


def _jpeg_ready(image: Image.Image) -> Image.Image:
    if image.mode in ("L", "RGB", "CMYK"):
        return image
    flat = image.convert("RGBA")
    white = Image.new("RGBA", flat.size, (255, 255, 255, 255))
    composed = Image.alpha_composite(white, flat)
    return composed.convert("L" if image.mode == "LA" else "RGB")


def redact_to_jpeg(
    image: Image.Image,
    regions: Sequence[Box | Region],
    method: RedactMethod = "box",
    quality: int = 92,
    *,
    icc_profile: bytes | None = None,
    pad_fraction: float = PAD_FRACTION,
) -> bytes:
    """:func:`redact`, encoded as a JPEG carrying no metadata (see the module docstring).

    ``icc_profile`` is written only when given. Raises ValueError for a quality outside 1-100.
    """
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be 1 to 100, not {quality}")
    out = _jpeg_ready(redact(image, regions, method, pad_fraction=pad_fraction))
    extra: dict[str, bytes] = {"icc_profile": icc_profile} if icc_profile else {}
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=quality, exif=b"", **extra)
    return buf.getvalue()
