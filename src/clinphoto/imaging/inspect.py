"""Is this photo identifiable? Faces, burned-in text and captions together (DEI-2, CON-4, TRN-3).

:func:`inspect_image` runs the face and text detectors on the image as displayed (EXIF
orientation applied, see :func:`displayed`), checks the text read from the image and every
caption with :func:`clinphoto.imaging.identifiers.find_identifiers`, and returns an
:class:`Inspection`.

Decision rules. The photo is **identifiable** when any of these holds:

1. a face region scores at least ``face_threshold`` (default :data:`FACE_THRESHOLD`);
2. text read from the image contains an identifier: one of the patient's own (name, MRN,
   health card, date of birth, phone, e-mail, postal code; listed first, as the strongest
   reasons) or a pattern (health-card number, date - burned-in date stamps count - phone,
   e-mail, postal code, address, labelled record number, labelled or "FAMILY, Given" name,
   long number);
3. a caption (file name, caption, share message...) contains such an identifier;
4. the file's metadata identifies, as listed by
   :func:`clinphoto.imaging.metadata.identifying_metadata` and judged by
   :func:`with_metadata` (which ``clinphoto inspect`` and :func:`inspect_content` apply;
   :func:`inspect_image` sees pixels only): a GPS position, a name, a serial number, a
   capture date, free text, an embedded picture, or metadata that cannot be classified.
   Make, model and software alone do not identify (a model of camera is used by thousands
   of people); they are a note. The custodian is stricter: photos are scrubbed on the
   device that takes them, so any metadata the scrubber removes means that device did not
   scrub, and the photo is flagged whatever the metadata says.

Not part of the verdict, but reported as notes (``"note: ..."`` in the JSON reasons): face
regions scoring below the threshold, text found in the image with no identifier recognised in
it (a person should still look at it), and a detector switched off with ``faces=False`` or
``text=False`` (the verdict then does not cover faces or text). Tattoos, skin markers,
jewellery and surroundings are not detected here: identifiable=False means only that none of
the rules above fired.

Reasons name the kind of identifier and where it is (a box, the caption's number, the
metadata tag), never the identifier itself, so they can be shown and logged. The detectors
are looked up lazily (``clinphoto.imaging.faces.detect_faces`` and
``clinphoto.imaging.text.detect_text``); a missing detector raises
:class:`DetectorUnavailable` rather than letting a photo pass unchecked. Both can be
replaced with ``face_detector=`` and ``text_detector=``.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypedDict

from PIL import Image, ImageOps

from clinphoto.imaging.errors import ScrubError
from clinphoto.imaging.identifiers import Finding, PatientIdentifiers, find_identifiers
from clinphoto.imaging.limits import DEFAULT_LIMITS, Limits, check_animation, check_size
from clinphoto.imaging.metadata import (
    MetadataFinding,
    MetadataJson,
    describe,
    identifying_metadata,
)
from clinphoto.imaging.metadata_tags import (
    CATEGORIES,
    IDENTIFYING_METADATA,
    METADATA_REASONS,
    UNSCRUBBED_METADATA,
)
from clinphoto.imaging.regions import Box, Region
from clinphoto.imaging.samples import eight_bit
from clinphoto.imaging.sniff import HEAD_BYTES, Kind, sniff

__all__ = [
    "FACE_THRESHOLD",
    "INSPECT_MAX_SIDE",
    "MAX_PICTURE_FRAMES",
    "METADATA_REASONS",
    "ContentVerdict",
    "DetectorUnavailable",
    "Inspection",
    "InspectionJson",
    "RegionDetector",
    "animation_frames",
    "displayed",
    "frames_to_inspect",
    "inspect_content",
    "inspect_frames",
    "inspect_image",
    "open_for_inspection",
    "open_picture",
    "with_metadata",
]

# Chosen from the trade-off over every family of the labelled set (docs/deidentification.md):
# at 0.72, 98 % of upright and turned faces are found with 0.07 false faces per face-free
# photo; at 0.7 the false faces rise to 0.12 (over issue 8's 0.1), at 0.75 upright faces
# drop to 94 %.
# Weaker candidates, down to the detector's own 0.6, are kept as notes and redaction
# suggestions.
FACE_THRESHOLD = 0.72
# A picture is decoded reduced by a whole factor (libjpeg's DCT scaling for a JPEG) only while
# its long side stays at least this: text is read at 2,000 px (text.py), and faces are
# searched at about 930 px and, for soft faces, at about 2,130 px of a 4,000 px photo, then
# looked at again from the picture itself (faces.py). So a 12 MP photo (4,000 px) is decoded
# whole, and one of 8,000 px at half its size.
INSPECT_MAX_SIDE = 2048
# An animated picture (GIF, APNG, WebP) is inspected frame by frame, as a video is: every
# frame up to this many, else this many spread over it, and then it is not judged "not
# identifiable", since the frames between were not seen.
MAX_PICTURE_FRAMES = 16

RegionDetector = Callable[[Image.Image], list[Region]]

# What a reason about metadata advises: the custodian's say that the device did not scrub.
SCRUB_ADVICE = "the scrubber removes it: run clinphoto scrub"
DEVICE_ADVICE = (
    "photos are scrubbed on the device that takes them, so that device did not scrub this one:"
    " capture it again with the clinphoto client"
)


class DetectorUnavailable(RuntimeError):
    """A face or text detector could not be loaded; the photo was not judged."""


class FaceJson(TypedDict):
    box: list[int]
    score: float


class TextJson(TypedDict):
    box: list[int]
    text: str
    score: float


class InspectionJson(TypedDict):
    file: str
    faces: list[FaceJson]
    text: list[TextJson]
    identifiable: bool
    reasons: list[str]
    metadata: list[MetadataJson]


def _score(value: float) -> float:
    return round(float(value), 4)


@dataclass(frozen=True, slots=True)
class Inspection:
    """What :func:`inspect_image` found, and its verdict.

    ``reasons`` explain a positive verdict (empty when not identifiable); ``notes`` are
    observations that did not decide it. ``text_findings`` pairs an index into ``text`` with
    a finding whose span refers to that region's ``text``; ``caption_findings`` are in caption
    order, each span referring to its own caption.
    """

    faces: list[Region]
    text: list[Region]
    caption_findings: list[Finding]
    identifiable: bool
    reasons: list[str]
    notes: list[str] = field(default_factory=list)
    text_findings: list[tuple[int, Finding]] = field(default_factory=list)
    metadata: list[MetadataFinding] = field(default_factory=list)

    def to_json(self, file: str) -> InspectionJson:
        """The CLI's JSON shape; notes follow the reasons, prefixed ``note: ``."""
        return {
            "file": file,
            "faces": [{"box": r.box.as_list(), "score": _score(r.score)} for r in self.faces],
            "text": [
                {"box": r.box.as_list(), "text": r.text, "score": _score(r.score)}
                for r in self.text
            ],
            "identifiable": self.identifiable,
            "reasons": [*self.reasons, *(f"note: {note}" for note in self.notes)],
            "metadata": [finding.to_json() for finding in self.metadata],
        }


