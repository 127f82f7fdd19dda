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
at once keeps its cores for the others. The models are read as shipped and their graphs
rewritten, as they are loaded, into fewer passes over the feature maps (:func:`_simplified`,
exact in arithmetic), in sessions that keep their memory between photos; the detector's input
is prepared in single precision (:class:`_DetectorInput`). Together these take about 45 % off
a 12 MP photo with the same regions and readings (issue 8). ``docs/deidentification.md``
gives recall and times.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import numpy as np
from PIL import Image

from clinphoto.imaging.regions import Box, Region
from clinphoto.imaging.samples import eight_bit

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
            self._engine: Any = _new_engine(threads)
        except ImportError as exc:  # pragma: no cover - a broken installation
            raise TextModelUnavailable("rapidocr-onnxruntime is not installed") from exc
        _lighten(self._engine, threads)
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
        import cv2

        image = eight_bit(image)  # a 16-bit picture, not clipped to white
        width, height = image.size
        scale = min(1.0, self.max_side / max(width, height))
        small = image
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            factor = int(1 / scale)
            if factor > 1:
                small = small.reduce(factor)
            if small.size != size:
                small = small.resize(size, Image.Resampling.BILINEAR)
        rgb = np.asarray(small if small.mode == "RGB" else small.convert("RGB"))
        pixels = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)  # the models take BGR; one pass, a new array
        with self._lock:
            found, _elapsed = self._engine(pixels)
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


_ENGINE_LOCK = threading.Lock()


def _new_engine(threads: int) -> Any:
    """RapidOCR's engine, its three sessions made by :func:`_lighter_session` from the start.

    RapidOCR creates its sessions through the name ``InferenceSession`` of its
    ``utils.infer_engine`` module; pointing that name at :func:`_lighter_session` while the
    engine is built saves creating the sessions as shipped only to replace them (about
    0.2 s, paid by every custodian child, which loads the models for one photo). If the name
    is not there (another release), the engine is built as shipped and :func:`_lighten`
    replaces its sessions afterwards.
    """
    from rapidocr_onnxruntime import RapidOCR

    try:
        from rapidocr_onnxruntime.utils import infer_engine
    except ImportError:  # pragma: no cover - another release
        infer_engine = None
    shipped = getattr(infer_engine, "InferenceSession", None)
    if infer_engine is None or shipped is None:  # pragma: no cover - another release
        return RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)

    def lighter(model_path: Any, *_args: Any, **_kwargs: Any) -> Any:
        return _lighter_session(str(model_path), threads)

    with _ENGINE_LOCK:
        infer_engine.InferenceSession = lighter
        try:
            return RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
        finally:
            infer_engine.InferenceSession = shipped


def _lighter_session(path: str, threads: int) -> Any:
    """An ONNX Runtime session of the model at ``path``, its graph lighter, its memory kept.

    RapidOCR turns ONNX Runtime's CPU memory arena off; with it on, the detection of a 12 MP
    photo at 2,000 px takes 0.83 s instead of 1.08 s on one thread here (the arena saves
    allocating and zeroing the large feature maps for every photo). The memory it keeps is
    what the first photo needed, which an inspection needs anyway. The graph is made lighter
    by :func:`_simplified` (the same arithmetic in fewer passes over the feature maps); a
    rewritten graph that ONNX Runtime refuses is replaced by the model as shipped.
    """
    import onnxruntime as ort  # type: ignore[import-untyped]

    options = ort.SessionOptions()
    options.enable_cpu_mem_arena = True
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # not the constants the lighter graph no longer uses
    with open(path, "rb") as file:
        shipped = file.read()
    model = _simplified(shipped)
    try:
        session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception:  # a rewrite ONNX Runtime refuses: load the model as shipped
        if model is shipped:
            raise
        session = ort.InferenceSession(shipped, options, providers=["CPUExecutionProvider"])
    session.clinphoto_lighter = True
    return session


