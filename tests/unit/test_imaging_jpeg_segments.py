"""The JPEG scrubber reads every segment it keeps, and keeps none that can hide text (DEI-1).

A frame header (SOF), scan header (SOS), quantisation table (DQT), Huffman table (DHT),
arithmetic conditioning (DAC) or restart interval (DRI) segment whose declared length is
larger than its fields could carry a patient's name into the scrubbed file, byte for byte.
These tests pad each kind with ``Jane Doe MRN 1234567``, fix up the length, and check that the
file is refused as malformed and nothing is written; then they hide the same text in table
definitions that no scan reads (replaced, unused, after the last scan) and in Adobe and DNL
segments, and check that it is left out while the pictures decode as before. Valid JPEGs of
every kind Pillow writes (and a lossless one and a 12-bit one made here) pass unchanged.

Every JPEG is made here, with Pillow or by hand.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

from clinphoto.imaging.icc import clean_icc, tag_table, valid_icc
from clinphoto.imaging.jpeg import ScrubError, entropy_end, scrub_jpeg
from clinphoto.imaging.scrub import scrub_file

SECRET = b"Jane Doe MRN 1234567"


def _photo(mode: str = "RGB") -> Image.Image:
    image = Image.frombytes("RGB", (96, 64), bytes((i * 37) % 251 for i in range(96 * 64 * 3)))
    return image.convert(mode)


def _jpeg(mode: str = "RGB", **params: object) -> bytes:
    buf = io.BytesIO()
    _photo(mode).save(buf, "JPEG", quality=95, **params)
    return buf.getvalue()


def _seg(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", 2 + len(payload)) + payload


def _lossless(width: int, height: int, samples: bytes) -> bytes:
    """An 8-bit grey lossless JPEG (SOF3, predictor 1: the sample to the left), by hand.

    Differences fall in categories 0 to 8, each coded in four bits (0000 to 1000).
    """
    acc, nbits, out = 0, 0, bytearray()

    def put(value: int, size: int) -> None:
        nonlocal acc, nbits
        acc, nbits = (acc << size) | value, nbits + size
        while nbits >= 8:
            nbits -= 8
            out.append((acc >> nbits) & 0xFF)
            if out[-1] == 0xFF:
                out.append(0)  # byte stuffing

    for y in range(height):
        for x in range(width):
            left = samples[y * width + x - 1] if x else None
            above = samples[(y - 1) * width] if y else 128
            diff = samples[y * width + x] - (above if left is None else left)
            size = abs(diff).bit_length()
            put(size, 4)
            if size:
                put(diff if diff > 0 else diff + (1 << size) - 1, size)
    if nbits:
        put((1 << (8 - nbits)) - 1, 8 - nbits)  # pad with one bits
    return (
        b"\xff\xd8"
        + _seg(0xC3, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
        + _seg(0xC4, b"\x00" + bytes([0, 0, 0, 9] + [0] * 12) + bytes(range(9)))
        + _seg(0xDA, b"\x01\x01\x00\x01\x00\x00")
        + bytes(out)
        + b"\xff\xd9"
    )


GREY_SAMPLES = bytes((x * 7 + y * 13 + (x * y) % 11) % 256 for y in range(23) for x in range(37))
BASELINE = _jpeg()
PROGRESSIVE = _jpeg(progressive=True)
RESTARTS = _jpeg(restart_marker_blocks=1)
CMYK = _jpeg("CMYK")  # with an Adobe APP14 segment
CMYK_PROGRESSIVE = _jpeg("CMYK", progressive=True)
LOSSLESS = _lossless(37, 23, GREY_SAMPLES)
# 12-bit samples (SOF1): Pillow writes only 8-bit JPEGs, but an 8-bit Huffman-coded scan is a
# valid 12-bit one too (its categories are all allowed there); it decodes darker.
TWELVE_BIT = BASELINE.replace(b"\xff\xc0\x00\x11\x08", b"\xff\xc1\x00\x11\x0c", 1)
# Arithmetic conditioning (DC table 0: L=0, U=1; AC table 0: Kx=5), read by no Huffman scan.
WITH_DAC = BASELINE.replace(b"\xff\xda", _seg(0xCC, b"\x00\x10\x10\x05") + b"\xff\xda", 1)


def _segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of every segment, stepping over scan data."""
    found: list[tuple[int, int, int]] = []
    pos = 2
    while data[pos + 1] != 0xD9:
        marker = data[pos + 1]
        end = pos + 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        found.append((marker, pos, end))
        pos = entropy_end(data, end) if marker == 0xDA else end
    return found


