"""DEI-1, issue 9: the browser's scrubber gives the server's output, byte for byte.

The phone app scrubs imported JPEG and PNG files itself (web/src/lib/scrub, run here through
web/test/interop/scrub.ts) before they are sealed, so it must apply the same rules as
:func:`clinphoto.imaging.scrub.scrub_bytes`. For every input both are given, either both
return the same bytes, or both refuse it with the same reason code. Formats the server
accepts but the app does not import (WebP, GIF, TIFF, HEIF, AVIF, videos) must be refused by
the app as ``unsupported-format``.

The inputs: every file of the image corpus (``python -m tools.corpus``; that test is skipped
without it), and files made here: Pillow JPEGs and PNGs carrying EXIF, GPS, XMP, IPTC, maker
notes, ICC profiles, comments, thumbnails and trailers; the hand-made JPEGs of
tests/unit/test_imaging_jpeg_segments.py; zlib streams of every kind inside iCCP chunks;
decompression bombs; and seeded random mutants of all of them (bytes flipped, segments and
chunks inserted, dropped, repeated, resized, files cut short), so that the refusals are
compared too. The TypeScript scrubber runs once per batch of files, in one Node process.
"""

from __future__ import annotations

import base64
import collections
import functools
import io
import random
import struct
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageCms
from tools.corpus import corpus_dirs, default_cache

from clinphoto.imaging import icc
from clinphoto.imaging.errors import ScrubError
from clinphoto.imaging.jpeg import entropy_end
from clinphoto.imaging.limits import DEFAULT_LIMITS, Limits
from clinphoto.imaging.scrub import scrub_bytes
from clinphoto.imaging.sniff import HEAD_BYTES, Kind, sniff
from tests import iccprofiles
from tests.corpus.oracle import EXIFTOOL, exiftool_json, leaks
from tests.unit import test_imaging_jpeg_segments as segments
from tests.webtools import run_interop

SECRET = b"Jane Doe MRN 1234567"
BATCH_BYTES = 24 * 1024 * 1024  # base64 of at most this much input per Node run


# --- running both scrubbers ------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What the server made of one input: "ok" with its output, "refused" with a reason, or
    "elsewhere" with a kind: a format the server accepts and the app does not import."""

    outcome: str
    output: bytes = b""
    reason: str = ""


def _server(data: bytes, limits: Limits) -> Verdict:
    try:
        if len(data) <= limits.max_image_bytes:
            kind = sniff(data[:HEAD_BYTES])
            if kind not in (Kind.JPEG, Kind.PNG):
                return Verdict("elsewhere", reason=kind.value)
        return Verdict("ok", output=scrub_bytes(data, limits).data)
    except ScrubError as error:
        return Verdict("refused", reason=error.reason)


def _limits_json(limits: Limits) -> dict[str, int]:
    return {
        "maxImageBytes": limits.max_image_bytes,
        "maxPixels": limits.max_pixels,
        "maxWidth": limits.max_width,
        "maxHeight": limits.max_height,
        "maxFrames": limits.max_frames,
        "maxTotalPixels": limits.max_total_pixels,
    }


def _browser(items: list[dict[str, str]], limits: Limits) -> list[dict[str, Any]]:
    answer = run_interop("scrub", {"items": items, "limits": _limits_json(limits)}, timeout=600)
    results: list[dict[str, Any]] = answer["results"]
    assert len(results) == len(items)
    return results


@dataclass
class Tally:
    """Counts of the comparison, and every disagreement found."""

    identical: int = 0
    refused_alike: int = 0
    not_imported: int = 0
    reasons: collections.Counter[str] = field(default_factory=collections.Counter)
    mismatches: list[str] = field(default_factory=list)

    @property
    def compared(self) -> int:
        return self.identical + self.refused_alike + self.not_imported


def _judge(name: str, server: Verdict, browser: dict[str, Any], tally: Tally) -> bytes | None:
    """Record one comparison; the browser's output when both accepted the input."""
    if "crash" in browser:
        tally.mismatches.append(f"{name}: the browser's scrubber crashed: {browser['crash'][:300]}")
        return None
    if server.outcome == "ok":
        out = base64.b64decode(browser["b64"]) if browser["ok"] else None
        if out == server.output:
            tally.identical += 1
            return out
        got = "different bytes" if browser["ok"] else f"refused ({browser['reason']})"
        tally.mismatches.append(f"{name}: the server scrubs it, the browser gives {got}")
    elif server.outcome == "refused":
        if not browser["ok"] and browser["reason"] == server.reason:
            tally.refused_alike += 1
            tally.reasons[server.reason] += 1
        else:
            got = "output" if browser["ok"] else browser["reason"]
            tally.mismatches.append(
                f"{name}: the server refuses it ({server.reason}), browser: {got}"
            )
    elif not browser["ok"] and browser["reason"] == "unsupported-format":
        tally.not_imported += 1
    else:
        got = "output" if browser["ok"] else browser["reason"]
        tally.mismatches.append(
            f"{name}: {server.reason} must be refused as unsupported, got {got}"
        )
    return None


