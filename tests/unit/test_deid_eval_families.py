"""The face-detection evaluation's families and scorer (DEI-2, issue 8 section 2).

The families are generated small (a fraction of 12 MP) from scikit-image's faces, which are
always installed; the faces fetched from other packages are checked only when they are in
the corpus cache (``python -m tools.faces_sources`` puts them there).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from tools import deid_score
from tools.deid_scenes import (
    FAMILIES,
    NEGATIVES,
    FaceSpec,
    Sources,
    make_image,
    paste_face,
    write_image,
)
from tools.faces_sources import ARCHIVES, FaceSource, corpus_dir, lfw_sources, skimage_sources

SCALE = 0.15  # 600x450 frames: enough for the geometry, fast to make


@pytest.fixture(scope="module")
def sources() -> Sources:
    return Sources(skimage_sources(), lfw_sources()[:10], {})


def _inside(box: list[int], size: tuple[int, int]) -> bool:
    x, y, w, h = box
    return w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= size[0] and y + h <= size[1]


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_labels_faces_inside_the_image(family: str, sources: Sources) -> None:
    for index in range(2):
        img, entry = make_image(family, index, 7, sources, SCALE)
        assert entry["objects"], f"{family} #{index} has no face"
        for obj in entry["objects"]:
            assert _inside(obj["box"], img.size), (family, obj)
            assert 0 <= obj["angle"] < 360


def test_turned_faces_are_turned_and_their_box_holds_the_face_centre(sources: Sources) -> None:
    angles = []
    for index in range(3):
        _, entry = make_image("turned", index, 7, sources, SCALE)
        for obj in entry["objects"]:
            x, y, w, h = obj["box"]
            cx, cy = obj["centre"]
            assert x <= cx <= x + w, obj
            assert y <= cy <= y + h, obj
            angles.append(obj["angle"])
    assert {90.0, 180.0, 270.0} <= set(angles)
    assert all(15 <= a <= 345 for a in angles)


def test_partial_faces_touch_the_frame_edge(sources: Sources) -> None:
    for index in range(3):
        img, entry = make_image("partial", index, 7, sources, SCALE)
        for obj in entry["objects"]:
            x, y, w, h = obj["box"]
            touches = {"left": x == 0, "top": y == 0}
            touches |= {"right": x + w == img.width, "bottom": y + h == img.height}
            assert touches[obj["edge"]], obj


def test_negatives_have_no_face_and_are_deterministic(sources: Sources, tmp_path: Path) -> None:
    first = [write_image(NEGATIVES, i, 7, sources, tmp_path, SCALE) for i in range(3)]
    assert {e["background"] for e in first} >= {"skin", "dressing"}
    assert all(e["objects"] == [] and e["negative"] for e in first)
    pixels = np.asarray(Image.open(tmp_path / first[1]["file"]))
    write_image(NEGATIVES, 1, 7, sources, tmp_path, SCALE)
    assert np.array_equal(pixels, np.asarray(Image.open(tmp_path / first[1]["file"])))


def _marked_face() -> FaceSource:
    """A grey 'face' with a red mark near its top-left corner and a blue one near its top-right."""
    array = np.full((300, 300, 3), 128, dtype=np.uint8)
    array[20:40, 20:40] = (255, 0, 0)
    array[20:40, 260:280] = (0, 0, 255)
    image = Image.fromarray(array)
    return FaceSource("marked", image, (0, 0, 300, 300), "grey", "test", tight=True)


def _centroid(array: np.ndarray, colour: int) -> tuple[float, float]:
    others = [c for c in range(3) if c != colour]
    mask = (array[..., colour] > 200) & (array[..., others[0]] < 80) & (array[..., others[1]] < 80)
    ys, xs = np.nonzero(mask)
    assert len(xs), "mark not found"
    return float(xs.mean()), float(ys.mean())


@pytest.mark.parametrize("angle", [90.0, 180.0, 270.0, 45.0])
def test_turning_moves_the_face_the_way_the_label_says(angle: float) -> None:
    """Counter-clockwise, as labelled: at 90 degrees the face's top edge is on its left."""
    img = Image.new("RGB", (800, 800), (128, 128, 128))
    rng = random.Random(1)
    label = paste_face(img, FaceSpec(_marked_face(), 200, angle), rng, [], [])
    assert label is not None
    array = np.asarray(img)
    red, blue = _centroid(array, 0), _centroid(array, 2)
    cx, cy = label["centre"]
    # the top edge's direction (red to blue) turned counter-clockwise by ``angle``
    direction = np.degrees(np.arctan2(-(blue[1] - red[1]), blue[0] - red[0])) % 360
    assert abs((direction - angle + 180) % 360 - 180) < 3
    # the marks are where the face box's top corners go, inside the label
    x, y, w, h = label["box"]
    for mx, my in (red, blue):
        assert x - 2 <= mx <= x + w + 2
        assert y - 2 <= my <= y + h + 2
    # and on the side of the centre that the top of the face is turned to
    up = np.radians(angle + 90)
    mid = ((red[0] + blue[0]) / 2 - cx, (red[1] + blue[1]) / 2 - cy)
    assert mid[0] * np.cos(up) - mid[1] * np.sin(up) > 0.3 * 200