def _nth(data: bytes, marker: int, nth: int = 0) -> tuple[int, int]:
    """(start, end) of the nth segment with this marker (negative: from the last)."""
    return [(s, e) for m, s, e in _segments(data) if m == marker][nth]


def _pad(data: bytes, start: int, end: int, padding: bytes) -> bytes:
    """``data`` with ``padding`` added at the end of the segment at ``start``, its length
    field fixed up to cover it."""
    length = struct.pack(">H", end - start - 2 + len(padding))
    return data[: start + 2] + length + data[start + 4 : end] + padding + data[end:]


def _patch(data: bytes, marker: int, at: int, value: int, nth: int = 0) -> bytes:
    """``data`` with the byte ``at`` bytes into the nth ``marker`` segment set to ``value``."""
    start, _ = _nth(data, marker, nth)
    return data[: start + at] + bytes((value,)) + data[start + at + 1 :]


def _before(data: bytes, marker: int, segment: bytes, nth: int = 0) -> bytes:
    """``data`` with ``segment`` inserted before the nth ``marker`` segment."""
    start, _ = _nth(data, marker, nth)
    return data[:start] + segment + data[start:]


def _pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.mode, image.size, image.tobytes()


def _refused_and_nothing_written(data: bytes, tmp_path: Path) -> ScrubError:
    """Refused in memory and by scrub_file, which leaves no output and no temporary file."""
    with pytest.raises(ScrubError) as refused:
        scrub_jpeg(data)
    src, dst = tmp_path / "in.jpg", tmp_path / "out.jpg"
    src.write_bytes(data)
    with pytest.raises(ScrubError):
        scrub_file(src, dst)
    assert [p.name for p in tmp_path.iterdir()] == ["in.jpg"]
    return refused.value


# --- valid JPEGs pass unchanged ---------------------------------------------------------------