def displayed(image: Image.Image) -> Image.Image:
    """The image as a viewer shows it: a copy with its EXIF orientation applied."""
    return ImageOps.exif_transpose(image)


def open_picture(source: bytes | Path, limits: Limits = DEFAULT_LIMITS) -> Image.Image:
    """A still picture to inspect or redact, decoded and shown upright.

    Its declared size is checked against ``limits`` before any pixel is decoded, so a
    decompression bomb is refused with :class:`ScrubError` (``too-many-pixels``) instead of
    taking the process's memory; anything Pillow cannot read raises ``OSError``.
    """
    if isinstance(source, bytes):
        head = source[:HEAD_BYTES]
    else:
        with source.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    try:
        kind: Kind | None = sniff(head)
    except ScrubError:
        kind = None  # Pillow says what it is not (OSError), as for any other picture
    if kind in (Kind.HEIF, Kind.AVIF):
        # Phones' own formats (an iPhone saves HEIC): decoded as the scrubber decodes them,
        # in its isolated, memory- and time-capped child, into the picture it would keep.
        from clinphoto.imaging.scrub import scrub_bytes

        data = source if isinstance(source, bytes) else source.read_bytes()
        source = scrub_bytes(data, limits).data
    try:
        opened = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    except Image.DecompressionBombError as exc:  # Pillow's own, larger, limit
        raise ScrubError(str(exc), reason="too-many-pixels") from exc
    with opened as image:
        check_size(image.width, image.height, limits, image.format or "the picture")
        try:
            image.load()
        except SyntaxError as exc:  # some of Pillow's readers say "broken" this way
            raise OSError(str(exc)) from exc
        return displayed(image)


