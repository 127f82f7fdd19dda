"""Labelled evaluation set for the identifiable-content detectors (DEI-2), and its scorer.

Nothing here is committed as an image: the set is generated, deterministically from a seed,
into a temporary (or given) folder, from real photographs that ship offline:

* faces: the portraits in the ``face_recognition`` *source* distribution's
  ``tests/test_images/`` (fetched once with pip into ``$CLINPHOTO_CORPUS_DIR`` or
  ``~/.cache/clinphoto/corpus``), ``skimage.data.astronaut()``, and the 25x25 face crops of
  ``skimage.data.lfw_subset()``. Each face's box in its source was labelled by hand (checked
  by eye on a drawn overlay); the face is pasted, with its surroundings and a feathered edge,
  at a known place and size (80, 120, 200 or 400 px wide) into a 12 MP (4000x3000) photo;
* text: identifiers rendered with Pillow straight onto photos in three styles: ``label``
  (dark text on a white rectangle), ``overlay`` (white text with a black outline, as an
  annotation tool draws it) and ``datestamp`` (orange digits, as a camera burns them in), at
  16 to 120 px;
* backgrounds and negatives: real photos from ``skimage.data`` (coffee, chelsea the cat,
  rocket, Hubble deep field, immunohistochemistry, retina, textures, a motorcycle) and
  synthetic skin with a wound, each upscaled to 12 MP and perturbed (crop, colour, sensor
  noise, JPEG quality 88-95).

Usage, from the repository root::

    python -m tools.deid_eval --detector faces            # default set: 40 positives, 24 negatives
    python -m tools.deid_eval --detector text --n 30
    python -m tools.deid_eval --detector faces --backend opencv   # one runtime of the model
    python -m tools.deid_eval --detector faces --out DIR --keep     # keep the images and labels

Scoring. A labelled face counts as found when a detected region overlaps it with IoU >= 0.3.
A labelled text line counts as found when a detected region overlaps it with IoU >= 0.3 or
the centre of a detected region lies inside it (OCR may split one line into words). Any
detected region that finds nothing is a false positive. Times are per 12 MP image with
OpenCV and ONNX Runtime limited to one thread, image already decoded (wall and CPU medians).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter, ImageFont

CORPUS_ENV = "CLINPHOTO_CORPUS_DIR"
FULL_SIZE = (4000, 3000)
FACE_SIZES = (80, 120, 200, 400)
LFW_SIZES = (80, 120, 200)
TEXT_SIZES = (16, 24, 32, 48, 72, 120)
TEXT_STYLES = ("label", "overlay", "datestamp")
FACE_IOU = 0.3
TEXT_IOU = 0.3

# face_recognition 1.3.0 sdist, tests/test_images/: file, SHA-256 prefix, face box x, y, w, h.
# Boxes were labelled by hand on the full-resolution image (brow to chin, ear to ear).
FR_VERSION = "1.3.0"
FR_FACES: dict[str, tuple[str, tuple[int, int, int, int]]] = {
    "biden.jpg": ("3c17508bb91554c6", (433, 211, 314, 314)),
    "obama.jpg": ("0930e3aa8cae5920", (342, 95, 300, 300)),
    "obama2.jpg": ("a7efcc9073752747", (139, 243, 343, 343)),
    "obama3.jpg": ("76ac6bf97c36dc2d", (630, 255, 331, 331)),
}
ASTRONAUT_FACE = (177, 66, 95, 95)

FACE_BACKGROUNDS = (
    "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
    "brick", "grass", "gravel", "moon", "motorcycle", "skin", "skin",
)  # fmt: skip
# No text in these (the motorcycle's garage shelves carry small printed boxes).
TEXT_BACKGROUNDS = (
    "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
    "brick", "grass", "gravel", "moon", "skin", "skin",
)  # fmt: skip

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansCondensed.ttf")
STAMP_FONTS = ("DejaVuSansMono-Bold.ttf", "DejaVuSansMono.ttf")

FIRST = ("Jane", "John", "Marie", "Luc", "Amira", "Wei", "Olivia", "Noah", "Sophie", "Raj")
LAST = ("Doe", "Tremblay", "Gagnon", "Roy", "Singh", "Chen", "Martin", "Nguyen", "Smith", "Cote")

Box = tuple[int, int, int, int]


# --- sources -----------------------------------------------------------------------------


def corpus_dir() -> Path:
    env = os.environ.get(CORPUS_ENV)
    return Path(env) if env else Path.home() / ".cache" / "clinphoto" / "corpus"


def fetch_face_recognition(cache: Path) -> Path:
    """The folder of face_recognition's test portraits, downloading the sdist once."""
    stem = f"face_recognition-{FR_VERSION}"
    target = cache / stem / "tests" / "test_images"
    if all((target / name).is_file() for name in FR_FACES):
        return target
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / f"{stem}.tar.gz"
    if not archive.is_file():
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        pip += ["--no-binary", ":all:", f"face_recognition=={FR_VERSION}", "-d", str(cache)]
        subprocess.run(pip, check=True)
    wanted = {f"{stem}/tests/test_images/{name}" for name in FR_FACES}
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name in wanted]
        tar.extractall(cache, members=members, filter="data")
    return target


