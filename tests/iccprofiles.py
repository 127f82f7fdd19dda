"""ICC colour profiles made for the scrubber tests (DEI-1): real ones from Little CMS, and
small ones built tag by tag with a name hidden wherever a profile has room for text.

Used by the unit tests of :mod:`clinphoto.imaging.icc` and the metadata report, and by the
parity test that runs the phone's scrubber on the same files as the server's.
"""

from __future__ import annotations

import struct

from PIL import ImageCms

NAME = "Jane Doe"


def srgb() -> bytes:
    """Little CMS's sRGB profile (ICC v4): its description and copyright are ``mluc``."""
    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def text_tag(kind: bytes, text: str) -> bytes:
    """A tag body of type ``text``, ``desc`` (ICC v2: the text in its ASCII, Unicode and
    ScriptCode parts) or ``mluc`` (one record, en-US) holding ``text``."""
    if kind == b"text":
        return b"text\0\0\0\0" + text.encode("latin-1") + b"\0"
    if kind == b"desc":
        ascii_ = text.encode("latin-1") + b"\0"
        unicode = text.encode("utf-16-be") + b"\0\0"
        script = text.encode("latin-1")[:66].ljust(67, b"\0")
        return (
            b"desc\0\0\0\0"
            + struct.pack(">I", len(ascii_))
            + ascii_
            + struct.pack(">II", 0x656E5553, len(unicode) // 2)  # "enUS"
            + unicode
            + struct.pack(">HB", 0, len(text[:66]) + 1)
            + script
        )
    utf16 = text.encode("utf-16-be")
    record = b"enUS" + struct.pack(">II", len(utf16), 28)
    return b"mluc\0\0\0\0" + struct.pack(">II", 1, 12) + record + utf16


def xyz(x: float = 0.9642, y: float = 1.0, z: float = 0.8249) -> bytes:
    """An ``XYZ `` tag body (the D50 white point by default)."""
    return b"XYZ \0\0\0\0" + struct.pack(">iii", *(round(v * 65536) for v in (x, y, z)))


def curve(gamma: float = 2.2) -> bytes:
    """A ``curv`` tag body holding one gamma value."""
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def profile(tags: dict[bytes, bytes], header: dict[int, bytes] | None = None) -> bytes:
    """A profile with an ``acsp`` header, ``tags`` (signature -> body) in that order, each on
    a 4-byte boundary, and ``header`` bytes written at the offsets given."""
    table = struct.pack(">I", len(tags))
    offset = 128 + 4 + 12 * len(tags)
    bodies = b""
    for signature, body in tags.items():
        table += struct.pack(">4sII", signature, offset + len(bodies), len(body))
        bodies += body + b"\0" * (-len(body) % 4)
    head = bytearray(128)
    head[8:24] = b"\x02\x10\x00\x00mntrRGB XYZ "
    head[24:36] = struct.pack(">6H", 2026, 3, 15, 9, 30, 0)
    head[36:40] = b"acsp"
    for at, value in (header or {}).items():
        head[at : at + len(value)] = value
    made = bytearray(head + table + bodies)
    made[0:4] = struct.pack(">I", len(made))
    return bytes(made)


def with_names() -> dict[str, bytes]:
    """Valid profiles with ``NAME`` (or an MRN) in every place a profile has for text: what
    both scrubbers keep, their text blanked."""
    colour = {b"wtpt": xyz(), b"rTRC": curve()}
    lcms = srgb()
    made = {
        f"a name in a {kind.decode()} description": profile(
            {b"desc": text_tag(kind, NAME), **colour}
        )
        for kind in (b"desc", b"text", b"mluc")
    }
    made["a name in the copyright, in several languages"] = profile(
        {
            b"desc": text_tag(b"mluc", "Display P3"),
            b"cprt": b"mluc\0\0\0\0"
            + struct.pack(">II", 2, 12)
            + b"enUS"
            + struct.pack(">II", 16, 40)
            + b"frCA"
            + struct.pack(">II", 16, 56)
            + f"{NAME}, MR".encode("utf-16-be")
            + f"{NAME}, DM".encode("utf-16-be"),
            **colour,
        }
    )
    made["a date, a device and data tags"] = profile(
        {
            b"desc": text_tag(b"text", "sRGB"),
            b"calt": b"dtim\0\0\0\0" + struct.pack(">6H", 2026, 3, 15, 9, 30, 0),
            b"mmod": b"mmod\0\0\0\0" + b"APPL" + struct.pack(">II", 0xA050, 0xC0FFEE) + bytes(20),
            b"meta": b"data\0\0\0\0\0\0\0\0" + f"MRN 48213377 {NAME}".encode(),
            **colour,
        }
    )
    made["a name in the header's reserved bytes and a tag's"] = profile(
        {b"desc": text_tag(b"text", "sRGB"), b"wtpt": b"XYZ Jane" + xyz()[8:]},
        {100: NAME.encode()},
    )
    made["a name in place of the profile ID"] = profile(
        {b"desc": text_tag(b"text", "sRGB"), **colour}, {84: f"{NAME} 4821".encode()}
    )
    shared = bytearray(profile({b"desc": text_tag(b"mluc", NAME), b"dscm": b"", **colour}))
    shared[144 + 4 : 144 + 12] = shared[132 + 4 : 132 + 12]  # dscm: the description's bytes
    made["two signatures share one description"] = bytes(shared)
    made["lcms sRGB renamed"] = lcms.replace("sRGB".encode("utf-16-be"), "Jane".encode("utf-16-be"))
    made["lcms sRGB, a name in its description's unused room"] = unused_room(lcms)
    return made


def unused_room(source: bytes) -> bytes:
    """``source`` (whose ``desc`` is ``mluc``) with its first record shortened to 4
    characters and `` Jane Doe`` after them, inside the tag, where no record points."""
    made = bytearray(source)
    (count,) = struct.unpack_from(">I", made, 128)
    for index in range(count):
        signature, offset, _length = struct.unpack_from(">4sII", made, 132 + 12 * index)
        if signature == b"desc":
            break
    struct.pack_into(">I", made, offset + 20, 8)
    name = f" {NAME}".encode("utf-16-be")
    (start,) = struct.unpack_from(">I", made, offset + 24)
    made[offset + start + 8 : offset + start + 8 + len(name)] = name
    return bytes(made)


def _overlapping() -> bytes:
    """A ``text`` tag whose length runs over the curve after it (blanking the text would
    change the curve)."""
    made = bytearray(profile({b"desc": text_tag(b"text", f"{NAME} {NAME}"), b"rTRC": curve()}))
    (offset,) = struct.unpack_from(">I", made, 132 + 4)
    struct.pack_into(">I", made, 132 + 8, len(made) - offset)
    return bytes(made)


def dropped() -> dict[str, bytes]:
    """Profiles that are valid (:func:`clinphoto.imaging.icc.valid_icc`) and that both
    scrubbers drop all the same: a tag of a type they do not know, a tag too short to have a
    type, a tag inside the tag table, a text tag that overlaps another."""
    colour = {b"wtpt": xyz()}
    made = {
        "a tag of an unknown type": profile({b"priv": b"Jane\0\0\0\0Doe!", **colour}),
        "a tag of four bytes": profile({b"desc": b"text", **colour}),
    }
    # The first tag starts at the table's second entry, whose signature is a type's name.
    inside = bytearray(profile({b"desc": text_tag(b"text", "sRGB"), b"curv": curve()}))
    struct.pack_into(">II", inside, 132 + 4, 144, len(inside) - 144)
    made["a tag inside the tag table"] = bytes(inside)
    made["a description that overlaps a curve"] = _overlapping()
    return made


def every_type(kinds: frozenset[bytes]) -> dict[str, bytes]:
    """One profile for each tag type in ``kinds`` (and one of a type no one knows), its body
    numbers only: both scrubbers must agree on which types they keep, blank or drop."""
    filler = bytes(range(16)) * 2
    return {
        f"a tag of type {kind.decode('latin-1')!r}": profile(
            {b"desc": text_tag(b"text", "sRGB"), b"test": kind + bytes(4) + filler}
        )
        for kind in sorted(kinds | {b"zzzz"})
    }
