"""Encoding of decoded pictures for the formats we convert (HEIF, AVIF): pixels only.

Opaque pictures become baseline JPEG at quality 95 with 4:4:4 chroma (no subsampling): close
to the source's own quality, and readable everywhere. Pictures with real transparency become
PNG, which keeps the decoded pixels exactly. Only the pixels and the ICC profile are passed
to the encoder; the result then goes through our own JPEG or PNG scrubber, which both checks
its structure and removes whatever the encoder adds (the JFIF density, for instance).
"""

from __future__ import annotations

import io

from PIL import Image

from clinphoto.imaging.icc import valid_icc
from clinphoto.imaging.jpeg import scrub_jpeg
from clinphoto.imaging.limits import Limits
from clinphoto.imaging.png import scrub_png

__all__ = ["JPEG_QUALITY", "encode_picture"]

JPEG_QUALITY = 95
_ALPHA_MODES = {"RGBA": "RGB", "LA": "L", "RGBa": "RGB", "La": "L", "PA": "RGB"}


def encode_picture(image: Image.Image, icc: bytes | None, limits: Limits) -> tuple[bytes, str]:
    """(data, "jpeg" or "png") for the decoded ``image``; see the module docstring."""
    if icc is not None and not valid_icc(icc):
        icc = None
    if image.mode in ("RGBa", "La", "PA"):
        image = image.convert("RGBA" if image.mode != "La" else "LA")
    if image.mode in _ALPHA_MODES:
        alpha = image.getchannel("A")
        if alpha.getextrema() == (255, 255):
            image = image.convert(_ALPHA_MODES[image.mode])
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA"):
        image.save(out, "PNG", icc_profile=icc or None, compress_level=6)
        return scrub_png(out.getvalue(), limits), "png"
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.save(out, "JPEG", quality=JPEG_QUALITY, subsampling=0, icc_profile=icc or None)
    return scrub_jpeg(out.getvalue(), limits), "jpeg"
