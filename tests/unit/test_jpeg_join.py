"""Issue 9: Safari's frame route joins two JPEG strips into one (web/src/lib/jpeg-join.ts).

The phone app encodes a large preview frame as two horizontal strips in two workers at once;
each strip's scan is re-coded from the encoder's own (optimised) Huffman tables to the
standard ones of ITU T.81 Annex K.3, and the two are joined with a restart interval. The
TypeScript runs here under Node.js (web/test/interop/jpeg-join.ts) on JPEGs Pillow writes
with optimised tables, as a canvas encoder does; libjpeg (through Pillow), exiftool and
both scrubbers judge the results.
"""

from __future__ import annotations

import base64
import io
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from clinphoto.imaging.scrub import scrub_bytes
from tests.webtools import run_interop

B64 = base64.b64encode


def _picture(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """Smooth gradients, edges and noise: every DC category and many AC symbols."""
    rng = np.random.default_rng(9)
    y, x = np.mgrid[0:height, 0:width]
    planes = [
        (x * 255 // max(width - 1, 1)),
        (y * 255 // max(height - 1, 1)),
        ((x // 7 + y // 5) % 2) * 200 + 20,
    ]
    rgb = np.stack(planes, axis=-1).astype(np.int16) + rng.integers(-40, 41, (height, width, 3))
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    return image.convert(mode)


def _jpeg(image: Image.Image, *, optimize: bool = True, **options: Any) -> bytes:
    out = io.BytesIO()
    if image.mode == "RGB":
        options.setdefault("subsampling", 2)  # 4:2:0, as the canvas encoders write
    image.save(out, "JPEG", quality=options.pop("quality", 92), optimize=optimize, **options)
    return out.getvalue()


def _pixels(data: bytes) -> np.ndarray[Any, Any]:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return np.asarray(im)


def _huffman(data: bytes) -> dict[int, bytes]:
    """The Huffman tables a JPEG defines before its scan: (class << 4 | id) -> counts and
    symbols, as its DHT segments hold them."""
    tables: dict[int, bytes] = {}
    at = 2
    while data[at + 1] != 0xDA:
        marker, length = data[at + 1], int.from_bytes(data[at + 2 : at + 4], "big")
        body = data[at + 4 : at + 2 + length]
        while marker == 0xC4 and body:
            total = 17 + sum(body[1:17])
            tables[body[0]] = body[1:total]
            body = body[total:]
        at += 2 + length
    return tables


def _recode(*items: bytes) -> list[bytes]:
    out = run_interop("jpeg-join", {"recode": [B64(x).decode() for x in items]})
    assert "error" not in out, out
    return [base64.b64decode(x) for x in out["recoded"]]


def _join(top: bytes, bottom: bytes) -> dict[str, Any]:
    out: dict[str, Any] = run_interop(
        "jpeg-join", {"join": [B64(top).decode(), B64(bottom).decode()]}
    )
    return out


def _strips(image: Image.Image, split: int, **options: Any) -> tuple[bytes, bytes]:
    w, h = image.size
    return _jpeg(image.crop((0, 0, w, split)), **options), _jpeg(
        image.crop((0, split, w, h)), **options
    )


@pytest.mark.parametrize(
    ("size", "mode", "subsampling"),
    [((203, 149), "RGB", 2), ((96, 64), "RGB", 0), ((130, 77), "L", None), ((64, 40), "RGB", 1)],
)
def test_recoding_keeps_every_pixel_and_uses_the_standard_tables(
    size: tuple[int, int], mode: str, subsampling: int | None
) -> None:
    image = _picture(*size, mode=mode)
    options: dict[str, Any] = {} if subsampling is None else {"subsampling": subsampling}
    optimised = _jpeg(image, **options)
    (recoded,) = _recode(optimised)
    assert np.array_equal(_pixels(recoded), _pixels(optimised))
    # Pillow (libjpeg) writes the standard Annex K tables when it does not optimise.
    standard = _huffman(_jpeg(image, optimize=False, **options))
    assert _huffman(recoded) == standard
    assert _huffman(optimised) != standard
    with Image.open(io.BytesIO(recoded)) as ours, Image.open(io.BytesIO(optimised)) as given:
        assert ours.quantization == given.quantization  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("size", "split", "mode", "subsampling"),
    [
        ((403, 301), 160, "RGB", 2),  # 4:2:0: MCU 16 rows; 10 MCU rows over 9
        ((400, 256), 128, "RGB", 2),  # both strips the same height
        ((120, 90), 48, "RGB", 0),  # 4:4:4: MCU 8 rows
        ((90, 47), 24, "L", None),  # one component: 8-row blocks
    ],
)
def test_joined_strips_are_one_jpeg_equal_to_the_whole_encoded_at_once(
    tmp_path: Path, size: tuple[int, int], split: int, mode: str, subsampling: int | None
) -> None:
    image = _picture(*size, mode=mode)
    options: dict[str, Any] = {} if subsampling is None else {"subsampling": subsampling}
    top, bottom = _recode(*_strips(image, split, **options))
    out = _join(top, bottom)
    assert "error" not in out, out
    joined = base64.b64decode(out["joined"])
    # The blocks of a strip cut at an MCU boundary are the whole picture's blocks: libjpeg
    # decodes the join to exactly what it decodes from the whole encoded at once.
    whole = _jpeg(image, **options)
    assert _pixels(joined).shape == _pixels(whole).shape
    assert np.array_equal(_pixels(joined), _pixels(whole))
    assert b"\xff\xdd\x00\x04" in joined  # DRI
    assert joined.count(b"\xff\xd0") == 1  # RST0, between the strips
    assert joined.count(b"\xff\xda") == 1
    path = tmp_path / "joined.jpg"
    path.write_bytes(joined)
    checked = subprocess.run(
        ["exiftool", "-validate", "-warning", "-a", "-s3", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert checked.stdout.strip() == "OK", checked.stdout
    # The server's scrubber and the app's keep it as it is: nothing but the picture in it.
    assert scrub_bytes(joined).data == joined
    scrubbed = run_interop("scrub", {"items": [{"b64": B64(joined).decode()}]})["results"][0]
    assert scrubbed["ok"], scrubbed
    assert base64.b64decode(scrubbed["b64"]) == joined


def test_strips_that_cannot_be_joined_are_refused() -> None:
    image = _picture(160, 100)
    top, bottom = _strips(image, 64)
    recoded_top, recoded_bottom = _recode(top, bottom)
    assert "joined" in _join(recoded_top, recoded_bottom)  # the pair itself joins
    # Strips straight from an encoder, with their own tables.
    assert _join(top, bottom)["error"] == "the strips are not re-coded with the standard tables"
    # Another quality, another subsampling, another width.
    other_q = _recode(_jpeg(image.crop((0, 64, 160, 100)), quality=80))[0]
    assert _join(recoded_top, other_q)["error"] == "the strips' quantisation differs"
    other_s = _recode(_jpeg(image.crop((0, 64, 160, 100)), subsampling=0))[0]
    assert _join(recoded_top, other_s)["error"] == "the strips' frame components differ"
    narrow = _recode(_jpeg(image.crop((0, 64, 144, 100))))[0]
    assert _join(recoded_top, narrow)["error"] == "the strips differ in width"
    # A first strip cut inside an MCU row, or shorter than the second.
    odd_top, odd_bottom = _recode(*_strips(image, 40))
    assert _join(odd_top, odd_bottom)["error"] == "the first strip is not whole MCU rows"
    short_top, tall_bottom = _recode(*_strips(image, 32))
    assert _join(short_top, tall_bottom)["error"] == "the second strip is taller than the first"
    # What the re-coder does not take: a progressive JPEG, one with restart markers.
    progressive = run_interop(
        "jpeg-join", {"recode": [B64(_jpeg(image, progressive=True)).decode()]}
    )
    assert progressive == {"error": "not a baseline JPEG"}
    restarts = run_interop(
        "jpeg-join", {"recode": [B64(_jpeg(image, restart_marker_blocks=4)).decode()]}
    )
    assert restarts == {"error": "the strip has restart markers"}
