"""Lossless PNG metadata scrubbing by chunk rewrite.

Pixels are never decoded: the image data (IDAT, and fdAT for animations) is copied byte for
byte, so the output decodes to exactly the input's pixels. Every chunk's CRC is checked and
the chunk order is validated; a file that fails is refused, not repaired.

Kept, because a decoder needs them to show the picture as intended: IHDR, PLTE, IDAT, IEND,
the colour and rendering chunks tRNS, cHRM, gAMA, iCCP, sBIT, sRGB, cICP, mDCV, cLLI, bKGD
and pHYs (pixel aspect ratio), and the animation chunks acTL, fcTL and fdAT. The iCCP profile
name is free text, so it is replaced by a fixed one; the profile itself is kept, its text
blanked, when it is a valid profile (:mod:`clinphoto.imaging.icc`) and dropped otherwise.

Dropped: text (tEXt, zTXt, iTXt), time (tIME), EXIF (eXIf; a minimal one with only the
Orientation is written back when it is not 1, as for JPEG), suggested palettes with their
names (sPLT), histograms, and every chunk we do not know. A chunk we do not know whose name
says it is critical (upper-case first letter, e.g. Apple's CgBI) makes the file unsupported,
since a decoder could not show it without that chunk. Anything after IEND is dropped.
"""

from __future__ import annotations

import struct
import zlib

from clinphoto.imaging.errors import Reason, ScrubError
from clinphoto.imaging.exif import orientation_from_tiff, orientation_tiff
from clinphoto.imaging.icc import MAX_ICC_BYTES, clean_icc
from clinphoto.imaging.limits import DEFAULT_LIMITS, Limits, check_animation, check_size

__all__ = ["SIGNATURE", "png_orientation", "scrub_png"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"

_KEEP = frozenset(
    (
        b"PLTE", b"IDAT", b"tRNS", b"cHRM", b"gAMA", b"sBIT", b"sRGB", b"cICP", b"mDCV",
        b"cLLI", b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT",
    )
)  # fmt: skip
_ICC_NAME = b"ICC profile"
# colour type -> allowed bit depths (PNG specification, table 11.1)
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


def _fail(message: str, reason: Reason = "malformed") -> ScrubError:
    return ScrubError(f"PNG: {message}", reason=reason)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(payload, zlib.crc32(kind)))
    )


def _chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of every chunk up to IEND, CRCs checked."""
    if not data.startswith(SIGNATURE):
        raise _fail("the data does not start with the PNG signature", "unsupported-format")
    out: list[tuple[bytes, int, int]] = []
    pos = len(SIGNATURE)
    n = len(data)
    while True:
        if pos + 12 > n:
            raise _fail("the data ends before the IEND chunk", "truncated")
        length, kind = struct.unpack_from(">I4s", data, pos)
        if length > 0x7FFFFFFF or not kind.isalpha():
            raise _fail(f"invalid chunk header at offset {pos}")
        start = pos + 8
        end = start + length
        if end + 4 > n:
            raise _fail(
                f"chunk {kind!r} at offset {pos} runs past the end of the data", "truncated"
            )
        (crc,) = struct.unpack_from(">I", data, end)
        if zlib.crc32(data[start:end], zlib.crc32(kind)) != crc:
            raise _fail(f"chunk {kind!r} at offset {pos} fails its CRC check")
        out.append((kind, start, end))
        pos = end + 4
        if kind == b"IEND":
            return out


def _check_ihdr(payload: bytes, limits: Limits) -> tuple[int, int]:
    if len(payload) != 13:
        raise _fail("IHDR chunk has the wrong length")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", payload
    )
    if depth not in _DEPTHS.get(colour, ()) or compression or filtering or interlace > 1:
        raise _fail("IHDR declares an invalid bit depth, colour type or method")
    check_size(width, height, limits, "the PNG header")
    return width, height


def _icc_chunk(payload: bytes) -> bytes | None:
    """iCCP with a fixed profile name and the profile with its text blanked
    (:func:`clean_icc`); None if the profile is not kept.

    A profile that does not inflate to a kept ICC profile is dropped (decoders ignore a
    broken one); one that inflates beyond 16 MiB makes the file a decompression bomb. When
    blanking changed nothing, the compressed stream is copied as it is (and nothing after
    its end); otherwise the profile is stored uncompressed in a new zlib stream
    (:func:`_stored_zlib`), which the phone's scrubber writes byte for byte the same.
    """
    nul = payload.find(b"\x00", 0, 80)
    if nul < 1 or len(payload) < nul + 2 or payload[nul + 1] != 0:
        return None
    compressed = payload[nul + 2 :]
    inflater = zlib.decompressobj()
    try:
        profile = inflater.decompress(compressed, MAX_ICC_BYTES)
    except zlib.error:
        return None
    if inflater.unconsumed_tail:
        raise _fail("iCCP profile inflates beyond 16 MiB", "decompression-bomb")
    cleaned = clean_icc(profile) if inflater.eof else None
    if cleaned is None:
        return None
    if cleaned == profile:
        # Only the zlib stream itself: bytes after its end could carry any text (DEI-1).
        stream = compressed[: len(compressed) - len(inflater.unused_data)]
    else:
        stream = _stored_zlib(cleaned)
    return _chunk(b"iCCP", _ICC_NAME + b"\x00\x00" + stream)


def _stored_zlib(data: bytes) -> bytes:
    """``data`` as a zlib stream of stored (uncompressed) deflate blocks (RFC 1950, 1951).

    Any deflate implementation reads it, and unlike a compressed stream it is the same
    bytes whoever writes it, so the server's and the phone's scrubbers agree on a PNG whose
    profile they rewrote.
    """
    out = bytearray(b"\x78\x01")  # deflate, 32 KiB window, no dictionary, fastest level
    blocks = range(0, len(data), 0xFFFF) if data else range(1)
    for start in blocks:
        block = data[start : start + 0xFFFF]
        final = start + 0xFFFF >= len(data)
        out += struct.pack("<BHH", final, len(block), len(block) ^ 0xFFFF) + block
    return bytes(out + struct.pack(">I", zlib.adler32(data)))


def png_orientation(data: bytes) -> int:
    """The EXIF Orientation (1..8) in a PNG's eXIf chunk, 1 when absent."""
    for kind, start, end in _chunks(data):
        if kind == b"eXIf":
            return orientation_from_tiff(data[start:end])
    return 1


