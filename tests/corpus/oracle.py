"""exiftool as an independent oracle: what metadata is left in a scrubbed file?

One exiftool process reads many files (``-@ ARGFILE``), so checking a thousand outputs costs
seconds, not minutes. :func:`leaks` holds the allow-list: the tags a scrubbed picture may
carry because they describe how to show it (size, colour, orientation, animation) and
nothing about a person, a device, a place or a time. Every other tag is a leak.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["EXIFTOOL", "exiftool_json", "leaks"]

EXIFTOOL = shutil.which("exiftool")

# Whole groups that describe the file on disk, exiftool itself, or a colour profile.
_ALLOWED_GROUPS = frozenset(
    ("System", "ExifTool", "ICC_Profile", "ICC-header", "ICC-meas", "ICC-view", "ICC-chrm")
)
# group -> tags allowed in it
_ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "File": frozenset(
        (
            "FileType", "FileTypeExtension", "MIMEType", "ImageWidth", "ImageHeight",
            "EncodingProcess", "BitsPerSample", "ColorComponents", "YCbCrSubSampling",
            "ExifByteOrder",
        )
    ),
    "Composite": frozenset(("ImageSize", "Megapixels")),
    "JFIF": frozenset(("JFIFVersion", "ResolutionUnit", "XResolution", "YResolution")),
    "Adobe": frozenset(("DCTEncodeVersion", "APP14Flags0", "APP14Flags1", "ColorTransform")),
    "IFD0": frozenset(("Orientation",)),  # the one EXIF tag we write; see exif.py
    "PNG": frozenset(
        (
            "ImageWidth", "ImageHeight", "BitDepth", "ColorType", "Compression", "Filter",
            "Interlace", "Palette", "Transparency", "Gamma", "WhitePointX", "WhitePointY",
            "RedX", "RedY", "GreenX", "GreenY", "BlueX", "BlueY", "SRGBRendering",
            "SignificantBits", "BackgroundColor", "ProfileName", "AnimationFrames",
            "AnimationPlays", "ColorPrimaries", "TransferCharacteristics", "MatrixCoefficients",
            "VideoFullRangeFlag",
        )
    ),
    "PNG-pHYs": frozenset(("PixelsPerUnitX", "PixelsPerUnitY", "PixelUnits")),
    "GIF": frozenset(
        (
            "GIFVersion", "ImageWidth", "ImageHeight", "HasColorMap", "ColorResolutionDepth",
            "BitsPerPixel", "BackgroundColor", "PixelAspectRatio", "AnimationIterations",
            "FrameCount", "Duration", "TransparentColor",
        )
    ),
    "RIFF": frozenset(
        (
            "VP8Version", "ImageWidth", "ImageHeight", "HorizontalScale", "VerticalScale",
            "WebP_Flags", "AlphaCompression", "AlphaFiltering", "AlphaPreprocessing",
            "AnimationLoopCount", "BackgroundColor", "Duration",
        )
    ),
}  # fmt: skip
# Values a tag must have where allowing any value would let text through.
_FIXED_VALUES: dict[str, frozenset[str]] = {"PNG:ProfileName": frozenset(("ICC profile",))}


def _fixed_value_ok(key: str, value: Any) -> bool:
    return key not in _FIXED_VALUES or str(value) in _FIXED_VALUES[key]


def leaks(tags: dict[str, Any]) -> list[str]:
    """``GROUP:Tag=value`` for every tag of one exiftool ``-G1`` record not on the allow-list.

    exiftool warnings and errors count too: they mean exiftool saw something it did not
    expect, which a scrubbed file should not have.
    """
    found: list[str] = []
    for key, value in tags.items():
        if key == "SourceFile":
            continue
        group, _, name = key.partition(":")
        if key in ("ExifTool:Warning", "ExifTool:Error"):
            found.append(f"{key}={value}")
        elif group in _ALLOWED_GROUPS:
            continue
        elif name not in _ALLOWED_TAGS.get(group, ()) or (
            key in _FIXED_VALUES and str(value) not in _FIXED_VALUES[key]
        ):
            found.append(f"{key}={str(value)[:80]}")
    return found


def exiftool_json(files: list[Path]) -> dict[str, dict[str, Any]]:
    """exiftool ``-j -a -u -G1`` records of ``files`` (any extension), keyed by path."""
    if EXIFTOOL is None:
        raise RuntimeError("exiftool is not installed (apt-get install libimage-exiftool-perl)")
    with tempfile.NamedTemporaryFile("w", suffix=".args", encoding="utf-8") as argfile:
        argfile.write("".join(f"{path}\n" for path in files))
        argfile.flush()
        run = subprocess.run(
            [EXIFTOOL, "-j", "-a", "-u", "-G1", "-charset", "filename=utf8", "-@", argfile.name],
            capture_output=True,
            timeout=600,
            check=False,
        )
    if not run.stdout.strip():
        raise RuntimeError(f"exiftool printed nothing: {run.stderr.decode(errors='replace')}")
    records: list[dict[str, Any]] = json.loads(run.stdout)
    return {str(Path(record["SourceFile"])): record for record in records}