def _load_detector(module_name: str, attribute: str) -> RegionDetector:
    try:
        module = importlib.import_module(module_name)
        detector: RegionDetector = getattr(module, attribute)
    except (ImportError, AttributeError) as exc:
        raise DetectorUnavailable(
            f"{module_name}.{attribute} is not available, so the photo cannot be judged: {exc}"
        ) from exc
    return detector


def _clipped(regions: list[Region], width: int, height: int) -> list[Region]:
    out: list[Region] = []
    for region in regions:
        box = region.box.clipped(width, height)
        if box is not None:
            out.append(Region(box, region.kind, region.score, region.text))
    return out


def _enlarged(regions: list[Region], shown: tuple[int, int], full: tuple[int, int]) -> list[Region]:
    """Regions found on a reduced decode, in the full picture's displayed pixels."""
    fx, fy = full[0] / shown[0], full[1] / shown[1]
    out: list[Region] = []
    for region in regions:
        b = region.box
        box = Box(
            round(b.x * fx), round(b.y * fy), max(1, round(b.w * fx)), max(1, round(b.h * fy))
        ).clipped(*full)
        if box is not None:
            out.append(Region(box, region.kind, region.score, region.text))
    return out


def _where(box: Box) -> str:
    return f"at [{box.x}, {box.y}, {box.w}, {box.h}]"


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def inspect_image(
    image: Image.Image,
    *,
    captions: Sequence[str] = (),
    patient: PatientIdentifiers | None = None,
    faces: bool = True,
    text: bool = True,
    face_detector: RegionDetector | None = None,
    text_detector: RegionDetector | None = None,
    face_threshold: float = FACE_THRESHOLD,
    full_size: tuple[int, int] | None = None,
) -> Inspection:
    """Detect faces and burned-in text, check text and captions, and judge the photo.

    Boxes are in displayed pixels; when ``image`` was decoded reduced, ``full_size`` is the
    full picture's displayed size and boxes are given in its pixels. See the module docstring
    for the decision rules. Raises :class:`DetectorUnavailable` when a detector that is
    switched on cannot be loaded.
    """
    shown = eight_bit(displayed(image))

    def found_in(regions: list[Region]) -> list[Region]:
        clipped = _clipped(regions, shown.width, shown.height)
        return clipped if full_size is None else _enlarged(clipped, shown.size, full_size)

    strong: list[str] = []
    other: list[str] = []
    notes: list[str] = []

    found_faces: list[Region] = []
    if faces:
        detect = face_detector or _load_detector("clinphoto.imaging.faces", "detect_faces")
        found_faces = found_in(detect(shown))
        for region in found_faces:
            if region.score >= face_threshold:
                other.append(f"face detected {_where(region.box)} (score {region.score:.2f})")
            else:
                notes.append(
                    f"possible face {_where(region.box)} scored {region.score:.2f}, below the"
                    f" {face_threshold:.2f} threshold"
                )
    else:
        notes.append("face detection was not run: the verdict does not cover faces")

    found_text: list[Region] = []
    text_findings: list[tuple[int, Finding]] = []
    if text:
        detect = text_detector or _load_detector("clinphoto.imaging.text", "detect_text")
        found_text = found_in(detect(shown))
        for index, region in enumerate(found_text):
            findings = find_identifiers(region.text, patient) if region.text.strip() else []
            for finding in findings:
                text_findings.append((index, finding))
                reason = f"burned-in text {_where(region.box)}: {finding.reason}"
                (strong if finding.patient_specific else other).append(reason)
            if not findings:
                notes.append(
                    f"text found in the image {_where(region.box)} with no identifier"
                    " recognised: review it"
                )
    else:
        notes.append("text detection was not run: the verdict does not cover burned-in text")

    caption_findings: list[Finding] = []
    for number, caption in enumerate(captions, start=1):
        for finding in find_identifiers(caption, patient):
            caption_findings.append(finding)
            reason = f"caption {number}: {finding.reason}"
            (strong if finding.patient_specific else other).append(reason)

    reasons = _dedupe(strong + other)
    return Inspection(
        faces=found_faces,
        text=found_text,
        caption_findings=caption_findings,
        identifiable=bool(reasons),
        reasons=reasons,
        notes=_dedupe(notes),
        text_findings=text_findings,
    )