def _region(box: list[int], score: float, face: bool) -> dict[str, Any]:
    return {"box": box, "score": score, "face": face}


def test_threshold_sweep_counts_found_faces_and_false_faces() -> None:
    """Hand-made detections: counts at each threshold follow the scores exactly."""
    objects = [{"box": [0, 0, 100, 100]}, {"box": [500, 500, 50, 50]}, {"box": [900, 0, 80, 80]}]
    regions = [
        ([5, 5, 100, 100], 0.9),  # finds the first face (IoU 0.82)
        ([0, 0, 60, 60], 0.5),  # also over the first face (IoU 0.36): a match, not a false face
        ([505, 505, 50, 50], 0.62),  # finds the second
        ([700, 700, 40, 40], 0.7),  # nothing there: a false face from 0.7 down
        ([900, 0, 20, 20], 0.95),  # too small for the third (IoU 0.06): a false face too
    ]
    used = deid_score.match(objects, regions)
    assert used == [True, True, True, False, False]
    assert [o["score"] for o in objects] == [0.9, 0.62, 0.0]
    for obj in objects:
        obj["family"] = "upright"
    result = {
        "objects": objects,
        "images": [
            {
                "negative": False,
                "regions": [_region(b, s, u) for (b, s), u in zip(regions, used, strict=True)],
            },
            {"negative": True, "regions": [_region([0, 0, 9, 9], 0.8, False)]},
            {"negative": True, "regions": [_region([0, 0, 9, 9], 0.4, False)]},
        ],
    }
    rows = {row["threshold"]: row for row in deid_score.sweep(result, (0.3, 0.6, 0.75, 0.9, 0.96))}
    assert rows[0.3]["families"]["upright"] == (2, 3)
    assert rows[0.6]["families"]["upright"] == (2, 3)
    assert rows[0.75]["families"]["upright"] == (1, 3)
    assert rows[0.96]["families"]["upright"] == (0, 3)
    assert rows[0.3]["false_per_negative"] == 1.0
    assert rows[0.6]["false_per_negative"] == 0.5
    assert rows[0.6]["negatives_with_any"] == 1
    assert rows[0.9]["false_per_negative"] == 0.0
    assert rows[0.6]["false_per_positive"] == 2.0  # the empty spot and the small box
    assert rows[0.75]["false_per_positive"] == 1.0
    assert rows[0.96]["false_per_positive"] == 0.0


def test_breakdown_splits_by_size_and_angle() -> None:
    objects = [
        {"size": 70, "angle": 180.0, "score": 0.8},
        {"size": 70, "angle": 5.0, "score": 0.2},
        {"size": 300, "angle": 90.0, "score": 0.9},
    ]
    rows = {name: (found, total) for name, found, total in deid_score.breakdown(objects, 0.75)}
    assert rows["all"] == (2, 3)
    assert rows["0-79 px"] == (1, 2)
    assert rows["200 px and over"] == (1, 1)
    assert rows["upside down 135-180 deg"] == (1, 1)
    assert rows["upright (within 10 deg)"] == (0, 1)
    assert rows["exactly 90 deg"] == (1, 1)


def _fetched() -> bool:
    cache = corpus_dir()
    return all(
        (archive.target(cache) / source.path).is_file()
        for archive in ARCHIVES
        for source in archive.files
    )


@pytest.mark.skipif(
    not _fetched(), reason="face sources not fetched: run python -m tools.faces_sources"
)
def test_downloaded_faces_are_the_labelled_files_and_boxes_fit() -> None:
    from tools.faces_sources import archive_sources

    faces = archive_sources()  # checks every file's SHA-256
    assert len(faces) >= 4
    for face in faces:
        x, y, w, h = face.box
        assert _inside([x, y, w, h], face.image.size), face.name
        assert face.tone in ("lighter", "medium", "darker", "grey"), face.name


