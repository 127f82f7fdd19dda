"""The face model's runtime stays quiet on stderr, and loses nothing else written there."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from clinphoto.imaging import faces


def test_making_the_detector_writes_no_runtime_banner_to_stderr() -> None:
    """LiteRT's "INFO: Created TensorFlow Lite XNNPACK delegate" would end up in every
    `clinphoto inspect` and the server's log; the detector still works."""
    code = (
        "import sys\n"
        "from PIL import Image\n"
        "from clinphoto.imaging.faces import FaceDetector\n"
        "d = FaceDetector(runtime='litert')\n"
        "print(d.runtime, len(d.detect(Image.new('RGB', (640, 480)))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["litert", "0"]
    assert "XNNPACK" not in done.stderr
    assert done.stderr.strip() == ""


def test_whatever_else_reaches_stderr_meanwhile_is_written_after(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with faces._without_litert_banner():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"a real error from the runtime\n")
    os.write(2, b"and after\n")
    err = capfd.readouterr().err
    assert err == "a real error from the runtime\nand after\n"
