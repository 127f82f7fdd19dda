"""Lossless GIF metadata scrubbing by block rewrite.

The LZW image data is copied byte for byte, so every frame decodes to the input's pixels.
Kept: the header, the logical screen descriptor with its global colour table, every image
(descriptor, local colour table, data) with the graphic control extension that precedes it
(delay, disposal, transparency), and the NETSCAPE2.0 / ANIMEXTS1.0 loop count, rewritten to its
one loop sub-block. Dropped: comment extensions, plain-text extensions (text drawn by the rare
decoders that support them, and their graphic control), every other application extension
(XMP, ICC, IPTC, vendor data) and anything after the trailer.
"""

from __future__ import annotations

import struct

from clinphoto.imaging.errors import Reason, ScrubError
from clinphoto.imaging.limits import DEFAULT_LIMITS, Limits, check_animation, check_size

__all__ = ["scrub_gif"]

_IMAGE = 0x2C
_EXTENSION = 0x21
_TRAILER = 0x3B
_GRAPHIC_CONTROL = 0xF9
_APPLICATION = 0xFF
_PLAIN_TEXT = 0x01
_LOOP_APPS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")


def _fail(message: str, reason: Reason = "malformed") -> ScrubError:
    return ScrubError(f"GIF: {message}", reason=reason)


def _need(data: bytes, pos: int, count: int, what: str) -> None:
    if pos + count > len(data):
        raise _fail(f"the data ends inside {what}", "truncated")


def _sub_blocks(data: bytes, pos: int, what: str) -> tuple[list[tuple[int, int]], int]:
    """(start, end) of each data sub-block from ``pos``; and the offset after the terminator."""
    blocks: list[tuple[int, int]] = []
    while True:
        _need(data, pos, 1, what)
        size = data[pos]
        if size == 0:
            return blocks, pos + 1
        _need(data, pos + 1, size, what)
        blocks.append((pos + 1, pos + 1 + size))
        pos += 1 + size


def _colour_table_size(packed: int) -> int:
    return 3 << ((packed & 0x07) + 1) if packed & 0x80 else 0


def _loop_extension(data: bytes, blocks: list[tuple[int, int]]) -> bytes | None:
    """The loop extension rebuilt from its loop sub-block, or None if it has none."""
    for start, end in blocks[1:]:
        if end - start == 3 and data[start] == 0x01:
            return b"\x21\xff\x0b" + _LOOP_APPS[0] + b"\x03" + data[start:end] + b"\x00"
    return None


def scrub_gif(data: bytes, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Return ``data`` rewritten without metadata; see the module docstring."""
    if len(data) > limits.max_image_bytes:
        raise _fail(f"input is over the {limits.max_image_bytes}-byte limit", "too-large")
    if not data.startswith((b"GIF87a", b"GIF89a")):
        raise _fail("the data does not start with a GIF signature", "unsupported-format")
    _need(data, 6, 7, "the logical screen descriptor")
    width, height, packed = struct.unpack_from("<HHB", data, 6)
    check_size(width, height, limits, "the GIF screen descriptor")
    pos = 13 + _colour_table_size(packed)
    _need(data, 13, pos - 13, "the global colour table")
    out = [data[:pos]]
    control: bytes | None = None
    loop: bytes | None = None
    frames = 0
    total = 0
    while True:
        _need(data, pos, 1, "the block list (no trailer)")
        introducer = data[pos]
        if introducer == _TRAILER:
            break
        if introducer == _IMAGE:
            _need(data, pos, 10, "an image descriptor")
            x, y, w, h, image_packed = struct.unpack_from("<HHHHB", data, pos + 1)
            check_size(w, h, limits, "a GIF image descriptor")
            data_at = pos + 10 + _colour_table_size(image_packed)
            _need(data, data_at, 1, "a local colour table")
            if not 1 <= data[data_at] <= 11:
                raise _fail("invalid LZW minimum code size")
            _, end = _sub_blocks(data, data_at + 1, "image data")
            frames += 1
            total += max(width, x + w) * max(height, y + h)
            check_animation(frames, total, limits, "animated GIF")
            if control is not None:
                out.append(control)
                control = None
            out.append(data[pos:end])
            pos = end
        elif introducer == _EXTENSION:
            _need(data, pos, 2, "an extension")
            label = data[pos + 1]
            blocks, end = _sub_blocks(data, pos + 2, "an extension")
            if label == _GRAPHIC_CONTROL:
                if len(blocks) != 1 or blocks[0][1] - blocks[0][0] != 4:
                    raise _fail("graphic control extension is malformed")
                control = data[pos:end]
            elif label == _APPLICATION:
                first = data[blocks[0][0] : blocks[0][1]] if blocks else b""
                if first in _LOOP_APPS and loop is None:
                    loop = _loop_extension(data, blocks)
                    if loop is not None:
                        out.append(loop)
            elif label == _PLAIN_TEXT:
                control = None  # a plain-text block consumes its graphic control; drop both
            # Comments, other application extensions and unknown extensions are dropped.
            pos = end
        else:
            raise _fail(f"unknown block introducer 0x{introducer:02X} at offset {pos}")
    if frames == 0:
        raise _fail("no image")
    out.append(b"\x3b")
    return b"".join(out)