def _lighten(engine: Any, threads: int) -> None:
    """Lighter sessions where the engine does not have them yet, and a quicker detector input.

    The sessions are normally made lighter as the engine is built (:func:`_new_engine`); any
    that are not are replaced here by :func:`_lighter_session`. The detector's input is then
    made by :class:`_DetectorInput` in single precision. If RapidOCR's internals are not as
    expected (another release), the engine, or the part that is not, is left as it was.
    """
    holders = (
        getattr(getattr(engine, "text_det", None), "infer", None),
        getattr(getattr(engine, "text_cls", None), "infer", None),
        getattr(getattr(engine, "text_rec", None), "session", None),
    )
    for holder in holders:
        session = getattr(holder, "session", None)
        path = getattr(session, "_model_path", None)
        if holder is None or getattr(session, "clinphoto_lighter", False):
            continue
        if isinstance(path, str):
            holder.session = _lighter_session(path, threads)
    detector = getattr(engine, "text_det", None)
    if detector is not None and callable(getattr(detector, "get_preprocess", None)):
        try:
            prepare = _DetectorInput(
                int(detector.limit_side_len), str(detector.limit_type), detector.mean, detector.std
            )
        except (AttributeError, TypeError, ValueError):  # pragma: no cover - another release
            return
        detector.get_preprocess = lambda _longest: prepare


class _DetectorInput:
    """The detector's input from a BGR image, as RapidOCR's ``DetPreProcess`` makes it.

    The same size (each side a multiple of 32, the short side at least ``limit_side_len``
    when ``limit_type`` is "min") and the same values, ``(pixel / 255 - mean) / std`` per
    channel, computed in single precision: 15 ms for a 2,000 px photo where RapidOCR's
    double-precision arithmetic takes 100-130 ms.
    """

    def __init__(self, limit_side_len: int, limit_type: str, mean: Any, std: Any) -> None:
        self.limit_side_len = limit_side_len
        self.limit_type = limit_type
        std_ = np.asarray(std, dtype=np.float64).reshape(3, 1, 1)
        mean_ = np.asarray(mean, dtype=np.float64).reshape(3, 1, 1)
        self._scale = (1.0 / (255.0 * std_)).astype(np.float32)
        self._offset = (mean_ / std_).astype(np.float32)

    def size(self, height: int, width: int) -> tuple[int, int]:
        ratio = 1.0
        if self.limit_type == "max":
            if max(height, width) > self.limit_side_len:
                ratio = self.limit_side_len / max(height, width)
        elif min(height, width) < self.limit_side_len:
            ratio = self.limit_side_len / min(height, width)
        return round(int(height * ratio) / 32) * 32, round(int(width * ratio) / 32) * 32

    def __call__(self, image: np.ndarray) -> np.ndarray | None:
        import cv2

        height, width = self.size(*image.shape[:2])
        if height <= 0 or width <= 0:
            return None
        if (height, width) != image.shape[:2]:
            image = cv2.resize(image, (width, height))
        planes = image.transpose(2, 0, 1).astype(np.float32)
        if np.all(self._scale == self._scale.flat[0]) and np.all(
            self._offset == self._offset.flat[0]
        ):
            planes *= self._scale.flat[0]
            planes -= self._offset.flat[0]
        else:
            planes *= self._scale
            planes -= self._offset
        return planes[np.newaxis]


def _simplified(model: bytes) -> bytes:
    """The same network in fewer passes over its feature maps (PP-OCRv4's graphs as exported).

    The PP-LCNetV3 backbone of the detector and recogniser scales and shifts every
    convolution's output by two learnt numbers, applies hard-swish as four operations (add 3,
    clip to 0-6, multiply, divide by 6), then scales and shifts again; ONNX Runtime runs each
    as a separate pass over a feature map as large as 32 x 752 x 992 floats, most of them in
    its plain layout between convolutions run in its blocked one, with the map reordered out
    and back. The rewrites, each exact in arithmetic (only float rounding differs: about 1e-7
    in the detector's probabilities, 1e-6 in the recogniser's):

    * a convolution's output times ``s`` plus ``b``: ``s`` and ``b`` folded into its weights
      and bias;
    * ``x * clip(x + 3, 0, 6) / 6``: ``x * HardSigmoid(x)`` (alpha 1/6, beta 1/2), two passes
      that ONNX Runtime runs in its blocked layout;
    * ``x * s + b`` read only by convolutions: ``s`` folded into their weights; ``b`` into
      their bias when they are 1 x 1 without padding, otherwise added as ``b / s`` first by a
      1 x 1 depthwise convolution (the padding is of the shifted values, as before);
    * ``x + x * g``, ``g`` a squeeze-and-excitation gate (one value per channel): ``x * (g + 1)``;
    * a transposed convolution followed by a constant added and a batch normalisation (the
      detector's head): one transposed convolution.

    Anything unexpected (no protobuf, a graph laid out otherwise) leaves the model as it was.
    """
    try:
        return _Rewrite(model).run()
    except Exception:  # noqa: BLE001 - an optimisation only: the model as shipped is correct
        return model


