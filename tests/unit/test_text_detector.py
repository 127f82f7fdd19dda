"""The text detector's speed-ups (issue 8, DEI-2) compute what RapidOCR as shipped computes.

:func:`clinphoto.imaging.text._simplified` rewrites the PP-OCRv4 graphs into fewer passes and
:class:`clinphoto.imaging.text._DetectorInput` prepares the detector's input in single
precision. Both must leave the results as they were: the models' outputs, the input tensor,
and what is found and read in a photo. Recall over the labelled set is measured by
``python -m tools.deid_eval --detector text``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped]
import pytest
from PIL import Image, ImageDraw, ImageFont

from clinphoto.imaging.text import _DetectorInput, _onnx_messages, _simplified, default_detector

rapidocr = pytest.importorskip("rapidocr_onnxruntime")
MODELS = Path(rapidocr.__file__).parent / "models"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _session(model: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _nodes(model: bytes) -> int:
    parsed = _onnx_messages()()
    parsed.ParseFromString(model)
    return sum(1 for node in parsed.graph.node if node.op_type != "Constant")


@pytest.mark.parametrize(
    ("name", "shape", "fewer"),
    [
        ("ch_PP-OCRv4_det_infer.onnx", (1, 3, 320, 256), 0.4),
        ("ch_PP-OCRv4_rec_infer.onnx", (3, 3, 48, 400), 0.3),
        ("ch_ppocr_mobile_v2.0_cls_infer.onnx", (3, 3, 48, 192), 0.1),
    ],
)
def test_lighter_graphs_compute_what_the_shipped_models_compute(
    name: str, shape: tuple[int, ...], fewer: float
) -> None:
    shipped = (MODELS / name).read_bytes()
    lighter = _simplified(shipped)
    assert _nodes(lighter) <= (1 - fewer) * _nodes(shipped)
    inputs = np.random.default_rng(8).uniform(-1, 1, shape).astype(np.float32)
    before, after = _session(shipped), _session(lighter)
    feed = {before.get_inputs()[0].name: inputs}
    expected, got = before.run(None, feed)[0], after.run(None, feed)[0]
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-4)
    if got.ndim == 3:  # the recogniser: the same character at every step
        assert (got.argmax(-1) == expected.argmax(-1)).all()


def test_a_model_laid_out_otherwise_is_left_as_it_was() -> None:
    assert _simplified(b"not an ONNX model") == b"not an ONNX model"
    assert _simplified(b"") == b""


@pytest.mark.parametrize("size", [(1500, 2000), (2000, 1500), (480, 640), (1003, 1999), (40, 900)])
def test_detector_input_is_rapidocrs(size: tuple[int, int]) -> None:
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    image = np.random.default_rng(size[0]).integers(0, 256, (*size, 3), dtype=np.uint8)
    expected = DetPreProcess(736, "min", [0.5] * 3, [0.5] * 3)(image)
    got = _DetectorInput(736, "min", [0.5] * 3, [0.5] * 3)(image)
    assert got is not None
    assert got.dtype == np.float32
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-6)
    other = _DetectorInput(960, "max", [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])(image)
    reference = DetPreProcess(960, "max", [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])(image)
    assert other is not None
    np.testing.assert_allclose(other, reference, atol=1e-5)


def test_the_shared_detector_runs_the_lighter_sessions_with_their_memory_kept() -> None:
    engine = default_detector()._engine
    sessions = (engine.text_det.infer, engine.text_cls.infer, engine.text_rec.session)
    for holder in sessions:
        assert holder.session.get_session_options().enable_cpu_mem_arena
    assert isinstance(engine.text_det.get_preprocess(2000), _DetectorInput)


def _labelled_photo() -> Image.Image:
    photo = Image.new("RGB", (4000, 3000), (196, 152, 128))
    draw = ImageDraw.Draw(photo)
    draw.ellipse((1600, 1100, 2400, 1700), fill=(120, 40, 40))
    for size, at, text in (
        (16, (300, 300), "MRN 4417302"),
        (24, (2600, 500), "DOE, Jane 1961-07-14"),
        (48, (400, 2400), "2026-11-30 09:41"),
        (120, (1500, 1900), "Tremblay"),
    ):
        font = ImageFont.truetype(FONT, size)
        left, top, right, bottom = draw.textbbox(at, text, font=font)
        draw.rectangle((left - 6, top - 6, right + 6, bottom + 6), fill="white")
        draw.text(at, text, font=font, fill=(20, 20, 20))
    return photo


def test_finds_and_reads_what_rapidocr_as_shipped_does() -> None:
    from rapidocr_onnxruntime import RapidOCR

    photo = _labelled_photo()
    ours = default_detector()
    shipped = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
    small = photo.reduce(2)
    found, _ = shipped(np.ascontiguousarray(np.asarray(small)[:, :, ::-1]))
    expected = sorted((str(text), [[2 * x, 2 * y] for x, y in box]) for box, text, _ in found)
    got = sorted((region.text, region.box) for region in ours.detect(photo))
    assert [text for text, _ in got] == [text for text, _ in expected]
    assert len(got) >= 4
    for (_, box), (_, points) in zip(got, expected, strict=True):
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        assert abs(box.x - min(xs)) <= 4
        assert abs(box.y - min(ys)) <= 4
        assert abs(box.x + box.w - max(xs)) <= 4
        assert abs(box.y + box.h - max(ys)) <= 4


def test_a_rewrite_onnx_runtime_refuses_falls_back_to_the_model_as_shipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from clinphoto.imaging import text

    monkeypatch.setattr(text, "_simplified", lambda model: b"not an ONNX model")
    detector = text.TextDetector()
    assert detector._engine.text_det.infer.session.get_session_options().enable_cpu_mem_arena
    assert detector.detect(Image.new("RGB", (640, 480), (196, 152, 128))) == []


def test_building_the_engine_leaves_rapidocrs_session_factory_as_it_was() -> None:
    from rapidocr_onnxruntime.utils import infer_engine

    from clinphoto.imaging.text import TextDetector

    before = infer_engine.InferenceSession
    TextDetector()
    assert infer_engine.InferenceSession is before
    assert before is ort.InferenceSession


def test_the_text_evaluation_alternates_detectors_and_scores_each(tmp_path: Path) -> None:
    import json

    from tools.deid_eval import compare_text

    from clinphoto.imaging.regions import Box, Region

    line = {"box": [10, 10, 60, 12], "size": 12, "style": "label", "text": "MRN 1"}
    images = [
        {"file": "a.png", "negative": False, "objects": [line]},
        {"file": "b.png", "negative": True, "objects": []},
    ]
    for entry in images:
        Image.new("RGB", (100, 40)).save(tmp_path / entry["file"])
    (tmp_path / "labels.json").write_text(json.dumps({"kind": "text", "images": images}))
    calls: list[str] = []

    def reader(image: Image.Image) -> list[Region]:
        calls.append("reader")
        return [Region(box=Box(12, 10, 50, 12), kind="text", score=0.9, text="MRN 1")]

    def blind(image: Image.Image) -> list[Region]:
        calls.append("blind")
        return []

    results = compare_text(tmp_path, {"reader": reader, "blind": blind})
    assert calls == ["reader", "blind", "blind", "reader"]
    assert [o["found"] for o in results["reader"]["objects"]] == [True]
    assert results["reader"]["objects"][0]["char_accuracy"] == 1.0
    assert results["reader"]["fp_negative"] == [1]
    assert [o["found"] for o in results["blind"]["objects"]] == [False]
    assert results["blind"]["fp_negative"] == [0]
    assert len(results["blind"]["cpu_ms"]) == 2
