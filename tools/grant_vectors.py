"""Test vectors for device grants (decision 011), shared by the Python and the web app's suites.

    python -m tools.grant_vectors           # rewrites tests/vectors/grant.json

A grant is a new age header for the object's file key, written by a device that can open the
object for another device of the same user. The phone app writes grants too
(web/src/lib/grants.ts), so both sides must read and write the same headers:

- ``headers``: ``crypto.grant_header`` with its ephemeral X25519 keys fixed (the only random
  input), so the bytes are deterministic and the TypeScript port must write the same ones;
- ``files``: age files sealed by Python (pyrage), the identity that grants, the target, the
  expected file key, and a grant Python wrote for the target: the file key must unwrap, the
  grant (Python's, and one made afresh) must open the payload for the target, which cannot
  open the original file;
- ``refused``: headers from which ``crypto.file_key`` must get no key (not sealed to the
  identity, an altered MAC or stanza, malformed headers), and ``parse``: headers
  ``crypto.parse_header`` must accept or refuse, with and without ``x25519_only``.

tests/unit/test_grant_vectors.py checks the file against the Python code and the `age` CLI;
web/test/unit/grants.test.ts checks it against the TypeScript code. As in tools.wire_vectors,
random outputs already in the file are kept while they still fit, so a second run changes
nothing. The keys are the published test keys of tools.wire_vectors: never use them elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from clinphoto import crypto
from clinphoto.crypto import _primitives
from tools import wire_vectors as wv

NAME = "grant.json"
Doc = dict[str, Any]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@contextmanager
def _fixed_ephemerals(scalars: list[bytes]) -> Iterator[None]:
    """Within: ``grant_header``'s fresh ephemeral keys are ``scalars``, in order."""
    real = getattr(_primitives, "X25519PrivateKey")  # noqa: B009 (not re-exported)
    queue = list(scalars)

    class Fixed:
        @staticmethod
        def generate() -> Any:
            return real.from_private_bytes(queue.pop(0))

        from_private_bytes = staticmethod(real.from_private_bytes)

    with mock.patch.object(_primitives, "X25519PrivateKey", Fixed):
        yield
    assert not queue, "every fixed ephemeral key must be used"


def fixed_grant_header(file_key: bytes, recipients: list[str], scalars: list[bytes]) -> bytes:
    """``crypto.grant_header`` with these ephemeral scalars (test vectors only)."""
    with _fixed_ephemerals(scalars):
        return crypto.grant_header(file_key, recipients)


# --- headers: deterministic grants -----------------------------------------------------------

_HEADERS = (
    ("one recipient", "file key A", (1,)),
    ("two recipients", "file key B", (0, 2)),
    ("three recipients", "file key C", (2, 1, 0)),
)


def headers() -> list[Doc]:
    out = []
    for name, key_label, indices in _HEADERS:
        key = wv._label_bytes(key_label, 16)
        recipients = [wv._recipient(i) for i in indices]
        scalars = [wv._label_bytes(f"{name} ephemeral {n}") for n in range(len(indices))]
        header = fixed_grant_header(key, recipients, scalars)
        out.append(
            {
                "name": name,
                "file_key_hex": key.hex(),
                "recipients": recipients,
                "identities": list(indices),
                "ephemerals_hex": [s.hex() for s in scalars],
                "header_b64": _b64(header),
            }
        )
    return out


# --- files: real age files, their keys and Python's grants --------------------------------------

# (name, plaintext, sealed to, the granting identity, the target)
_FILES = (
    ("a photo's content", wv._label_bytes("a photo", 3_000), (0, 1), 1, 2),
    ("a short caption", "Épaule gauche, 2 cm".encode(), (0,), 0, 1),
    ("empty", b"", (2, 0), 2, 1),
)


def _key_of(data: bytes, identity: int) -> bytes | None:
    """The file key ``identity`` unwraps from an age file or header, or None."""
    try:
        header, _ = crypto.split_age(data)
        return crypto.file_key(header, wv._identity(identity))
    except crypto.CryptoError:
        return None


def _opens(data: bytes, identity: int, plain: bytes) -> bool:
    try:
        return crypto.open_sealed(data, wv._identity(identity)) == plain
    except crypto.CryptoError:
        return False


def _file_valid(stored: Doc, plain: bytes, sealed_to: tuple[int, ...], granter: int) -> bool:
    ct = base64.b64decode(stored["ciphertext_b64"])
    target = stored["target"]
    _, payload = crypto.split_age(ct)
    grant = base64.b64decode(stored["grant_header_b64"])
    return (
        all(_opens(ct, i, plain) for i in sealed_to)
        and not _opens(ct, target, plain)
        and _key_of(ct, granter) == bytes.fromhex(stored["file_key_hex"])
        and _opens(grant + payload, target, plain)
    )


def files(previous: Doc | None) -> list[Doc]:
    old = {f["name"]: f for f in (previous or {}).get("files", [])}
    out = []
    for name, plain, sealed_to, granter, target in _FILES:
        entry: Doc = {
            "name": name,
            "sealed_to": list(sealed_to),
            "granter": granter,
            "target": target,
            "plaintext_sha256": hashlib.sha256(plain).hexdigest(),
            "plaintext_size": len(plain),
        }
        if len(plain) <= 64:
            entry["plaintext_hex"] = plain.hex()
        else:
            entry["plaintext_label"] = "a photo"  # wire_vectors._label_bytes(label, size)
        stored = old.get(name)
        if (
            stored is not None
            and {k: stored.get(k) for k in entry} == entry
            and _file_valid(stored, plain, sealed_to, granter)
        ):
            out.append(stored)
            continue
        ct = crypto.seal(plain, [wv._recipient(i) for i in sealed_to])
        key = _key_of(ct, granter)
        assert key is not None
        entry["ciphertext_b64"] = _b64(ct)
        entry["file_key_hex"] = key.hex()
        entry["grant_header_b64"] = _b64(crypto.grant_header(key, [wv._recipient(target)]))
        out.append(entry)
    return out