@functools.cache
def _onnx_messages() -> Any:
    """The few ONNX protobuf messages and fields the rewrite reads (others are kept as is)."""
    from google.protobuf import (  # type: ignore[import-untyped]
        descriptor_pb2,
        descriptor_pool,
        message_factory,
    )

    field = descriptor_pb2.FieldDescriptorProto
    one, many = field.LABEL_OPTIONAL, field.LABEL_REPEATED
    file = descriptor_pb2.FileDescriptorProto(
        name="clinphoto_onnx_subset.proto", package="clinphoto_onnx", syntax="proto2"
    )
    messages: dict[str, list[tuple[str, int, int, int, str]]] = {
        "Tensor": [
            ("dims", 1, field.TYPE_INT64, many, ""),
            ("data_type", 2, field.TYPE_INT32, one, ""),
            ("float_data", 4, field.TYPE_FLOAT, many, ""),
            ("raw_data", 9, field.TYPE_BYTES, one, ""),
        ],
        "Attribute": [
            ("name", 1, field.TYPE_STRING, one, ""),
            ("f", 2, field.TYPE_FLOAT, one, ""),
            ("i", 3, field.TYPE_INT64, one, ""),
            ("s", 4, field.TYPE_BYTES, one, ""),
            ("t", 5, field.TYPE_MESSAGE, one, "Tensor"),
            ("ints", 8, field.TYPE_INT64, many, ""),
            ("type", 20, field.TYPE_INT32, one, ""),
        ],
        "Node": [
            ("input", 1, field.TYPE_STRING, many, ""),
            ("output", 2, field.TYPE_STRING, many, ""),
            ("op_type", 4, field.TYPE_STRING, one, ""),
            ("attribute", 5, field.TYPE_MESSAGE, many, "Attribute"),
            ("domain", 7, field.TYPE_STRING, one, ""),
        ],
        "ValueInfo": [("name", 1, field.TYPE_STRING, one, "")],
        "Graph": [
            ("node", 1, field.TYPE_MESSAGE, many, "Node"),
            ("initializer", 5, field.TYPE_MESSAGE, many, "Tensor"),
            ("output", 12, field.TYPE_MESSAGE, many, "ValueInfo"),
        ],
        "Model": [("graph", 7, field.TYPE_MESSAGE, one, "Graph")],
    }
    for name, fields in messages.items():
        message = file.message_type.add(name=name)
        for field_name, number, kind, label, type_name in fields:
            entry = message.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                entry.type_name = f".clinphoto_onnx.{type_name}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("clinphoto_onnx.Model"))


# ONNX's codes: TensorProto.FLOAT; AttributeProto.FLOAT, INT, TENSOR.
_FLOAT, _FLOAT_ATTRIBUTE, _INT_ATTRIBUTE, _TENSOR_ATTRIBUTE = 1, 1, 2, 4


