"""TIFF to PNG conversion: the pixels kept exactly, nothing else of the file.

A TIFF can hide data in a hundred places: any IFD tag (private tags, EXIF, GPS, XMP, IPTC,
Photoshop resources), sub-IFDs, further pages, strips the IFD does not reference. Rewriting it
in place would mean understanding all of them, so it is decoded and written as a new PNG that
holds only the pixels, the ICC profile and nothing else. PNG is lossless, so for every mode it
can store (bilevel, grey, grey+alpha, palette, RGB, RGBA, 16-bit grey) the pixels are exactly
the ones Pillow decodes. The TIFF orientation tag is applied to the pixels (a lossless
transpose), so the PNG needs no EXIF.

Refused: camera raw files built on TIFF (DNG, and any file whose first picture is a
reduced-resolution preview or whose pixels are a colour-filter array or linear raw data), files
with more than one full-resolution page (a second picture), and modes PNG cannot hold without
a colour conversion (CMYK, Lab, float samples, integers outside 0..65535).
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, TiffImagePlugin

from clinphoto.imaging.errors import ScrubError
from clinphoto.imaging.icc import valid_icc
from clinphoto.imaging.limits import Limits, check_size
from clinphoto.imaging.png import scrub_png

__all__ = ["convert_tiff"]

_NEW_SUBFILE_TYPE = 254
_PHOTOMETRIC = 262
_DNG_VERSION = 50706
_RAW_PHOTOMETRIC = frozenset((32803, 34892))  # colour filter array, linear raw
# Pillow mode -> the mode it is stored as in PNG without changing a sample value.
_PNG_MODES = {
    "1": "1",
    "L": "L",
    "LA": "LA",
    "P": "P",
    "PA": "RGBA",  # palette expanded, alpha kept
    "RGB": "RGB",
    "RGBA": "RGBA",
    "RGBX": "RGB",  # padding byte dropped
    "I;16": "I;16",
    "I;16B": "I;16",
    "I;16L": "I;16",
    "I;16N": "I;16",
    "I": "I;16",  # only when every sample is within 0..65535
}


def _to_png_mode(image: Image.Image, target: str) -> Image.Image:
    if target != "I;16":
        return image if image.mode == target else image.convert(target)
    if image.mode == "I;16":
        return image
    wide = image.convert("I")  # Pillow converts I;16B/L/N to I;16 only through I, losslessly
    low, high = wide.getextrema()
    if not (isinstance(low, int) and isinstance(high, int) and low >= 0 and high <= 0xFFFF):
        raise ScrubError(
            "a TIFF with samples outside 0..65535 cannot be kept exactly in PNG",
            reason="unsupported-feature",
        )
    return wide.convert("I;16")


def _reduced(image: TiffImagePlugin.TiffImageFile) -> bool:
    return bool(int(image.tag_v2.get(_NEW_SUBFILE_TYPE, 0)) & 1)


def _check_pages(image: TiffImagePlugin.TiffImageFile, limits: Limits) -> None:
    """Refuse raw files and extra full-resolution pages; leave the file on page 0."""
    tags = image.tag_v2
    if _DNG_VERSION in tags:
        raise ScrubError("a DNG camera raw file is not accepted", reason="unsupported-format")
    if tags.get(_PHOTOMETRIC) in _RAW_PHOTOMETRIC or _reduced(image):
        raise ScrubError(
            "a camera raw or preview-first TIFF is not accepted", reason="unsupported-format"
        )
    pages = image.n_frames
    if pages > limits.max_frames:
        raise ScrubError("TIFF has too many pages", reason="decompression-bomb")
    for page in range(1, pages):
        image.seek(page)
        if not _reduced(image):
            raise ScrubError(
                "TIFF with more than one full-resolution page is not accepted",
                reason="unsupported-feature",
            )
    image.seek(0)


def _convert(data: bytes, limits: Limits) -> bytes:
    with Image.open(io.BytesIO(data), formats=["TIFF"]) as opened:
        if not isinstance(opened, TiffImagePlugin.TiffImageFile):  # pragma: no cover
            raise ScrubError("not a TIFF", reason="unsupported-format")
        check_size(*opened.size, limits, "the TIFF header")
        _check_pages(opened, limits)
        target = _PNG_MODES.get(opened.mode)
        if target is None:
            raise ScrubError(
                f"a TIFF in mode {opened.mode} cannot be kept exactly in PNG",
                reason="unsupported-feature",
            )
        icc = opened.info.get("icc_profile")
        opened.load()
        image = _to_png_mode(ImageOps.exif_transpose(opened), target)
    out = io.BytesIO()
    image.save(out, "PNG", icc_profile=icc if icc and valid_icc(icc) else None, compress_level=6)
    return out.getvalue()


def convert_tiff(data: bytes, limits: Limits) -> bytes:
    """A PNG holding the pixels (and ICC profile) of the TIFF ``data``, checked by scrub_png."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # our own limits decide; Pillow's bomb warning off
            png = _convert(data, limits)
    except ScrubError:
        raise
    except Image.DecompressionBombError as exc:
        raise ScrubError(f"TIFF: {exc}", reason="decompression-bomb") from None
    except MemoryError:
        raise ScrubError("TIFF: out of memory while decoding", reason="too-many-pixels") from None
    except EOFError:
        raise ScrubError("TIFF: the data ends early", reason="truncated") from None
    except Exception as exc:  # noqa: BLE001 - decoders raise anything on hostile input
        raise ScrubError(
            f"TIFF: the decoder refused the data ({type(exc).__name__})", reason="malformed"
        ) from None
    return scrub_png(png, limits)