def _compare(
    inputs: Iterable[tuple[str, bytes | Path]], limits: Limits = DEFAULT_LIMITS
) -> tuple[Tally, dict[str, bytes]]:
    """Run both scrubbers over ``inputs`` (files are read by Node from their path); the tally
    and the browser's outputs by name."""
    tally = Tally()
    outputs: dict[str, bytes] = {}
    batch: list[tuple[str, bytes, dict[str, str]]] = []
    size = 0

    def flush() -> None:
        nonlocal size
        if not batch:
            return
        results = _browser([item for _, _, item in batch], limits)
        for (name, data, _), browser in zip(batch, results, strict=True):
            out = _judge(name, _server(data, limits), browser, tally)
            if out is not None:
                outputs[name] = out
        batch.clear()
        size = 0

    for name, source in inputs:
        if isinstance(source, Path):
            data = source.read_bytes()
            item = {"path": str(source)}
        else:
            data = source
            item = {"b64": base64.b64encode(data).decode()}
        if size + len(data) > BATCH_BYTES:
            flush()
        batch.append((name, data, item))
        size += len(data)
    flush()
    return tally, outputs


def _report(what: str, tally: Tally) -> None:
    print(
        f"\n{what}: {tally.compared} files compared, {tally.identical} scrubbed to identical bytes,"
        f" {tally.refused_alike} refused by both with the same reason"
        f" ({dict(sorted(tally.reasons.items()))}), {tally.not_imported} of formats the app does"
        f" not import; {len(tally.mismatches)} disagreements"
    )


# --- JPEGs and PNGs made here ----------------------------------------------------------------


def _photo(size: tuple[int, int] = (64, 48), seed: int = 1) -> Image.Image:
    noise = Image.frombytes("L", size, random.Random(seed).randbytes(size[0] * size[1]))
    gradient = Image.linear_gradient("L").resize(size)
    return Image.merge(
        "RGB", [Image.blend(noise, gradient, 0.6), gradient, Image.blend(noise, gradient, 0.3)]
    )


def _exif(orientation: int | None = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010E] = SECRET.decode()  # ImageDescription
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15 Pro"
    exif[0x0132] = "2024:01:02 03:04:05"
    exif[0x013B] = "Dr Who"  # Artist
    if orientation is not None:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (43.0, 39.0, 12.5), "W", (79.0, 23.0, 1.0)
    exif.get_ifd(0x8769)[0x927C] = b"MakerNote " + SECRET  # maker note
    return exif


def _save(image: Image.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def _seg(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", 2 + len(payload)) + payload


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(kind))
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _srgb() -> bytes:
    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def _grown_profile(size: int, tail: bytes = b"") -> bytes:
    """A valid profile of ``size`` bytes: sRGB with zeros appended and its size fixed up;
    with ``tail`` written at its end, where no tag points (so both scrubbers drop it)."""
    profile = _srgb()
    grown = struct.pack(">I", size) + profile[4:] + bytes(size - len(profile) - len(tail))
    return grown + tail


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf'
    b'-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="'
    + SECRET
    + b'"/></rdf:RDF></x:xmpmeta>'
)
IPTC = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x18\x1c\x02\x50\x00\x14" + SECRET


def _exif_tiff(orientation: int, order: str) -> bytes:
    """An EXIF block in either byte order: description, orientation, and a thumbnail IFD1."""
    thumb = _save(_photo((16, 12)), "JPEG", quality=60)
    e = order
    entries0 = [(0x010E, 2, len(SECRET) + 1, None), (0x0112, 3, 1, orientation)]
    ifd0_at = 8
    ifd0_size = 2 + 12 * len(entries0) + 4
    ifd1_at = ifd0_at + ifd0_size
    ifd1_size = 2 + 12 * 2 + 4
    text_at = ifd1_at + ifd1_size
    thumb_at = text_at + len(SECRET) + 1
    out = (b"II" if e == "<" else b"MM") + struct.pack(e + "HI", 42, ifd0_at)
    out += struct.pack(e + "H", len(entries0))
    out += struct.pack(e + "HHII", 0x010E, 2, len(SECRET) + 1, text_at)
    out += struct.pack(e + "HHIHH", 0x0112, 3, 1, orientation, 0)
    out += struct.pack(e + "I", ifd1_at)
    out += struct.pack(e + "H", 2)
    out += struct.pack(e + "HHII", 0x0201, 4, 1, thumb_at)  # JPEGInterchangeFormat
    out += struct.pack(e + "HHII", 0x0202, 4, 1, len(thumb))
    out += struct.pack(e + "I", 0)
    return out + SECRET + b"\x00" + thumb