@dataclass(frozen=True)
class FaceSource:
    """A real face: its image and the hand-labelled face box in it."""

    name: str
    image: Image.Image
    box: Box
    tight: bool = False  # a crop that is all face (LFW): pasted without surroundings


def portrait_sources(cache: Path | None = None) -> list[FaceSource]:
    """Hand-labelled portraits: face_recognition's test images (when fetchable) and astronaut."""
    from skimage import data

    sources = [FaceSource("astronaut", Image.fromarray(data.astronaut()), ASTRONAUT_FACE)]
    try:
        folder = fetch_face_recognition(cache or corpus_dir())
    except (OSError, subprocess.CalledProcessError, tarfile.TarError) as exc:
        print(f"warning: face_recognition portraits unavailable ({exc})", file=sys.stderr)
        return sources
    for name, (digest, box) in FR_FACES.items():
        raw = (folder / name).read_bytes()
        if not hashlib.sha256(raw).hexdigest().startswith(digest):
            raise SystemExit(f"{folder / name} is not the labelled file (SHA-256 differs)")
        with Image.open(folder / name) as img:
            sources.append(FaceSource(name.removesuffix(".jpg"), img.convert("RGB"), box))
    return sources


def lfw_sources() -> list[FaceSource]:
    """The 100 face crops (25x25, grey) of skimage's LFW subset; the first 100 are faces."""
    from skimage import data

    faces = data.lfw_subset()[:100]
    out = []
    for i, face in enumerate(faces):
        img = Image.fromarray(np.uint8(np.clip(face * 255, 0, 255))).convert("RGB")
        out.append(FaceSource(f"lfw{i:03d}", img, (0, 0, 25, 25), tight=True))
    return out


