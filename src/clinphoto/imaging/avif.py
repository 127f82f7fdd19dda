"""AVIF to JPEG (or PNG) conversion: the first picture's pixels, nothing else.

Decoded with Pillow's AVIF plugin (libavif); pillow-heif here has no AV1 decoder. libavif
does not apply the ``irot``/``imir`` transformations itself: Pillow reports them as an EXIF
Orientation, which we apply to the pixels (a lossless transpose) before encoding afresh with
:mod:`clinphoto.imaging.reencode`. No EXIF, XMP, thumbnail, auxiliary image or further frame
of an image sequence is carried over; the ICC profile is kept.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps

from clinphoto.imaging.errors import ScrubError
from clinphoto.imaging.limits import Limits, check_size
from clinphoto.imaging.reencode import encode_picture

__all__ = ["convert_avif"]


def _convert(data: bytes, limits: Limits) -> tuple[bytes, str]:
    with Image.open(io.BytesIO(data), formats=["AVIF"]) as opened:
        check_size(*opened.size, limits, "the AVIF header")
        icc = opened.info.get("icc_profile")
        opened.load()  # the first frame only
        image = ImageOps.exif_transpose(opened)
    return encode_picture(image, icc or None, limits)


def convert_avif(data: bytes, limits: Limits) -> tuple[bytes, str]:
    """(data, "jpeg" or "png") holding only the first picture of the AVIF ``data``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _convert(data, limits)
    except ScrubError:
        raise
    except Image.DecompressionBombError as exc:
        raise ScrubError(f"AVIF: {exc}", reason="decompression-bomb") from None
    except MemoryError:
        raise ScrubError("AVIF: out of memory while decoding", reason="too-many-pixels") from None
    except Exception as exc:  # noqa: BLE001 - decoders raise anything on hostile input
        raise ScrubError(
            f"AVIF: the decoder refused the data ({type(exc).__name__})", reason="malformed"
        ) from None