def _tagged_jpeg(base: bytes, orientation: int = 6, order: str = ">") -> bytes:
    """``base`` with every kind of metadata added by hand, and a second picture after EOI."""
    thumb = _save(_photo((16, 12)), "JPEG", quality=60)
    extra = (
        _seg(0xE1, b"Exif\x00\x00" + _exif_tiff(orientation, order))
        + _seg(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + XMP)
        + _seg(0xED, IPTC)
        + _seg(0xE0, b"JFXX\x00\x10" + thumb)  # JFIF extension: JPEG thumbnail
        + _seg(0xE2, b"MPF\x00II*\x00" + SECRET)
        + _seg(0xFE, b"comment: " + SECRET)
        + _seg(0xEC, b"Ducky\x00\x02\x00\x18\x00\x00\x00\x14" + SECRET)  # APP12 comment
    )
    return base[:2] + extra + base[2:] + _save(_photo(seed=9), "JPEG") + b"trailer " + SECRET


@functools.cache
def _jpegs() -> dict[str, bytes]:
    photo = _photo()
    made: dict[str, bytes] = {}
    options: dict[str, dict[str, Any]] = {
        "baseline": {},
        "q50": {"quality": 50},
        "progressive": {"progressive": True},
        "optimised": {"optimize": True},
        "restarts": {"restart_marker_blocks": 1},
        "restart rows": {"restart_marker_rows": 1, "progressive": True},
        "4:4:4": {"subsampling": 0},
        "4:2:2": {"subsampling": 1},
        "exif": {"exif": _exif()},
        "exif orientation 1": {"exif": _exif(1)},
        "exif without orientation": {"exif": _exif(None)},
        "icc": {"icc_profile": _srgb()},
        "icc in three segments": {"icc_profile": _grown_profile(150_000)},
        "icc with a name after its last tag": {"icc_profile": _grown_profile(900, SECRET)},
        "icc in three segments, a name at its end": {
            "icc_profile": _grown_profile(150_000, SECRET)
        },
        "comment and xmp": {"comment": SECRET, "xmp": XMP},
        "everything progressive": {
            "exif": _exif(3),
            "icc_profile": _srgb(),
            "comment": SECRET,
            "xmp": XMP,
            "progressive": True,
        },
    }
    for name, params in options.items():
        made[f"pillow {name}"] = _save(photo, "JPEG", **params)
    for orientation in range(1, 9):
        made[f"exif orientation {orientation}"] = _save(photo, "JPEG", exif=_exif(orientation))
    for mode in ("L", "CMYK"):
        made[f"{mode}"] = _save(photo.convert(mode), "JPEG")
        made[f"{mode} progressive"] = _save(photo.convert(mode), "JPEG", progressive=True)
        made[f"{mode} tagged"] = _tagged_jpeg(_save(photo.convert(mode), "JPEG"))
    made["RGB kept as RGB (Adobe)"] = _save(photo, "JPEG", keep_rgb=True)
    for order in "<>":
        for orientation in (1, 5, 8):
            made[f"tagged {order} {orientation}"] = _tagged_jpeg(
                made["pillow baseline"], orientation, order
            )
    made["tagged progressive"] = _tagged_jpeg(made["pillow progressive"])
    made["tagged restarts"] = _tagged_jpeg(made["pillow restarts"])
    # The hand-made files of the segment tests: valid, padded, out of range, hidden text.
    made.update({f"segments valid {k}": v for k, v in segments.VALID.items()})
    made["segments lossless"] = segments.LOSSLESS
    made["segments 12-bit"] = segments.TWELVE_BIT
    made["segments with DAC"] = segments.WITH_DAC
    for name, (data, marker, nth, _) in segments.PADDED.items():
        made[f"segments padded {name}"] = segments._pad(
            data, *segments._nth(data, marker, nth), SECRET
        )
    made.update({f"segments out of range {k}": v for k, (v, _) in segments.OUT_OF_RANGE.items()})
    made.update({f"segments hidden {k}": v for k, (v, _) in segments.HIDDEN.items()})
    # Profiles with a name wherever a profile has room for text (blanked), or with what
    # neither scrubber can read (dropped); one of them big enough for three segments.
    for name, profile in _named_profiles().items():
        made[f"icc: {name}"] = _save(photo, "JPEG", icc_profile=profile)
    return made


