"""The phone app's JPEG encoder (web/src/lib/jpeg), judged by Pillow's libjpeg (DEI-1, STO-2).

Where a browser has no ImageCapture (Safari), the photo is the preview's frame, encoded by the
app straight from the frame's YUV planes. These tests run that TypeScript (web/test/interop/
jpeg.ts) on frames made here, decode what it writes with Pillow and compare the pixels with
this file's own YUV-to-RGB arithmetic for each range and matrix a camera may use; the file
is then held to what the server and exiftool expect: nothing but the picture.
"""

from __future__ import annotations

import base64
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from clinphoto.imaging.scrub import scrub_bytes
from tests.corpus.oracle import EXIFTOOL, exiftool_json
from tests.webtools import run_interop

# Kr, Kb of each matrix.
MATRICES = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}


def frame(width: int, height: int, seed: int = 7) -> NDArray[np.float64]:
    """An RGB picture in [0, 1]: smooth colour gradients, a soft disc and a little noise,
    like a close-up of skin, with some of every hue."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    u, v = xx / max(1, width - 1), yy / max(1, height - 1)
    disc = np.exp(-(((u - 0.6) ** 2 + (v - 0.4) ** 2) / 0.05))
    rgb = np.stack([0.2 + 0.6 * u, 0.15 + 0.5 * v + 0.2 * disc, 0.3 + 0.4 * (1 - u) * v], axis=-1)
    rgb += rng.normal(0, 0.01, rgb.shape)
    return np.clip(rgb, 0, 1)


def to_yuv(rgb: NDArray[np.float64], matrix: str, video: bool) -> tuple[NDArray[Any], ...]:
    """The camera's side: RGB to 8-bit Y, Cb, Cr planes, chroma averaged over 2x2."""
    kr, kb = MATRICES[matrix]
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = kr * r + (1 - kr - kb) * g + kb * b
    cb = (b - y) / (2 * (1 - kb))
    cr = (r - y) / (2 * (1 - kr))
    h, w = y.shape
    ph, pw = h + h % 2, w + w % 2
    cb = np.pad(cb, ((0, ph - h), (0, pw - w)), mode="edge")
    cr = np.pad(cr, ((0, ph - h), (0, pw - w)), mode="edge")
    cb = cb.reshape(ph // 2, 2, pw // 2, 2).mean(axis=(1, 3))
    cr = cr.reshape(ph // 2, 2, pw // 2, 2).mean(axis=(1, 3))
    if video:
        planes = (16 + 219 * y, 128 + 224 * cb, 128 + 224 * cr)
    else:
        planes = (255 * y, 128 + 255 * cb, 128 + 255 * cr)
    return tuple(np.clip(np.rint(p), 0, 255).astype(np.uint8) for p in planes)


def from_yuv(planes: tuple[NDArray[Any], ...], matrix: str, video: bool) -> NDArray[np.float64]:
    """The reference: those planes back to RGB in [0, 255] (chroma repeated over 2x2)."""
    y8, cb8, cr8 = (p.astype(np.float64) for p in planes)
    h, w = y8.shape
    cb8 = np.repeat(np.repeat(cb8, 2, axis=0), 2, axis=1)[:h, :w]
    cr8 = np.repeat(np.repeat(cr8, 2, axis=0), 2, axis=1)[:h, :w]
    if video:
        y, cb, cr = (y8 - 16) / 219, (cb8 - 128) / 224, (cr8 - 128) / 224
    else:
        y, cb, cr = y8 / 255, (cb8 - 128) / 255, (cr8 - 128) / 255
    kr, kb = MATRICES[matrix]
    r = y + 2 * (1 - kr) * cr
    b = y + 2 * (1 - kb) * cb
    g = (y - kr * r - kb * b) / (1 - kr - kb)
    return np.clip(np.stack([r, g, b], axis=-1) * 255, 0, 255)


def packed(planes: tuple[NDArray[Any], ...], fmt: str) -> bytes:
    y, cb, cr = planes
    if fmt == "NV12":
        uv = np.stack([cb, cr], axis=-1).reshape(cb.shape[0], -1)
        return y.tobytes() + uv.tobytes()
    return y.tobytes() + cb.tobytes() + cr.tobytes()


def encode(frames: list[dict[str, Any]]) -> list[bytes]:
    """Run the app's encoder on each frame; its JPEG files."""
    answer = run_interop("jpeg", {"frames": frames})
    return [base64.b64decode(r["b64"]) for r in answer["results"]]


def job(
    planes: tuple[NDArray[Any], ...],
    *,
    matrix: str = "bt601",
    video: bool = True,
    fmt: str = "I420",
    quality: int = 92,
    bands: int = 1,
) -> dict[str, Any]:
    h, w = planes[0].shape
    return {
        "width": w,
        "height": h,
        "b64": base64.b64encode(packed(planes, fmt)).decode(),
        "format": fmt,
        "videoRange": video,
        "matrix": matrix,
        "quality": quality,
        "bands": bands,
    }


def psnr(a: NDArray[Any], b: NDArray[Any]) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


CASES = [
    (matrix, video, fmt)
    for matrix in ("bt601", "bt709")
    for video in (True, False)
    for fmt in ("I420", "NV12")
]


def test_every_range_and_matrix_decodes_to_the_colours_the_camera_meant() -> None:
    """Each (matrix, range, layout) a camera frame may come in: Pillow's decoding of the
    file is the camera's colours, within what quality 92 loses."""
    rgb = frame(96, 64)
    framesets = [(to_yuv(rgb, m, v), m, v, f) for m, v, f in CASES]
    outputs = encode([job(p, matrix=m, video=v, fmt=f) for p, m, v, f in framesets])
    for (planes, matrix, video, fmt), data in zip(framesets, outputs, strict=True):
        with Image.open(BytesIO(data)) as im:
            assert (im.format, im.mode, im.size) == ("JPEG", "RGB", (96, 64))
            got = np.asarray(im, dtype=np.float64)
        want = from_yuv(planes, matrix, video)
        error = np.abs(got - want).mean(axis=(0, 1))
        assert psnr(got, want) > 38, (matrix, video, fmt, psnr(got, want))
        # No colour cast: the mean of each channel within one level.
        assert np.all(np.abs((got - want).mean(axis=(0, 1))) < 1.0), (matrix, video, fmt, error)


def test_a_matrix_read_wrongly_would_be_caught() -> None:
    """The check above can fail: a BT.709 frame encoded as if BT.601 is visibly off."""
    planes = to_yuv(frame(96, 64), "bt709", True)
    (data,) = encode([job(planes, matrix="bt601")])
    with Image.open(BytesIO(data)) as im:
        got = np.asarray(im, dtype=np.float64)
    assert psnr(got, from_yuv(planes, "bt709", True)) < 38


@pytest.mark.parametrize("size", [(1, 1), (2, 2), (17, 9), (33, 35), (16, 16), (250, 31)])
def test_sizes_that_do_not_fill_whole_blocks(size: tuple[int, int]) -> None:
    """Edges are padded as libjpeg pads them; every size decodes to itself."""
    w, h = size
    planes = to_yuv(frame(w, h, seed=w * h), "bt601", True)
    (data,) = encode([job(planes)])
    with Image.open(BytesIO(data)) as im:
        assert im.size == (w, h)
        got = np.asarray(im.convert("RGB"), dtype=np.float64)
    assert psnr(got, from_yuv(planes, "bt601", True)) > 30


def test_the_file_is_the_same_however_many_workers_made_it() -> None:
    """Bands joined with restart markers: one, two, three or seven bands, the same bytes."""
    planes = to_yuv(frame(200, 150), "bt709", True)
    outputs = encode([job(planes, bands=n) for n in (1, 2, 3, 7, 100)])
    assert len(set(outputs)) == 1
    with Image.open(BytesIO(outputs[0])) as im:
        im.load()  # the restart markers are where a decoder expects them


def test_quality_is_libjpegs_quality() -> None:
    """Quality 92 here has the tables of quality 92 in libjpeg (Pillow, Chromium's canvas)."""
    planes = to_yuv(frame(64, 64), "bt601", False)
    for quality in (50, 75, 92, 100):
        (data,) = encode([job(planes, quality=quality, video=False)])
        theirs = BytesIO()
        Image.new("RGB", (16, 16)).save(theirs, "JPEG", quality=quality, subsampling=2)
        with Image.open(BytesIO(data)) as ours, Image.open(theirs) as libjpeg:
            assert ours.quantization == libjpeg.quantization, quality  # type: ignore[attr-defined]


def test_the_file_carries_nothing_but_the_picture(tmp_path: Path) -> None:
    """JFIF, the tables and the scan: the server's scrubber has nothing to take out, and
    exiftool finds no tag beyond the file's own description."""
    planes = to_yuv(frame(120, 80), "bt709", True)
    (data,) = encode([job(planes)])
    assert scrub_bytes(data).data == data
    if EXIFTOOL is None:
        pytest.skip("exiftool is not installed: the scrubber's verdict above stands alone")
    path = tmp_path / "frame.jpg"
    path.write_bytes(data)
    tags = exiftool_json([path])[str(path)]
    groups = {key.split(":", 1)[0] for key in tags if ":" in key}
    assert groups <= {"ExifTool", "File", "JFIF", "Composite", "System"}, sorted(tags)