def _check_animation(
    data: bytes, chunks: list[tuple[bytes, int, int]], size: tuple[int, int], limits: Limits
) -> None:
    frames = [(start, end) for kind, start, end in chunks if kind == b"fcTL"]
    actl = [(start, end) for kind, start, end in chunks if kind == b"acTL"]
    if not actl:
        return
    if len(actl) > 1 or actl[0][1] - actl[0][0] != 8:
        raise _fail("APNG acTL chunk is malformed")
    declared = struct.unpack_from(">I", data, actl[0][0])[0]
    check_animation(max(declared, len(frames)), len(frames) * size[0] * size[1], limits, "APNG")
    for start, end in frames:
        if end - start != 26:
            raise _fail("APNG fcTL chunk is malformed")
        width, height, x, y = struct.unpack_from(">IIII", data, start + 4)
        if width == 0 or height == 0 or x + width > size[0] or y + height > size[1]:
            raise _fail("APNG frame lies outside the image")
    first_idat = next(i for i, (kind, _, _) in enumerate(chunks) if kind == b"IDAT")
    if not any(kind == b"fcTL" for kind, _, _ in chunks[:first_idat]):
        raise _fail(
            "APNG whose default image is not part of the animation (a hidden picture)",
            "unsupported-feature",
        )


def scrub_png(data: bytes, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Return ``data`` rewritten without metadata; see the module docstring."""
    if len(data) > limits.max_image_bytes:
        raise _fail(f"input is over the {limits.max_image_bytes}-byte limit", "too-large")
    chunks = _chunks(data)
    if chunks[0][0] != b"IHDR":
        raise _fail("the first chunk is not IHDR")
    size = _check_ihdr(data[chunks[0][1] : chunks[0][2]], limits)
    out = [SIGNATURE, data[chunks[0][1] - 8 : chunks[0][2] + 4]]
    orientation = 1
    seen_idat = seen_iccp = seen_exif = False
    idat_run_over = False
    for index, (kind, start, end) in enumerate(chunks[1:], start=1):
        whole = data[start - 8 : end + 4]
        if kind == b"IHDR":
            raise _fail("a second IHDR chunk")
        if kind == b"IDAT":
            if idat_run_over:
                raise _fail("IDAT chunks are not consecutive")
            if not seen_idat and orientation != 1:
                out.append(_chunk(b"eXIf", orientation_tiff(orientation)))
            seen_idat = True
            out.append(whole)
            continue
        if seen_idat:
            idat_run_over = True
        if kind == b"IEND":
            if end != start:
                raise _fail("IEND chunk has content")
            if index != len(chunks) - 1:
                raise _fail("IEND is not the last chunk")
        elif kind == b"PLTE" and seen_idat:
            raise _fail("PLTE comes after the image data")
        elif kind == b"iCCP":
            if seen_iccp or seen_idat:
                raise _fail("iCCP is repeated or comes after the image data")
            seen_iccp = True
            icc = _icc_chunk(data[start:end])
            if icc is not None:
                out.append(icc)
        elif kind == b"eXIf":
            if not seen_exif and not seen_idat:
                orientation = orientation_from_tiff(data[start:end])
            seen_exif = True
        elif kind in _KEEP:
            out.append(whole)
        elif kind[0:1].isupper():
            raise _fail(
                f"unknown critical chunk {kind.decode('ascii')!r}: a decoder could not show the"
                " picture without it",
                "unsupported-feature",
            )
        # Every other chunk - text, time, EXIF, sPLT, hIST, unknown ancillary - is dropped.
    if not seen_idat:
        raise _fail("no image data (IDAT)")
    _check_animation(data, chunks, size, limits)
    out.append(_chunk(b"IEND", b""))
    return b"".join(out)