def with_metadata(
    result: Inspection,
    findings: Sequence[MetadataFinding],
    *,
    advice: str = SCRUB_ADVICE,
    strict: bool = False,
) -> Inspection:
    """``result`` with the file's metadata: rule 4 of the module docstring.

    Identifying findings make the photo identifiable, with one reason naming them (where
    and which tag, never a value) and ``advice``. The others are a note; with ``strict``
    (the custodian, whose photos should carry none) they make it identifiable too.
    """
    ordered = sorted(findings, key=lambda f: CATEGORIES.index(f.category))  # places first
    identifying = [f for f in ordered if f.identifying]
    rest = [f for f in ordered if not f.identifying]
    reasons, notes = list(result.reasons), list(result.notes)
    if identifying:
        reasons.append(f"{IDENTIFYING_METADATA}: {describe(identifying)} ({advice})")
    if rest and strict:
        reasons.append(f"{UNSCRUBBED_METADATA}: {describe(rest)} ({advice})")
    elif rest:
        notes.append(
            f"metadata that does not identify on its own: {describe(rest)} (the scrubber"
            " removes it too)"
        )
    return replace(
        result,
        identifiable=result.identifiable or bool(identifying) or (strict and bool(rest)),
        reasons=reasons,
        notes=notes,
        metadata=list(findings),
    )


def frames_to_inspect(source: bytes | Path) -> list[Image.Image]:
    """What to inspect in a picture or video, decided by its bytes: the upright picture, or
    frames sampled across the video (:func:`clinphoto.imaging.video.sample_frames`).

    Raises :class:`ScrubError` (or ``VideoScrubError``, a ``ValueError``) for content that
    cannot be read safely, ``OSError`` for a picture Pillow cannot decode.
    """
    if isinstance(source, bytes):
        head = source[:HEAD_BYTES]
    else:
        with source.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    if sniff(head).is_video:
        from clinphoto.imaging.video import sample_frames  # PyAV: only when needed

        return sample_frames(source)
    return _animation(source) or [open_picture(source)]


# Formats whose further frames Pillow composites or reads here. HEIF and AVIF are never
# among them: they are decoded only in the scrubber's isolated child (open_picture).
_FRAMED_FORMATS = frozenset({"GIF", "PNG", "WEBP", "TIFF", "MPO"})


def _animation(source: bytes | Path, limits: Limits = DEFAULT_LIMITS) -> list[Image.Image] | None:
    """The frames of a picture of more than one frame (an animated GIF, PNG or WebP, a TIFF
    of several pages, an MPO; :func:`animation_frames`), or None for any other picture.
    Anything Pillow cannot open is left to the decoding that follows."""
    try:
        opened = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    with opened as image:
        if image.format not in _FRAMED_FORMATS or getattr(image, "n_frames", 1) <= 1:
            return None
        return animation_frames(image, limits)


