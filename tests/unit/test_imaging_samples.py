"""Pictures deeper than 8 bits a sample (DEI-2, DEI-3): seen by the detectors and redacted as
a person sees them, not clipped to white.

A 16-bit PNG or TIFF (a scanner's, a dermatoscope's, a photo editor's export) was converted
by Pillow's own ``convert("RGB")``, which clips every sample above 255: the astronaut's face
in a 16-bit PNG was judged "not identifiable", and its redacted copy was a white JPEG.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from clinphoto.imaging.inspect import FACE_THRESHOLD, inspect_content
from clinphoto.imaging.redact import redact_to_jpeg
from clinphoto.imaging.regions import Box
from clinphoto.imaging.samples import eight_bit


def _astronaut_grey() -> NDArray[np.uint8]:
    data = pytest.importorskip("skimage.data", reason="scikit-image provides the face photo")
    return np.asarray(Image.fromarray(data.astronaut()).convert("L"))  # NASA, public domain


def test_16_bit_samples_are_scaled_not_clipped() -> None:
    grey = np.array([[0, 64, 128, 255]], dtype=np.uint16)
    image = Image.fromarray(grey * 257)  # the whole 16-bit range: I;16
    assert image.mode == "I;16"
    assert image.convert("L").getextrema() == (0, 255)  # Pillow's own: clipped...
    assert np.asarray(image.convert("L")).tolist() == [[0, 255, 255, 255]]  # ...to white
    out = eight_bit(image)
    assert out.mode == "L"
    assert np.asarray(out).tolist() == [[0, 64, 128, 255]]


def test_12_bit_samples_in_16_bit_are_stretched_to_the_whole_range() -> None:
    image = Image.fromarray(np.array([[0, 1024, 2048, 4095]], dtype=np.uint16))
    assert np.asarray(eight_bit(image)).tolist() == [[0, 64, 128, 255]]


def test_deep_samples_that_fit_in_8_bits_are_kept() -> None:
    image = Image.fromarray(np.array([[0, 17, 200, 255]], dtype=np.int32), "I")
    assert np.asarray(eight_bit(image)).tolist() == [[0, 17, 200, 255]]


def test_negative_32_bit_samples_are_black() -> None:
    image = Image.fromarray(np.array([[-5000, 0, 1000, 2000]], dtype=np.int32), "I")
    assert np.asarray(eight_bit(image)).tolist() == [[0, 0, 128, 255]]


def test_floating_point_samples_run_from_darkest_to_brightest() -> None:
    values = np.array([[-1.0, 0.0, 1.0, np.nan]], dtype=np.float32)
    out = np.asarray(eight_bit(Image.fromarray(values, "F")))
    assert out.tolist() == [[0, 128, 255, 128]]  # not-a-number counts as 0
    flat = Image.fromarray(np.full((2, 2), 7.5, dtype=np.float32), "F")
    assert np.asarray(eight_bit(flat)).tolist() == [[0, 0], [0, 0]]


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "LA", "P", "CMYK", "1"])
def test_8_bit_pictures_are_left_to_the_detectors(mode: str) -> None:
    image = Image.new(mode, (3, 2))
    assert eight_bit(image) is image


@pytest.mark.parametrize(
    ("name", "depth"),
    [("PNG", 16), ("TIFF", 16), ("PNG", 12), ("TIFF", 32)],
)
def test_dei2_a_face_in_a_deep_picture_is_found(name: str, depth: int) -> None:
    """The custodian's inspection of the astronaut saved with deeper samples: the same face,
    where Pillow's clipped conversion showed a white picture and the verdict was "not
    identifiable"."""
    grey = _astronaut_grey().astype(np.int64)
    if depth == 32:
        image = Image.fromarray((grey * 1000).astype(np.int32), "I")
    else:
        image = Image.fromarray((grey * ((1 << depth) - 1) // 255).astype(np.uint16))
    buffer = io.BytesIO()
    image.save(buffer, name)
    verdict = inspect_content(buffer.getvalue(), None)
    assert verdict.identifiable
    faces = [b for kind, b, score in verdict.regions if kind == "face" and score >= FACE_THRESHOLD]
    # A hand-checked box around the astronaut's face is [177, 66, 95, 95].
    assert any(Box(*box).iou(Box(177, 66, 95, 95)) > 0.25 for box in faces), verdict.regions


def test_dei3_a_redacted_deep_picture_keeps_its_picture() -> None:
    grey = _astronaut_grey()
    image = Image.fromarray(grey.astype(np.uint16) * 257)
    assert image.mode == "I;16"
    out = np.asarray(Image.open(io.BytesIO(redact_to_jpeg(image, [Box(177, 66, 95, 95)], "box"))))
    outside = (slice(300, 500), slice(0, 500))
    # The same picture outside the box (JPEG's loss aside), not a white one.
    assert abs(float(out[outside].mean()) - float(grey[outside].mean())) < 3
    assert float(np.abs(out[outside].astype(int) - grey[outside].astype(int)).mean()) < 4
    assert out[80:150, 190:260].max() < 40  # the face is covered


def test_dei3_the_detectors_themselves_see_a_deep_picture() -> None:
    """Callers that go straight to a detector (redaction's suggestions) get the same faces
    and text from a 16-bit picture as from its 8-bit copy."""
    from clinphoto.imaging.faces import detect_faces
    from clinphoto.imaging.text import detect_text

    grey = _astronaut_grey()
    deep = Image.fromarray(grey.astype(np.uint16) * 257)
    faces = [f for f in detect_faces(deep) if f.score >= FACE_THRESHOLD]
    assert any(f.box.iou(Box(177, 66, 95, 95)) > 0.25 for f in faces), faces
    assert [f.box for f in faces] == [
        f.box for f in detect_faces(Image.fromarray(grey)) if f.score >= FACE_THRESHOLD
    ]
    assert [t.box for t in detect_text(deep)] == [t.box for t in detect_text(Image.fromarray(grey))]


def test_dei3_clinphoto_redact_covers_the_face_of_a_16_bit_png(tmp_path: Path) -> None:
    grey = _astronaut_grey()
    source = tmp_path / "scan.png"
    Image.fromarray(grey.astype(np.uint16) * 257).save(source)
    out = tmp_path / "redacted.jpg"
    done = subprocess.run(
        [sys.executable, "-m", "clinphoto", "redact", str(source), "--faces", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    pixels = np.asarray(Image.open(out).convert("L"))
    assert pixels[90:140, 200:250].max() < 40  # the middle of the face, covered
    corner = (slice(0, 50), slice(0, 150))  # far from any face: the picture itself, not white
    assert abs(float(pixels[corner].mean()) - float(grey[corner].mean())) < 3