class _Rewrite:
    """One pass of :func:`_simplified` over a model; see there."""

    def __init__(self, model: bytes) -> None:
        self.model = _onnx_messages()()
        self.model.ParseFromString(model)
        graph = self.model.graph
        if len(graph.initializer):
            raise ValueError("weights as initializers: not the layout expected")
        self.const: dict[str, np.ndarray] = {}
        for node in graph.node:
            if node.op_type == "Constant" and [a.name for a in node.attribute] == ["value"]:
                tensor = node.attribute[0].t
                if tensor.data_type == _FLOAT:
                    values = (
                        np.frombuffer(tensor.raw_data, dtype="<f4")
                        if tensor.raw_data
                        else np.array(tensor.float_data, dtype=np.float32)
                    )
                    self.const[node.output[0]] = values.reshape(list(tensor.dims))
        self.outputs = {output.name for output in graph.output}
        self.nodes = [n for n in graph.node if n.op_type != "Constant"]
        self.gone: set[int] = set()
        self.fresh: list[str] = []
        self.readers: dict[str, list[Any]] = {}
        self.producers: dict[str, Any] = {}

    def run(self) -> bytes:
        rewrites = (
            self._fold_affine_into_conv,
            self._hard_swish,
            self._fold_into_readers,
            self._residual_gate,
            self._fold_into_transposed,
        )
        for rewrite in rewrites:
            self._index()
            for node in self.nodes:
                if id(node) not in self.gone:
                    rewrite(node)
        return self._serialised()

    def _index(self) -> None:
        self.readers, self.producers = {}, {}
        for node in self.nodes:
            if id(node) not in self.gone:
                for name in node.input:
                    self.readers.setdefault(name, []).append(node)
                for name in node.output:
                    self.producers[name] = node

    def _only_reader(self, name: str) -> Any:
        readers = [n for n in self.readers.get(name, []) if id(n) not in self.gone]
        return readers[0] if len(readers) == 1 and name not in self.outputs else None

    def _scalar(self, node: Any, op_type: str) -> tuple[float, str] | None:
        """(c, x) when ``node`` is ``op_type`` of a tensor x and a one-element constant c."""
        if node is None or node.op_type != op_type or node.domain or len(node.input) != 2:
            return None
        consts = [name for name in node.input if name in self.const and self.const[name].size == 1]
        if len(consts) != 1:
            return None
        other = node.input[1] if node.input[0] == consts[0] else node.input[0]
        return float(self.const[consts[0]].reshape(())), other

    def _constant(self, name: str, values: np.ndarray) -> str:
        self.const[name] = values.astype(np.float32)
        self.fresh.append(name)
        return name

    def _weights(self, conv: Any, weights: np.ndarray, bias: np.ndarray) -> None:
        tag = conv.output[0]
        conv.input[1] = self._constant(f"{tag}/clinphoto_w", weights)
        bias_name = self._constant(f"{tag}/clinphoto_b", bias)
        if len(conv.input) > 2:
            conv.input[2] = bias_name
        else:
            conv.input.append(bias_name)

    def _conv_parts(self, conv: Any) -> tuple[np.ndarray, np.ndarray] | None:
        if conv.op_type != "Conv" or conv.domain or len(conv.input) < 2:
            return None
        weights = self.const.get(conv.input[1])
        if weights is None or weights.ndim != 4:
            return None
        bias = self.const.get(conv.input[2]) if len(conv.input) > 2 else None
        if len(conv.input) > 2 and bias is None:
            return None
        return weights, bias if bias is not None else np.zeros(weights.shape[0], np.float32)

    def _fold_affine_into_conv(self, conv: Any) -> None:
        parts = self._conv_parts(conv)
        if parts is None:
            return
        mul = self._only_reader(conv.output[0])
        scaled = self._scalar(mul, "Mul")
        if scaled is None:
            return
        scale, shift, chain = scaled[0], 0.0, [mul]
        add = self._only_reader(mul.output[0])
        shifted = self._scalar(add, "Add")
        if shifted is not None:
            shift = shifted[0]
            chain.append(add)
        weights, bias = parts
        conv.output[0] = chain[-1].output[0]
        self._weights(conv, weights * np.float32(scale), bias * np.float32(scale) + shift)
        self.gone.update(id(node) for node in chain)

    def _hard_swish(self, add: Any) -> None:
        shifted = self._scalar(add, "Add")
        if shifted is None or shifted[0] != 3.0:
            return
        x = shifted[1]
        clip = self._only_reader(add.output[0])
        if clip is None or clip.op_type != "Clip" or clip.domain or len(clip.input) != 3:
            return
        bounds = [self.const.get(name) for name in clip.input[1:]]
        if any(b is None or b.size != 1 for b in bounds) or [
            float(b.reshape(())) for b in bounds if b is not None
        ] != [0.0, 6.0]:
            return
        mul = self._only_reader(clip.output[0])
        if mul is None or mul.op_type != "Mul" or sorted(mul.input) != sorted([x, clip.output[0]]):
            return
        div = self._only_reader(mul.output[0])
        if div is None or div.op_type != "Div" or list(div.input)[:1] != [mul.output[0]]:
            return
        six = self.const.get(div.input[1]) if len(div.input) == 2 else None
        if six is None or six.size != 1 or float(six.reshape(())) != 6.0:
            return
        self.gone.update((id(clip), id(mul)))
        add.op_type = "HardSigmoid"
        del add.input[:]
        add.input.append(x)
        for name, value in (("alpha", 1 / 6), ("beta", 0.5)):
            attribute = add.attribute.add()
            attribute.name, attribute.type, attribute.f = name, _FLOAT_ATTRIBUTE, value
        div.op_type = "Mul"
        del div.input[:]
        div.input.extend([x, add.output[0]])

    def _fold_into_readers(self, mul: Any) -> None:
        scaled = self._scalar(mul, "Mul")
        if scaled is None or scaled[0] == 0.0:
            return
        scale, x = scaled
        add = self._only_reader(mul.output[0])
        shifted = self._scalar(add, "Add")
        if shifted is None or add.output[0] in self.outputs:
            return
        shift = shifted[0]
        convs = [n for n in self.readers.get(add.output[0], []) if id(n) not in self.gone]
        parts = [self._conv_parts(conv) for conv in convs]
        if not convs or any(
            p is None or c.input[0] != add.output[0] for c, p in zip(convs, parts, strict=True)
        ):
            return
        pointwise = all(self._pointwise(conv) for conv in convs)
        self.gone.add(id(mul))
        for conv, part in zip(convs, parts, strict=True):
            assert part is not None
            weights, bias = part
            if pointwise:
                bias = bias + np.float32(shift) * weights.reshape(weights.shape[0], -1).sum(axis=1)
            self._weights(conv, weights * np.float32(scale), bias)
        if pointwise or shift == 0.0:
            self.gone.add(id(add))
            for conv in convs:
                conv.input[0] = x
        else:
            # x + shift / scale as a 1 x 1 depthwise convolution: ONNX Runtime keeps it in the
            # blocked layout of the convolutions around it, where an Add of a constant would
            # be run in the plain layout, with the feature map reordered out and back.
            weights = self.const[convs[0].input[1]]
            group = next((a.i for a in convs[0].attribute if a.name == "group"), 1)
            channels = int(weights.shape[1] * max(1, group))
            tag = add.output[0]
            add.op_type = "Conv"
            del add.input[:]
            add.input.extend(
                [
                    x,
                    self._constant(f"{tag}/clinphoto_w", np.ones((channels, 1, 1, 1))),
                    self._constant(f"{tag}/clinphoto_b", np.full(channels, shift / scale)),
                ]
            )
            add.attribute.add(name="group", type=_INT_ATTRIBUTE, i=channels)

    def _producer(self, name: str) -> Any:
        node = self.producers.get(name)
        return node if node is not None and id(node) not in self.gone else None

    def _residual_gate(self, add: Any) -> None:
        """``x + x * g`` with ``g`` a squeeze-and-excitation gate: ``x * (g + 1)``."""
        if add.op_type != "Add" or add.domain or len(add.input) != 2:
            return
        for x, product in (tuple(add.input), tuple(add.input)[::-1]):
            mul = self._producer(product)
            if mul is None or mul.op_type != "Mul" or mul.domain or len(mul.input) != 2:
                continue
            if x not in mul.input or self._only_reader(product) is not add:
                continue
            gate = mul.input[1] if mul.input[0] == x else mul.input[0]
            if gate == x or not self._pooled(gate):
                continue
            del mul.input[:]
            mul.op_type = "Add"
            mul.input.extend([gate, self._constant(f"{product}/clinphoto_one", np.ones(1))])
            del add.input[:]
            add.op_type = "Mul"
            add.input.extend([x, product])
            return

    def _pooled(self, name: str) -> bool:
        """Whether ``name`` is computed (within five steps) from a global average pool only."""
        frontier = [name]
        for _ in range(5):
            producers = [self._producer(n) for n in frontier if n not in self.const]
            if any(p is None for p in producers):
                return False
            if producers and all(p.op_type == "GlobalAveragePool" for p in producers):
                return True
            frontier = [i for p in producers for i in p.input if i not in self.const]
            if not frontier:
                return False
        return False

    def _fold_into_transposed(self, deconv: Any) -> None:
        """A transposed convolution's output plus a constant, then batch-normalised: one layer."""
        if deconv.op_type != "ConvTranspose" or deconv.domain or len(deconv.input) < 2:
            return
        attributes = {a.name: a for a in deconv.attribute}
        weights = self.const.get(deconv.input[1])
        group = attributes.get("group")
        if weights is None or weights.ndim != 4 or (group is not None and group.i != 1):
            return
        channels = weights.shape[1]
        bias = self.const.get(deconv.input[2]) if len(deconv.input) > 2 else None
        if len(deconv.input) > 2 and bias is None:
            return
        bias = np.zeros(channels, np.float32) if bias is None else bias
        chain, out = [], deconv.output[0]
        add = self._only_reader(out)
        if add is not None and add.op_type == "Add" and not add.domain and len(add.input) == 2:
            other = add.input[1] if add.input[0] == out else add.input[0]
            shift = self.const.get(other)
            shapes = ((), (1,), (1, 1, 1, 1), (1, channels, 1, 1), (channels, 1, 1))
            if shift is not None and other != out and shift.shape in shapes:
                bias = bias + shift.reshape(-1).astype(np.float32)
                chain.append(add)
                out = add.output[0]
        norm = self._only_reader(out)
        if norm is not None and norm.op_type == "BatchNormalization" and len(norm.output) == 1:
            parts = [self.const.get(name) for name in norm.input[1:5]]
            if len(norm.input) == 5 and all(
                p is not None and p.shape == (channels,) for p in parts
            ):
                gamma, beta, mean, var = (p for p in parts if p is not None)
                epsilon = next((a.f for a in norm.attribute if a.name == "epsilon"), 1e-5)
                factor = (gamma / np.sqrt(var + np.float32(epsilon))).astype(np.float32)
                weights = weights * factor.reshape(1, -1, 1, 1)
                bias = (bias - mean) * factor + beta
                chain.append(norm)
                out = norm.output[0]
        if not chain:
            return
        deconv.output[0] = out
        self._weights(deconv, weights, bias)
        self.gone.update(id(node) for node in chain)

    def _pointwise(self, conv: Any) -> bool:
        kernel = tuple(self.const[conv.input[1]].shape[2:])
        attributes = {a.name: a for a in conv.attribute}
        pads = attributes.get("pads")
        auto_pad = attributes.get("auto_pad")
        return (
            kernel == (1, 1)
            and (pads is None or not any(pads.ints))
            and (auto_pad is None or auto_pad.s in (b"", b"NOTSET", b"VALID"))
        )

    def _serialised(self) -> bytes:
        graph = self.model.graph
        kept = [node for node in self.nodes if id(node) not in self.gone]
        used = {name for node in kept for name in node.input} | self.outputs
        fresh = set(self.fresh)
        node_type = type(graph.node[0])
        constants = []
        for node in graph.node:
            if (
                node.op_type == "Constant"
                and node.output[0] in used
                and node.output[0] not in fresh
            ):
                copy = node_type()
                copy.CopyFrom(node)
                constants.append(copy)
        for name in dict.fromkeys(self.fresh):
            if name not in used:
                continue
            node = node_type(op_type="Constant", output=[name])
            value = node.attribute.add(name="value", type=_TENSOR_ATTRIBUTE)
            values = self.const[name]
            value.t.data_type = _FLOAT
            value.t.dims.extend(values.shape)
            value.t.raw_data = values.astype("<f4").tobytes()
            constants.append(node)
        rest = []
        for node in kept:
            copy = node_type()
            copy.CopyFrom(node)
            rest.append(copy)
        del graph.node[:]
        graph.node.extend(constants + rest)
        return bytes(self.model.SerializeToString())


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