def animation_frames(
    image: Image.Image, limits: Limits = DEFAULT_LIMITS, max_side: int = INSPECT_MAX_SIDE
) -> list[Image.Image]:
    """The frames of an animated picture to inspect, each as a viewer shows it (composited
    over the frames before it, upright), reduced to ``max_side``: every frame, or
    ``MAX_PICTURE_FRAMES`` spread from the first to the last. Each is tagged with its
    number and the count (``info["frame"]``, ``info["frames"]``) for the verdict.

    The animation's size is checked from its headers first (:func:`check_animation`).
    """
    total = getattr(image, "n_frames", 1)
    what = image.format or "the picture"
    check_size(image.width, image.height, limits, what)
    check_animation(total, total * image.width * image.height, limits, what)
    if total <= MAX_PICTURE_FRAMES:
        numbers = list(range(total))
    else:
        last = total - 1
        picks = (round(i * last / (MAX_PICTURE_FRAMES - 1)) for i in range(MAX_PICTURE_FRAMES))
        numbers = sorted(set(picks))
    frames: list[Image.Image] = []
    for number in numbers:
        try:
            image.seek(number)
            frame = image.convert("RGBA" if image.has_transparency_data else "RGB")
        except Image.DecompressionBombError as exc:  # a frame drawn beyond the picture
            raise ScrubError(str(exc), reason="too-many-pixels") from exc
        except Exception as exc:  # Pillow's readers raise SyntaxError as well as OSError
            if not frames:
                raise OSError(f"its first frame cannot be read: {exc}") from exc
            # A later frame is broken (an APNG out of sequence, an MPO's second picture
            # missing): the frames read are inspected, and the verdict says what was not.
            frames[0].info["unread"] = number
            break
        factor = max(frame.size) // max_side
        frame = displayed(frame.reduce(factor) if factor >= 2 else frame)
        frame.info = {"frame": number, "frames": total}
        frames.append(frame)
    return frames


def inspect_frames(
    frames: Sequence[Image.Image],
    *,
    captions: Sequence[str] = (),
    patient: PatientIdentifiers | None = None,
) -> Inspection:
    """One verdict over a picture (one frame) or a video's frames.

    Captions are checked once. With several frames, each frame's reasons and notes say which
    frame ("frame 2: ..."), and the video is identifiable when any frame is.
    """
    results = [
        inspect_image(frame, captions=captions if i == 0 else (), patient=patient)
        for i, frame in enumerate(frames)
    ]
    if len(results) == 1 and "frames" not in frames[0].info:  # a still picture
        return results[0]
    text_findings: list[tuple[int, Finding]] = []
    offset = 0
    for result in results:
        text_findings += [(offset + index, finding) for index, finding in result.text_findings]
        offset += len(result.text)

    # A frame of an animated picture says its own number (animation_frames); a video's
    # sampled frames are counted.
    names = [int(f.info.get("frame", i - 1)) + 1 for i, f in enumerate(frames, start=1)]

    def numbered(pick: Callable[[Inspection], list[str]]) -> list[str]:
        pairs = zip(names, results, strict=True)
        return [f"frame {n}: {line}" for n, r in pairs for line in pick(r)]

    reasons = numbered(lambda r: r.reasons)
    info = frames[0].info if frames else {}
    total = int(info.get("frames", 0))
    if "unread" in info:
        reasons.append(
            f"picture of {total} frames: frame {int(info['unread']) + 1} cannot be read, so"
            " neither it nor the frames after it were seen and it cannot be judged not"
            " identifiable"
        )
    elif total > len(frames):
        reasons.append(
            f"animated picture of {total} frames: {len(frames)} of them inspected, spread over"
            " it; the others were not seen, so it cannot be judged not identifiable"
        )
    return Inspection(
        faces=[region for r in results for region in r.faces],
        text=[region for r in results for region in r.text],
        caption_findings=results[0].caption_findings if results else [],
        identifiable=any(r.identifiable for r in results) or total > len(frames),
        reasons=reasons,
        notes=numbered(lambda r: r.notes),
        text_findings=text_findings,
    )


_SWAPPED_ORIENTATIONS = frozenset({5, 6, 7, 8})  # EXIF orientations that turn the picture


