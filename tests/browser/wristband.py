"""A hospital wristband's barcode, drawn here: a tiny Code 128 (code set B) encoder and the
fake-camera picture that shows it. Code 128 is the symbology most patient wristbands print
(with PDF417 and Data Matrix); ISO/IEC 15417 gives the patterns below, each a symbol's bar and
space widths in modules."""

from __future__ import annotations

from PIL import Image, ImageDraw

# Values 0-106: bar, space, bar, space, bar, space widths (the stop symbol has a final bar).
PATTERNS = [
    "212222",
    "222122",
    "222221",
    "121223",
    "121322",
    "131222",
    "122213",
    "122312",
    "132212",
    "221213",
    "221312",
    "231212",
    "112232",
    "122132",
    "122231",
    "113222",
    "123122",
    "123221",
    "223211",
    "221132",
    "221231",
    "213212",
    "223112",
    "312131",
    "311222",
    "321122",
    "321221",
    "312212",
    "322112",
    "322211",
    "212123",
    "212321",
    "232121",
    "111323",
    "131123",
    "131321",
    "112313",
    "132113",
    "132311",
    "211313",
    "231113",
    "231311",
    "112133",
    "112331",
    "132131",
    "113123",
    "113321",
    "133121",
    "313121",
    "211331",
    "231131",
    "213113",
    "213311",
    "213131",
    "311123",
    "311321",
    "331121",
    "312113",
    "312311",
    "332111",
    "314111",
    "221411",
    "431111",
    "111224",
    "111422",
    "121124",
    "121421",
    "141122",
    "141221",
    "112214",
    "112412",
    "122114",
    "122411",
    "142112",
    "142211",
    "241211",
    "221114",
    "413111",
    "241112",
    "134111",
    "111242",
    "121142",
    "121241",
    "114212",
    "124112",
    "124211",
    "411212",
    "421112",
    "421211",
    "212141",
    "214121",
    "412121",
    "111143",
    "111341",
    "131141",
    "114113",
    "114311",
    "411113",
    "411311",
    "113141",
    "114131",
    "311141",
    "411131",
    "211412",
    "211214",
    "211232",
    "2331112",
]
START_B = 104
STOP = 106
assert len(PATTERNS) == 107
assert all(sum(map(int, p)) == 11 for p in PATTERNS[:STOP])
assert sum(map(int, PATTERNS[STOP])) == 13


def code128_modules(text: str) -> list[bool]:
    """The barcode as modules, True for a bar, with 10 modules of quiet zone each side."""
    values = [ord(c) - 32 for c in text]
    if not all(0 <= v < 95 for v in values):
        raise ValueError("code set B holds printable ASCII only")
    check = (START_B + sum(i * v for i, v in enumerate(values, start=1))) % 103
    modules = [False] * 10
    for value in [START_B, *values, check, STOP]:
        for k, width in enumerate(PATTERNS[value]):
            modules += [k % 2 == 0] * int(width)
    return modules + [False] * 10


def wristband_picture(text: str, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A wristband held before the camera: the barcode, black on white, centred."""
    modules = code128_modules(text)
    scale = max(1, (size[0] - 40) // len(modules))
    image = Image.new("RGB", size, (236, 238, 240))
    draw = ImageDraw.Draw(image)
    width = len(modules) * scale
    left, top = (size[0] - width) // 2, size[1] // 4
    draw.rectangle([left, top, left + width - 1, top + size[1] // 2], fill=(255, 255, 255))
    for i, bar in enumerate(modules):
        if bar:
            x = left + i * scale
            draw.rectangle([x, top + 10, x + scale - 1, top + size[1] // 2 - 10], fill=(0, 0, 0))
    return image
