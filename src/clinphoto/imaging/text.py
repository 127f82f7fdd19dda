"""Burned-in text detection and reading (DEI-2): PaddleOCR's PP-OCRv4 models on ONNX Runtime.

Text in a clinical photo is how identifiers most often leak: a wristband, a label on a
specimen pot, a name written on a dressing, a date stamp burned in by the camera, an
annotation drawn by an app. The custodian reads what it finds so that
:func:`clinphoto.imaging.identifiers.find_identifiers` can tell a patient's name or MRN from a
ruler's millimetre marks; every region found is reported either way, because text we cannot
read is still text someone should look at.

The models (text detection, orientation, recognition; about 15 MB) ship inside the
``rapidocr-onnxruntime`` wheel; nothing is downloaded at run time. The recogniser's alphabet
is Chinese and Latin, so English and French identifiers, digits and dates are read.

Speed. The photo is reduced so that its long side is at most :data:`DEFAULT_MAX_SIDE` px
(2,000: a 12 MP photo at half size) before detection, so text 16 px tall in the original is
8 px tall when detected, about the smallest the detector finds; a line of text takes a
fifth of the time. The first photo of a new size is slower (ONNX Runtime plans for it).
ONNX Runtime uses one thread per call by default, so that a server inspecting several photos
at once keeps its cores for the others. ``docs/deidentification.md`` gives recall and times.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from PIL import Image

from clinphoto.imaging.regions import Box, Region

__all__ = ["DEFAULT_MAX_SIDE", "TextDetector", "TextModelUnavailable", "detect_text"]

DEFAULT_MAX_SIDE = 2000
DEFAULT_MIN_SCORE = 0.5  # the recogniser's confidence below which a reading is dropped


class TextModelUnavailable(RuntimeError):
    """The OCR models (package rapidocr-onnxruntime) are not installed."""


class TextDetector:
    """Finds lines of text and reads them. One instance is safe to share between threads."""

    def __init__(
        self,
        max_side: int = DEFAULT_MAX_SIDE,
        threads: int = 1,
        min_score: float = DEFAULT_MIN_SCORE,
    ) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:  # pragma: no cover - a broken installation
            raise TextModelUnavailable("rapidocr-onnxruntime is not installed") from exc
        self._engine: Any = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
        _reuse_memory(self._engine, threads)
        # We reduce the image ourselves (below); keep the engine from doing it again.
        self._engine.max_side_len = max_side
        self._engine.text_score = min_score
        self.max_side = max_side
        self._lock = threading.Lock()  # one inference at a time per session

    def __call__(self, image: Image.Image) -> list[Region]:
        return self.detect(image)

    def detect(self, image: Image.Image) -> list[Region]:
        """Lines of text in ``image`` (kind "text", with what was read), in ``image``'s pixels.

        ``image`` should already be the displayed image (EXIF orientation applied), as
        :func:`clinphoto.imaging.inspect.inspect_image` passes it.
        """
        width, height = image.size
        scale = min(1.0, self.max_side / max(width, height))
        small = image
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            factor = int(1 / scale)
            if factor > 1:
                small = small.reduce(factor)
            small = small.resize(size, Image.Resampling.BILINEAR)
        pixels = np.asarray(small.convert("RGB"))[:, :, ::-1]  # the models take BGR
        with self._lock:
            found, _elapsed = self._engine(np.ascontiguousarray(pixels))
        regions: list[Region] = []
        for points, text, score in found or []:
            xs = [float(p[0]) / scale for p in points]
            ys = [float(p[1]) / scale for p in points]
            left, top = int(min(xs)), int(min(ys))
            box = Box(left, top, max(1, int(max(xs)) - left + 1), max(1, int(max(ys)) - top + 1))
            clipped = box.clipped(width, height)
            if clipped is not None:
                regions.append(
                    Region(box=clipped, kind="text", score=round(float(score), 4), text=str(text))
                )
        return regions


def _reuse_memory(engine: Any, threads: int) -> None:
    """Give the detection model a session that keeps its working memory between photos.

    RapidOCR turns ONNX Runtime's CPU memory arena off; with it on, the detection of a 12 MP
    photo at 2,000 px takes 0.83 s instead of 1.08 s on one thread here (the arena saves
    allocating and zeroing the large feature maps for every photo). The memory it keeps is
    what the first photo needed, which an inspection needs anyway. The session is rebuilt
    from the same model file with the same options otherwise; if RapidOCR's internals are
    not as expected (another release), the engine is left as it was.
    """
    import onnxruntime as ort  # type: ignore[import-untyped]

    holder = getattr(getattr(engine, "text_det", None), "infer", None)
    session = getattr(holder, "session", None)
    path = getattr(session, "_model_path", None)
    if holder is None or not isinstance(path, str):
        return
    options = ort.SessionOptions()
    options.enable_cpu_mem_arena = True
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    holder.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


_default: TextDetector | None = None
_default_lock = threading.Lock()


def default_detector() -> TextDetector:
    """The shared detector, created on first use (loading the models takes about a second)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = TextDetector()
        return _default


def detect_text(image: Image.Image) -> list[Region]:
    """Lines of text in ``image`` with what was read (kind "text"), boxes in its pixels."""
    return default_detector().detect(image)
