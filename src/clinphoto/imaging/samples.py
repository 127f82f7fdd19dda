"""Pictures with more than 8 bits a sample, brought to 8 for the detectors and for JPEG.

Pillow's own conversion of a 16-bit, 32-bit or floating-point picture (``I;16``, ``I``,
``F``: a 16-bit PNG or TIFF from a scanner, a dermatoscope or a photo editor) to ``L`` or
``RGB`` clips every sample above 255, so the picture turns white: a face in it is not seen,
and a redacted copy of it is a white JPEG.
"""

from __future__ import annotations

from PIL import Image

__all__ = ["DEEP_MODES", "eight_bit"]

DEEP_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})


def eight_bit(image: Image.Image) -> Image.Image:
    """``image`` with 8-bit samples (mode ``L``) when it has deeper ones; else ``image``.

    Integer samples are scaled by the brightest one (a 12-bit picture stored in 16-bit
    samples is stretched to the whole range; one whose samples all fit in 8 bits is kept as
    it is); floating-point ones from the darkest to the brightest, not-a-number as 0.
    """
    if image.mode not in DEEP_MODES:
        return image
    import numpy as np  # here: importing this module must stay cheap for the commands

    samples = np.asarray(image)
    if image.mode == "F":
        finite = np.nan_to_num(samples.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        low, high = float(finite.min()), float(finite.max())
        scaled = (finite - low) * (255.0 / (high - low)) if high > low else finite * 0.0
    else:
        wide = samples.astype(np.int64).clip(0)
        high = int(wide.max())
        scaled = wide * (255.0 / high) if high > 255 else wide
    return Image.fromarray(np.rint(scaled).clip(0, 255).astype(np.uint8), "L")