def test_labels_file_round_trips(sources: Sources, tmp_path: Path) -> None:
    entry = write_image("small", 0, 7, sources, tmp_path, SCALE)
    json.dumps(entry)
    with Image.open(tmp_path / entry["file"]) as img:
        assert img.format == "JPEG"
        assert list(img.size) == entry["size"]


def test_soft_turned_faces_are_enlarged_crops_one_at_each_quarter_turn(sources: Sources) -> None:
    for index in range(3):
        _, entry = make_image("soft-turned", index, 7, sources, SCALE)
        quarters = []
        for obj in entry["objects"]:
            assert obj["source"].startswith("lfw"), obj
            assert obj["blur"] == "lfw", obj
            off = obj["angle"] % 90
            assert min(off, 90 - off) <= 10, obj
            quarters.append(round(obj["angle"] / 90) % 4)
        assert len(entry["objects"]) >= 3
        assert len(set(quarters)) == len(quarters)  # never two at the same turn


def test_masked_faces_wear_a_mask_below_their_eyes_half_of_them_turned(sources: Sources) -> None:
    """The mask covers the lower half of the face, whatever its turn: the pixels in the
    face's lower half (as the face is turned) are the mask's colour, its upper half is not."""
    from tools.deid_scenes import MASKS

    angles, colours = [], set()
    for index in range(3):
        img, entry = make_image("masked", index, 7, sources, SCALE)
        array = np.asarray(img.convert("RGB")).astype(int)
        for obj in entry["objects"]:
            assert obj["mask"] in MASKS
            colours.add(obj["mask"])
            angles.append(obj["angle"])
            cx, cy = obj["centre"]
            down = np.radians(obj["angle"] - 90)  # the chin's way, turned with the face
            step = 0.3 * obj["size"]
            below = (round(cx + step * np.cos(down)), round(cy - step * np.sin(down)))
            above = (round(cx - 1.4 * step * np.cos(down)), round(cy + 1.4 * step * np.sin(down)))
            front = np.array(MASKS[obj["mask"]][0])
            if obj["tone"] == "grey":
                front = np.full(3, round(front.sum() / 3))
            # the whole photo's brightness and noise are perturbed after the faces are pasted
            on_mask = np.abs(array[below[1], below[0]] - front).max()
            on_eyes = np.abs(array[above[1], above[0]] - front).max()
            assert on_mask < 60, obj
            assert on_mask < on_eyes, obj
    assert len(colours) >= 2
    upright = [a for a in angles if a <= 10 or a >= 350]
    assert 0 < len(upright) < len(angles)


def test_close_up_faces_fill_a_third_to_two_thirds_of_the_frame_every_other_one_turned(
    sources: Sources,
) -> None:
    """A facial lesion photographed up close: one face a photo, 35-70 % of the frame's short
    side, its box inside the frame; upright, then 90, 180 and 270 degrees in turn."""
    angles = []
    for index in range(6):
        img, entry = make_image("close-up", index, 7, sources, SCALE)
        (obj,) = entry["objects"]
        short = min(img.size)
        assert 0.34 * short <= obj["size"] <= 0.71 * short, (obj["size"], img.size)
        assert _inside(obj["box"], img.size)
        angles.append(round(obj["angle"] / 90) % 4 if index % 2 else obj["angle"])
    upright, turned = angles[0::2], angles[1::2]
    assert all(a <= 10 or a >= 350 for a in upright), upright
    assert turned == [1, 2, 3], turned


def test_bedside_faces_lie_on_a_plain_sheet_at_every_quarter_turn(sources: Sources) -> None:
    """Patients photographed in bed: faces at the four quarter turns in turn, every third
    one an enlarged 25 px crop, on a sheet whose pixels away from the faces vary little
    beyond the camera's noise (no scene)."""
    quarters, soft = [], 0
    for index in range(2):
        img, entry = make_image("bedside", index, 7, sources, SCALE)
        assert entry["background"] == "sheet"
        grey = np.asarray(img.convert("L")).astype(float)
        keep = np.ones_like(grey, dtype=bool)
        for obj in entry["objects"]:
            x, y, w, h = obj["box"]
            keep[max(0, y - h) : y + 2 * h, max(0, x - w) : x + 2 * w] = False  # the patch
            off = obj["angle"] % 90
            assert min(off, 90 - off) <= 10, obj
            quarters.append(round(obj["angle"] / 90) % 4)
            soft += obj.get("blur") == "lfw"
        assert keep.mean() > 0.3
        assert grey[keep].std() < 20  # the sheet 9-12; the scenes behind the other families 17-72
    assert sorted(set(quarters)) == [0, 1, 2, 3]
    assert 0 < soft < len(quarters)