def background_photo(name: str, rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """A real (or synthetic skin) photo cropped to the aspect of ``size`` and upscaled to it."""
    if name == "skin":
        return synthetic_skin(rng, size)
    from skimage import data

    array = data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
    img = Image.fromarray(array).convert("RGB")
    width, height = img.size
    aspect = size[0] / size[1]
    crop_w = min(width, round(height * aspect)) * rng.uniform(0.8, 1.0)
    crop_h = crop_w / aspect
    left = rng.uniform(0, width - crop_w)
    top = rng.uniform(0, height - crop_h)
    img = img.crop((round(left), round(top), round(left + crop_w), round(top + crop_h)))
    if rng.random() < 0.5:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return img.resize(size, Image.Resampling.BICUBIC)


def synthetic_skin(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """Skin of a random tone with shading, pores, hairs and a wound: a clinical close-up."""
    tones = ((241, 194, 167), (224, 172, 140), (198, 140, 100), (141, 94, 66), (92, 60, 44))
    tone = np.array(rng.choice(tones), dtype=np.float32)
    nprng = np.random.default_rng(rng.randrange(2**32))
    shade = Image.fromarray(np.uint8(nprng.uniform(70, 130, (6, 8)))).resize(
        size, Image.Resampling.BICUBIC
    )
    shading = np.asarray(shade, dtype=np.float32)[..., None] / 100.0
    base = np.clip(tone * shading, 0, 255).astype(np.uint8)
    img = Image.fromarray(base)
    pores = Image.effect_noise((size[0] // 4, size[1] // 4), 12).resize(size)
    img = ImageChops.add(img, pores.convert("RGB"), 1.0, -128)
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randrange(30, 120)):  # hairs
        x, y = rng.uniform(0, size[0]), rng.uniform(0, size[1])
        dx, dy = rng.uniform(-120, 120), rng.uniform(-120, 120)
        draw.line((x, y, x + dx, y + dy), fill=(40, 30, 25), width=rng.choice((2, 3, 4)))
    wound = Image.new("L", size, 0)
    cx, cy = rng.uniform(0.3, 0.7) * size[0], rng.uniform(0.3, 0.7) * size[1]
    radius = rng.uniform(0.08, 0.2) * size[1]
    points = []
    for k in range(24):
        angle = 2 * np.pi * k / 24
        r = radius * rng.uniform(0.6, 1.3)
        points.append((cx + r * np.cos(angle) * 1.4, cy + r * np.sin(angle)))
    ImageDraw.Draw(wound).polygon(points, fill=255)
    wound = wound.filter(ImageFilter.GaussianBlur(radius * 0.08))
    bed = Image.new("RGB", size, rng.choice(((150, 30, 35), (120, 20, 25), (175, 60, 50))))
    slough = Image.effect_noise(size, 60).filter(ImageFilter.GaussianBlur(6))
    bed = Image.composite(Image.new("RGB", size, (200, 170, 80)), bed, slough.point(_slough))
    return Image.composite(bed, img, wound)


def _slough(v: int) -> int:
    return 255 if v > 190 else 0


def perturb(img: Image.Image, rng: random.Random) -> Image.Image:
    """Colour, contrast and sensor noise, as two cameras would differ."""
    img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.8, 1.15))
    img = ImageEnhance.Contrast(img).enhance(rng.uniform(0.85, 1.15))
    img = ImageEnhance.Color(img).enhance(rng.uniform(0.8, 1.2))
    noise = Image.effect_noise(img.size, rng.uniform(3, 8)).convert("RGB")
    return ImageChops.add(img, noise, 1.0, -128)


# --- face scenes -------------------------------------------------------------------------


def face_patch(
    source: FaceSource, size: int, rng: random.Random
) -> tuple[Image.Image, tuple[int, int]]:
    """The face scaled to ``size`` px wide with its surroundings, and its box's offset in it.

    The patch is RGBA with a feathered alpha edge so that no hard seam gives it away.
    """
    bx, by, bw, bh = source.box
    scale = size / bw
    if source.tight:
        patch = source.image.resize((size, round(bh * scale)), Image.Resampling.BICUBIC)
        patch = ImageEnhance.Brightness(patch).enhance(rng.uniform(0.8, 1.2))
        alpha = Image.new("L", patch.size, 0)
        inset = max(1, size // 40)
        ImageDraw.Draw(alpha).rectangle(
            (inset, inset, patch.width - inset - 1, patch.height - inset - 1), fill=255
        )
        patch.putalpha(alpha.filter(ImageFilter.GaussianBlur(inset)))
        return patch, (0, 0)
    width, height = source.image.size
    left, top = max(0, round(bx - 0.6 * bw)), max(0, round(by - 0.7 * bh))
    right, bottom = min(width, round(bx + 1.6 * bw)), min(height, round(by + 1.9 * bh))
    crop = source.image.crop((left, top, right, bottom))
    patch = crop.resize(
        (round(crop.width * scale), round(crop.height * scale)), Image.Resampling.LANCZOS
    )
    fx, fy = round((bx - left) * scale), round((by - top) * scale)
    if rng.random() < 0.5:
        patch = patch.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        fx = patch.width - fx - size
    patch = ImageEnhance.Brightness(patch).enhance(rng.uniform(0.75, 1.2))
    patch = ImageEnhance.Contrast(patch).enhance(rng.uniform(0.8, 1.15))
    alpha = Image.new("L", patch.size, 0)
    feather = max(2, size // 10)
    ImageDraw.Draw(alpha).ellipse(
        (feather, feather, patch.width - feather, patch.height - feather), fill=255
    )
    patch.putalpha(alpha.filter(ImageFilter.GaussianBlur(feather / 2)))
    angle = rng.uniform(-8, 8)
    centre = (fx + size / 2, fy + round(bh * scale) / 2)
    patch = patch.rotate(angle, Image.Resampling.BICUBIC, center=centre)
    return patch, (fx, fy)


def _free(box: Box, taken: Sequence[Box], gap: int) -> bool:
    x, y, w, h = box
    for ox, oy, ow, oh in taken:
        if x < ox + ow + gap and ox < x + w + gap and y < oy + oh + gap and oy < y + h + gap:
            return False
    return True


def _place(
    rng: random.Random, size: tuple[int, int], w: int, h: int, taken: list[Box], gap: int
) -> tuple[int, int] | None:
    for _ in range(200):
        x = rng.randrange(20, max(21, size[0] - w - 20))
        y = rng.randrange(20, max(21, size[1] - h - 20))
        if _free((x, y, w, h), taken, gap):
            return x, y
    return None


def face_scene(
    rng: random.Random,
    background: str,
    faces: Sequence[tuple[FaceSource, int]],
    size: tuple[int, int] = FULL_SIZE,
) -> tuple[Image.Image, list[dict[str, Any]]]:
    """A photo with ``faces`` (source, width in px) pasted at random free places."""
    img = background_photo(background, rng, size)
    labels: list[dict[str, Any]] = []
    taken: list[Box] = []
    for source, width in faces:
        patch, (fx, fy) = face_patch(source, width, rng)
        height = round(source.box[3] * width / source.box[2])
        spot = _place(rng, size, width, height, taken, gap=width // 2)
        if spot is None:
            continue
        x, y = spot
        img.paste(patch, (x - fx, y - fy), patch)
        taken.append((x, y, width, height))
        labels.append({"box": [x, y, width, height], "size": width, "source": source.name})
    return img, labels


# --- text scenes -------------------------------------------------------------------------


def font(name: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONT_DIR / name
    if path.is_file():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def sample_text(rng: random.Random, style: str) -> str:
    year, month, day = rng.randrange(1940, 2027), rng.randrange(1, 13), rng.randrange(1, 29)
    if style == "datestamp":
        hour, minute = rng.randrange(24), rng.randrange(60)
        return f"{rng.randrange(2015, 2027)}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}"
    first, last = rng.choice(FIRST), rng.choice(LAST)
    choices = (
        f"MRN {rng.randrange(10**6, 10**7)}",
        f"{last.upper()}, {first}",
        f"DOB {year}-{month:02d}-{day:02d}",
        f"HCN {rng.randrange(1000, 9999)} {rng.randrange(100, 999)} {rng.randrange(100, 999)}",
        f"Room {rng.randrange(1, 40)}{rng.choice('ABCD')} Bed {rng.randrange(1, 6)}",
        f"Dr. {rng.choice(FIRST)[0]}. {rng.choice(LAST)}",
        f"{first} {last} {rng.randrange(10**6, 10**7)}",
    )
    return rng.choice(choices)


def draw_text(
    img: Image.Image, rng: random.Random, style: str, px: int, taken: list[Box]
) -> dict[str, Any] | None:
    """Render one identifier in ``style`` at ``px`` font size; its label, or None if no room."""
    text = sample_text(rng, style)
    face = font(rng.choice(STAMP_FONTS if style == "datestamp" else FONTS), px)
    draw = ImageDraw.Draw(img)
    stroke = max(1, round(px / 14)) if style == "overlay" else 0
    left, top, right, bottom = draw.textbbox((0, 0), text, font=face, stroke_width=stroke)
    w, h = right - left, bottom - top
    pad = round(px * 0.4) if style == "label" else 0
    if style == "datestamp" and rng.random() < 0.6:  # where cameras put it: bottom right
        x = img.width - w - round(img.width * rng.uniform(0.02, 0.05))
        y = img.height - h - round(img.height * rng.uniform(0.02, 0.05))
        if not _free((x - pad, y - pad, w + 2 * pad, h + 2 * pad), taken, px):
            return None
    else:
        spot = _place(rng, img.size, w + 2 * pad, h + 2 * pad, taken, gap=px)
        if spot is None:
            return None
        x, y = spot[0] + pad, spot[1] + pad
    taken.append((x - pad, y - pad, w + 2 * pad, h + 2 * pad))
    if style == "label":
        paper = rng.choice(((250, 250, 250), (240, 240, 232), (255, 255, 255)))
        draw.rectangle((x - pad, y - pad, x + w + pad, y + h + pad), fill=paper)
        draw.text(
            (x - left, y - top), text, font=face, fill=rng.choice(((20, 20, 20), (10, 20, 80)))
        )
    elif style == "overlay":
        draw.text(
            (x - left, y - top), text, font=face, fill=(255, 255, 255),
            stroke_width=stroke, stroke_fill=(0, 0, 0),
        )  # fmt: skip
    else:
        draw.text((x - left, y - top), text, font=face, fill=(255, 150, 30))
    return {"box": [x, y, w, h], "size": px, "style": style, "text": text}


def text_scene(
    rng: random.Random,
    background: str,
    items: Sequence[tuple[str, int]],
    size: tuple[int, int] = FULL_SIZE,
) -> tuple[Image.Image, list[dict[str, Any]]]:
    img = background_photo(background, rng, size)
    taken: list[Box] = []
    labels = [draw_text(img, rng, style, px, taken) for style, px in items]
    return img, [label for label in labels if label is not None]


# --- the set -----------------------------------------------------------------------------


def generate(
    kind: str, out: Path, n_positive: int, n_negative: int, seed: int = 2026
) -> dict[str, Any]:
    """Write ``n_positive`` + ``n_negative`` 12 MP JPEGs and ``labels.json`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{kind}-{seed}")
    images: list[dict[str, Any]] = []
    portraits = portrait_sources() if kind == "faces" else []
    lfw = lfw_sources() if kind == "faces" else []
    backgrounds = FACE_BACKGROUNDS if kind == "faces" else TEXT_BACKGROUNDS
    for i in range(n_positive + n_negative):
        negative = i >= n_positive
        size = FULL_SIZE if i % 4 else FULL_SIZE[::-1]  # every fourth one is portrait
        background = backgrounds[i % len(backgrounds)]
        if kind == "faces":
            faces = [] if negative else _face_plan(i, portraits, lfw, rng)
            img, objects = face_scene(rng, background, faces, size)
        else:
            items = [] if negative else _text_plan(i)
            img, objects = text_scene(rng, background, items, size)
        img = perturb(img, rng)
        name = f"{kind}-{i:03d}.jpg"
        img.save(out / name, quality=rng.randrange(88, 96))
        images.append(
            {"file": name, "negative": negative, "background": background, "objects": objects}
        )
    labels = {"kind": kind, "seed": seed, "images": images}
    (out / "labels.json").write_text(json.dumps(labels, indent=1))
    return labels


def _face_plan(
    i: int, portraits: Sequence[FaceSource], lfw: Sequence[FaceSource], rng: random.Random
) -> list[tuple[FaceSource, int]]:
    """Two portraits and one LFW crop per image, sizes cycling so each size gets its share."""
    plan = [
        (portraits[(2 * i) % len(portraits)], FACE_SIZES[i % len(FACE_SIZES)]),
        (portraits[(2 * i + 1) % len(portraits)], FACE_SIZES[(i + 2) % len(FACE_SIZES)]),
        (lfw[rng.randrange(len(lfw))], LFW_SIZES[i % len(LFW_SIZES)]),
    ]
    return sorted(plan, key=lambda item: -item[1])  # big ones first: they need room


def _text_plan(i: int) -> list[tuple[str, int]]:
    """Three identifiers per image: every style, sizes cycling."""
    n = len(TEXT_SIZES)
    plan = [(style, TEXT_SIZES[(i + 2 * k) % n]) for k, style in enumerate(TEXT_STYLES)]
    return sorted(plan, key=lambda item: -item[1])


# --- scoring -----------------------------------------------------------------------------


def iou(a: Sequence[int], b: Sequence[int]) -> float:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, right - left) * max(0, bottom - top)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union else 0.0


def _centre_in(inner: Sequence[int], outer: Sequence[int]) -> bool:
    cx, cy = inner[0] + inner[2] / 2, inner[1] + inner[3] / 2
    return outer[0] <= cx <= outer[0] + outer[2] and outer[1] <= cy <= outer[1] + outer[3]


def matches(kind: str, truth: Sequence[int], found: Sequence[int]) -> bool:
    if kind == "faces":
        return iou(truth, found) >= FACE_IOU
    return iou(truth, found) >= TEXT_IOU or _centre_in(found, truth)


def _normal(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def char_accuracy(truth: str, read: str) -> float:
    """1 - (Levenshtein distance / length of the truth), on upper-case letters and digits."""
    a, b = _normal(truth), _normal(read)
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return max(0.0, 1 - row[len(b)] / max(1, len(a)))


Detector = Callable[[Image.Image], list[Any]]


def evaluate(kind: str, folder: Path, detect: Detector, repeat: int = 1) -> dict[str, Any]:
    """Run ``detect`` over the set in ``folder``; per-object results, FPs and timings."""
    labels = json.loads((folder / "labels.json").read_text())
    objects: list[dict[str, Any]] = []
    fp_pos: list[int] = []
    fp_neg: list[int] = []
    wall: list[float] = []
    cpu: list[float] = []
    for entry in labels["images"]:
        with Image.open(folder / entry["file"]) as img:
            img.load()
            for _ in range(repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                regions = detect(img)
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
        boxes = [r.box.as_list() for r in regions]
        used = [False] * len(boxes)
        for obj in entry["objects"]:
            hit = [j for j, b in enumerate(boxes) if matches(kind, obj["box"], b)]
            for j in hit:
                used[j] = True
            result = dict(obj, found=bool(hit))
            if kind == "text":
                hit.sort(key=lambda j: boxes[j][0])
                read = " ".join(regions[j].text for j in hit)
                result["read"] = read
                result["char_accuracy"] = char_accuracy(obj["text"], read)
            objects.append(result)
        (fp_neg if entry["negative"] else fp_pos).append(used.count(False))
    return {
        "objects": objects,
        "fp_positive": fp_pos,
        "fp_negative": fp_neg,
        "wall_ms": [1000 * t for t in wall],
        "cpu_ms": [1000 * t for t in cpu],
    }


def report(kind: str, name: str, result: dict[str, Any]) -> str:
    """A Markdown table of recall by size (and style/source), FPs per image and time."""
    objects = result["objects"]
    lines = [f"### {kind}: {name}", ""]
    group_key = "style" if kind == "text" else "group"
    for obj in objects:
        if kind == "faces":
            obj["group"] = "lfw 25px crops" if obj["source"].startswith("lfw") else "portraits"
    groups = sorted({obj[group_key] for obj in objects})
    sizes = sorted({obj["size"] for obj in objects})
    lines.append("| " + " | ".join([group_key, *[f"{s} px" for s in sizes], "all"]) + " |")
    lines.append("|" + "---|" * (len(sizes) + 2))
    for group in [*groups, "all"]:
        row = [group]
        for size in [*sizes, None]:
            sel = [
                o
                for o in objects
                if (group == "all" or o[group_key] == group) and size in (None, o["size"])
            ]
            found = sum(o["found"] for o in sel)
            row.append(f"{found}/{len(sel)} ({100 * found / len(sel):.0f}%)" if sel else "-")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    fp_neg, fp_pos = result["fp_negative"], result["fp_positive"]
    lines.append(
        f"False positives per image: negatives {_mean(fp_neg):.2f} "
        f"({sum(1 for v in fp_neg if v)}/{len(fp_neg)} images with any), "
        f"positives {_mean(fp_pos):.2f}"
    )
    if kind == "text":
        found = [o for o in objects if o["found"]]
        exact = sum(o["char_accuracy"] == 1.0 for o in found)
        lines.append(
            f"Reading, on found lines: {exact}/{len(found)} exact, mean character accuracy "
            f"{_mean([o['char_accuracy'] for o in found]):.3f}"
        )
    lines.append(
        f"Time per 12 MP image, one thread: median {statistics.median(result['wall_ms']):.0f} ms "
        f"wall, {statistics.median(result['cpu_ms']):.0f} ms CPU "
        f"(max {max(result['wall_ms']):.0f} ms wall)"
    )
    return "\n".join(lines)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


# --- detectors ---------------------------------------------------------------------------


def one_thread() -> None:
    """OpenCV on one thread; ONNX Runtime sessions of clinphoto.imaging use one already."""
    import cv2

    cv2.setNumThreads(1)


def detector(kind: str, backend: str) -> Detector:
    """clinphoto's detector (``default``) or one of the alternatives compared in the docs."""
    if kind == "text":
        from clinphoto.imaging.text import detect_text

        return detect_text
    if backend == "haar":
        return haar_faces
    from clinphoto.imaging.faces import FaceDetector

    name, _, threshold = backend.partition("@")
    runtime = "auto" if name == "default" else name
    if threshold:
        return FaceDetector(runtime=runtime, threshold=float(threshold))
    return FaceDetector(runtime=runtime)


def haar_faces(image: Image.Image) -> list[Any]:
    """The alternative that ships inside OpenCV: Viola-Jones frontal-face Haar cascade.

    Run on the photo reduced to 2,000 px (a full 12 MP image takes several seconds), with a
    smallest face of 40 px there (80 px in the original), scale step 1.1, 5 neighbours.
    """
    import cv2

    from clinphoto.imaging.regions import Box, Region

    cascade = _HAAR.get("cascade")
    if cascade is None:
        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        cascade = _HAAR["cascade"] = cv2.CascadeClassifier(str(path))
    scale = min(1.0, 2000 / max(image.size))
    small = image.convert("L").resize(
        (round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR
    )
    found = cascade.detectMultiScale(
        np.asarray(small), scaleFactor=1.1, minNeighbors=5, minSize=(40, 40)
    )
    return [
        Region(
            box=Box(round(x / scale), round(y / scale), round(w / scale), round(h / scale)),
            kind="face",
            score=1.0,
        )
        for x, y, w, h in found
    ]


_HAAR: dict[str, Any] = {}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", choices=("faces", "text"), required=True)
    parser.add_argument("--n", type=int, default=40, help="images with faces or text")
    parser.add_argument("--negatives", type=int, default=24, help="images with neither")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--backend",
        default="default",
        help="faces: default, opencv, litert, haar; NAME@0.5 sets the threshold",
    )
    parser.add_argument("--out", type=Path, help="generate into DIR (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the generated images")
    parser.add_argument("--json", type=Path, help="also write per-object results here")
    args = parser.parse_args(argv)

    one_thread()
    detect = detector(args.detector, args.backend)
    with tempfile.TemporaryDirectory(prefix="deid-eval-") as tmp:
        folder = args.out or Path(tmp)
        if not (folder / "labels.json").is_file() or _stale(folder, args):
            t0 = time.perf_counter()
            generate(args.detector, folder, args.n, args.negatives, args.seed)
            print(f"generated {args.n}+{args.negatives} images in {time.perf_counter() - t0:.0f} s")
        detect(Image.new("RGB", (640, 480)))  # warm up: load models outside the timing
        result = evaluate(args.detector, folder, detect)
        print(report(args.detector, args.backend, result))
        if args.json:
            args.json.write_text(json.dumps(result, indent=1))
        if args.out and not args.keep:
            print(f"images left in {folder}")
    return 0


def _stale(folder: Path, args: argparse.Namespace) -> bool:
    labels = json.loads((folder / "labels.json").read_text())
    wanted = (args.detector, args.seed, args.n + args.negatives)
    return (labels["kind"], labels["seed"], len(labels["images"])) != wanted


if __name__ == "__main__":
    raise SystemExit(main())