@functools.cache
def _named_profiles() -> dict[str, bytes]:
    made = {**iccprofiles.with_names(), **iccprofiles.dropped()}
    made.update(iccprofiles.every_type(icc._NUMERIC_TYPES | icc._TEXT_TYPES))
    renamed = made["lcms sRGB renamed"]
    made["lcms sRGB renamed, grown to 150,000 bytes"] = (
        struct.pack(">I", 150_000) + renamed[4:] + bytes(150_000 - len(renamed))
    )
    return made


def _png_with(base: bytes, *chunks: bytes, at: bytes = b"IDAT", trailer: bytes = b"") -> bytes:
    """``base`` with ``chunks`` inserted before its first ``at`` chunk."""
    where = base.index(at) - 4
    return base[:where] + b"".join(chunks) + base[where:] + trailer


def _iccp(profile_stream: bytes, name: bytes = b"Jane Doe's camera") -> bytes:
    return _chunk(b"iCCP", name + b"\x00\x00" + profile_stream)


def _zlib_variants(data: bytes) -> dict[str, bytes]:
    """``data`` compressed in every way zlib can: levels, strategies, window sizes, dictionary."""
    out = {}
    for level in (0, 1, 6, 9):
        for strategy in ("DEFAULT_STRATEGY", "FILTERED", "HUFFMAN_ONLY", "RLE", "FIXED"):
            for wbits in (9, 12, 15):
                c = zlib.compressobj(level, zlib.DEFLATED, wbits, 9, getattr(zlib, f"Z_{strategy}"))
                out[f"level {level} {strategy} window {wbits}"] = c.compress(data) + c.flush()
    c = zlib.compressobj(6, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, zdict=b"abc" * 50)
    out["preset dictionary"] = c.compress(data) + c.flush()
    c = zlib.compressobj(6)
    out["flushed in pieces"] = (
        b"".join(
            c.compress(data[i : i + 700]) + c.flush(zlib.Z_FULL_FLUSH)
            for i in range(0, len(data), 700)
        )
        + c.flush()
    )
    return out


