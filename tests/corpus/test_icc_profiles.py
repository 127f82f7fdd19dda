"""DEI-1 on real colour profiles: blanking a profile's text keeps every real one, and its colours.

Every ICC profile embedded in the corpus's pictures (JPEG, MPO, PNG, WebP, TIFF, AVIF, PSD)
or shipped beside them (.icc, .icm): cameras', phones' (Apple's, Google's), sRGB, grey and
large lookup-table profiles. Each valid one must be kept by :func:`clean_icc` (no real profile
has a tag type we do not know), lose its description, and give Little CMS the same colours.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest
from PIL import Image, ImageCms
from tools.corpus import corpus_dirs, default_cache

from clinphoto.imaging.icc import clean_icc, valid_icc

pytestmark = pytest.mark.corpus

_EXTENSIONS = {".jpg", ".jpeg", ".mpo", ".png", ".webp", ".tif", ".tiff", ".avif", ".psd"}
_MODES = {b"RGB ": "RGB", b"GRAY": "L", b"CMYK": "CMYK"}


def _profiles() -> dict[bytes, str]:
    roots = corpus_dirs()
    if not roots:
        pytest.skip(f"image corpus not in {default_cache()}: run `python -m tools.corpus`")
    found: dict[bytes, str] = {}
    for path in sorted(p for root in roots for p in root.rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        if suffix in (".icc", ".icm"):
            found.setdefault(path.read_bytes(), path.name)
        elif suffix in _EXTENSIONS and path.stat().st_size < 20_000_000:
            profile = _embedded(path)
            if profile:
                found.setdefault(profile, path.name)
    return found


def _embedded(path: Path) -> bytes | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(path) as image:
                profile = image.info.get("icc_profile")
        except Exception:  # noqa: BLE001 - the corpus holds files made to break decoders
            return None
    return bytes(profile) if profile else None


def _colours(profile: bytes, mode: str) -> bytes:
    size = 32
    channels = len(mode) if mode != "L" else 1
    ramp = bytes(
        (i * 255 // (size * size - 1) + c * 37) % 256
        for i in range(size * size)
        for c in range(channels)
    )
    image = Image.frombytes(mode, (size, size), ramp)
    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    transform = ImageCms.buildTransform(source, ImageCms.createProfile("LAB"), mode, "LAB")
    return ImageCms.applyTransform(image, transform).tobytes()


def test_dei1_every_real_profile_is_kept_with_its_colours_and_without_its_text() -> None:
    profiles = {p: name for p, name in _profiles().items() if valid_icc(p)}
    assert len(profiles) >= 8, sorted(profiles.values())
    compared = 0
    for profile, name in profiles.items():
        cleaned = clean_icc(profile)
        assert cleaned is not None, name
        assert len(cleaned) == len(profile), name
        opened = ImageCms.ImageCmsProfile(io.BytesIO(cleaned))
        assert ImageCms.getProfileDescription(opened).strip("\0\n ") == "", name
        mode = _MODES.get(profile[16:20])
        if mode is not None and profile[12:16] in (b"mntr", b"scnr", b"prtr", b"spac"):
            assert _colours(cleaned, mode) == _colours(profile, mode), name
            compared += 1
    assert compared >= 6, compared
