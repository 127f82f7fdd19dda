"""Scoring of a face detector on the evaluation families (DEI-2), over a range of thresholds.

The detector runs once per image at a low candidate threshold and every region it returns is
kept with its score. A labelled face is found at threshold ``t`` when a region scoring at
least ``t`` overlaps it with IoU >= 0.3; a region scoring at least ``t`` that overlaps no
labelled face at all is a false face. So one run gives recall and false faces at every
threshold, and the verdict threshold can be read off the published trade-off. (Filtering
after the detector's non-maximum suppression gives the same regions as running at ``t``,
since a region is only ever suppressed by a better-scoring one.)
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

FACE_IOU = 0.3
THRESHOLDS = tuple(round(0.3 + 0.05 * k, 2) for k in range(14))  # 0.30 .. 0.95
SIZE_BUCKETS = ((0, 80), (80, 120), (120, 200), (200, 10_000))
ANGLE_BUCKETS = (
    ("upright (within 10 deg)", 0, 10),
    ("tilted 10-45 deg", 10, 45),
    ("sideways 45-135 deg", 45, 135),
    ("upside down 135-180 deg", 135, 181),
)

Detector = Callable[[Image.Image], list[Any]]


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, right - left) * max(0.0, bottom - top)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union else 0.0


def match(objects: list[dict[str, Any]], regions: list[tuple[list[int], float]]) -> list[bool]:
    """Give each object its best matching region's ``score`` (0 if none); which regions match."""
    used = [False] * len(regions)
    for obj in objects:
        best = 0.0
        for j, (box, score) in enumerate(regions):
            if iou(obj["box"], box) >= FACE_IOU:
                used[j] = True
                best = max(best, score)
        obj["score"] = round(best, 4)
    return used


def run(folders: Iterable[Path], detect: Detector, repeat: int = 1) -> dict[str, Any]:
    """Run ``detect`` over each folder's ``labels.json``; per-image regions, per-object scores.

    Times are wall and CPU per image, the image already decoded.
    """
    return run_alternated(folders, {"": detect}, repeat)[""]


def run_alternated(
    folders: Iterable[Path], detectors: dict[str, Detector], repeat: int = 1
) -> dict[str, dict[str, Any]]:
    """:func:`run` for each of ``detectors``, alternated image by image.

    Each image is given to every detector in turn, the order reversed from one image to the
    next, so that a machine's changing load weighs on all of them alike.
    """
    results: dict[str, dict[str, Any]] = {name: {"images": [], "objects": []} for name in detectors}
    index = 0
    for folder in folders:
        labels = json.loads((folder / "labels.json").read_text())
        for entry in labels["images"]:
            with Image.open(folder / entry["file"]) as img:
                img.load()
                for name, detect in in_turn(detectors, index):
                    _score_image(results[name], folder, entry, img, detect, repeat)
            index += 1
    return results


def in_turn(detectors: dict[str, Detector], index: int) -> list[tuple[str, Detector]]:
    """The detectors in the order they see image ``index``: reversed on every other image,
    so that a machine's changing load weighs on all of them alike."""
    order = list(detectors.items())
    return order if index % 2 == 0 else order[::-1]


def _score_image(
    result: dict[str, Any],
    folder: Path,
    entry: dict[str, Any],
    img: Image.Image,
    detect: Detector,
    repeat: int,
) -> None:
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        found = detect(img)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    regions = [(r.box.as_list(), float(r.score)) for r in found]
    objs = [dict(obj, family=entry["family"]) for obj in entry["objects"]]
    used = match(objs, regions)
    result["objects"].extend(objs)
    result["images"].append(
        {
            "file": f"{folder.name}/{entry['file']}",
            "family": entry["family"],
            "negative": entry["negative"],
            "background": entry["background"],
            "regions": [
                {"box": box, "score": round(score, 4), "face": hit}
                for (box, score), hit in zip(regions, used, strict=True)
            ],
            "wall_ms": round(1000 * min(wall), 1),
            "cpu_ms": round(1000 * min(cpu), 1),
        }
    )


def false_faces(image: dict[str, Any], threshold: float) -> int:
    return sum(1 for r in image["regions"] if r["score"] >= threshold and not r["face"])


def sweep(result: dict[str, Any], thresholds: Sequence[float] = THRESHOLDS) -> list[dict[str, Any]]:
    """For each threshold: found and total per family, false faces on negatives and positives."""
    families = sorted({o["family"] for o in result["objects"]})
    negatives = [i for i in result["images"] if i["negative"]]
    positives = [i for i in result["images"] if not i["negative"]]
    rows = []
    for t in thresholds:
        row: dict[str, Any] = {"threshold": t, "families": {}}
        for family in families:
            objs = [o for o in result["objects"] if o["family"] == family]
            row["families"][family] = (sum(o["score"] >= t for o in objs), len(objs))
        faces = result["objects"]
        row["all"] = (sum(o["score"] >= t for o in faces), len(faces))
        neg = [false_faces(i, t) for i in negatives]
        pos = [false_faces(i, t) for i in positives]
        row["negative_photos"] = len(neg)
        row["false_per_negative"] = _mean(neg)
        row["negatives_with_any"] = sum(1 for v in neg if v)
        row["false_per_positive"] = _mean(pos)
        rows.append(row)
    return rows


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _cell(found: int, total: int) -> str:
    return f"{found}/{total} ({100 * found / total:.0f} %)" if total else "-"


