"""The face families of the de-identification evaluation (DEI-2): 12 MP photos made from real
faces pasted onto real (or synthetic skin) photographs, as clinical photos show them.

Each family is reported on its own (``tools.deid_eval``):

* ``upright``: sharp faces 80-400 px wide, turned at most 10 degrees;
* ``turned``: the same faces turned 90, 180 or 270 degrees exactly, or anywhere between 15 and
  345 degrees (patients lie in beds; a photo from the head of the bed shows them upside down);
* ``blurred``: out of focus (Gaussian blur, sigma 1.5-5 % of the face's width) or motion
  blurred (a line kernel 5-15 % of the width long), 60-200 px, and skimage's 25 px LFW crops
  enlarged to 60-100 px;
* ``small``: sharp faces 60-120 px wide;
* ``partial``: faces cut by the frame's edge, 20-50 % of the face box outside it (the label is
  the box clipped to the frame), and, one in five, faces already cut by the edge of their
  source photo, put against the frame's edge;
* ``low-light``: the face (or the whole photo) darkened to 15-35 % brightness or by a gamma of
  2.2-3, under heavy sensor noise;
* ``skin-tones``: faces taken in turn from the lighter, medium and darker groups;
* ``masked``: sharp faces 80-400 px wide behind a procedure mask (blue, green or white, over
  the nose, mouth and chin, as clinicians, visitors and patients wear them), half of them
  upright and half turned as in the ``turned`` family;
* ``negatives``: no face: synthetic skin with a wound, the same with dressings (gauze pads,
  tape, a crepe bandage), and real photos.

A share (30 %) of the faces of the blurred, small and low-light families are turned as in the
``turned`` family; every face records its angle. A face's label is the axis-aligned box of its
labelled box's four corners once turned. Everything is drawn from ``random.Random`` seeded by
family, seed and image number, so a set is the same whatever the order or the process that
makes each image.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from tools.faces_sources import TONES, FaceSource

FULL_SIZE = (4000, 3000)
FAMILIES = (
    "upright", "turned", "blurred", "small", "partial", "low-light", "skin-tones", "soft-turned",
    "masked", "close-up", "bedside",
)  # fmt: skip
NEGATIVES = "negatives"
GENERATOR = 4  # bump when a change to this file changes the images it makes

# widths (px at 12 MP) and faces per image, by family
WIDTHS = {
    "upright": (80, 400),
    "turned": (80, 400),
    "blurred": (60, 200),
    "small": (60, 120),
    "partial": (100, 400),
    "low-light": (80, 400),
    "skin-tones": (80, 400),
    "soft-turned": (60, 100),
    "masked": (80, 400),
    # a face filling a third to two thirds of the frame's short side: a facial lesion or a
    # wound of the face or neck photographed up close, which shows the whole face
    "close-up": (1050, 2100),
    "bedside": (80, 400),
}
LFW_WIDTHS = (60, 100)
PER_IMAGE = {
    "upright": 4,
    "turned": 4,
    "blurred": 4,
    "small": 5,
    "partial": 2,
    "low-light": 3,
    "skin-tones": 4,
    "soft-turned": 4,  # one at each quarter turn
    "masked": 4,
    "close-up": 1,
    "bedside": 3,
}
TURNED_SHARE = 0.3  # of the blurred, small and low-light faces
MASKS = {  # a procedure mask's face and the shade of its pleats
    "blue": ((150, 195, 222), (118, 162, 196)),
    "green": ((128, 190, 165), (98, 158, 134)),
    "white": ((232, 234, 230), (196, 199, 196)),
}
MAX_UPSCALE = 4.0  # a source face is not enlarged more than this (LFW crops excepted)

FACE_BACKGROUNDS = (
    "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
    "brick", "grass", "gravel", "moon", "motorcycle", "skin", "skin",
)  # fmt: skip
NEGATIVE_PHOTOS = (
    "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
    "brick", "grass", "gravel", "moon", "motorcycle",
)  # fmt: skip
NEGATIVE_KINDS = ("skin", "dressing", "photo")

Box = tuple[int, int, int, int]
Point = tuple[float, float]


# --- photos ------------------------------------------------------------------------------


def frame_size(index: int, scale: float = 1.0) -> tuple[int, int]:
    """4000x3000, every fourth one 3000x4000, times ``scale``."""
    width, height = FULL_SIZE if index % 4 else FULL_SIZE[::-1]
    return max(64, round(width * scale)), max(64, round(height * scale))


def background_photo(
    name: str,
    rng: random.Random,
    size: tuple[int, int],
    extra: dict[str, Image.Image] | None = None,
) -> Image.Image:
    """A real (or synthetic skin) photo cropped to the aspect of ``size`` and upscaled to it."""
    if name == "skin":
        return synthetic_skin(rng, size)
    if extra and name in extra:
        img = extra[name]
    else:
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


def add_noise(
    img: Image.Image, rng: random.Random, sigma: float, chroma: float = 0.3
) -> Image.Image:
    """Sensor noise: Gaussian, mostly in brightness (``chroma`` of it per channel).

    Drawn at half resolution and enlarged, as a camera's demosaicing and JPEG spread it over
    neighbouring pixels (and four times faster to draw).
    """
    import cv2

    width, height = img.size
    nprng = np.random.default_rng(rng.randrange(2**32))
    raw = nprng.standard_normal(((height + 1) // 2, (width + 1) // 2, 4), dtype=np.float32)
    sigma *= 2.1  # enlarging (bilinear, twice) halves the standard deviation: make up for it
    noise = raw[..., 1:] * np.float32(sigma * chroma) + raw[..., :1] * np.float32(
        sigma * (1 - chroma)
    )
    noise = cv2.resize(noise, (width, height), interpolation=cv2.INTER_LINEAR)
    array = np.asarray(img, dtype=np.float32)
    array += noise
    np.clip(array, 0, 255, out=array)
    return Image.fromarray(array.astype(np.uint8))


def synthetic_skin(rng: random.Random, size: tuple[int, int], wound: bool = True) -> Image.Image:
    """Skin of a random tone with shading, pores, hairs and (usually) a wound: a close-up."""
    tones = ((241, 194, 167), (224, 172, 140), (198, 140, 100), (141, 94, 66), (92, 60, 44))
    tone = np.array(rng.choice(tones), dtype=np.float32)
    nprng = np.random.default_rng(rng.randrange(2**32))
    shade = Image.fromarray(np.uint8(nprng.uniform(70, 130, (6, 8)))).resize(
        size, Image.Resampling.BICUBIC
    )
    shading = np.asarray(shade, dtype=np.float32)[..., None] / 100.0
    small = (max(1, size[0] // 4), max(1, size[1] // 4))
    pores = Image.fromarray(np.uint8(np.clip(nprng.normal(128, 12, small[::-1]), 0, 255)))
    pore = np.asarray(pores.resize(size, Image.Resampling.BILINEAR), dtype=np.float32) - 128
    base = np.clip(tone * shading + pore[..., None], 0, 255).astype(np.uint8)
    img = Image.fromarray(base)
    draw = ImageDraw.Draw(img)
    unit = max(size) / 4000
    for _ in range(rng.randrange(30, 120)):  # hairs
        x, y = rng.uniform(0, size[0]), rng.uniform(0, size[1])
        dx, dy = rng.uniform(-120, 120) * unit, rng.uniform(-120, 120) * unit
        width = max(1, round(rng.choice((2, 3, 4)) * unit))
        draw.line((x, y, x + dx, y + dy), fill=(40, 30, 25), width=width)
    if not wound:
        return img
    mask = Image.new("L", size, 0)
    cx, cy = rng.uniform(0.3, 0.7) * size[0], rng.uniform(0.3, 0.7) * size[1]
    radius = rng.uniform(0.08, 0.2) * size[1]
    points = []
    for k in range(24):
        angle = 2 * np.pi * k / 24
        r = radius * rng.uniform(0.6, 1.3)
        points.append((cx + r * np.cos(angle) * 1.4, cy + r * np.sin(angle)))
    ImageDraw.Draw(mask).polygon(points, fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(radius * 0.08))
    bed = Image.new("RGB", size, rng.choice(((150, 30, 35), (120, 20, 25), (175, 60, 50))))
    slough = Image.fromarray(np.uint8(np.clip(nprng.normal(128, 60, small[::-1]), 0, 255)))
    slough = slough.filter(ImageFilter.GaussianBlur(1.5)).resize(size, Image.Resampling.BILINEAR)
    yellow = Image.new("RGB", size, (200, 170, 80))
    bed = Image.composite(yellow, bed, slough.point(lambda v: 255 if v > 175 else 0))
    return Image.composite(bed, img, mask)


def bed_sheet(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """A plain hospital sheet or drape filling the photo: one pale colour, broad soft folds
    and the light falling off across it; little texture (the camera's noise comes later)."""
    colours = ((236, 236, 232), (214, 226, 238), (206, 228, 214), (240, 234, 222))
    colour = np.array(rng.choice(colours), dtype=np.float32)
    small = (max(2, size[0] // 16), max(2, size[1] // 16))
    ys, xs = np.mgrid[0 : small[1], 0 : small[0]].astype(np.float32) / max(small)
    shade = np.ones_like(xs)
    for _ in range(rng.randrange(3, 7)):  # folds: ridges of light and shadow
        angle = rng.uniform(0, np.pi)
        along = xs * np.cos(angle) + ys * np.sin(angle)
        wave = np.sin(2 * np.pi * (along * rng.uniform(1.5, 5) + rng.uniform(0, 1)))
        shade += rng.uniform(0.02, 0.07) * wave**3
    gx, gy = rng.uniform(-0.15, 0.15), rng.uniform(-0.15, 0.15)  # the light falling off
    shade += gx * (xs - 0.5) + gy * (ys - 0.5)
    layer = np.clip(colour * shade[..., None], 0, 255).astype(np.uint8)
    return Image.fromarray(layer).resize(size, Image.Resampling.BICUBIC)


def dressing_photo(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """Skin with dressings over it: gauze pads held by tape, and often a crepe bandage."""
    img = synthetic_skin(rng, size, wound=rng.random() < 0.6)
    unit = min(size)
    for _ in range(rng.randrange(1, 3)):  # gauze pads with tape across their ends
        w, h = rng.uniform(0.25, 0.5) * unit, rng.uniform(0.2, 0.4) * unit
        layer = Image.new("RGBA", (round(w * 1.6), round(h * 1.6)), (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        ox, oy = 0.3 * w, 0.3 * h
        white = rng.choice(((245, 245, 240), (236, 236, 228), (250, 248, 244)))
        draw.rounded_rectangle((ox, oy, ox + w, oy + h), radius=0.04 * w, fill=(*white, 255))
        step = max(3, round(w / rng.uniform(40, 90)))  # the weave
        for k in range(round(ox), round(ox + w), step):
            draw.line((k, oy, k, oy + h), fill=(215, 215, 208, 255), width=1)
        for k in range(round(oy), round(oy + h), step):
            draw.line((ox, k, ox + w, k), fill=(215, 215, 208, 255), width=1)
        stain = rng.random() < 0.4  # exudate showing through
        if stain:
            sx, sy = ox + rng.uniform(0.3, 0.7) * w, oy + rng.uniform(0.3, 0.7) * h
            r = rng.uniform(0.1, 0.25) * h
            draw.ellipse((sx - r, sy - r * 0.8, sx + r, sy + r * 0.8), fill=(200, 160, 110, 150))
        tape = rng.choice(((240, 230, 210, 235), (250, 250, 250, 220), (225, 200, 170, 240)))
        band = rng.uniform(0.15, 0.3) * h
        for tx in (ox - 0.15 * w, ox + w - 0.1 * w):
            draw.rectangle((tx, oy - 0.25 * h, tx + band, oy + h + 0.25 * h), fill=tape)
        layer = layer.filter(ImageFilter.GaussianBlur(max(0.5, unit / 1500)))
        layer = layer.rotate(rng.uniform(0, 180), Image.Resampling.BICUBIC, expand=True)
        x = round(rng.uniform(-0.1, 0.8) * size[0])
        y = round(rng.uniform(-0.1, 0.7) * size[1])
        shadow = Image.new("RGBA", layer.size, (0, 0, 0, 0))
        shadow.putalpha(layer.getchannel("A").point(lambda v: v // 3))
        img.paste(shadow, (x + round(unit / 200), y + round(unit / 150)), shadow)
        img.paste(layer, (x, y), layer)
    if rng.random() < 0.6:  # a crepe bandage wrapped across the limb
        band_h = rng.uniform(0.25, 0.45) * size[1]
        long = round(math.hypot(*size) * 1.2)
        layer = Image.new("RGBA", (long, round(band_h)), (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        colour = rng.choice(((238, 226, 200), (245, 240, 232), (222, 205, 180)))
        draw.rectangle((0, 0, long, band_h), fill=(*colour, 255))
        pitch = band_h * rng.uniform(0.25, 0.4)
        for k in range(int(long / pitch) + 2):  # the overlapping turns of the wrap
            x0 = k * pitch
            draw.line((x0, 0, x0 + band_h * 0.4, band_h), fill=(200, 188, 165, 255), width=3)
        for k in range(0, round(band_h), 4):  # crepe texture
            draw.line((0, k, long, k), fill=(*[c - 8 for c in colour], 255), width=1)
        layer = layer.rotate(rng.uniform(-40, 40), Image.Resampling.BICUBIC, expand=True)
        x = (size[0] - layer.width) // 2
        y = round(rng.uniform(0.2, 0.8) * size[1] - layer.height / 2)
        img.paste(layer, (x, y), layer)
    return img


def perturb(
    img: Image.Image, rng: random.Random, noise: tuple[float, float] = (3, 8)
) -> Image.Image:
    """Colour, contrast and sensor noise, as two cameras would differ."""
    img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.8, 1.15))
    img = ImageEnhance.Contrast(img).enhance(rng.uniform(0.85, 1.15))
    img = ImageEnhance.Color(img).enhance(rng.uniform(0.8, 1.2))
    return add_noise(img, rng, rng.uniform(*noise))


def darken(img: Image.Image, how: str, amount: float) -> Image.Image:
    """``brightness`` scales the values by ``amount``; ``gamma`` raises them to ``amount``."""
    if how == "brightness":
        return ImageEnhance.Brightness(img).enhance(amount)
    lut = [round(255 * (v / 255) ** amount) for v in range(256)]
    bands = len(img.getbands())
    # an alpha channel is kept as it is
    lut = lut * 3 + list(range(256)) if img.mode == "RGBA" else lut * bands
    return img.point(lut)


# --- faces -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaceSpec:
    """One face to paste: which, how wide (px), turned how far, and what is done to it."""

    source: FaceSource
    width: int
    angle: float = 0.0  # degrees counter-clockwise
    blur: str = ""  # "gaussian" or "motion"
    blur_px: float = 0.0  # sigma, or the line's length
    blur_dir: float = 0.0  # degrees, for motion
    dark: str = ""  # "brightness" or "gamma" on the face's patch
    dark_amount: float = 1.0
    edge: str = ""  # partial: the frame edge that cuts it (left, right, top, bottom)
    outside: float = 0.0  # partial: share of the face box beyond that edge
    mask: str = ""  # masked: the procedure mask's colour (a key of MASKS)


def _crop_around(source: FaceSource) -> tuple[int, int, int, int]:
    """The crop of the face's surroundings: generous, but holding no other face."""
    bx, by, bw, bh = source.box
    width, height = source.image.size
    crop = [
        max(0, round(bx - 0.6 * bw)),
        max(0, round(by - 0.7 * bh)),
        min(width, round(bx + 1.6 * bw)),
        min(height, round(by + 1.9 * bh)),
    ]  # left, top, right, bottom
    for ox, oy, ow, oh in source.others:
        if ox >= crop[2] or ox + ow <= crop[0] or oy >= crop[3] or oy + oh <= crop[1]:
            continue
        # move one side of the crop to just clear the other face, never into this face
        cuts = []
        if ox + ow <= bx:
            cuts.append((0, ox + ow))
        if ox >= bx + bw:
            cuts.append((2, ox))
        if oy + oh <= by:
            cuts.append((1, oy + oh))
        if oy >= by + bh:
            cuts.append((3, oy))
        if not cuts:  # overlapping faces: keep only the face itself
            return bx, by, bx + bw, by + bh
        options = []
        for side, at in cuts:
            option = list(crop)
            option[side] = at
            options.append(option)
        crop = max(options, key=lambda c: (c[2] - c[0]) * (c[3] - c[1]))
    return crop[0], crop[1], crop[2], crop[3]


def _motion_blur(img: Image.Image, length: float, direction: float) -> Image.Image:
    import cv2

    size = max(3, round(length) | 1)
    kernel = np.zeros((size, size), dtype=np.float32)
    c = size // 2
    dx, dy = math.cos(math.radians(direction)) * c, -math.sin(math.radians(direction)) * c
    start = (round(c - dx), round(c - dy))
    end = (round(c + dx), round(c + dy))
    cv2.line(kernel, start, end, 1.0, 1)
    kernel /= kernel.sum()
    array = cv2.filter2D(np.asarray(img), -1, kernel, borderType=cv2.BORDER_REFLECT)
    return Image.fromarray(array)


def _draw_mask(
    patch: Image.Image, face: tuple[float, float, float], colour: str, grey: bool
) -> Image.Image:
    """A procedure mask over the nose, mouth and chin of the upright face whose centre and
    width are ``face``; a grey face, and its mask, in grey."""
    cx, cy, w = face
    front, pleat = MASKS[colour]
    if grey:
        patch = patch.convert("L")
        front, pleat = (round(sum(front) / 3),) * 3, (round(sum(pleat) / 3),) * 3
    patch = patch.convert("RGB")
    draw = ImageDraw.Draw(patch)
    outline = [
        (-0.46, -0.02),
        (0.46, -0.02),
        (0.40, 0.38),
        (0.15, 0.56),
        (-0.15, 0.56),
        (-0.40, 0.38),
    ]
    draw.polygon([(cx + x * w, cy + y * w) for x, y in outline], fill=front)
    for y in (0.12, 0.24, 0.36):
        line = [(cx - 0.40 * w, cy + y * w), (cx + 0.40 * w, cy + y * w)]
        draw.line(line, fill=pleat, width=max(1, round(w / 60)))
    for side in (-1, 1):  # the ear loops
        loop = [(cx + side * 0.46 * w, cy - 0.02 * w), (cx + side * 0.52 * w, cy + 0.05 * w)]
        draw.line(loop, fill=front, width=max(1, round(w / 80)))
    return patch


def _rotated(point: Point, centre: Point, angle: float) -> Point:
    """``point`` turned ``angle`` degrees counter-clockwise (as seen) about ``centre``."""
    a = math.radians(angle)
    dx, dy = point[0] - centre[0], point[1] - centre[1]
    return (
        centre[0] + dx * math.cos(a) + dy * math.sin(a),
        centre[1] - dx * math.sin(a) + dy * math.cos(a),
    )


def face_patch(spec: FaceSpec, rng: random.Random) -> tuple[Image.Image, list[Point], str]:
    """The face, ``spec.width`` px wide, with its surroundings, processed and turned.

    Returns the RGBA patch (feathered alpha edge, so no seam gives it away), the four corners
    of the labelled face box in the patch (turned with it), and the side of the patch that is
    the source photo's own edge cutting the face ("" when there is none).
    """
    source = spec.source
    bx, by, bw, bh = source.box
    scale = spec.width / bw
    face_h = bh * scale
    cut = source.cut
    if source.tight:
        patch = source.image.resize((spec.width, round(face_h)), Image.Resampling.BICUBIC)
        fx, fy = 0.0, 0.0
    else:
        left, top, right, bottom = _crop_around(source)
        crop = source.image.crop((left, top, right, bottom))
        patch = crop.resize(
            (max(1, round(crop.width * scale)), max(1, round(crop.height * scale))),
            Image.Resampling.LANCZOS,
        )
        fx, fy = (bx - left) * scale, (by - top) * scale
        if rng.random() < 0.5:
            patch = patch.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            fx = patch.width - fx - spec.width
            cut = {"left": "right", "right": "left"}.get(cut, cut)
    patch = ImageEnhance.Brightness(patch).enhance(rng.uniform(0.8, 1.2))
    patch = ImageEnhance.Contrast(patch).enhance(rng.uniform(0.85, 1.15))
    if spec.mask:
        face = (fx + spec.width / 2, fy + face_h / 2, spec.width)
        patch = _draw_mask(patch, face, spec.mask, grey=source.tone == "grey")
    if spec.blur == "gaussian":
        patch = patch.filter(ImageFilter.GaussianBlur(spec.blur_px))
    elif spec.blur == "motion":
        patch = _motion_blur(patch, spec.blur_px, spec.blur_dir)
    if spec.dark:
        patch = darken(patch, spec.dark, spec.dark_amount)
    alpha = Image.new("L", patch.size, 0)
    if source.tight:
        inset = max(1, spec.width // 40)
        box = (inset, inset, patch.width - inset - 1, patch.height - inset - 1)
        ImageDraw.Draw(alpha).rectangle(box, fill=255)
        alpha = alpha.filter(ImageFilter.GaussianBlur(inset))
    else:
        feather = max(2, spec.width // 10)
        ellipse = [feather, feather, patch.width - feather, patch.height - feather]
        if cut == "left":  # no feather on the photo's own edge: it meets the frame's edge
            ellipse[0] = -patch.width
        elif cut == "right":
            ellipse[2] = 2 * patch.width
        ImageDraw.Draw(alpha).ellipse(ellipse, fill=255)
        alpha = alpha.filter(ImageFilter.GaussianBlur(feather / 2))
        if cut:
            edge = 0 if cut == "left" else patch.width - 1
            column = alpha.crop((edge, 0, edge + 1, patch.height))
            for k in range(1, 3):  # keep the cut edge itself opaque after blurring
                alpha.paste(column, (edge + (k if cut == "left" else -k), 0))
    patch.putalpha(alpha)
    corners = [(fx, fy), (fx + spec.width, fy), (fx + spec.width, fy + face_h), (fx, fy + face_h)]
    if spec.angle % 360 == 0 or cut:
        return patch, corners, cut
    return _turn(patch, corners, spec.angle)


def _turn(
    patch: Image.Image, corners: list[Point], angle: float
) -> tuple[Image.Image, list[Point], str]:
    """The patch turned about the face's centre on a canvas big enough to hold all of it."""
    cx = sum(p[0] for p in corners) / 4
    cy = sum(p[1] for p in corners) / 4
    reach = max(math.hypot(x - cx, y - cy) for x in (0, patch.width) for y in (0, patch.height))
    side = 2 * math.ceil(reach) + 4
    ox, oy = round(side / 2 - cx), round(side / 2 - cy)
    canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    canvas.paste(patch, (ox, oy))
    centre = (cx + ox, cy + oy)
    canvas = canvas.rotate(angle, Image.Resampling.BICUBIC, center=centre)
    turned = [_rotated((x + ox, y + oy), centre, angle) for x, y in corners]
    bbox = canvas.getchannel("A").getbbox() or (0, 0, side, side)
    canvas = canvas.crop(bbox)
    return canvas, [(x - bbox[0], y - bbox[1]) for x, y in turned], ""


def _aabb(points: Sequence[Point]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def _overlaps(a: Sequence[float], b: Sequence[float], gap: float = 0) -> bool:
    return (
        a[0] < b[0] + b[2] + gap
        and b[0] < a[0] + a[2] + gap
        and a[1] < b[1] + b[3] + gap
        and b[1] < a[1] + a[3] + gap
    )


def paste_face(
    img: Image.Image,
    spec: FaceSpec,
    rng: random.Random,
    faces: list[Box],
    patches: list[Box],
) -> dict[str, Any] | None:
    """Paste the face at a free place; its label, or None when there is no room.

    A place is free when the new patch covers none of the faces already pasted, and the new
    face lies under none of the patches already pasted (patches may overlap each other's
    surroundings). ``faces`` and ``patches`` collect what has been pasted.
    """
    patch, corners, cut = face_patch(spec, rng)
    fx, fy, fw, fh = _aabb(corners)
    width, height = img.size
    for _ in range(300):
        if spec.edge or cut:
            edge = cut or spec.edge
            outside = 0.0 if cut else spec.outside
            along = rng.uniform(0, 1)
            if edge in ("left", "right"):
                y = along * (height - fh)
                x = -outside * fw if edge == "left" else width - (1 - outside) * fw
            else:
                x = along * (width - fw)
                y = -outside * fh if edge == "top" else height - (1 - outside) * fh
        else:
            margin = 0.01 * max(width, height)
            x = rng.uniform(margin, max(margin, width - fw - margin))
            y = rng.uniform(margin, max(margin, height - fh - margin))
        px, py = round(x - fx), round(y - fy)
        face = (x, y, fw, fh)
        body = (px, py, patch.width, patch.height)
        if any(_overlaps(body, f, gap=0.05 * fw) for f in faces):
            continue
        if any(_overlaps(face, p) for p in patches):
            continue
        break
    else:
        return None
    img.paste(patch, (px, py), patch)
    left, top = max(0, round(x)), max(0, round(y))
    right, bottom = min(width, round(x + fw)), min(height, round(y + fh))
    faces.append((left, top, right - left, bottom - top))
    patches.append((px, py, patch.width, patch.height))
    label: dict[str, Any] = {
        "box": [left, top, right - left, bottom - top],
        "size": spec.width,
        "source": spec.source.name,
        "origin": spec.source.origin,
        "tone": spec.source.tone,
        "angle": round(spec.angle % 360, 1),
        "centre": [round(sum(p[i] for p in corners) / 4 + (px, py)[i], 1) for i in (0, 1)],
    }
    if spec.blur:
        label["blur"] = spec.blur
        label["blur_px"] = round(spec.blur_px, 2)
    if spec.source.name.startswith("lfw"):
        label["blur"] = "lfw"  # a 25 px crop enlarged: soft by nature
    if spec.dark:
        label["dark"] = spec.dark
        label["dark_amount"] = round(spec.dark_amount, 3)
    if spec.edge or cut:
        label["edge"] = cut or spec.edge
        label["outside"] = None if cut else round(spec.outside, 3)
    if spec.mask:
        label["mask"] = spec.mask
    return label


# --- families ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sources:
    """What the families draw from."""

    portraits: Sequence[FaceSource]  # hand-labelled faces with their surroundings
    lfw: Sequence[FaceSource]  # skimage's 25 px crops
    photos: dict[str, Image.Image]  # real face-free photos beyond skimage's, by name

    def eligible(self, width: int, tone: str = "") -> list[FaceSource]:
        """Portraits that may be shown ``width`` px wide (at 12 MP) without undue enlarging."""
        fits = [
            s
            for s in self.portraits
            if s.box[2] * MAX_UPSCALE >= width and (not tone or s.tone == tone) and not s.cut
        ]
        return fits or [s for s in self.portraits if not tone or s.tone == tone]


def _pick(rng: random.Random, sources: Sequence[FaceSource]) -> FaceSource:
    """A face, each source photo equally likely whatever the number of faces in it."""
    photos: dict[str, list[FaceSource]] = {}
    for source in sources:
        photos.setdefault(source.name.split("#")[0], []).append(source)
    return rng.choice(photos[rng.choice(sorted(photos))])


def _width(rng: random.Random, low: float, high: float) -> float:
    return float(low * (high / low) ** rng.random())  # log-uniform: as many small as large


def _turned_angle(rng: random.Random, k: int) -> float:
    """Half exactly 90, 180 or 270 degrees (in turn), half anywhere in 15-345."""
    if k % 2 == 0:
        return float((90, 180, 270)[(k // 2) % 3])
    return rng.uniform(15, 345)


def _upright_angle(rng: random.Random) -> float:
    return rng.uniform(-10, 10) % 360


def face_plan(
    family: str, index: int, rng: random.Random, sources: Sources, scale: float
) -> list[FaceSpec]:
    """The faces of image ``index`` of ``family``; widths are in px of the scaled frame."""
    per = PER_IMAGE[family]
    low, high = WIDTHS[family]
    plan = []
    for j in range(per):
        k = index * per + j  # the face's number in its family: cycles run over the family
        if family == "masked":  # every other face turned, half of those a quarter turn
            turned, nth_turned = k % 2 == 1, k // 2
        elif family == "close-up":  # every other one turned, 90, 180 or 270 degrees in turn
            turned, nth_turned = k % 2 == 1, k - 1
        else:
            turned = family == "turned" or (
                family in ("blurred", "small", "low-light") and rng.random() < TURNED_SHARE
            )
            nth_turned = k
        angle = _turned_angle(rng, nth_turned) if turned else _upright_angle(rng)
        width = _width(rng, low, high)
        fields: dict[str, Any] = {}
        if family == "bedside":
            # A patient lying on a plain sheet, photographed from the side of the bed, its
            # head or its foot: the quarter turns in turn, give or take 10 degrees. Every
            # third face is soft (a 25 px crop enlarged to 60-100 px): out of focus behind
            # the wound, or a bystander's.
            if k % 3 == 2:
                source = rng.choice(sources.lfw)
                width = _width(rng, *LFW_WIDTHS)
            else:
                source = _pick(rng, sources.eligible(round(width)))
            angle = (90 * (k % 4) + _upright_angle(rng)) % 360
        elif family == "soft-turned":
            # The outside evaluation's hardest case: a 25 px crop enlarged to 60-100 px (a
            # face out of focus, or a bystander's), as a patient lying down shows it: one
            # face at each quarter turn, give or take 10 degrees.
            source = rng.choice(sources.lfw)
            angle = (90 * (k % 4) + _upright_angle(rng)) % 360
        elif family == "blurred":
            kind = ("gaussian", "motion", "lfw")[k % 3]
            if kind == "lfw":
                source = rng.choice(sources.lfw)
                width = _width(rng, *LFW_WIDTHS)
            else:
                source = _pick(rng, sources.eligible(round(width)))
                share = rng.uniform(0.015, 0.05) if kind == "gaussian" else rng.uniform(0.05, 0.15)
                fields = {
                    "blur": kind,
                    "blur_px": max(0.5, share * width * scale),
                    "blur_dir": rng.uniform(0, 180),
                }
        elif family == "skin-tones":
            tones = [t for t in TONES if any(s.tone == t for s in sources.portraits)]
            tone = tones[k % len(tones)]
            source = _pick(rng, sources.eligible(round(width), tone))
        elif family == "partial":
            cut_sources = [s for s in sources.portraits if s.cut]
            if cut_sources and k % 5 == 4:  # one in five already cut in its source photo
                source = rng.choice(cut_sources)
                angle = 0.0
            else:
                source = _pick(rng, sources.eligible(round(width)))
                edge = ("left", "top", "right", "bottom")[(k - k // 5) % 4]
                fields = {"edge": edge}
                fields["outside"] = rng.uniform(0.2, 0.5)
        elif family == "masked":
            source = _pick(rng, sources.eligible(round(width)))
            fields = {"mask": tuple(MASKS)[k % len(MASKS)]}
        else:
            source = _pick(rng, sources.eligible(round(width)))
        if family == "low-light" and index % 2 == 0:  # odd images: the whole photo is dark
            how = rng.choice(("brightness", "gamma"))
            amount = rng.uniform(0.15, 0.35) if how == "brightness" else rng.uniform(2.2, 3.0)
            fields |= {"dark": how, "dark_amount": amount}
        plan.append(FaceSpec(source, max(8, round(width * scale)), angle, **fields))
    return sorted(plan, key=lambda spec: -spec.width)  # big ones first: they need room


def make_image(
    family: str, index: int, seed: int, sources: Sources, scale: float = 1.0
) -> tuple[Image.Image, dict[str, Any]]:
    """Image ``index`` of ``family`` (or of the negatives) and its label entry."""
    rng = random.Random(f"{family}-{seed}-{index}")
    size = frame_size(index, scale)
    entry: dict[str, Any] = {"family": family, "negative": family == NEGATIVES}
    if family == NEGATIVES:
        kind = NEGATIVE_KINDS[index % len(NEGATIVE_KINDS)]
        if kind == "skin":
            background, img = "skin", synthetic_skin(rng, size)
        elif kind == "dressing":
            background, img = "dressing", dressing_photo(rng, size)
        else:
            names = [*NEGATIVE_PHOTOS, *sorted(sources.photos)]
            background = names[(index // len(NEGATIVE_KINDS)) % len(names)]
            img = background_photo(background, rng, size, sources.photos)
        entry |= {"background": background, "objects": []}
        img = perturb(img, rng)
        return img, entry
    if family == "bedside":
        background, img = "sheet", bed_sheet(rng, size)
    else:
        background = FACE_BACKGROUNDS[index % len(FACE_BACKGROUNDS)]
        img = background_photo(background, rng, size)
    faces: list[Box] = []
    patches: list[Box] = []
    objects = []
    for spec in face_plan(family, index, rng, sources, scale):
        label = paste_face(img, spec, rng, faces, patches)
        if label is not None:
            objects.append(label)
    entry |= {"background": background, "objects": objects}
    if family == "low-light":
        if index % 2:  # the whole photo taken in the dark, not just the face in shadow
            how = rng.choice(("brightness", "gamma"))
            amount = rng.uniform(0.15, 0.35) if how == "brightness" else rng.uniform(2.2, 3.0)
            img = darken(img, how, amount)
            for obj in objects:
                obj |= {"dark": how, "dark_amount": round(amount, 3), "light": "photo"}
        else:
            for obj in objects:
                obj["light"] = "face"
        img = perturb(img, rng, noise=(12, 22))
    else:
        img = perturb(img, rng)
    return img, entry


def write_image(
    family: str, index: int, seed: int, sources: Sources, out: Path, scale: float = 1.0
) -> dict[str, Any]:
    """Make image ``index`` of ``family`` into ``out`` (JPEG q88-95); its label entry."""
    img, entry = make_image(family, index, seed, sources, scale)
    rng = random.Random(f"{family}-{seed}-{index}-jpeg")
    name = f"{family}-{index:03d}.jpg"
    img.save(out / name, quality=rng.randrange(88, 96))
    entry["file"] = name
    entry["size"] = list(img.size)
    return entry
