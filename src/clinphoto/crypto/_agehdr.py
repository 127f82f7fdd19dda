"""age v1 headers: their format, read and written directly (decision 011: device grants).

The cryptography (X25519, HKDF, ChaCha20-Poly1305, the header MAC) is in ``_primitives``;
this module only encodes, decodes and checks the text of a header.

An age file is a header and a payload. The header's stanzas each wrap the same 16-byte file
key for one recipient, and its MAC is keyed by that file key; the payload depends only on
the file key. So a holder of the file key can write a new header for another recipient and
put it in front of the unchanged payload: an ordinary age file for that recipient.

Followed to the letter (C2SP age.md, "age-encryption.org/v1"):

- header: ``age-encryption.org/v1``, one or more stanzas, then ``--- `` and the MAC;
- stanza: ``-> TYPE ARG...`` (arguments are printable ASCII without spaces), then its body
  in standard base64 without padding, in lines of 64 columns ended by a shorter line;
- X25519 stanza: ``-> X25519 <ephemeral share>``, body = ChaCha20-Poly1305 under
  HKDF-SHA256(ikm=shared secret, salt=ephemeral share || recipient,
  info="age-encryption.org/v1/X25519"), nonce zero, of the file key;
- MAC: HMAC-SHA256 keyed by HKDF-SHA256(ikm=file key, salt empty, info="header") over the
  header up to and including ``---``.

Every failure is a :class:`CryptoError`, which says nothing about why.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from clinphoto.crypto._errors import CryptoError

INTRO = b"age-encryption.org/v1\n"
_MAC_MARK = b"\n--- "
# Bounds for reading a header someone else wrote: generous for what age writes (one stanza
# per recipient, and the random "grease" stanza rage adds), small enough to refuse junk.
MAX_HEADER_BYTES = 16 * 1024
MAX_STANZAS = 64
_COLUMNS = 64
_B64_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


@dataclass(frozen=True, slots=True)
class Stanza:
    """One recipient stanza: its type (``X25519``), further arguments, and decoded body."""

    type: str
    args: tuple[str, ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class AgeHeader:
    """A parsed header: its stanzas, its MAC, and the bytes the MAC covers."""

    stanzas: tuple[Stanza, ...]
    mac: bytes
    mac_input: bytes
    size: int

    @property
    def x25519_count(self) -> int:
        return sum(1 for s in self.stanzas if s.type == "X25519")


# --- encodings ----------------------------------------------------------------------------


def b64encode(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def b64decode(text: bytes) -> bytes:
    """Canonical unpadded standard base64, as age requires; anything else is refused."""
    if not set(text) <= _B64_CHARS or len(text) % 4 == 1:
        raise CryptoError
    data = base64.b64decode(text + b"=" * (-len(text) % 4))
    if b64encode(data) != text:  # non-zero trailing bits: a second spelling of the same bytes
        raise CryptoError
    return data


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= _BECH32_GEN[i] if (top >> i) & 1 else 0
    return chk


def bech32_decode(text: str, hrp: str) -> bytes:
    """The bytes a Bech32 string (BIP 173, without its length limit, as age uses it) holds
    under human-readable part ``hrp``."""
    if text != text.lower() and text != text.upper():
        raise CryptoError
    low = text.lower()
    prefix, sep, rest = low.rpartition("1")
    if prefix != hrp or not sep or len(rest) < 6 or not set(rest) <= set(_BECH32):
        raise CryptoError
    data = [_BECH32.index(c) for c in rest]
    expanded = [ord(c) >> 5 for c in prefix] + [0] + [ord(c) & 31 for c in prefix]
    if _polymod(expanded + data) != 1:
        raise CryptoError
    acc = bits = 0
    out = bytearray()
    for v in data[:-6]:
        acc, bits = (acc << 5) | v, bits + 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if bits >= 5 or acc & ((1 << bits) - 1):  # padding longer than needed, or not zero
        raise CryptoError
    return bytes(out)


def x25519_recipient_bytes(recipient: str) -> bytes:
    """The 32-byte public key of an ``age1...`` recipient."""
    raw = bech32_decode(recipient, "age")
    if len(raw) != 32:
        raise CryptoError
    return raw


def x25519_identity_bytes(secret: str) -> bytes:
    """The 32-byte scalar of an ``AGE-SECRET-KEY-1...`` identity."""
    raw = bech32_decode(secret, "age-secret-key-")
    if len(raw) != 32:
        raise CryptoError
    return raw


# --- parsing ------------------------------------------------------------------------------


def _lines(header: bytes) -> list[bytes]:
    if not header.endswith(b"\n"):
        raise CryptoError
    return header[:-1].split(b"\n")


def _arg_ok(arg: bytes) -> bool:
    return bool(arg) and all(0x21 <= c <= 0x7E for c in arg)


def _stanza(args: list[bytes], body: bytes) -> Stanza:
    if not args or not all(_arg_ok(a) for a in args):
        raise CryptoError
    kind = args[0].decode("ascii")
    rest = tuple(a.decode("ascii") for a in args[1:])
    if kind == "X25519" and (
        len(rest) != 1 or len(b64decode(rest[0].encode())) != 32 or len(body) != 32
    ):
        raise CryptoError
    return Stanza(kind, rest, body)


def parse_header(
    header: bytes,
    *,
    x25519_only: bool = True,
    max_bytes: int = MAX_HEADER_BYTES,
    max_stanzas: int = MAX_STANZAS,
) -> AgeHeader:
    """Check that ``header`` is exactly one age v1 header (ending with its MAC line) and
    return its parts. With ``x25519_only`` (the default: what a grant may hold) any other
    stanza type is refused; without it, other types (age's "grease") are kept as read.
    The MAC is not checked here: that needs the file key (:func:`file_key`)."""
    if len(header) > max_bytes or not header.startswith(INTRO):
        raise CryptoError
    lines = _lines(header)
    stanzas: list[Stanza] = []
    i = 1
    while i < len(lines) and lines[i].startswith(b"-> "):
        args = lines[i][3:].split(b" ")
        body = b""
        while True:
            i += 1
            if i >= len(lines) or len(lines[i]) > _COLUMNS:
                raise CryptoError
            body += lines[i]
            if len(lines[i]) < _COLUMNS:
                break
        stanzas.append(_stanza(args, b64decode(body)))
        i += 1
    if (
        not stanzas
        or len(stanzas) > max_stanzas
        or i != len(lines) - 1
        or not lines[i].startswith(b"--- ")
    ):
        raise CryptoError
    if x25519_only and any(s.type != "X25519" for s in stanzas):
        raise CryptoError
    mac = b64decode(lines[i][4:])
    if len(mac) != 32:
        raise CryptoError
    mac_input = header[: len(header) - len(lines[i]) - 1 + 3]
    return AgeHeader(tuple(stanzas), mac, mac_input, len(header))


def split_age(data: bytes, *, max_header: int = MAX_HEADER_BYTES) -> tuple[bytes, bytes]:
    """An age file's header (through its MAC line's newline) and its payload. Only the
    header's outline is found here; :func:`parse_header` checks it."""
    if not data.startswith(INTRO):
        raise CryptoError
    mark = data.find(_MAC_MARK, 0, max_header)
    end = data.find(b"\n", mark + 1, max_header) if mark >= 0 else -1
    if end < 0:
        raise CryptoError
    return data[: end + 1], data[end + 1 :]