# --- refused: no file key, and headers that do not parse ---------------------------------------


def _with_mac(header: bytes, mac: bytes) -> bytes:
    body, _, _ = header.rstrip(b"\n").rpartition(b"\n--- ")
    return body + b"\n--- " + base64.b64encode(mac).rstrip(b"=") + b"\n"


def _flip_body(header: bytes) -> bytes:
    """The first stanza's body with its first bit flipped (still canonical base64)."""
    lines = header.split(b"\n")
    body = crypto.parse_header(header).stanzas[0].body
    flipped = bytes([body[0] ^ 0x80]) + body[1:]
    lines[2] = base64.b64encode(flipped).rstrip(b"=")
    return b"\n".join(lines)


def refused() -> list[Doc]:
    """Headers from which ``file_key`` gets nothing for ``identity``."""
    key = wv._label_bytes("file key A", 16)
    good = fixed_grant_header(key, [wv._recipient(1)], [wv._label_bytes("refused ephemeral")])
    parsed = crypto.parse_header(good)
    bad_mac = bytes([parsed.mac[0] ^ 1]) + parsed.mac[1:]
    cases = [
        ("the right identity: opens (control)", good, 1, True),
        ("sealed to another identity", good, 0, False),
        ("MAC altered", _with_mac(good, bad_mac), 1, False),
        ("stanza body altered", _flip_body(good), 1, False),
        ("MAC line missing", good[: good.rindex(b"---")], 1, False),
        ("not an age header", b"age-encryption.org/v2\n" + good[22:], 1, False),
    ]
    out = []
    for why, header, identity, opens in cases:
        assert (_key_of(header, identity) == key) is opens, why
        out.append({"why": why, "header_b64": _b64(header), "identity": identity, "opens": opens})
    return out


_SHARE = "-> X25519 " + base64.b64encode(bytes(range(32))).decode().rstrip("=")
_BODY = base64.b64encode(bytes(32)).decode().rstrip("=")
_MAC = "--- " + base64.b64encode(bytes(32)).decode().rstrip("=")


def _h(*lines: str) -> bytes:
    return ("\n".join(["age-encryption.org/v1", *lines]) + "\n").encode()


def parse_cases() -> list[Doc]:
    """Headers ``parse_header`` accepts or refuses (the MAC is not checked by parsing)."""
    long_body = base64.b64encode(bytes(48)).decode()  # 64 columns: a body line that is full
    cases = [
        ("one X25519 stanza", _h(_SHARE, _BODY, _MAC)),
        ("a grease stanza beside it", _h("-> x-grease a-b", "Z28", _SHARE, _BODY, _MAC)),
        (
            "a body of exactly 64 columns ends with an empty line",
            _h("-> other", long_body, "", _MAC),
        ),
        ("a body of 64 columns without its empty line", _h("-> other", long_body, _MAC)),
        ("no stanza", _h(_MAC)),
        ("padded base64 in a body", _h(_SHARE, _BODY + "=", _MAC)),
        ("non-canonical base64 (trailing bits)", _h(_SHARE, _BODY[:-1] + "B", _MAC)),
        ("X25519 with two arguments", _h(_SHARE + " x", _BODY, _MAC)),
        ("X25519 with a short body", _h(_SHARE, _BODY[:-4], _MAC)),
        ("an empty argument", _h("-> X25519  " + _SHARE[10:], _BODY, _MAC)),
        ("a line after the MAC", _h(_SHARE, _BODY, _MAC, "")),
        ("a short MAC", _h(_SHARE, _BODY, _MAC[:-4])),
        ("no final newline", _h(_SHARE, _BODY, _MAC)[:-1]),
        ("a non-ASCII argument", _h("-> X25519 \u00e9", _BODY, _MAC)),
    ]
    out = []
    for why, header in cases:
        verdict = {}
        for x25519_only in (True, False):
            try:
                crypto.parse_header(header, x25519_only=x25519_only)
                ok = True
            except crypto.CryptoError:
                ok = False
            verdict["x25519_only" if x25519_only else "any_type"] = ok
        out.append({"why": why, "header_b64": _b64(header), **verdict})
    return out


def grant_doc(previous: Doc | None) -> Doc:
    return {
        "about": "device grants (decision 011): grant_header with fixed ephemeral keys, "
        "file keys unwrapped from age files and Python's grants that open them, headers "
        "with no key for an identity, and headers parse_header accepts or refuses",
        "identities": [
            {"secret": s, "recipient": wv._recipient(i)} for i, s in enumerate(wv.AGE_SECRETS)
        ],
        "headers": headers(),
        "files": files(previous),
        "refused": refused(),
        "parse": parse_cases(),
    }


def build(directory: Path = wv.VECTORS) -> str:
    return wv.render(grant_doc(wv.read(directory, NAME)))


def main() -> int:
    wv.VECTORS.mkdir(parents=True, exist_ok=True)
    path = wv.VECTORS / NAME
    text = build(wv.VECTORS)
    old = path.read_text(encoding="ascii") if path.exists() else None
    if old != text:
        path.write_text(text, encoding="ascii")
        print(f"wrote {path.relative_to(wv.ROOT)}")
    else:
        print(f"unchanged {path.relative_to(wv.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