VALID = {
    "baseline": BASELINE,
    "progressive": PROGRESSIVE,
    "restart intervals": RESTARTS,
    "optimised Huffman tables": _jpeg(optimize=True),
    "4:4:4": _jpeg(subsampling=0),
    "4:2:2": _jpeg(subsampling=1),
    "grey": _jpeg("L"),
    "grey progressive": _jpeg("L", progressive=True),
    "CMYK with Adobe APP14": CMYK,
    "CMYK progressive": CMYK_PROGRESSIVE,
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_dei1_valid_pillow_jpeg_passes_byte_for_byte(name: str) -> None:
    """Pillow's JFIF header is the one the scrubber writes, so nothing at all changes."""
    data = VALID[name]
    assert scrub_jpeg(data) == data
    assert _pixels(scrub_jpeg(data)) == _pixels(data)


def test_dei1_lossless_jpeg_passes_and_decodes_to_its_samples() -> None:
    out = scrub_jpeg(LOSSLESS)
    assert out[:2] + out[20:] == LOSSLESS  # a JFIF header added after SOI, nothing else
    assert _pixels(out) == ("L", (37, 23), GREY_SAMPLES)


def test_dei1_12bit_jpeg_passes_unchanged() -> None:
    assert scrub_jpeg(TWELVE_BIT) == TWELVE_BIT


def test_dei1_sequential_scan_with_odd_spectral_values_passes() -> None:
    """Some phones write Ss, Se, Ah/Al other than 0, 63, 0 in baseline scans; decoders only
    warn, so the scrubber accepts them too (in progressive and lossless scans they are
    checked)."""
    end = _nth(BASELINE, 0xDA)[1]
    data = BASELINE[: end - 3] + b"\x00\x00\x00" + BASELINE[end:]
    assert scrub_jpeg(data) == data


def test_dei1_arithmetic_conditioning_is_dropped_when_no_scan_reads_it() -> None:
    assert scrub_jpeg(WITH_DAC) == BASELINE


# --- padded segments are refused ------------------------------------------------------------

PADDED = {
    # name: (JPEG, marker, which one, the name the refusal gives)
    "SOF0 baseline": (BASELINE, 0xC0, 0, "(SOF0)"),
    "SOF2 progressive": (PROGRESSIVE, 0xC2, 0, "(SOF2)"),
    "SOF1 12-bit": (TWELVE_BIT, 0xC1, 0, "(SOF1)"),
    "SOF3 lossless": (LOSSLESS, 0xC3, 0, "(SOF3)"),
    "DQT first": (BASELINE, 0xDB, 0, "(DQT)"),
    "DQT of CMYK": (CMYK, 0xDB, 0, "(DQT)"),
    "DHT first": (BASELINE, 0xC4, 0, "(DHT)"),
    "DHT between progressive scans": (PROGRESSIVE, 0xC4, -1, "(DHT)"),
    "DHT lossless": (LOSSLESS, 0xC4, 0, "(DHT)"),
    "SOS baseline": (BASELINE, 0xDA, 0, "(SOS)"),
    "SOS later progressive scan": (PROGRESSIVE, 0xDA, 4, "(SOS)"),
    "SOS last progressive scan": (PROGRESSIVE, 0xDA, -1, "(SOS)"),
    "SOS lossless": (LOSSLESS, 0xDA, 0, "(SOS)"),
    "DRI": (RESTARTS, 0xDD, 0, "(DRI)"),
    "DAC": (WITH_DAC, 0xCC, 0, "(DAC)"),
}


@pytest.mark.parametrize("name", sorted(PADDED))
def test_dei1_segment_padded_with_a_name_is_refused(name: str, tmp_path: Path) -> None:
    data, marker, nth, label = PADDED[name]
    scrub_jpeg(data)  # the file is fine without the padding
    start, end = _nth(data, marker, nth)
    error = _refused_and_nothing_written(_pad(data, start, end, SECRET), tmp_path)
    assert error.reason == "malformed"
    assert label in str(error)
    assert f"offset {start}" in str(error)
    assert SECRET.decode() not in str(error)


OUT_OF_RANGE: dict[str, tuple[bytes, str]] = {
    # SOF0: FF C0, length, P, Y, X, Nf, then id, sampling factors, table for each component.
    "9-bit samples": (_patch(BASELINE, 0xC0, 4, 9), "9-bit"),
    "16-bit DCT samples": (_patch(BASELINE, 0xC0, 4, 16), "16-bit"),
    "sampling factor 0": (_patch(BASELINE, 0xC0, 11, 0x20), "sampling factor"),
    "sampling factor 5": (_patch(BASELINE, 0xC0, 14, 0x15), "sampling factor"),
    "quantisation table 4": (_patch(BASELINE, 0xC0, 12, 4), "quantisation table"),
    # SOS: FF DA, length, Ns, then selector and tables for each, then Ss, Se, Ah/Al.
    "scan of a component not in the frame": (_patch(BASELINE, 0xDA, 5, 9), "component"),
    "scan naming a component twice": (_patch(BASELINE, 0xDA, 7, 1), "component"),
    "scan Huffman table 4": (_patch(BASELINE, 0xDA, 6, 0x40), "table outside"),
    "progressive AC band past 63": (_patch(PROGRESSIVE, 0xDA, 7, 64, 1), "spectral"),
    "progressive DC scan with AC": (_patch(PROGRESSIVE, 0xDA, 11, 5, 0), "spectral"),
    "lossless predictor 8": (_patch(LOSSLESS, 0xDA, 7, 8), "spectral"),
    "lossless point transform 8": (_patch(LOSSLESS, 0xDA, 9, 8), "spectral"),
    # Tables.
    "DQT precision nibble 2": (_patch(BASELINE, 0xDB, 4, 0x20), "defines a table"),
    "DQT table 4": (_patch(BASELINE, 0xDB, 4, 0x04), "defines a table"),
    "DHT class 2": (_patch(BASELINE, 0xC4, 4, 0x20), "defines a table"),
    "DHT with two 1-bit codes (no all-ones code left)": (
        _patch(_patch(LOSSLESS, 0xC4, 5, 2), 0xC4, 8, 7),
        "code lengths",
    ),
    "DHT DC symbol 17": (_patch(LOSSLESS, 0xC4, 21 + 8, 17), "DC symbol"),
    "DAC AC threshold 0": (_patch(WITH_DAC, 0xCC, 7, 0), "conditioning value"),
    "DAC DC lower bound over upper": (_patch(WITH_DAC, 0xCC, 5, 0x01), "conditioning value"),
}


@pytest.mark.parametrize("name", sorted(OUT_OF_RANGE))
def test_trn3_segment_field_out_of_range_is_refused(name: str, tmp_path: Path) -> None:
    data, words = OUT_OF_RANGE[name]
    error = _refused_and_nothing_written(data, tmp_path)
    assert error.reason == "malformed"
    assert words in str(error)


def test_trn3_frame_of_five_components_is_refused_as_unsupported() -> None:
    start, end = _nth(BASELINE, 0xC0)
    components = BASELINE[start + 10 : end] + b"\x04\x11\x01\x05\x11\x01"
    frame = _seg(0xC0, BASELINE[start + 4 : start + 9] + b"\x05" + components)
    with pytest.raises(ScrubError) as refused:
        scrub_jpeg(BASELINE[:start] + frame + BASELINE[end:])
    assert refused.value.reason == "unsupported-feature"


# --- text in segments that decoders parse but never apply is left out ----------------------

_TABLE_OF_TEXT = (SECRET * 4)[:64]  # 64 quantisation values spelling the name
# A Huffman table of 20 eight-bit codes whose symbols spell the name: AC table 3, or AC 0.
_AC3_OF_TEXT = b"\x13" + bytes(7) + b"\x14" + bytes(8) + SECRET
_AC0_OF_TEXT = b"\x10" + bytes(7) + b"\x14" + bytes(8) + SECRET

HIDDEN = {
    # name: (the JPEG with text hidden, what the scrubber must make of it)
    "DQT replaced before any scan": (
        _before(BASELINE, 0xDB, _seg(0xDB, b"\x00" + _TABLE_OF_TEXT)),
        BASELINE,
    ),
    "DQT table no component uses, in a used segment": (
        _pad(BASELINE, *_nth(BASELINE, 0xDB), b"\x03" + _TABLE_OF_TEXT),
        BASELINE,
    ),
    "DQT after every component took its table": (
        _before(PROGRESSIVE, 0xDA, _seg(0xDB, b"\x00" + _TABLE_OF_TEXT), 1),
        PROGRESSIVE,
    ),
    "DHT table no scan uses": (_before(BASELINE, 0xDA, _seg(0xC4, _AC3_OF_TEXT)), BASELINE),
    "DHT replaced before the scan": (_before(BASELINE, 0xC4, _seg(0xC4, _AC0_OF_TEXT)), BASELINE),
    "DHT after the last scan": (
        BASELINE[:-2] + _seg(0xC4, _AC0_OF_TEXT) + b"\xff\xd9",
        BASELINE,
    ),
    "DRI replaced before the scan, ten times": (
        _before(RESTARTS, 0xDD, b"".join(_seg(0xDD, SECRET[i : i + 2]) for i in range(0, 20, 2))),
        RESTARTS,
    ),
    "DAC in a Huffman-coded file, thresholds spelling the MRN": (
        _before(BASELINE, 0xDA, _seg(0xCC, b"".join(b"\x10" + bytes((c,)) for c in b"1234567"))),
        BASELINE,
    ),
    "DNL after the first scan": (
        BASELINE[:-2] + _seg(0xDC, b"\x00\x40" + SECRET) + b"\xff\xd9",
        BASELINE,
    ),
    "Adobe APP14 padded": (_pad(CMYK, *_nth(CMYK, 0xEE), SECRET), CMYK),
    "Adobe APP14 replaced by a later one": (
        CMYK[:2] + _seg(0xEE, b"Adobe\x00\x64" + SECRET) + CMYK[2:],
        CMYK,
    ),
    "Adobe APP14 between progressive scans": (
        _before(CMYK_PROGRESSIVE, 0xDA, _seg(0xEE, b"Adobe\x00\x64" + SECRET), 1),
        CMYK_PROGRESSIVE,
    ),
}


@pytest.mark.parametrize("name", sorted(HIDDEN))
def test_dei1_text_in_segments_decoders_never_apply_is_left_out(name: str, tmp_path: Path) -> None:
    data, expected = HIDDEN[name]
    assert len(data) > len(expected)  # something is hidden (in two-byte pieces for DRI, DAC)
    out = scrub_jpeg(data)
    assert out == expected
    assert SECRET not in out
    assert _pixels(out) == _pixels(expected)
    src, dst = tmp_path / "in.jpg", tmp_path / "out.jpg"
    src.write_bytes(data)
    scrub_file(src, dst)
    assert dst.read_bytes() == expected


def test_dei1_adobe_segment_is_cut_to_the_twelve_bytes_decoders_read() -> None:
    start, end = _nth(CMYK, 0xEE)
    out = scrub_jpeg(_pad(CMYK, start, end, SECRET))
    assert _segments(out)[0] == (0xEE, 2, 18)
    assert out[2:18] == CMYK[start:end]


def _srgb_profile() -> bytes:
    profile: bytes = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return profile


def test_dei1_padded_icc_profile_is_dropped() -> None:
    data = _jpeg(icc_profile=_srgb_profile())
    assert clean_icc(_srgb_profile()) in scrub_jpeg(data)
    out = scrub_jpeg(_pad(data, *_nth(data, 0xE2), SECRET))
    assert SECRET not in out
    assert out == _jpeg()
    assert _pixels(out) == _pixels(data)


def test_dei1_text_appended_inside_an_icc_profile_is_left_out() -> None:
    """Bytes after the last tag, the profile's size fixed up: no tag points to them, so the
    profile is not only colour and is dropped (imaging.icc)."""
    profile = _srgb_profile()
    grown = struct.pack(">I", len(profile) + len(SECRET)) + profile[4:] + SECRET
    out = scrub_jpeg(_jpeg(icc_profile=grown))
    assert SECRET not in out
    assert out == _jpeg()
    zeros = struct.pack(">I", len(profile) + 64) + profile[4:] + bytes(64)  # padding: kept
    assert clean_icc(zeros) in scrub_jpeg(_jpeg(icc_profile=zeros))


def test_dei1_text_between_icc_tags_is_left_out() -> None:
    """A gap between the tag table and the one tag, with a name in it: dropped; the same
    profile with the gap zeroed is kept."""
    profile = bytearray(200)
    profile[0:4] = struct.pack(">I", 200)
    profile[36:40] = b"acsp"
    profile[128:144] = struct.pack(">I4sII", 1, b"wtpt", 160, 20)  # the table ends at 144
    profile[160:164] = b"XYZ "
    kept = bytes(profile)
    assert clean_icc(kept) == kept  # nothing in it to blank
    assert kept in scrub_jpeg(_jpeg(icc_profile=kept))
    profile[148:152] = b"Jane"
    assert b"Jane" not in scrub_jpeg(_jpeg(icc_profile=bytes(profile)))


def test_dei1_a_name_in_an_icc_description_is_left_out() -> None:
    profile = _srgb_profile()
    assert b"s\x00R\x00G\x00B" in profile  # its description, in UTF-16 (mluc)
    renamed = profile.replace(b"s\x00R\x00G\x00B", b"J\x00a\x00n\x00e")
    assert renamed != profile
    out = scrub_jpeg(_jpeg(icc_profile=renamed))
    assert b"J\x00a\x00n\x00e" not in out
    assert clean_icc(renamed) in out  # the colour is kept, the words are not


def test_dei1_a_name_in_a_text_tags_unused_room_is_left_out() -> None:
    profile = bytearray(_srgb_profile())
    offset = next(o for sig, o, _n in tag_table(bytes(profile)) if sig == b"desc")
    assert profile[offset : offset + 4] == b"mluc"
    # The one record now reads "sRGB" (8 bytes of UTF-16); the rest of its string, still
    # inside the tag, becomes a name that no reader of the profile shows.
    struct.pack_into(">I", profile, offset + 20, 8)
    name = " Jane Doe".encode("utf-16-be")
    (start,) = struct.unpack_from(">I", profile, offset + 24)
    profile[offset + start + 8 : offset + start + 8 + len(name)] = name
    assert valid_icc(bytes(profile))
    out = scrub_jpeg(_jpeg(icc_profile=bytes(profile)))
    assert name not in out
    assert clean_icc(bytes(profile)) in out


# --- mutated lengths (hypothesis) -------------------------------------------------------------

SOURCES = {
    "baseline": BASELINE,
    "progressive": PROGRESSIVE,
    "restarts": RESTARTS,
    "cmyk": CMYK,
    "lossless": LOSSLESS,
}
_KEPT = (0xC0, 0xC2, 0xC3, 0xC4, 0xDA, 0xDB, 0xDD, 0xEE)
# Segments of a fixed shape: any padding at all breaks it. (Padding of a table segment can
# itself be a well-formed table, which no scan reads; an Adobe segment is cut to 12 bytes.)
_FIXED = (0xC0, 0xC2, 0xC3, 0xDA, 0xDD)


@st.composite
def _kept_segment(draw: st.DrawFn) -> tuple[bytes, int, int, int]:
    data = SOURCES[draw(st.sampled_from(sorted(SOURCES)))]
    marker, start, end = draw(st.sampled_from([s for s in _segments(data) if s[0] in _KEPT]))
    return data, marker, start, end


# Text after a few bytes that may start a table: a DQT slot, a DHT slot and counts, DNL-like.
_PADDING = st.builds(
    lambda before, after: before + SECRET + after,
    st.sampled_from([b"", b"\x00", b"\x03", b"\x13", b"\x10" + bytes(15) + b"\x14"])
    | st.binary(max_size=80),
    st.binary(max_size=80),
)


def _tables_read(data: bytes) -> list[tuple[int, bytes]]:
    """The segments of a scrubbed JPEG, each table segment split into its definitions: what a
    decoder reads, whichever way the definitions are grouped into segments."""
    read: list[tuple[int, bytes]] = []
    for marker, start, end in _segments(data):
        at = start + 4
        if marker not in (0xC4, 0xDB):
            read.append((marker, data[at:end]))
            continue
        while at < end:
            size = (
                1 + (64 << (data[at] >> 4)) if marker == 0xDB else 17 + sum(data[at + 1 : at + 17])
            )
            read.append((marker, data[at : at + size]))
            at += size
    return read


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_kept_segment(), _PADDING)
def test_dei1_grown_segment_never_carries_its_padding_out(
    segment: tuple[bytes, int, int, int], padding: bytes
) -> None:
    """Grown by any bytes: refused as malformed; or an Adobe segment, cut back to 12 bytes;
    or a table segment the padding extends by whole, well-formed tables, read exactly as if
    they were a segment of their own (dropped unless a scan reads them: see decision 009 for
    what a table a scan reads can hold)."""
    data, marker, start, end = segment
    grown = _pad(data, start, end, padding)
    try:
        out, reason = scrub_jpeg(grown), None
    except ScrubError as error:
        out, reason = b"", error.reason
    if reason is not None:
        assert reason == "malformed"
    elif marker == 0xEE:
        assert SECRET not in out
    else:
        assert marker in (0xC4, 0xDB)
        apart = scrub_jpeg(data[:end] + _seg(marker, padding) + data[end:])
        assert _tables_read(out) == _tables_read(apart)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_kept_segment(), st.integers(1, 40))
