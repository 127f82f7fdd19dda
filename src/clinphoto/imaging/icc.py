"""Structural check of ICC colour profiles, the one embedded block we keep from the input.

A profile is kept only when it looks like what decoders would use: its declared size is its
real size, it carries the ``acsp`` signature, its tag table points inside the profile, and
every byte that is not zero belongs to the header, the tag table or a tag. Anything else is
dropped (decoders ignore a broken profile anyway), so the profile cannot be a container for
arbitrary bytes that no colour engine reads (zero bytes pad tags to 4-byte boundaries, and
some encoders pad a whole profile with them).

What is kept is the colour, not the words: :func:`clean_icc` blanks, in place and at the
same length, every text a profile carries (its description, copyright and every other tag of
a text type, in every language), the dates, the header's reserved bytes and the profile ID
(an MD5 of the profile, which no longer matches once the text is blank; zero means "not
computed"). Those texts name a colour space or a maker in real profiles, but an insider can
write a patient's name there and no colour engine reads them. Tags of the types that hold
numbers a colour engine reads (curves, matrices, lookup tables...) are kept as they are; a
profile with a tag of any other type is dropped, since we cannot say what it holds. The
phone's scrubber does the same (``web/src/lib/scrub/icc.ts``), byte for byte.
"""

from __future__ import annotations

import struct

__all__ = ["MAX_ICC_BYTES", "clean_icc", "tag_table", "valid_icc"]

MAX_ICC_BYTES = 16 * 1024 * 1024
_HEADER = 128


def valid_icc(profile: bytes) -> bool:
    """Whether ``profile`` is a structurally sound ICC profile (see the module docstring)."""
    if not _HEADER + 4 <= len(profile) <= MAX_ICC_BYTES:
        return False
    (size,) = struct.unpack_from(">I", profile, 0)
    if size != len(profile) or profile[36:40] != b"acsp":
        return False
    (count,) = struct.unpack_from(">I", profile, _HEADER)
    if _HEADER + 4 + 12 * count > size:
        return False
    spans = [(0, _HEADER + 4 + 12 * count)]
    for _signature, offset, length in tag_table(profile):
        if offset < _HEADER + 4 or offset + length > size:
            return False
        spans.append((offset, offset + length))
    return not _stray(profile, spans)


def tag_table(profile: bytes) -> list[tuple[bytes, int, int]]:
    """Each tag's signature, offset and length, as the profile's table lists them (of a
    profile whose table fits in it: :func:`valid_icc` checks)."""
    (count,) = struct.unpack_from(">I", profile, _HEADER)
    return [
        struct.unpack_from(">4sII", profile, _HEADER + 4 + 12 * index) for index in range(count)
    ]


def _stray(profile: bytes, spans: list[tuple[int, int]]) -> bool:
    """Whether a byte outside ``spans`` (the header, the table, the tags) is not zero."""
    covered = 0
    for start, stop in sorted(spans):
        if start > covered and profile.count(0, covered, start) != start - covered:
            return True
        covered = max(covered, stop)
    return profile.count(0, covered) != len(profile) - covered


# Tag types made of numbers that colour engines read (ICC.1:2010 and ICC.1:2022 section 10;
# vcgt and ndin are Apple's display calibration and native primaries): kept as they are.
_NUMERIC_TYPES = frozenset(
    (
        b"XYZ ", b"curv", b"para", b"sf32", b"uf32", b"ui08", b"ui16", b"ui32", b"ui64",
        b"meas", b"sig ", b"mft1", b"mft2", b"mAB ", b"mBA ", b"view", b"chrm", b"clro",
        b"mpet", b"cicp", b"vcgt", b"ndin", b"scrn", b"rcs2",
    )
)  # fmt: skip
# Tag types that hold text, dates or a device's identity (make and model with its serial
# number: Apple's mmod): blanked. desc and mluc keep their structure (see _blank).
_TEXT_TYPES = frozenset(
    (
        b"desc", b"text", b"mluc", b"data", b"dtim", b"mmod", b"utf8", b"ut16", b"zut8",
        b"dict", b"ncl2", b"clrt", b"pseq", b"psid", b"crdi", b"devs", b"bfd ",
    )
)  # fmt: skip
_KNOWN_TYPES = _NUMERIC_TYPES | _TEXT_TYPES
_DATE = slice(24, 36)
_PROFILE_ID_AND_RESERVED = slice(84, 128)


def clean_icc(profile: bytes) -> bytes | None:
    """``profile`` with its text blanked, or None when it is not kept.

    None for a profile that is not structurally valid (:func:`valid_icc`), whose tag data
    starts inside the tag table or is shorter than a tag's type and reserved bytes (8), that
    has a tag of a type that is neither numbers a colour engine reads nor text, or a text tag
    that overlaps another tag (blanking it would change the other; two signatures may share
    the very same bytes). Otherwise the same number of bytes, with zeros in: the creation
    date, the profile ID and the header's reserved bytes; every tag's reserved bytes (4 to
    8); and the content of every text tag, each left as an empty text of its type
    (:func:`_blank`).
    """
    if not valid_icc(profile):
        return None
    tags = tag_table(profile)
    table_end = _HEADER + 4 + 12 * len(tags)
    kinds = []
    for _signature, offset, length in tags:
        kind = profile[offset : offset + 4]
        if offset < table_end or length < 8 or kind not in _KNOWN_TYPES:
            return None
        kinds.append(kind)
    if _text_overlaps(tags, kinds):
        return None
    out = bytearray(profile)
    out[_DATE] = bytes(12)
    out[_PROFILE_ID_AND_RESERVED] = bytes(44)
    for (_signature, offset, length), kind in zip(tags, kinds, strict=True):
        out[offset + 4 : offset + 8] = bytes(4)
        if kind in _TEXT_TYPES:
            _blank(out, offset, length, kind)
    return bytes(out)


def _text_overlaps(tags: list[tuple[bytes, int, int]], kinds: list[bytes]) -> bool:
    """Whether a text tag's bytes overlap another tag's, other than the very same bytes.

    The distinct spans in order of start (then end): a span overlaps another when one before
    it reaches past its start, or the next one starts before its end.
    """
    text = {
        (o, o + n) for (_sig, o, n), kind in zip(tags, kinds, strict=True) if kind in _TEXT_TYPES
    }
    spans = sorted({(o, o + n) for _sig, o, n in tags})
    reach = 0
    for index, (start, end) in enumerate(spans):
        if (start, end) in text and (
            reach > start or (index + 1 < len(spans) and spans[index + 1][0] < end)
        ):
            return True
        reach = max(reach, end)
    return False


def _blank(out: bytearray, offset: int, length: int, kind: bytes) -> None:
    """Zero a text tag's content, leaving an empty text of its type.

    ``mluc`` keeps its record count, record size and each record's length and offset (so
    readers find as many strings as before, each made of zeros); the records' language and
    country codes, the strings and any room no record points to become zeros. ``desc``
    (ICC v2) becomes an ASCII text of one byte, the terminating zero, and empty Unicode and
    ScriptCode parts. Every other text type becomes zeros after its type.
    """
    end = offset + length
    if kind == b"mluc" and length >= 16:
        count, size = struct.unpack_from(">II", out, offset + 8)
        table_end = offset + 16 + 12 * count
        if size == 12 and table_end <= end:
            for record in range(offset + 16, table_end, 12):
                out[record : record + 4] = bytes(4)
            out[table_end:end] = bytes(end - table_end)
            return
    out[offset + 8 : end] = bytes(length - 8)
    if kind == b"desc" and length >= 13:
        out[offset + 11] = 1