@functools.cache
def _pngs() -> dict[str, bytes]:
    photo = _photo()
    base = _save(photo, "PNG")
    icc = _srgb()
    made: dict[str, bytes] = {"plain": base}
    text = (
        _chunk(b"tEXt", b"Author\x00" + SECRET)
        + _chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(SECRET))
        + _chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + XMP)
        + _chunk(b"tIME", struct.pack(">HBBBBB", 2024, 1, 2, 3, 4, 5))
        + _chunk(b"sPLT", SECRET + b"\x00\x08" + bytes(6))
        + _chunk(b"prVt", SECRET)
    )
    for orientation in (1, 3, 6, 8):
        exif = _exif_tiff(orientation, "<" if orientation % 2 else ">")
        made[f"tagged orientation {orientation}"] = _png_with(
            base,
            text,
            _chunk(b"eXIf", exif),
            _chunk(b"pHYs", struct.pack(">IIB", 11811, 11811, 1)),
            _chunk(b"gAMA", struct.pack(">I", 45455)),
            _iccp(zlib.compress(icc)),
            trailer=b"after IEND " + SECRET,
        )
    made["eXIf after IDAT"] = _png_with(base, _chunk(b"eXIf", _exif_tiff(6, ">")), at=b"IEND")
    made["two eXIf"] = _png_with(
        base, _chunk(b"eXIf", _exif_tiff(6, ">")), _chunk(b"eXIf", _exif_tiff(3, ">"))
    )
    made["exif by Pillow"] = _save(photo, "PNG", exif=_exif(6))
    made["palette, transparency, icc, dpi"] = _save(
        photo.convert("P"), "PNG", transparency=3, icc_profile=icc, dpi=(300, 300)
    )
    made["grey 16-bit"] = _save(photo.convert("L").convert("I;16"), "PNG")
    made["interlaced"] = _save(photo, "PNG", interlace=1)
    made["RGBA"] = _save(photo.convert("RGBA"), "PNG")
    made["1-bit"] = _save(photo.convert("1"), "PNG")
    frames = [_photo(seed=s) for s in range(3)]
    apng = _save(frames[0], "PNG", save_all=True, append_images=frames[1:])
    made["APNG"] = apng
    made["APNG tagged"] = _png_with(apng, text, at=b"IDAT")
    made["APNG default image not in the animation"] = _save(
        frames[0], "PNG", save_all=True, append_images=frames[1:], default_image=True
    )
    made["CgBI"] = _png_with(base, _chunk(b"CgBI", b"\x50\x00\x20\x06"), at=b"IHDR")
    made["unknown critical chunk"] = _png_with(base, _chunk(b"JANE", SECRET))
    idat_at = base.index(b"IDAT") - 4
    (length,) = struct.unpack_from(">I", base, idat_at)
    payload = base[idat_at + 8 : idat_at + 8 + length]
    halves = (
        _chunk(b"IDAT", payload[:20]) + _chunk(b"tEXt", b"a\x00b") + _chunk(b"IDAT", payload[20:])
    )
    made["IDAT split by a chunk"] = base[:idat_at] + halves + base[idat_at + 12 + length :]
    made["IDAT in two chunks"] = (
        base[:idat_at]
        + _chunk(b"IDAT", payload[:20])
        + _chunk(b"IDAT", payload[20:])
        + base[idat_at + 12 + length :]
    )
    made["PLTE after IDAT"] = _png_with(base, _chunk(b"PLTE", bytes(9)), at=b"IEND")
    made["no IDAT"] = base[:idat_at] + base[idat_at + 12 + length :]
    made["IEND with content"] = base[:-12] + _chunk(b"IEND", b"x")
    for w, h in ((30_001, 1), (1, 30_001), (20_000, 20_000), (0, 10)):
        ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
        made[f"IHDR {w}x{h}"] = base[:8] + _chunk(b"IHDR", ihdr) + base[33:]
    made["IHDR bad depth"] = (
        base[:8] + _chunk(b"IHDR", base[16:24] + b"\x03\x02\x00\x00\x00") + base[33:]
    )
    # Animation bombs and broken animation chunks.
    actl_at = apng.index(b"acTL") - 4
    for frames_declared in (1_000, 1_001, 0xFFFFFFFF):
        actl = _chunk(b"acTL", struct.pack(">II", frames_declared, 0))
        made[f"APNG declaring {frames_declared} frames"] = (
            apng[:actl_at] + actl + apng[actl_at + 20 :]
        )
    made["APNG acTL too long"] = apng[:actl_at] + _chunk(b"acTL", bytes(9)) + apng[actl_at + 20 :]
    fctl_at = apng.index(b"fcTL") - 4
    fctl = bytearray(apng[fctl_at + 8 : fctl_at + 34])
    fctl[12:16] = struct.pack(">I", 10)  # x offset: the frame sticks out of the picture
    made["APNG frame outside"] = (
        apng[:fctl_at] + _chunk(b"fcTL", bytes(fctl)) + apng[fctl_at + 38 :]
    )
    # ICC profiles inside iCCP, compressed every way zlib can, and bombs.
    for name, stream in _zlib_variants(icc).items():
        made[f"iCCP {name}"] = _png_with(base, _iccp(stream))
    made["iCCP with bytes after the stream"] = _png_with(base, _iccp(zlib.compress(icc) + SECRET))
    made["iCCP cut short"] = _png_with(base, _iccp(zlib.compress(icc)[:-5]))
    made["iCCP of a broken profile"] = _png_with(base, _iccp(zlib.compress(icc[:-4])))
    made["iCCP with a name after its last tag"] = _png_with(
        base, _iccp(zlib.compress(_grown_profile(900, SECRET)))
    )
    for name, profile in _named_profiles().items():
        made[f"iCCP: {name}"] = _png_with(base, _iccp(zlib.compress(profile)))
    made["iCCP not zlib"] = _png_with(base, _iccp(SECRET))
    made["iCCP empty stream"] = _png_with(base, _iccp(b""))
    made["iCCP without a name"] = _png_with(base, _iccp(zlib.compress(icc), name=b""))
    made["iCCP with a name of 80 bytes"] = _png_with(
        base, _iccp(zlib.compress(icc), name=b"n" * 80)
    )
    made["iCCP compression method 1"] = _png_with(
        base, _chunk(b"iCCP", b"n\x00\x01" + zlib.compress(icc))
    )
    made["iCCP twice"] = _png_with(base, _iccp(zlib.compress(icc)), _iccp(zlib.compress(icc)))
    made["iCCP after IDAT"] = _png_with(base, _iccp(zlib.compress(icc)), at=b"IEND")
    cap = 16 * 1024 * 1024
    for size in (cap, cap + 1):
        stream = zlib.compress(_grown_profile(size), 9)
        made[f"iCCP of a {size}-byte profile"] = _png_with(base, _iccp(stream))
    bomb = zlib.compress(bytes(17 * 1024 * 1024), 9)
    made["iCCP bomb"] = _png_with(base, _iccp(bomb))
    for cut in (len(bomb) // 2, len(bomb) - 4, len(bomb) - 30):
        made[f"iCCP bomb cut at {cut}"] = _png_with(base, _iccp(bomb[:cut]))
    # Cut where the inflated size reaches the cap: zlib stops with all of the input read (the
    # profile is dropped) or with some left (a bomb), by the byte.
    fixed = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_FIXED)
    stream = fixed.compress(bytes(cap + 4096)) + fixed.flush()
    low, high = 0, len(stream)  # the shortest cut that inflates to the cap
    while low < high:
        middle = (low + high) // 2
        if len(zlib.decompressobj().decompress(stream[:middle], cap)) < cap:
            low = middle + 1
        else:
            high = middle
    for cut in range(low - 1, low + 3):
        made[f"iCCP cut {cut - low} from where it reaches the cap"] = _png_with(
            base, _iccp(stream[:cut])
        )
    return made