def test_trn3_shrunk_segment_is_refused(segment: tuple[bytes, int, int, int], shrink: int) -> None:
    """Shrunk: its last bytes are left between segments, where no marker starts."""
    data, _, start, end = segment
    length = end - start - 2
    assume(shrink <= length - 2)
    shrunk = data[: start + 2] + struct.pack(">H", length - shrink) + data[start + 4 :]
    with pytest.raises(ScrubError):
        scrub_jpeg(shrunk)


def _count_fields(data: bytes) -> list[tuple[int, str]]:
    """Fields inside kept segments that say how many bytes follow: the frame's and each scan's
    component count, each first quantisation table's precision, every Huffman code count."""
    fields: list[tuple[int, str]] = []
    for marker, start, _ in _segments(data):
        if marker in (0xC0, 0xC2, 0xC3):
            fields.append((start + 9, "count"))
        elif marker == 0xDA:
            fields.append((start + 4, "count"))
        elif marker == 0xDB:
            fields.append((start + 4, "precision"))
        elif marker == 0xC4:
            fields += [(start + 5 + i, "count") for i in range(16)]
    return fields


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SOURCES)), st.data(), st.integers(1, 255))
def test_trn3_count_that_disagrees_with_its_segment_is_refused(
    name: str, choice: st.DataObject, step: int
) -> None:
    """A component count or Huffman code count made larger, or 8-bit quantisation values made
    16-bit, the segment's declared length unchanged: refused as malformed."""
    data = SOURCES[name]
    at, kind = choice.draw(st.sampled_from(_count_fields(data)))
    if kind == "precision":
        assert data[at] >> 4 == 0  # Pillow writes 8-bit tables
        value = data[at] | 0x10
    else:
        assume(data[at] + step <= 255)
        value = data[at] + step
    mutated = data[:at] + bytes((value,)) + data[at + 1 :]
    with pytest.raises(ScrubError) as refused:
        scrub_jpeg(mutated)
    assert refused.value.reason == "malformed"