def open_for_inspection(
    source: bytes, limits: Limits = DEFAULT_LIMITS, max_side: int = INSPECT_MAX_SIDE
) -> tuple[Image.Image, tuple[int, int]]:
    """A still picture decoded no larger than the detectors need, upright, and the full
    picture's displayed size (for boxes in its pixels).

    A JPEG is decoded reduced by libjpeg's DCT scaling (``draft``: 1/2, 1/4 or 1/8), so a
    100-megapixel JPEG costs a 6-megapixel bitmap, never the full one. Other formats decode
    whole, so they are refused beyond ``limits.max_decoded_pixels`` (``too-many-pixels``)
    and then reduced. Declared sizes are checked before any pixel is decoded.
    """
    try:
        image = Image.open(io.BytesIO(source))
    except Image.DecompressionBombError as exc:  # Pillow's own, larger, limit
        raise ScrubError(str(exc), reason="too-many-pixels") from exc
    with image:
        width, height = image.size
        what = image.format or "the picture"
        check_size(width, height, limits, what)
        orientation = image.getexif().get(0x0112, 1)
        full = (height, width) if orientation in _SWAPPED_ORIENTATIONS else (width, height)
        scale = min(1.0, max_side / max(width, height))
        if image.format == "JPEG" and scale < 1.0:
            image.draft(None, (max(1, round(width * scale)), max(1, round(height * scale))))
        if image.width * image.height > limits.max_decoded_pixels:
            raise ScrubError(
                f"{what} has {image.width}x{image.height} pixels; pictures that cannot be"
                f" decoded reduced are inspected up to {limits.max_decoded_pixels} pixels",
                reason="too-many-pixels",
            )
        image.load()
        factor = max(image.size) // max_side
        reduced = image.reduce(factor) if factor >= 2 else image
        return displayed(reduced), full


@dataclass(frozen=True, slots=True)
class ContentVerdict:
    """What :func:`inspect_content` found, in a form that crosses a process boundary.

    ``regions`` hold a kind, a box in the full picture's displayed pixels and a score, never
    the text read from the image. ``decoded_pixels`` is the largest bitmap decoded and
    ``peak_memory`` the inspecting process's peak resident size in bytes (0 when unknown).
    """

    identifiable: bool
    reasons: list[str]
    regions: list[tuple[str, list[int], float]]
    decoded_pixels: int
    peak_memory: int


def _peak_memory() -> int:
    """This process's own peak resident size: Linux's VmHWM, which starts again at exec.
    (getrusage's ru_maxrss keeps, across fork and exec, the parent's size when the child
    was forked, so a child started by a large process would report the parent's peak.)"""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError):
        pass
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return 0
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # KiB on Linux


def inspect_content(
    source: bytes, patient: PatientIdentifiers | None, limits: Limits = DEFAULT_LIMITS
) -> ContentVerdict:
    """Judge a stored photo or video from its bytes: the records custodian's inspection.

    Runs in the custodian's sandboxed child (:func:`clinphoto.imaging.sandbox.run_isolated`
    with ``CUSTODIAN_LIMITS``); a picture is decoded reduced (:func:`open_for_inspection`).
    Its metadata is listed too (headers only, no pixel): what arrives was scrubbed on the
    device, so any metadata left makes it identifiable (:func:`with_metadata`, strict).
    """
    video = sniff(source[:HEAD_BYTES]).is_video
    frames = frames_to_inspect(source) if video else _animation(source, limits)
    if frames is not None:
        result = inspect_frames(frames, patient=patient)
        decoded = max((f.width * f.height for f in frames), default=0)
    else:
        picture, full = open_for_inspection(source, limits)
        result = inspect_image(picture, patient=patient, full_size=full)
        decoded = picture.width * picture.height
    result = with_metadata(result, identifying_metadata(source), advice=DEVICE_ADVICE, strict=True)
    return ContentVerdict(
        identifiable=result.identifiable,
        reasons=list(result.reasons),
        regions=[
            (r.kind, r.box.as_list(), round(float(r.score), 3)) for r in result.faces + result.text
        ],
        decoded_pixels=decoded,
        peak_memory=_peak_memory(),
    )
