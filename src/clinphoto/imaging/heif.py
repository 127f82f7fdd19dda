"""HEIC/HEIF to JPEG (or PNG) conversion: the primary picture's pixels, nothing else.

A HEIF file is a container of items: the primary picture (often a grid of tiles), thumbnails,
depth maps, auxiliary images (alpha, HDR gain maps, portrait mattes), further pictures of a
burst or a stereo pair, and EXIF/XMP metadata items. ``exiftool -all=`` leaves the embedded
thumbnail in place. So the file is not rewritten: the primary picture alone is decoded with
libheif (through pillow-heif) and encoded afresh (:mod:`clinphoto.imaging.reencode`), which
carries no thumbnail, no auxiliary or depth image and no metadata.

Orientation: libheif applies the file's ``irot``/``imir`` transformations while decoding (the
HEIF way of orienting a picture), so the decoded pixels are upright. pillow-heif then resets
any EXIF Orientation in its ``info`` to 1 so that it would not be applied twice; we write no
EXIF at all, so nothing can rotate the picture a second time. Images with more than 8 bits a
sample are reduced to 8 bits (JPEG holds no more). The ICC profile is kept; a colour profile
given only as ``nclx`` code points is not carried over (the output is read as sRGB).
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import pillow_heif

from clinphoto.imaging.errors import ScrubError
from clinphoto.imaging.limits import Limits, check_size
from clinphoto.imaging.reencode import encode_picture

__all__ = ["convert_heif"]

_open_heif: Any = pillow_heif.open_heif


def _convert(data: bytes, limits: Limits) -> tuple[bytes, str]:
    heif = _open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)  # parses; decodes nothing
    if len(heif) == 0:
        raise ScrubError("HEIF: the file holds no picture", reason="malformed")
    width, height = heif.size
    check_size(int(width), int(height), limits, "the HEIF primary picture")
    icc = heif.info.get("icc_profile")
    image = heif.to_pillow()  # the primary picture only, decoded with irot/imir applied
    return encode_picture(image, bytes(icc) if icc else None, limits)


def convert_heif(data: bytes, limits: Limits) -> tuple[bytes, str]:
    """(data, "jpeg" or "png") holding only the primary picture of the HEIF ``data``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _convert(data, limits)
    except ScrubError:
        raise
    except MemoryError:
        raise ScrubError("HEIF: out of memory while decoding", reason="too-many-pixels") from None
    except Exception as exc:  # noqa: BLE001 - libheif raises anything on hostile input
        raise ScrubError(
            f"HEIF: the decoder refused the data ({type(exc).__name__}: {_short(exc)})",
            reason="malformed",
        ) from None


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text[:120]
