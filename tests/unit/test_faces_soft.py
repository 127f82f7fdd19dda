"""Small soft faces and faces cut by the frame (DEI-2, CON-4; issue 8 section 1).

The real BlazeFace model, not a double. An independent evaluation found that faces about 70 px
wide made by enlarging a 25 px crop were missed; the finer upright search finds them. The
second look's view averages the pixels it covers and is grey beyond the photo's edge.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from skimage import data

from clinphoto.imaging.faces import (
    FLIP_LOOK,
    INPUT,
    OPINION_FROM,
    SECOND_OPINION,
    VETO_BELOW,
    VETO_OPINION,
    VETO_SURE_BELOW,
    VETO_SURE_OPINION,
    Candidate,
    FaceDetector,
    _view,
)
from clinphoto.imaging.inspect import FACE_THRESHOLD

# The finer search's turns, off by default since MTCNN's proposals (2026-12-02): the tests
# of that search turn it on.
TURNED = (1, 2, 3)


def _affine(
    cx: float, cy: float, step: float, tilt: float
) -> tuple[float, float, float, float, float, float]:
    angle = math.radians(tilt)
    a, b = math.cos(angle) * step, -math.sin(angle) * step
    d, e = math.sin(angle) * step, math.cos(angle) * step
    return (a, b, cx - (a + b) * INPUT / 2, d, e, cy - (d + e) * INPUT / 2)


def _near(box: tuple[float, float, float, float], centre: tuple[int, int]) -> bool:
    """Whether the middle of ``box`` (x, y, w, h) is within 40 px of ``centre``."""
    x, y, w, h = box
    return abs(x + w / 2 - centre[0]) < 40 and abs(y + h / 2 - centre[1]) < 40


def _best_near(detector: FaceDetector, photo: Image.Image, centre: tuple[int, int]) -> float:
    """The best score of a face the detector reports within 40 px of ``centre``."""
    near = [
        r.score
        for r in detector.detect(photo)
        if _near((r.box.x, r.box.y, r.box.w, r.box.h), centre)
    ]
    return max(near, default=0.0)


def test_the_view_shows_what_pillows_affine_transform_shows() -> None:
    photo = Image.fromarray(data.astronaut())
    for step, tilt in ((1.0, 0.0), (1.5, 30.0)):
        affine = _affine(256, 200, step, tilt)
        expected = np.asarray(
            photo.transform(
                (INPUT, INPUT), Image.Transform.AFFINE, affine, Image.Resampling.BILINEAR
            ),
            dtype=np.float64,
        )
        seen = _view(photo, affine, step).astype(np.float64)
        assert seen.shape == (INPUT, INPUT, 3)
        assert np.abs(seen - expected).mean() < 2.0


def test_the_view_averages_what_it_reduces_and_is_grey_beyond_the_edge() -> None:
    # Pixel noise of +-60 around mid-grey: a view four times smaller averages 16 pixels each.
    rng = np.random.default_rng(8)
    noise = (128 + rng.choice([-60, 60], size=(1200, 1200, 3))).astype(np.uint8)
    view = _view(Image.fromarray(noise), _affine(600, 600, 4.0, 0.0), 4.0)
    assert view.std() < 25
    # A view centred on the photo's corner: three quarters of it lie outside, in grey.
    white = Image.new("RGB", (400, 300), (255, 255, 255))
    corner = _view(white, _affine(0, 0, 1.0, 0.0), 1.0)
    assert (corner[: INPUT // 2 - 2, : INPUT // 2 - 2] == 127).all()
    assert (corner[INPUT // 2 + 2 :, INPUT // 2 + 2 :] == 255).all()


def test_a_small_soft_face_is_found_by_the_finer_search() -> None:
    # One of skimage's 25 px LFW face crops enlarged to 70 px, on a 12 MP photo: the face
    # the independent evaluation counted as missed. The 14 px search alone misses it.
    photo = Image.fromarray(data.coffee()).resize((4000, 3000), Image.Resampling.BILINEAR)
    crop = (data.lfw_subset()[15] * 255).astype(np.uint8)
    face = Image.fromarray(crop).convert("RGB").resize((70, 70), Image.Resampling.BICUBIC)
    photo.paste(face, (1210, 330))

    assert _best_near(FaceDetector(), photo, (1245, 365)) >= FACE_THRESHOLD
    # (MTCNN's proposals, which also find this face, are left out of the comparison.)
    coarse_only = FaceDetector(soft_face_in_input=None, proposals=())
    assert _best_near(coarse_only, photo, (1245, 365)) < FACE_THRESHOLD


def test_a_soft_face_that_loses_its_score_at_40_px_keeps_it_at_24_px() -> None:
    # An 80 px face blurred (sigma 2 px) scores 0.7-0.75 in the search but less in the 40 px
    # second look, where its blur shows; the look at 24 px keeps it above the verdict.
    from PIL import ImageFilter

    photo = Image.fromarray(data.coffee()).resize((4000, 3000), Image.Resampling.BILINEAR)
    crop = (data.lfw_subset()[55] * 255).astype(np.uint8)
    face = Image.fromarray(crop).convert("RGB").resize((80, 80), Image.Resampling.BICUBIC)
    photo.paste(face.filter(ImageFilter.GaussianBlur(2)), (1210, 330))

    def near(detector: FaceDetector) -> Candidate:
        return max(
            (
                c
                for c in detector.candidates(photo)
                if abs(c.box[0] + c.box[2] / 2 - 1250) < 40
                and abs(c.box[1] + c.box[3] / 2 - 370) < 40
            ),
            key=lambda c: c.final,
        )

    # (O-Net's second opinion, which would also lift this face, is left out of the comparison,
    # and so is the finer search at 32 px, whose candidate for it keeps 0.78 in the 40 px look:
    # the search here is the 24 px one that found it at 0.7-0.75.)
    with_soft = near(FaceDetector(soft_face_in_input=24.0))
    without = near(FaceDetector(soft_face_in_input=24.0, soft_look=None, second_opinion=None))
    assert with_soft.final >= FACE_THRESHOLD > without.final
    # The look at 24 px restores the search's score at most, never more.
    assert without.final < with_soft.final <= with_soft.score


def test_an_upside_down_soft_face_is_seen_when_the_look_turns_it_over() -> None:
    # A patient photographed from the head of the bed: an 85 px face enlarged from a 25 px
    # crop, upside down. The upright search finds something there and takes it for an
    # upright face, whose looks fail; the look turned over finds the face.
    photo = Image.fromarray(data.coffee()).resize((4000, 3000), Image.Resampling.BILINEAR)
    crop = (data.lfw_subset()[20] * 255).astype(np.uint8)
    face = Image.fromarray(crop).convert("RGB").resize((85, 85), Image.Resampling.BICUBIC)
    photo.paste(face.rotate(180), (1210, 330))

    # (The finer search turned and MTCNN's proposals, which also find this face, are left
    # out of the comparison.)
    alone = {"soft_turned": (), "proposals": ()}
    with_flip = _best_near(FaceDetector(**alone), photo, (1252, 372))
    without = _best_near(FaceDetector(flip_look=None, **alone), photo, (1252, 372))
    assert with_flip >= FACE_THRESHOLD > without
    # The turned-over look is taken for every candidate that would not make the verdict.
    assert FLIP_LOOK == FACE_THRESHOLD


def _soft_lfw_face(index: int, width: int, sigma: float) -> tuple[Image.Image, tuple[int, int]]:
    """One of skimage's 25 px LFW crops enlarged to ``width`` px and blurred by ``sigma`` px,
    on a 12 MP photo; and its centre."""
    from PIL import ImageFilter

    photo = Image.fromarray(data.coffee()).resize((4000, 3000), Image.Resampling.BILINEAR)
    crop = (data.lfw_subset()[index] * 255).astype(np.uint8)
    face = Image.fromarray(crop).convert("RGB").resize((width, width), Image.Resampling.BICUBIC)
    photo.paste(face.filter(ImageFilter.GaussianBlur(sigma)), (1500, 1200))
    return photo, (1500 + width // 2, 1200 + width // 2)


def test_a_soft_face_that_blazeface_half_believes_is_confirmed_by_o_net() -> None:
    # A 100 px face blurred by 2 px: BlazeFace's looks score it about 0.6, under the verdict;
    # MTCNN's O-Net is sure of it in every view, and the mean of the two makes the verdict.
    # (Shown with the finer search at 24 px: at 32 px, the default, one of its candidates
    # already scores 0.77 in its looks, and O-Net only adds to it.)
    photo, centre = _soft_lfw_face(40, 100, 2.0)
    assert _best_near(FaceDetector(), photo, centre) >= FACE_THRESHOLD
    detector = FaceDetector(soft_face_in_input=24.0)
    assert _best_near(detector, photo, centre) >= FACE_THRESHOLD
    without = FaceDetector(soft_face_in_input=24.0, second_opinion=None)
    assert _best_near(without, photo, centre) < FACE_THRESHOLD
    asked = [c for c in detector.candidates(photo) if c.opinion is not None]
    confirmed = [
        c
        for c in asked
        if c.opinion >= SECOND_OPINION and c.looked < FLIP_LOOK  # type: ignore[operator]
    ]
    assert confirmed
    for cand in confirmed:
        # The score is the mean of the two models' (the looks' score is under the verdict).
        assert OPINION_FROM <= 2 * cand.final - cand.opinion < FLIP_LOOK  # type: ignore[operator]


def test_the_second_opinion_makes_no_face_of_a_texture_o_net_half_believes() -> None:
    # Gravel and grass enlarged to 12 MP: BlazeFace half believes in a few places, and O-Net
    # takes one view or another of some of them for a face; no texture stays a face in every
    # view, so nothing is lifted (with one view only, gravel got a false face at 0.73).
    # (Compared without the grey tint, which changes what O-Net says of these grey textures
    # and so how candidates merge.)
    for texture in (data.gravel(), data.grass()):  # type: ignore[no-untyped-call]
        photo = Image.fromarray(texture).convert("RGB").resize((4000, 3000))
        detector = FaceDetector(grey_tint=None)
        asked = [c for c in detector.candidates(photo) if c.opinion is not None]
        assert asked  # the opinion was sought: the test is not vacuous
        assert all(c.opinion < SECOND_OPINION for c in asked)  # type: ignore[operator]
        without = FaceDetector(grey_tint=None, second_opinion=None)
        assert detector.detect(photo) == without.detect(photo)


def _turned_lfw_face(
    index: int, width: int, turns: int, photo: Image.Image | None = None
) -> tuple[Image.Image, tuple[int, int]]:
    """One of skimage's 25 px LFW crops enlarged to ``width`` px and turned ``turns`` quarter
    turns anticlockwise, on ``photo`` (12 MP; the coffee photo when None); and its centre."""
    if photo is None:
        photo = Image.fromarray(data.coffee()).resize((4000, 3000), Image.Resampling.BILINEAR)
    crop = (data.lfw_subset()[index] * 255).astype(np.uint8)
    face = Image.fromarray(crop).convert("RGB").resize((width, width), Image.Resampling.BICUBIC)
    photo.paste(face.rotate(90 * turns), (1500, 1200))
    return photo, (1500 + width // 2, 1200 + width // 2)


def test_a_turned_soft_face_is_found_by_the_finer_turned_search() -> None:
    # The independent evaluation's hardest case: a 25 px crop enlarged, turned as a patient
    # lying down is seen. Upside down at 70 px and a quarter turn at 90 px, neither the
    # coarse search in four turns nor a finer upright one at 24 px sees them; the finer
    # search turned does, and O-Net confirms them. (The finer search at 32 px, the default,
    # finds the upside-down one upright as well: the mechanism is shown at 24 px.)
    for index, width, turns in ((3, 70, 2), (47, 90, 3)):
        photo, centre = _turned_lfw_face(index, width, turns)
        assert _best_near(FaceDetector(), photo, centre) >= FACE_THRESHOLD, (index, turns)
        detector = FaceDetector(soft_face_in_input=24.0, soft_turned=TURNED, proposals=())
        assert _best_near(detector, photo, centre) >= FACE_THRESHOLD, (index, turns)
        # (MTCNN's proposals, which also find these faces, are left out of the comparison.)
        without = FaceDetector(soft_face_in_input=24.0, soft_turned=(), proposals=())
        assert _best_near(without, photo, centre) < FACE_THRESHOLD
        found = [c for c in detector.candidates(photo) if c.final >= FACE_THRESHOLD]
        assert any(c.vetted and c.opinion >= SECOND_OPINION for c in found)  # type: ignore[operator]


def test_the_finer_turned_search_counts_only_what_o_net_confirms() -> None:
    # Textures stir the finer search turned far more often than faces do; each of its
    # candidates counts only when O-Net is sure of it in every view, and is held under
    # OPINION_FROM otherwise. On gravel, grass and the coffee photo alone nothing does.
    for texture in (data.gravel(), data.grass(), data.coffee()):  # type: ignore[no-untyped-call]
        photo = Image.fromarray(texture).convert("RGB").resize((4000, 3000))
        detector = FaceDetector(soft_turned=TURNED, proposals=())
        vetted = [c for c in detector.candidates(photo) if c.vetted]
        assert vetted  # the pool was searched and looked at: the test is not vacuous
        for cand in vetted:
            sure = cand.opinion is not None and cand.opinion >= SECOND_OPINION
            assert sure or cand.final <= OPINION_FROM
        assert detector.detect(photo) == FaceDetector(proposals=()).detect(photo)


def test_the_finer_turned_search_needs_the_second_opinion() -> None:
    # Without O-Net to vet it, the finer turned search is not run at all (it would add false
    # faces): the detector is then the one without it (at 24 px, where only that search
    # finds this face).
    photo, centre = _turned_lfw_face(3, 70, 2)
    detector = FaceDetector(soft_face_in_input=24.0, second_opinion=None)
    assert not [c for c in detector.candidates(photo) if c.vetted]
    assert _best_near(detector, photo, centre) < FACE_THRESHOLD


def test_a_turned_soft_face_on_a_busy_photo_is_found_wherever_its_tile_ranks() -> None:
    # On gravel or grass nearly every tile stirs the upright model more than a soft face
    # turned a quarter turn does, so a cap on the tiles searched turned (48 a photo, the
    # best upright, until 2026-12-01) left this face's tile out; every stirred tile is
    # now searched turned, and O-Net confirms the face.
    # (MTCNN's proposals, which also find this face, are left out of the comparison.)
    capped = FaceDetector(soft_turned=TURNED, soft_turn_gate=0.2, most_soft_turned=48, proposals=())
    detector = FaceDetector(soft_turned=TURNED, proposals=())
    for texture in (data.gravel(), data.grass()):  # type: ignore[no-untyped-call]
        busy = Image.fromarray(texture).convert("RGB").resize((4000, 3000))
        photo, centre = _turned_lfw_face(3, 70, 3, busy)
        assert _best_near(capped, photo, centre) < FACE_THRESHOLD
        found = [
            c
            for c in detector.candidates(photo)
            if c.final >= FACE_THRESHOLD and _near(c.box, centre)
        ]
        assert any(c.vetted and c.opinion >= SECOND_OPINION for c in found)  # type: ignore[operator]


def test_o_net_is_not_asked_about_a_candidate_as_large_as_the_photo() -> None:
    # O-Net sees a candidate shrunk to 48 px: a box as large as the photo becomes a whole
    # photo of smooth skin at 48 px, which it can take for a face. Soft faces are small, so
    # it is asked only about candidates up to a quarter of the photo's long side. The
    # photo: the evaluation's face-free synthetic skin (negatives, seed 2026, image 6), where
    # that happened.
    import random

    from tools.deid_scenes import NEGATIVES, frame_size, perturb, synthetic_skin

    rng = random.Random(f"{NEGATIVES}-2026-6")
    photo = perturb(synthetic_skin(rng, frame_size(6)), rng)
    long_side = max(photo.size)
    unbounded = FaceDetector(opinion_largest=None)
    large = [
        c
        for c in unbounded.candidates(photo)
        if c.opinion is not None and c.pose is not None and c.pose[2] > long_side / 4
    ]
    assert large  # without the bound, O-Net is asked about a candidate that large
    detector = FaceDetector()
    for cand in detector.candidates(photo):
        assert cand.pose is None or cand.pose[2] <= long_side / 4 or cand.opinion is None
    assert detector.detect(photo) == []


def _levels(photo: Image.Image) -> list[tuple[float, Image.Image]]:
    return [(1.0, photo.convert("RGB"))]


def test_o_net_judges_only_lit_colour_faces_seen_whole() -> None:
    # The astronaut's face, about 110 px wide around (240, 140): O-Net is a judge of it in
    # colour and in light; not grey (a monochrome photo), not dark, not cut by the edge.
    detector = FaceDetector()
    photo = Image.fromarray(data.astronaut())
    pose = (240.0, 140.0, 110.0, 0.0)
    box = (185.0, 85.0, 110.0, 110.0)
    assert detector._judged(_levels(photo), box, pose)
    grey = photo.convert("L").convert("RGB")
    assert not detector._judged(_levels(grey), box, pose)
    dark = Image.eval(photo, lambda v: v // 4)
    assert not detector._judged(_levels(dark), box, pose)
    cut = (-20.0, 85.0, 110.0, 110.0)
    assert not detector._judged(_levels(photo), cut, pose)
    # Asked to judge a face cut by the edge (``veto_cut``), it does, and not a grey one.
    assert detector._judged(_levels(photo), cut, pose, cut=True)
    assert not detector._judged(_levels(grey), cut, pose, cut=True)
    # A lit colour face is not one O-Net would veto.
    assert detector._opinion_of(_levels(photo), pose, VETO_OPINION) >= VETO_OPINION


def _negative(seed: int, index: int, name: str) -> Image.Image:
    """Face-free photo ``index`` of the evaluation's set of ``seed``, drawn from scikit-image's
    photo ``name``, made and saved as the evaluation makes it (``tools.deid_scenes``'s
    ``make_image`` and ``write_image``; which photo an index draws depends on the photos the
    machine has beyond scikit-image's, so it is named here, as the labels name it)."""
    import io
    import random

    from tools.deid_scenes import NEGATIVES, background_photo, frame_size, perturb

    rng = random.Random(f"{NEGATIVES}-{seed}-{index}")
    made = perturb(background_photo(name, rng, frame_size(index)), rng)
    saved = io.BytesIO()
    quality = random.Random(f"{NEGATIVES}-{seed}-{index}-jpeg").randrange(88, 96)
    made.save(saved, "JPEG", quality=quality)
    photo = Image.open(saved)
    photo.load()
    return photo


def test_o_net_vetoes_a_false_face_blazeface_is_not_quite_sure_of() -> None:
    # One of the evaluation's face-free photos (negatives, seed 2026, image 2: skimage's
    # coffee cup enlarged to 12 MP): BlazeFace's looks score a patch of it 0.76, over the
    # verdict and under VETO_BELOW, and O-Net is not asked. With the veto, O-Net says it is
    # no face and it is held under the verdict.
    photo = _negative(2026, 2, "coffee")
    unvetoed = [c for c in FaceDetector(veto_below=None).candidates(photo) if c.final >= FLIP_LOOK]
    assert unvetoed
    assert all(c.opinion is None and c.final < VETO_BELOW for c in unvetoed)
    detector = FaceDetector()
    for false_face in unvetoed:
        x, y, w, h = false_face.box
        centre = (round(x + w / 2), round(y + h / 2))
        levels = _levels(photo)
        assert detector._judged(levels, false_face.box, false_face.pose)  # type: ignore[arg-type]
        assert detector._opinion_of(levels, false_face.pose, VETO_OPINION) < VETO_OPINION  # type: ignore[arg-type]
        assert _best_near(detector, photo, centre) < FACE_THRESHOLD
    assert not [r for r in detector.detect(photo) if r.score >= FACE_THRESHOLD]
    # Only candidates VETO_FROM of the photo wide or wider are put to O-Net so.
    assert FaceDetector(veto_from=1.0).detect(photo) == FaceDetector(veto_below=None).detect(photo)


def test_o_net_vetoes_more_firmly_what_blazeface_is_surer_of() -> None:
    # The evaluation's face-free photo 38 of seed 2026 (skimage's coffee cup at 12 MP): the
    # spoon's bowl scores 0.8-0.82 in BlazeFace's looks, over the first veto's reach. O-Net
    # gives it under VETO_SURE_OPINION (0.002-0.02 when collected), and it is held.
    photo = _negative(2026, 38, "coffee")
    before = FaceDetector(veto_sure_below=None).candidates(photo)
    reached = [c for c in before if VETO_BELOW <= c.final < VETO_SURE_BELOW and c.opinion is None]
    assert reached
    detector = FaceDetector()
    levels = _levels(photo)
    for false_face in reached:
        assert false_face.pose is not None
        assert detector._judged(levels, false_face.box, false_face.pose)
        assert detector._opinion_of(levels, false_face.pose, VETO_SURE_OPINION) < VETO_SURE_OPINION
    assert not [r for r in detector.detect(photo) if r.score >= FACE_THRESHOLD]
    # Off, the same photo has a false face at the verdict.
    assert [c for c in before if c.final >= FACE_THRESHOLD]


def test_o_net_may_veto_a_false_face_cut_by_the_photos_edge() -> None:
    # The evaluation's face-free photo 5 of seed 2027 (skimage's cat at 12 MP, its eye at the
    # top edge): BlazeFace's looks score a box cut by the edge 0.72-0.73. O-Net, shown it on
    # the mid-grey ground beyond the edge, says it is no face.
    photo = _negative(2027, 5, "chelsea")
    width, height = photo.size
    off = FaceDetector(veto_cut=False)

    def cut_by_edge(box: tuple[float, float, float, float]) -> bool:
        x, y, w, h = box
        return x < 0 or y < 0 or x + w > width or y + h > height

    cut = [c for c in off.candidates(photo) if c.final >= FACE_THRESHOLD and cut_by_edge(c.box)]
    assert cut
    detector = FaceDetector()
    assert not [r for r in detector.detect(photo) if r.score >= FACE_THRESHOLD]