def _deviation(angle: float) -> float:
    """How far from upright, 0 to 180 degrees, whichever way it is turned."""
    a = angle % 360
    return min(a, 360 - a)


def breakdown(objects: list[dict[str, Any]], threshold: float) -> list[tuple[str, int, int]]:
    """Found/total of ``objects`` by size, angle, and the family's own variable."""
    rows: list[tuple[str, int, int]] = []

    def add(name: str, sel: list[dict[str, Any]]) -> None:
        if sel:
            rows.append((name, sum(o["score"] >= threshold for o in sel), len(sel)))

    add("all", objects)
    for low, high in SIZE_BUCKETS:
        name = f"{low}-{high - 1} px" if high < 10_000 else f"{low} px and over"
        add(name, [o for o in objects if low <= o["size"] < high])
    if any(_deviation(o["angle"]) > 10 for o in objects):
        for name, low, high in ANGLE_BUCKETS:
            add(name, [o for o in objects if low <= _deviation(o["angle"]) < high])
        for exact in (90, 180, 270):
            add(f"exactly {exact} deg", [o for o in objects if o["angle"] == exact])
    framed = [o for o in objects if o.get("outside") is not None]  # cut by the frame
    for key, among in (("blur", objects), ("light", objects), ("tone", objects), ("edge", framed)):
        values = sorted({str(o[key]) for o in among if key in o})
        if len(values) > 1 or (values and key == "blur"):
            for value in values:
                add(f"{key}: {value}", [o for o in among if str(o.get(key)) == value])
    add("cut in its source photo", [o for o in objects if "edge" in o and o["outside"] is None])
    return rows


def report(
    result: dict[str, Any],
    name: str,
    verdict: float,
    candidate: float,
    families: Sequence[str],
) -> str:
    """Markdown: summary at the two thresholds, the trade-off, per-family detail, times."""
    thresholds = sorted({*THRESHOLDS, verdict, candidate})
    rows = {row["threshold"]: row for row in sweep(result, thresholds)}
    at_v, at_c = rows[verdict], rows[candidate]
    present = [f for f in families if f in at_v["families"]]
    lines = [f"### Faces: {name}", ""]
    lines.append(f"| family | found at {verdict} (verdict) | found at {candidate} (candidates) |")
    lines.append("|---|---|---|")
    for family in present:
        found_v, found_c = _cell(*at_v["families"][family]), _cell(*at_c["families"][family])
        lines.append(f"| {family} | {found_v} | {found_c} |")
    lines.append(f"| all faces | {_cell(*at_v['all'])} | {_cell(*at_c['all'])} |")
    for label, key in (("per negative photo", "false_per_negative"),):
        lines.append(
            f"| false faces {label} ({at_v['negative_photos']} photos) | "
            f"{at_v[key]:.2f} ({at_v['negatives_with_any']} with any) | "
            f"{at_c[key]:.2f} ({at_c['negatives_with_any']} with any) |"
        )
    lines.append(
        f"| false faces per photo with faces | {at_v['false_per_positive']:.2f} | "
        f"{at_c['false_per_positive']:.2f} |"
    )
    lines += ["", "Trade-off (one run at the lowest threshold, filtered by score):", ""]
    header = ["threshold", *present, "all faces", "false faces per negative photo (with any)"]
    header.append("per photo with faces")
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for t, row in rows.items():
        cells = [f"{t:.2f}"]
        for family in present:
            found, total = row["families"][family]
            cells.append(f"{100 * found / total:.0f} %" if total else "-")
        found, total = row["all"]
        cells.append(f"{100 * found / total:.1f} %" if total else "-")
        cells.append(f"{row['false_per_negative']:.2f} ({row['negatives_with_any']})")
        cells.append(f"{row['false_per_positive']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"By family at {verdict}:", ""]
    for family in present:
        objs = [o for o in result["objects"] if o["family"] == family]
        cells = [f"{n} {_cell(f, t)}" for n, f, t in breakdown(objs, verdict)]
        lines.append(f"- **{family}**: " + "; ".join(cells))
    wall = [i["wall_ms"] for i in result["images"]]
    cpu = [i["cpu_ms"] for i in result["images"]]
    if wall:
        lines += [
            "",
            f"Time per image, one thread, image decoded: median {statistics.median(wall):.0f} ms "
            f"wall, {statistics.median(cpu):.0f} ms CPU (max {max(wall):.0f} ms wall), "
            f"{len(wall)} images.",
        ]
    return "\n".join(lines)
