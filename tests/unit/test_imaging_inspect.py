"""The identifiability verdict (DEI-2, CON-4, TRN-3) from faces, burned-in text and captions.

The detectors are replaced by small deterministic functions: these tests check our own rules,
not detection. One test runs the real detectors when they are installed.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import json
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from clinphoto.imaging import inspect as inspect_module
from clinphoto.imaging.identifiers import PatientIdentifiers
from clinphoto.imaging.inspect import (
    FACE_THRESHOLD,
    DetectorUnavailable,
    Inspection,
    displayed,
    inspect_image,
)
from clinphoto.imaging.regions import Box, Region

PATIENT = PatientIdentifiers(
    given_names=["Jane"],
    family_names=["Doe"],
    mrn="7654321",
    date_of_birth=dt.date(1975, 6, 1),
)

Detector = Callable[[Image.Image], list[Region]]


def _image(size: tuple[int, int] = (200, 100)) -> Image.Image:
    return Image.new("RGB", size, (180, 140, 120))


def _fixed(*regions: Region) -> Detector:
    def detect(image: Image.Image) -> list[Region]:
        return list(regions)

    return detect


NONE = _fixed()


def _face(score: float = 0.9, box: Box = Box(10, 10, 40, 40)) -> Region:
    return Region(box, "face", score)


def _text(text: str, box: Box = Box(100, 60, 80, 20), score: float = 0.8) -> Region:
    return Region(box, "text", score, text)


def _run(**kwargs: object) -> Inspection:
    options: dict[str, object] = {"face_detector": NONE, "text_detector": NONE, **kwargs}
    return inspect_image(_image(), **options)  # type: ignore[arg-type]


# --- the verdict -----------------------------------------------------------------------------


def test_dei2_nothing_found_is_not_identifiable() -> None:
    result = _run(captions=["Left forearm laceration, 3 cm"], patient=PATIENT)
    assert not result.identifiable
    assert result.reasons == []
    assert result.notes == []
    assert result.faces == []
    assert result.text == []
    assert result.caption_findings == []


def test_dei2_a_face_makes_it_identifiable() -> None:
    result = _run(face_detector=_fixed(_face(0.93)))
    assert result.identifiable
    assert result.reasons == ["face detected at [10, 10, 40, 40] (score 0.93)"]


def test_dei2_a_weak_face_is_a_note_not_a_verdict() -> None:
    result = _run(face_detector=_fixed(_face(FACE_THRESHOLD - 0.01)))
    assert not result.identifiable
    assert len(result.faces) == 1
    assert result.notes == [
        f"possible face at [10, 10, 40, 40] scored {FACE_THRESHOLD - 0.01:.2f}, below the"
        f" {FACE_THRESHOLD:.2f} threshold"
    ]


def test_dei2_the_face_threshold_can_be_set() -> None:
    assert _run(face_detector=_fixed(_face(0.3)), face_threshold=0.25).identifiable
    assert not _run(face_detector=_fixed(_face(0.3)), face_threshold=0.35).identifiable


def test_dei2_burned_in_patient_name_is_a_strong_reason_listed_first() -> None:
    result = _run(
        face_detector=_fixed(_face()),
        text_detector=_fixed(_text("DOE, JANE"), _text("2026-11-24", Box(0, 80, 50, 10))),
        patient=PATIENT,
    )
    assert result.identifiable
    assert result.reasons[:2] == [
        "burned-in text at [100, 60, 80, 20]: matches the patient's family name",
        "burned-in text at [100, 60, 80, 20]: matches the patient's given name",
    ]
    assert "face detected at [10, 10, 40, 40] (score 0.90)" in result.reasons
    assert "burned-in text at [0, 80, 50, 10]: date in year-month-day form" in result.reasons
    assert [index for index, _ in result.text_findings] == [0, 0, 1]


@pytest.mark.parametrize(
    "text", ["MRN 1234567", "24/11/2026", "OHIP 1234-567-897", "SMITH, JOHN", "613-555-0199"]
)
def test_dei2_burned_in_identifier_patterns_make_it_identifiable(text: str) -> None:
    result = _run(text_detector=_fixed(_text(text)))
    assert result.identifiable
    assert all(
        reason.startswith("burned-in text at [100, 60, 80, 20]: ") for reason in result.reasons
    )


def test_dei2_text_without_identifiers_is_a_note() -> None:
    result = _run(text_detector=_fixed(_text("cm 1 2 3 4"), _text("", Box(0, 0, 5, 5))))
    assert not result.identifiable
    assert result.notes == [
        "text found in the image at [100, 60, 80, 20] with no identifier recognised: review it",
        "text found in the image at [0, 0, 5, 5] with no identifier recognised: review it",
    ]


def test_trn3_captions_with_identifiers_make_it_identifiable() -> None:
    result = _run(captions=["wound day 3", "doe_jane_1975-06-01.jpg"], patient=PATIENT)
    assert result.identifiable
    assert result.reasons == [
        "caption 2: matches the patient's family name",
        "caption 2: matches the patient's given name",
        "caption 2: matches the patient's date of birth",
    ]
    assert [f.kind for f in result.caption_findings] == [
        "patient-name",
        "patient-name",
        "patient-dob",
    ]


def test_trn3_caption_patterns_without_a_patient() -> None:
    result = _run(captions=["send to jane@example.com"])
    assert result.identifiable
    assert result.reasons == ["caption 1: e-mail address"]


def test_dei2_reasons_never_contain_the_identifiers() -> None:
    result = _run(
        text_detector=_fixed(_text("Jane Doe MRN 7654321 DOB 1975-06-01")),
        captions=["Jane Doe 7654321"],
        patient=PATIENT,
    )
    text = " ".join(result.reasons + result.notes)
    for value in ("Jane", "Doe", "7654321", "1975"):
        assert value not in text


def test_dei2_switched_off_detectors_are_not_run_and_say_so() -> None:
    def explode(image: Image.Image) -> list[Region]:
        raise AssertionError("must not run")

    result = inspect_image(
        _image(), faces=False, text=False, face_detector=explode, text_detector=explode
    )
    assert not result.identifiable
    assert result.notes == [
        "face detection was not run: the verdict does not cover faces",
        "text detection was not run: the verdict does not cover burned-in text",
    ]


def test_dei2_missing_detector_raises_rather_than_passing_the_photo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(name: str) -> object:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(inspect_module.importlib, "import_module", missing)
    with pytest.raises(DetectorUnavailable, match="detect_faces"):
        inspect_image(_image(), text_detector=NONE)
    with pytest.raises(DetectorUnavailable, match="detect_text"):
        inspect_image(_image(), face_detector=NONE)


# --- orientation and boxes -------------------------------------------------------------------


def _rotated_jpeg() -> Image.Image:
    """Stored 200x100 with EXIF orientation 6: displayed 100x200."""
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    _image((200, 100)).save(buf, "JPEG", exif=exif)
    return Image.open(io.BytesIO(buf.getvalue()))


def test_dei2_displayed_applies_the_exif_orientation() -> None:
    with _rotated_jpeg() as image:
        shown = displayed(image)
        assert image.size == (200, 100)
        assert shown.size == (100, 200)
        assert shown.getexif().get(0x0112) in (None, 1)


def test_dei2_detectors_see_the_displayed_image() -> None:
    seen: list[tuple[int, int]] = []

    def record(image: Image.Image) -> list[Region]:
        seen.append(image.size)
        return []

    with _rotated_jpeg() as image:
        inspect_image(image, face_detector=record, text_detector=record)
    assert seen == [(100, 200), (100, 200)]


def test_dei2_boxes_are_clipped_to_the_image() -> None:
    result = _run(
        face_detector=_fixed(_face(box=Box(180, 80, 50, 50)), _face(box=Box(300, 300, 5, 5)))
    )
    assert [face.box for face in result.faces] == [Box(180, 80, 20, 20)]


# --- JSON ------------------------------------------------------------------------------------


def test_dei2_json_has_exactly_the_cli_shape() -> None:
    result = _run(
        face_detector=_fixed(_face(0.912345)),
        text_detector=_fixed(_text("MRN 1234567", score=0.5), _text("cm")),
    )
    out = result.to_json("photo-1.jpg")
    assert list(out) == ["file", "faces", "text", "identifiable", "reasons", "metadata"]
    assert out["file"] == "photo-1.jpg"
    assert out["faces"] == [{"box": [10, 10, 40, 40], "score": 0.9123}]
    assert out["text"] == [
        {"box": [100, 60, 80, 20], "text": "MRN 1234567", "score": 0.5},
        {"box": [100, 60, 80, 20], "text": "cm", "score": 0.8},
    ]
    assert out["identifiable"] is True
    assert out["reasons"] == [
        "face detected at [10, 10, 40, 40] (score 0.91)",
        "burned-in text at [100, 60, 80, 20]: number labelled as a medical record or chart number",
        "note: text found in the image at [100, 60, 80, 20] with no identifier recognised:"
        " review it",
    ]
    assert json.loads(json.dumps(out)) == out


def test_dei2_json_when_not_identifiable() -> None:
    out = _run().to_json("x.png")
    assert out == {
        "file": "x.png",
        "faces": [],
        "text": [],
        "identifiable": False,
        "reasons": [],
        "metadata": [],
    }


# --- the real detectors, when another part of the project provides them ----------------------

_REAL = all(
    importlib.util.find_spec(name) is not None
    for name in ("clinphoto.imaging.faces", "clinphoto.imaging.text")
)


@pytest.mark.skipif(
    not _REAL, reason="clinphoto.imaging.faces / clinphoto.imaging.text are not available"
)
def test_dei2_real_detectors_find_a_real_face() -> None:
    data = pytest.importorskip("skimage.data", reason="scikit-image provides the face photo")
    photo = Image.fromarray(np.asarray(data.astronaut()))  # NASA portrait, public domain
    result = inspect_image(photo, captions=["shoulder, day 2"])
    assert result.identifiable
    assert result.faces
    # A hand-checked box around the astronaut's face is [177, 66, 95, 95].
    assert any(
        face.box.iou(Box(177, 66, 95, 95)) > 0.25 and face.score >= FACE_THRESHOLD
        for face in result.faces
    )
    assert json.loads(json.dumps(result.to_json("astronaut.png")))["identifiable"] is True


def test_open_picture_refuses_a_bomb_before_decoding_it() -> None:
    """A 20,000 x 20,000 PNG is 48 KB on disk and 1.2 GB decoded; refused from its header."""
    from clinphoto.imaging.errors import ScrubError
    from clinphoto.imaging.inspect import open_picture

    buf = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buf, "PNG")
    with pytest.raises(ScrubError) as refused:
        open_picture(buf.getvalue())
    assert refused.value.reason == "too-many-pixels"


def test_open_picture_shows_the_picture_upright() -> None:
    from clinphoto.imaging.inspect import open_picture

    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: turn 90 degrees clockwise to show
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 100, 50)).save(buf, "JPEG", exif=exif.tobytes())
    assert open_picture(buf.getvalue()).size == (30, 40)
    with pytest.raises(OSError):
        open_picture(b"not a picture")