def _others() -> dict[str, bytes]:
    """Inputs that are not JPEG or PNG: refused alike, or formats the app does not import."""
    photo = _photo()
    return {
        "empty": b"",
        "GIF": _save(photo, "GIF"),
        "WebP": _save(photo, "WEBP"),
        "TIFF": _save(photo, "TIFF"),
        "BMP": _save(photo, "BMP"),
        "FF D8 without a marker": b"\xff\xd8\x00\x00\x00",
        "FF D8 alone": b"\xff\xd8",
        "FF D8 FF alone": b"\xff\xd8\xff",
        "PNG signature alone": b"\x89PNG\r\n\x1a\n",
        "ftyp cut short": b"\x00\x00\x00\x20ftypheic",
        "HEIC brand": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(16),
        "CR3": b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom" + bytes(16),
        "MP4": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(16),
        "old QuickTime": b"\x00\x00\x00\x10moov" + bytes(16),
        "WebM": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + bytes(8),
        "AVI": b"RIFF\x00\x00\x00\x00AVI LIST",
        "PDF": b"%PDF-1.7\n",
        "text": b"Jane Doe, MRN 1234567\n",
    }


# --- mutants ---------------------------------------------------------------------------------


def _jpeg_segments(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each segment of a well-formed JPEG, a scan with its entropy data."""
    found, pos = [], 2
    while pos + 4 <= len(data) and data[pos + 1] != 0xD9:
        end = pos + 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if data[pos + 1] == 0xDA:
            end = entropy_end(data, end)
            if end < 0:
                break
        found.append((pos, end))
        pos = end
    return found


def _mutate_jpeg(data: bytes, rng: random.Random) -> bytes:
    segs = _jpeg_segments(data)
    start, end = rng.choice(segs)
    op = rng.randrange(10)
    if op == 0:  # one byte of a segment changed
        at = rng.randrange(start, min(end, start + 40))
        return data[:at] + bytes((rng.randrange(256),)) + data[at + 1 :]
    if op == 1:  # cut short
        return data[: rng.randrange(len(data))]
    if op == 2:  # a segment of any kind inserted
        marker = rng.choice([*range(0xC0, 0xD0), *range(0xDB, 0xFF), 0xD9, 0xD8, 0x01, 0xD0])
        payload = rng.randbytes(rng.randrange(0, 40))
        if rng.random() < 0.5:
            return data[:start] + _seg(marker, payload) + data[start:]
        return data[:start] + bytes((0xFF, marker)) + payload + data[start:]
    if op == 3:  # a marker put into scan data
        scans = [s for s in segs if data[s[0] + 1] == 0xDA]
        s0, s1 = rng.choice(scans)
        at = rng.randrange(s0 + 6, max(s0 + 7, s1))
        marker = rng.choice([0x00, 0xD0, 0xD5, 0xD9, 0xDA, 0xE1, 0xFE, 0xFF, 0xC4, 0x01])
        return data[:at] + bytes((0xFF, marker)) + data[at:]
    if op == 4:  # the length field set to something else
        length = rng.choice([0, 1, 2, 3, end - start - 3, end - start - 1, end - start + 1, 65535])
        return data[: start + 2] + struct.pack(">H", max(0, length)) + data[start + 4 :]
    if op == 5:  # a segment dropped
        return data[:start] + data[end:]
    if op == 6:  # a segment repeated
        return data[:end] + data[start:end] + data[end:]
    if op == 7:  # fill bytes before a marker
        return data[:start] + b"\xff" * rng.randrange(1, 5) + data[start:]
    if op == 8:  # something after the EOI
        return data + rng.choice([b"", b"\xff\xd8", SECRET, rng.randbytes(30)])
    # a segment grown by bytes that its length covers
    pad = rng.randbytes(rng.randrange(1, 8))
    if end - start - 2 + len(pad) > 0xFFFF:  # a full segment (an ICC piece) cannot grow
        return data[:start] + data[end:]
    grown = struct.pack(">H", end - start - 2 + len(pad)) if data[start + 1] != 0xDA else None
    if grown is None:
        return data[:end] + pad + data[end:]
    return data[: start + 2] + grown + data[start + 4 : end] + pad + data[end:]


def _png_chunk_spans(data: bytes) -> list[tuple[int, int]]:
    spans, pos = [], 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        spans.append((pos, pos + 12 + length))
        if data[pos + 4 : pos + 8] == b"IEND":
            break
        pos += 12 + length
    return spans


def _refresh_crc(data: bytes, start: int, end: int) -> bytes:
    crc = struct.pack(">I", zlib.crc32(data[start + 4 : end - 4]))
    return data[: end - 4] + crc + data[end:]


def _mutate_png(data: bytes, rng: random.Random) -> bytes:
    spans = _png_chunk_spans(data)
    start, end = rng.choice(spans)
    op = rng.randrange(8)
    if op == 0:  # one byte changed, CRC left as it was
        at = rng.randrange(len(data))
        return data[:at] + bytes((rng.randrange(256),)) + data[at + 1 :]
    if op == 1:  # one byte of a chunk's payload changed, CRC fixed
        if end - start <= 12:
            return data[: rng.randrange(len(data))]
        at = rng.randrange(start + 8, end - 4)
        flipped = data[:at] + bytes((data[at] ^ (1 << rng.randrange(8)),)) + data[at + 1 :]
        return _refresh_crc(flipped, start, end)
    if op == 2:  # cut short
        return data[: rng.randrange(len(data))]
    if op == 3:  # a chunk of any name inserted
        kind = rng.choice([b"tEXt", b"IDAT", b"PLTE", b"IHDR", b"IEND", b"acTL", b"fcTL", b"eXIf",
                           b"iCCP", b"prVt", b"XXXX", b"tRNS", b"aB1c"])  # fmt: skip
        return data[:start] + _chunk(kind, rng.randbytes(rng.randrange(0, 30))) + data[start:]
    if op == 4:  # a chunk dropped
        return data[:start] + data[end:]
    if op == 5:  # a chunk repeated
        return data[:end] + data[start:end] + data[end:]
    if op == 6:  # two chunks swapped
        a, b = sorted(rng.sample(spans, 2)) if len(spans) > 1 else (spans[0], spans[0])
        return (
            data[: a[0]] + data[b[0] : b[1]] + data[a[1] : b[0]] + data[a[0] : a[1]] + data[b[1] :]
        )
    # a chunk's length field changed
    length = rng.choice([0, end - start - 13, end - start - 11, 0x7FFFFFFF, 0x80000000])
    return data[:start] + struct.pack(">I", max(0, length)) + data[start + 4 :]


def _mutate_zlib(stream: bytes, rng: random.Random) -> bytes:
    """A deflate stream with bits flipped, bytes changed, or cut: every zlib error path."""
    out = bytearray(stream)
    for _ in range(rng.choice([1, 1, 2, 3])):
        at = rng.randrange(len(out))
        if rng.random() < 0.7:
            out[at] ^= 1 << rng.randrange(8)
        else:
            out[at] = rng.randrange(256)
    if rng.random() < 0.2:
        del out[rng.randrange(len(out)) :]
    return bytes(out)


def _mutants(sources: dict[str, bytes], count: int, seed: int) -> dict[str, bytes]:
    rng = random.Random(seed)
    names = sorted(sources)
    made = {}
    for index in range(count):
        name = rng.choice(names)
        data = sources[name]
        mutate: Callable[[bytes, random.Random], bytes]
        mutate = _mutate_jpeg if data.startswith(b"\xff\xd8") else _mutate_png
        made[f"mutant {index} of {name}"] = mutate(data, rng)
    return made


def _zlib_mutants(count: int, seed: int) -> dict[str, bytes]:
    rng = random.Random(seed)
    base = _save(_photo((8, 8)), "PNG")
    icc = _srgb()
    streams = sorted(_zlib_variants(icc).items())
    made = {}
    for index in range(count):
        name, stream = rng.choice(streams)
        made[f"iCCP mutant {index} of {name}"] = _png_with(base, _iccp(_mutate_zlib(stream, rng)))
    return made


# --- tests -----------------------------------------------------------------------------------


def _assert_agree(what: str, tally: Tally) -> None:
    _report(what, tally)
    assert not tally.mismatches, "\n".join(tally.mismatches[:40])


@pytest.mark.corpus
def test_dei1_browser_scrubs_every_corpus_file_as_the_server_does() -> None:
    roots = corpus_dirs()
    if not roots:
        pytest.skip(f"image corpus not in {default_cache()}: run `python -m tools.corpus`")
    files = sorted(path for root in roots for path in root.rglob("*") if path.is_file())
    tally, _ = _compare((str(path), path) for path in files)
    _assert_agree("corpus", tally)
    # Every JPEG and PNG of the corpus went through both scrubbers, not only a few of them.
    jpeg_png = [p for p in files if p.read_bytes()[:8].startswith((b"\xff\xd8\xff", b"\x89PNG"))]
    assert len(jpeg_png) > 400
    assert tally.identical > 400
    assert tally.identical + tally.refused_alike >= len(jpeg_png)


def test_dei1_browser_scrubs_made_files_as_the_server_does() -> None:
    made = {**_jpegs(), **_pngs(), **_others()}
    tally, outputs = _compare(made.items())
    _assert_agree("made here", tally)
    assert tally.identical > 80
    assert tally.not_imported == 7  # GIF, WebP, TIFF, HEIC, MP4, QuickTime, WebM
    for name, out in outputs.items():  # hidden text never survives, wherever it was put
        assert SECRET not in out, name
        assert b"Jane Doe" not in out, name
        assert "Jane".encode("utf-16-be") not in out, name  # as ICC profiles write text


def test_dei1_text_after_the_icc_profile_stream_is_left_out() -> None:
    name = "iCCP with bytes after the stream"
    tally, outputs = _compare([(name, _pngs()[name])])
    assert not tally.mismatches
    assert SECRET not in outputs[name]


def test_dei1_browser_and_server_refuse_the_same_mutants() -> None:
    sources = {
        k: v
        for k, v in {**_jpegs(), **_pngs()}.items()
        if not k.startswith("iCCP")
        and len(v) < 200_000
        and _server(v, DEFAULT_LIMITS).outcome == "ok"
    }
    made = {**_mutants(sources, 2500, seed=9), **_zlib_mutants(600, seed=10)}
    tally, _ = _compare(made.items())
    _assert_agree("mutants", tally)
    # The mutants reach both outcomes and every reason a JPEG or PNG can be refused for.
    assert tally.identical > 300
    assert {"malformed", "truncated", "unsupported-feature"} <= set(tally.reasons)


LIMITED = {
    "small byte limit": DEFAULT_LIMITS.replace(max_image_bytes=3000),
    "small pixel limit": DEFAULT_LIMITS.replace(max_pixels=3000, max_width=60, max_height=100),
    "few frames": DEFAULT_LIMITS.replace(max_frames=2, max_total_pixels=6000),
}


@pytest.mark.parametrize("name", sorted(LIMITED))
def test_dei1_browser_applies_the_same_limits(name: str) -> None:
    limits = LIMITED[name]
    made = {**_jpegs(), **_pngs()}
    made = {k: v for k, v in made.items() if len(v) < 200_000}
    tally, _ = _compare(made.items(), limits)
    _assert_agree(f"limits: {name}", tally)
    assert {"too-large", "too-many-pixels", "decompression-bomb"} & set(tally.reasons)


@pytest.mark.skipif(EXIFTOOL is None, reason="exiftool is not installed")
def test_dei1_exiftool_finds_no_metadata_in_the_browsers_output(tmp_path: Path) -> None:
    made = {k: v for k, v in {**_jpegs(), **_pngs()}.items() if "tagged" in k or "exif" in k}
    inputs, outputs = [], []
    tally, scrubbed = _compare(made.items())
    assert not tally.mismatches
    assert len(scrubbed) >= 20
    for index, (name, out) in enumerate(sorted(scrubbed.items())):
        suffix = ".png" if out.startswith(b"\x89PNG") else ".jpg"
        (tmp_path / f"in{index}{suffix}").write_bytes(made[name])
        (tmp_path / f"out{index}{suffix}").write_bytes(out)
        inputs.append(tmp_path / f"in{index}{suffix}")
        outputs.append(tmp_path / f"out{index}{suffix}")
    tags = exiftool_json(inputs + outputs)
    assert all(leaks(tags[str(path)]) for path in inputs)  # the inputs do carry metadata
    for path in outputs:
        assert leaks(tags[str(path)]) == [], path
