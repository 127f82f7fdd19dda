"""The finer search gated by P-Net's upright map (DEI-2; issue 8, section 3: speed).

The finer search (the smallest wanted face at 32 px) is the costliest part of the face
search: 336 tiles of BlazeFace on a 12 MP photo. It runs only on the tiles where MTCNN's
P-Net, which runs anyway to propose soft faces, sees in some window centred in the tile
something it scores ``SOFT_GATE`` or more upright. The real networks, not doubles.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

from clinphoto.imaging.faces import (
    PNET_WINDOW,
    SOFT_GATE,
    TURNED_GATE,
    FaceDetector,
    _ProposerMap,
    _rgb,
    _upright_gate,
)
from clinphoto.imaging.inspect import FACE_THRESHOLD
from tests.unit.test_faces_soft import _best_near, _near, _soft_lfw_face, _turned_lfw_face


def _map(hot: list[tuple[int, int]], turn: int = 0) -> _ProposerMap:
    """A P-Net map of a level at a fifth of the photo's size, 40 x 30 cells, hot (0.9) at
    the (column, row) cells ``hot`` and cold (0.1) elsewhere."""
    probability = np.full((40, 30), 0.1, dtype=np.float32)
    for column, row in hot:
        probability[column, row] = 0.9
    regression = np.zeros((40, 30, 4), dtype=np.float32)
    return _ProposerMap(regression, probability, turn, 40, 30, 0.2, 0.2)


def test_the_gate_opens_an_area_holding_the_centre_of_a_window_p_net_scores_highly() -> None:
    # Cell (10, 5) is the window at level px (20, 10)-(32, 22): centred at photo px (130, 80).
    centre = ((2 * 10 + PNET_WINDOW / 2) / 0.2, (2 * 5 + PNET_WINDOW / 2) / 0.2)
    assert centre == (130.0, 80.0)
    opened = _upright_gate([_map([(10, 5)])], 0.5)
    assert opened((100.0, 50.0, 160.0, 110.0))
    assert opened((129.0, 79.0, 131.0, 81.0))
    assert not opened((140.0, 50.0, 400.0, 400.0))  # beside it
    assert not opened((0.0, 0.0, 120.0, 75.0))
    # Not at a bar above the window's score; a turned map does not open the gate.
    assert not _upright_gate([_map([(10, 5)])], 0.95)((100.0, 50.0, 160.0, 110.0))
    assert not _upright_gate([_map([(10, 5)], turn=2)], 0.5)((100.0, 50.0, 160.0, 110.0))
    # Any of the scales may open it.
    assert _upright_gate([_map([]), _map([(10, 5)])], 0.5)((100.0, 50.0, 160.0, 110.0))


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_the_gated_tiles_are_the_levels_own_tiles(mode: str) -> None:
    # Each tile is resized from the photo on its own; its pixels are those of the same tile
    # cut from the whole level (rounding aside), so the gate changes which tiles are seen,
    # not what is seen in them. A grey photo's tiles are grey in RGB.
    photo = Image.fromarray(data.astronaut()).resize((1600, 1200), Image.Resampling.BILINEAR)
    photo = photo.convert(mode)
    detector = FaceDetector()
    scale = 32.0 / 60.0
    whole = {(top, left): tile for top, left, tile in detector._tiles(_rgb(photo, scale))}
    gated = detector._gated_tiles(photo, scale, lambda _area: True)
    assert len(gated) == len(whole) > 1
    for top, left, tile in gated:
        assert tile.shape == whole[top, left].shape
        assert np.abs(tile - whole[top, left]).max() <= 2 / 127.5
    assert detector._gated_tiles(photo, scale, lambda _area: False) == []
    if mode == "L":
        assert all((tile[..., 0] == tile[..., 2]).all() for _top, _left, tile in gated)


def test_the_finer_search_sees_the_soft_face_and_little_else_of_a_quiet_photo() -> None:
    # A 70 px face enlarged from a 25 px crop on a 12 MP photo of a coffee cup: the gate lets
    # the finer search see the tile the face is in, and under half of the others (116 of
    # 336: the cup, the saucer's rim and the spoon stir P-Net; the table does not).
    photo, centre = _soft_lfw_face(15, 70, 0.5)
    detector = FaceDetector()
    assert detector.soft_gate == SOFT_GATE is not None
    smallest = detector.smallest_face * max(photo.size)
    scale = detector.soft_face_in_input / smallest  # type: ignore[operator]
    opened = _upright_gate(detector._proposer_maps(photo, smallest), SOFT_GATE)
    gated = detector._gated_tiles(photo, scale, opened)
    every = len(detector._tiles(_rgb(photo, scale)))
    assert 0 < len(gated) < every / 2
    found = detector._search(gated, scale, (0,), None)
    assert any(c.score >= detector.candidate_threshold and _near(c.box, centre) for c in found)
    assert _best_near(detector, photo, centre) >= FACE_THRESHOLD


def test_the_gate_needs_p_net() -> None:
    # Without MTCNN's proposals P-Net does not run, and the finer search sees every tile.
    assert FaceDetector().soft_gate == SOFT_GATE
    assert FaceDetector(proposals=()).soft_gate is None
    assert FaceDetector(second_opinion=None).soft_gate is None


def test_turned_p_net_runs_over_the_stirred_blocks_with_a_margin() -> None:
    from clinphoto.imaging.faces import TURNED_BLOCK, TURNED_MARGIN, _stirred_blocks

    # A level of 400 x 300 px: P-Net's map has a cell every 2 px (windows of 12 px).
    probability = np.zeros(((400 - 12) // 2 + 1, (300 - 12) // 2 + 1), dtype=np.float32)
    assert _stirred_blocks(probability, 0.05, 400, 300) == []
    # A window centred at (150, 110): the block (1, 1) of 96 px, and its margin.
    probability[(150 - 6) // 2, (110 - 6) // 2] = 0.3
    block = TURNED_BLOCK
    assert _stirred_blocks(probability, 0.05, 400, 300) == [
        (
            block - TURNED_MARGIN,
            block - TURNED_MARGIN,
            2 * block + TURNED_MARGIN,
            2 * block + TURNED_MARGIN,
        )
    ]
    assert _stirred_blocks(probability, 0.5, 400, 300) == []
    # Its neighbour on the right joins it in one part; a block on the last row is cut by
    # the level's edge.
    probability[(250 - 6) // 2, (110 - 6) // 2] = 0.3
    probability[(20 - 6) // 2, (290 - 6) // 2] = 0.3
    assert _stirred_blocks(probability, 0.05, 400, 300) == [
        (
            block - TURNED_MARGIN,
            block - TURNED_MARGIN,
            3 * block + TURNED_MARGIN,
            2 * block + TURNED_MARGIN,
        ),
        (0, 3 * block - TURNED_MARGIN, block + TURNED_MARGIN, 300),
    ]


def test_on_a_plain_sheet_a_soft_face_lying_down_is_proposed_by_p_net_run_over_little() -> None:
    # An enlarged 25 px crop turned a quarter turn on a plain bed sheet at 12 MP: P-Net runs
    # turned over the few blocks it is stirred in upright, and still proposes the face.
    import random

    from tools.deid_scenes import bed_sheet, perturb

    rng = random.Random(2026)
    sheet = perturb(bed_sheet(rng, (4000, 3000)), rng)
    photo, centre = _turned_lfw_face(3, 70, 1, sheet)
    gated, whole = FaceDetector(), FaceDetector(turned_gate=None)
    assert gated.turned_gate == TURNED_GATE is not None
    smallest = gated.smallest_face * max(photo.size)
    maps = gated._proposer_maps(photo, smallest)
    turned = sum(m.cols * m.rows for m in maps if m.turn)
    everywhere = sum(m.cols * m.rows for m in whole._proposer_maps(photo, smallest) if m.turn)
    assert turned < everywhere / 4
    near = [c for c in gated._proposed(photo, smallest, maps) if _near(c.box, centre)]
    assert any(c.turn % 2 == 1 for c in near)  # found in a quarter-turned run
    assert _best_near(gated, photo, centre) >= FACE_THRESHOLD
