"""The wire-format test vectors shared by the Python and the web app's test suites.

    python -m tools.wire_vectors            # rewrites tests/vectors/<the files below>

Both clients must produce and accept the same bytes: canonical manifests, the sign-in and
acknowledgement messages, Ed25519 keys and signatures, fingerprints, blind indexes, the
device vault (Argon2id, AES-256-GCM) and age files. tests/unit/test_wire_vectors.py checks
every vector against the Python code; web/test/unit/vectors.test.ts checks the same files
against the TypeScript library. tests/vectors/README.md says what each file holds.

Everything deterministic is computed from the fixed keys and inputs in this file. Where the
output is random (an age file, an AES-GCM nonce, an object id), the file keeps the output it
already holds as long as it still opens to what this file expects, so running the generator
again changes nothing; a stored output that no longer fits is replaced by a fresh one.

The keys here are test keys, published in this repository: never use them for anything else.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from clinphoto import crypto
from clinphoto.client import capture as client_capture
from clinphoto.client import profile as client_profile
from clinphoto.client import text as client_text
from clinphoto.core import protocol
from clinphoto.imaging.identifiers import PatientIdentifiers

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "tests" / "vectors"

Doc = dict[str, Any]

# --- fixed test keys ---------------------------------------------------------------------

# age X25519 identities made once with age-keygen. Test keys: published here on purpose.
AGE_SECRETS = (
    "AGE-SECRET-KEY-1LPXYCX32E4NEQTSFNP79J2DZNKZVLQRJA88SY3X2PCQXFPYV4LPSYA27FW",
    "AGE-SECRET-KEY-1XXW2LKF0PJ9V0CJNWWJGAAF6E5MQHS50QREYJ8F52G690NWUH50QW57CXM",
    "AGE-SECRET-KEY-1DXUZHN59FKCDG770QTDFQN7MUD80QSM3CT0LRCQ60MDQQ0S6NYYSWC8V4Y",
)


def _label_bytes(label: str, n: int = 32) -> bytes:
    """Deterministic bytes named by a label (SHA-256 in counter mode)."""
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"clinphoto wire vectors/{label}/{counter}".encode()).digest()
        counter += 1
    return out[:n]


# Ed25519 seeds: RFC 8032 section 7.1 TEST 1 first, then seeds named by a label.
SIGNING_SEEDS = (
    bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"),
    _label_bytes("ed25519 seed 1"),
    _label_bytes("ed25519 seed 2"),
)

# RFC 8032 section 7.1, TESTs 1-3: an outside anchor for both implementations.
RFC8032 = (
    {
        "seed_hex": "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "public_hex": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "message_hex": "",
        "signature_hex": "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    },
    {
        "seed_hex": "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "public_hex": "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "message_hex": "72",
        "signature_hex": "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    },
    {
        "seed_hex": "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "public_hex": "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "message_hex": "af82",
        "signature_hex": "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
        "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    },
)

# The order of the Ed25519 group: S + L is the classic malleated signature, refused by
# RFC 8032's verification (S must be below L).
ED25519_L = 2**252 + 27742317777372353535851937790883648493

DEVICE_ID = "0d3f6c1e8a7b4c2d9e0f1a2b3c4d5e6f"
PATIENT_ID = "5b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"
ENCOUNTER_ID = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
CONSENT_ID = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0"
RECIPIENT_USER_ID = "7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e"


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _signing(i: int) -> crypto.SigningKey:
    return crypto.SigningKey(SIGNING_SEEDS[i])


def _identity(i: int) -> crypto.AgeIdentity:
    return crypto.AgeIdentity(AGE_SECRETS[i])


def _recipient(i: int) -> str:
    return _identity(i).recipient


# --- canonical.json ----------------------------------------------------------------------


def _canonical_values() -> list[tuple[str, Any]]:
    """Manifests and values whose canonical text both clients must produce byte for byte.

    The dicts are written in a deliberately unsorted order: the vector file keeps it, so a
    client that forgets to sort (or sorts by UTF-16 units) gets a different text.
    """
    return [
        ("empty object", {}),
        ("flat, unsorted", {"v": 1, "kind": "photo", "b": True, "a": None, "c": False}),
        (
            "key order: code points, not UTF-16 units",
            # U+FF01 sorts before U+1F600 by code point; by UTF-16 unit the emoji's high
            # surrogate (U+D83D) sorts first.
            {"\U0001f600": 1, "\uff01": 2, "z": 3, "\u00e9": 4},
        ),
        (
            "key order: case, digits, punctuation",
            {"b": 1, "B": 2, "a": 3, "A": 4, "_": 5, "10": 6, "9": 7, "-": 8, " ": 9, "": 10},
        ),
        (
            "key order: integer-like keys are strings",
            # A JavaScript object lists integer-like keys first, in numeric order.
            {"2": "two", "10": "ten", "1": "one", "x": "ex", "01": "zero-one"},
        ),
        (
            "key order: composed and decomposed accents are different keys",
            {"e\u0301": "decomposed", "\u00e9": "composed", "e": "plain", "f": "after"},
        ),
        (
            "key order: __proto__ is an ordinary key",
            {"__proto__": {"polluted": True}, "constructor": "c", "toString": "t"},
        ),
        (
            "strings: escapes",
            {
                "quote": 'say "cheese"',
                "backslash": "C:\\photos\\a.jpg",
                "slash": "a/b</script>",
                "controls": "\x00\x01\x08\t\n\x0b\x0c\r\x1f",
                "del": "\x7f",
                "empty": "",
            },
        ),
        (
            "strings: non-ASCII escaped as \\uXXXX, lower-case hex",
            {
                "fr": "Hôpital Sainte-Justine, épaule gauche",
                "nbsp": "a\u00a0b",
                "line separators": "\u2028\u2029",
                "bom": "\ufeff",
                "cjk": "\u5199\u771f",
                "max bmp": "\uffff",
            },
        ),
        (
            "strings: astral characters as surrogate pairs",
            {"emoji": "\U0001f600\U0001f44d\U0001f3fd", "music": "\U0001d11e", "max": "\U0010ffff"},
        ),
        (
            "strings: lone surrogates pass through escaped",
            {"high": "\ud800", "low": "x\udfff"},
        ),
        (
            "numbers: integers only",
            {
                "zero": 0,
                "one": 1,
                "minus": -1,
                "max safe": 2**53 - 1,
                "min safe": -(2**53 - 1),
                "size": 1_234_567,
            },
        ),
        (
            "nested objects and arrays",
            {
                "z": [3, 1, 2, {"b": [], "a": {}}],
                "m": {"y": {"x": {"w": [True, False, None, "s", 0]}}},
                "a": [[[]], [{}], ["\u00e9"]],
            },
        ),
        ("top-level array keeps its order", [{"b": 1, "a": 2}, 3, "x", None]),
        (
            "a photo manifest",
            {
                "v": 1,
                "object_id": "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c",
                "kind": "photo",
                "content_type": "image/jpeg",
                "patient_id": PATIENT_ID,
                "encounter_id": ENCOUNTER_ID,
                "device_id": DEVICE_ID,
                "plaintext_sha256": hashlib.sha256(b"plain").hexdigest(),
                "ciphertext_sha256": hashlib.sha256(b"cipher").hexdigest(),
                "size": 4242,
                "recipients": sorted([_recipient(1), _recipient(0)]),
                "captured_at": "2026-01-02T03:04:05.678000+00:00",
                "text_warnings": ["mrn"],
                "text_warnings_confirmed": "clinically-necessary",
            },
        ),
    ]


# Values the TypeScript canonical encoder refuses on purpose: a JavaScript number loses
# integers past 2**53, and has no way to say 1.0 (Python writes "1.0", JavaScript "1", and
# 1.0 read from JSON is simply 1), so fractions are refused. No manifest holds either.
def _refused_values() -> list[tuple[str, Any]]:
    return [
        ("a float", {"size": 0.5}),
        ("an integer past 2**53", {"size": 2**53}),
        ("a negative integer past -(2**53)", [-(2**53)]),
        ("an exponent", {"e": 1e21}),
    ]


def canonical_doc() -> Doc:
    cases = []
    for name, value in _canonical_values():
        encoded = protocol.encode_manifest(value)
        cases.append(
            {
                "name": name,
                "value": value,
                "canonical": encoded.decode("ascii"),
                "sha256": hashlib.sha256(encoded).hexdigest(),
                "header": protocol.manifest_header(encoded),
            }
        )
    return {
        "about": "encode_manifest: sorted keys (code points), no spaces, \\uXXXX for non-ASCII",
        "cases": cases,
        "refused_by_typescript": [{"name": n, "value": v} for n, v in _refused_values()],
    }


# --- messages.json -------------------------------------------------------------------------

_LOGINS = (
    (DEVICE_ID, "alice@example.ca", "2026-01-02T03:04:05.678000+00:00"),
    (DEVICE_ID, "Alice.Tremblay@Example.CA", "2026-01-02T03:04:05+00:00"),
    ("00000000000000000000000000000000", "ÉLODIE@HÔPITAL.EXAMPLE", "2026-12-31T23:59:59+00:00"),
    (DEVICE_ID, "\u0130NCE@example.com", "2026-06-01T00:00:00.000001+00:00"),
    (
        DEVICE_ID,
        "\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3@example.gr",
        "2026-06-01T00:00:00+00:00",
    ),
)
_ACKS = (
    ("1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f", hashlib.sha256(b"a shared photo").hexdigest()),
    ("abcdefabcdefabcdefabcdefabcdef01", hashlib.sha256(b"").hexdigest()),
)


def messages_doc() -> Doc:
    return {
        "constants": {
            "MANIFEST_HEADER": protocol.MANIFEST_HEADER,
            "SIGNATURE_HEADER": protocol.SIGNATURE_HEADER,
            "AGE_MAGIC": protocol.AGE_MAGIC.decode("ascii"),
            "MAX_MANIFEST_BYTES": protocol.MAX_MANIFEST_BYTES,
            "MAX_MANIFEST_DEPTH": protocol.MAX_MANIFEST_DEPTH,
            "SEALED_TEXT_FIELDS": list(protocol.SEALED_TEXT_FIELDS),
            "MAX_SEALED_TEXT": protocol.MAX_SEALED_TEXT,
            "TEXT_WARNINGS_FIELD": protocol.TEXT_WARNINGS_FIELD,
            "TEXT_CONFIRMED_FIELD": protocol.TEXT_CONFIRMED_FIELD,
            "TEXT_CONFIRMATIONS": list(protocol.TEXT_CONFIRMATIONS),
        },
        "login": [
            {
                "device_id": d,
                "email": e,
                "timestamp": t,
                "message_hex": protocol.login_message(d, e, t).hex(),
                "seed": 1,
                "signature": crypto.sign(_signing(1), protocol.login_message(d, e, t)),
            }
            for d, e, t in _LOGINS
        ],
        "ack": [
            {
                "share_id": s,
                "plaintext_sha256": h,
                "message_hex": protocol.ack_message(s, h).hex(),
                "seed": 2,
                "signature": crypto.sign(_signing(2), protocol.ack_message(s, h)),
            }
            for s, h in _ACKS
        ],
    }


# --- ed25519.json --------------------------------------------------------------------------

_MESSAGES = (b"", b"clinphoto", bytes(range(256)), "épaule \U0001f600".encode())


def _malleated(signature: str) -> str:
    raw = base64.urlsafe_b64decode(signature)
    s = int.from_bytes(raw[32:], "little") + ED25519_L
    return _b64u(raw[:32] + s.to_bytes(32, "little"))


def _flip(value: str, byte: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(value))
    raw[byte] ^= 0x01
    return _b64u(bytes(raw))


def ed25519_doc() -> Doc:
    keys: list[dict[str, Any]] = [
        {"seed_hex": s.hex(), "public": _signing(i).public} for i, s in enumerate(SIGNING_SEEDS)
    ]
    signatures: list[dict[str, Any]] = [
        {"seed": i, "message_hex": m.hex(), "signature": crypto.sign(_signing(i), m)}
        for i in range(len(SIGNING_SEEDS))
        for m in _MESSAGES
    ]
    good = signatures[len(_MESSAGES) + 1]  # seed 1, b"clinphoto"
    pub = keys[1]["public"]
    msg = good["message_hex"]
    sig = good["signature"]
    invalid = [
        ("a bit flipped in R", pub, msg, _flip(sig, 0)),
        ("a bit flipped in S", pub, msg, _flip(sig, 40)),
        ("S + L (malleated: S must be below the group order)", pub, msg, _malleated(sig)),
        ("another message", pub, b"clinphotO".hex(), sig),
        ("another key", keys[2]["public"], msg, sig),
        ("signature too short", pub, msg, _b64u(base64.urlsafe_b64decode(sig)[:63])),
        ("public key too short", _b64u(base64.urlsafe_b64decode(pub)[:31]), msg, sig),
        ("signature not base64", pub, msg, "!" * 88),
        ("empty signature", pub, msg, ""),
    ]
    return {
        "about": "raw 32-byte seeds; public keys and signatures are base64url WITH padding",
        "rfc8032": list(RFC8032),
        "keys": keys,
        "signatures": signatures,
        "invalid": [
            {"why": w, "public": p, "message_hex": m, "signature": s} for w, p, m, s in invalid
        ],
    }


# --- fingerprint.json, blind-index.json ---------------------------------------------------


def fingerprint_doc() -> Doc:
    sets = [
        [_recipient(0), _signing(0).public],
        [_recipient(1), _signing(1).public],
        [_signing(2).public],
        [_recipient(2), _signing(2).public, "a third key, not base64: é"],
        [],
    ]
    return {
        "about": "SHA-256 of the keys joined by newlines; 32 hex digits in groups of 4, upper",
        "cases": [{"public_keys": s, "fingerprint": crypto.fingerprint(*s)} for s in sets],
    }


def blind_index_doc() -> Doc:
    key1 = _label_bytes("blind index key 1")
    key2 = _label_bytes("blind index key 2")
    inputs = [
        (key1, "mrn", "1234567"),
        (key1, "mrn", "1234568"),
        (key1, "hcn", "1234567"),
        (key2, "mrn", "1234567"),
        (key1, "hcn", "9876 543 210"),
        (key1, "name", "Élodie Tremblay"),
        (key1, "name", "E\u0301lodie Tremblay"),
        (key1, "mrn", ""),
        (key1, "note", "emoji \U0001f600"),
        (key1, "mrn\x1fextra", "1"),
        (key1, "mrn", "extra\x1f1"),
    ]
    return {
        "about": "HMAC-SHA256(key, kind UTF-8 || 0x1F || value UTF-8), lower-case hex; the "
        "last two cases collide on purpose: a kind must never contain 0x1F",
        "cases": [
            {"key_hex": k.hex(), "kind": kind, "value": v, "index": crypto.blind_index(k, kind, v)}
            for k, kind, v in inputs
        ],
    }


# --- vault.json ------------------------------------------------------------------------------

VAULT_CONTEXT = b"clinphoto-device-vault-v1"
_KDF_CASES = (
    ("123456", "kdf salt 1", crypto.KdfParams(1, 8, 1)),
    ("correct horse battery staple", "kdf salt 2", crypto.KdfParams(1, 8, 1)),
    ("mot de passe épaule \U0001f512", "kdf salt 3", crypto.KdfParams(2, 64, 1)),
    ("123456", "kdf salt 1", crypto.KdfParams(1, 32, 4)),
    # The web app's own setting (webapp research section 1.3): t=3, 64 MiB, one lane.
    ("246810", "kdf salt 4", crypto.KdfParams(3, 65536, 1)),
)
FAST_KDF = crypto.FAST_TEST_KDF
VAULT_PASSCODE = "vector-passcode-1"


def _vault_secrets() -> client_profile.DeviceSecrets:
    return client_profile.DeviceSecrets(
        server="https://clinphoto.example",
        user_id="1234567890abcdef1234567890abcdef",
        email="alice@example.ca",
        device_id=DEVICE_ID,
        age_secret=AGE_SECRETS[0],
        signing_key=_b64(SIGNING_SEEDS[1]),
        token="a-session-token",
    )


def _wrap_valid(stored: Doc) -> bool:
    try:
        return crypto.unwrap_key(
            bytes.fromhex(stored["kek_hex"]),
            bytes.fromhex(stored["wrapped_hex"]),
            stored["context"].encode("utf-8"),
        ) == bytes.fromhex(stored["secret_hex"])
    except crypto.CryptoError:
        return False


def _record_opens(record: Doc, passcode: str) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / client_profile.VAULT).write_text(json.dumps(record))
        try:
            opened = client_profile.Profile(Path(tmp)).unlock(passcode)
        except (client_profile.ProfileError, KeyError, TypeError, ValueError):
            return False
    return opened == _vault_secrets()


def vault_doc(previous: Doc | None) -> Doc:
    kdf = [
        {
            "passcode": passcode,
            "salt_hex": _label_bytes(salt, 16).hex(),
            "t": p.time_cost,
            "m": p.memory_kib,
            "p": p.parallelism,
            "key_hex": crypto.derive_vault_key(passcode, _label_bytes(salt, 16), p).hex(),
        }
        for passcode, salt, p in _KDF_CASES
    ]
    wraps = []
    inputs = [
        ("wrap kek 1", VAULT_CONTEXT.decode(), b"a 32-byte device secret, exactly"),
        ("wrap kek 2", "another context", b""),
        ("wrap kek 3", VAULT_CONTEXT.decode(), json.dumps(asdict(_vault_secrets())).encode()),
    ]
    old_wraps = (previous or {}).get("wrap", [])
    for i, (label, context, secret) in enumerate(inputs):
        fresh = {
            "kek_hex": _label_bytes(label).hex(),
            "context": context,
            "secret_hex": secret.hex(),
        }
        stored = old_wraps[i] if i < len(old_wraps) else None
        if (
            stored is not None
            and {k: stored.get(k) for k in fresh} == fresh
            and _wrap_valid(stored)
        ):
            wraps.append(stored)
            continue
        wrapped = crypto.wrap_key(bytes.fromhex(fresh["kek_hex"]), secret, context.encode())
        wraps.append({**fresh, "wrapped_hex": wrapped.hex()})

    # A device vault as the CLI writes it (client/profile.py); the web app keeps the same
    # record in IndexedDB, so each can open the other's.
    record = (previous or {}).get("device_vault", {}).get("record")
    if (
        record is None
        or record.get("kdf") != _kdf_json(FAST_KDF)
        or not _record_opens(record, VAULT_PASSCODE)
    ):
        with tempfile.TemporaryDirectory() as tmp:
            prof = client_profile.Profile(Path(tmp), kdf=FAST_KDF)
            prof.save(_vault_secrets(), VAULT_PASSCODE)
            record = json.loads(prof.vault_path.read_text())
    return {
        "about": "Argon2id raw 32-byte keys (m in KiB); wrapped = nonce(12) || AES-256-GCM "
        "ciphertext and tag, AAD = context",
        "kdf": kdf,
        "wrap": wraps,
        "device_vault": {
            "context": VAULT_CONTEXT.decode(),
            "passcode": VAULT_PASSCODE,
            "secrets": asdict(_vault_secrets()),
            "record": record,
        },
    }


def _kdf_json(p: crypto.KdfParams) -> Doc:
    return {"time_cost": p.time_cost, "memory_kib": p.memory_kib, "parallelism": p.parallelism}


# --- age.json --------------------------------------------------------------------------------

_AGE_FILES = (
    ("empty", b"", (0,)),
    ("short text", "Épaule gauche, 2 cm \U0001f600".encode(), (0,)),
    ("all byte values", bytes(range(256)), (1,)),
    ("two recipients", b"sealed to the records key and a device", (0, 1)),
    ("a third identity", b"\x00" * 100, (2,)),
)


def _opens(ciphertext_b64: str, plaintext: bytes, indices: tuple[int, ...]) -> bool:
    ct = base64.b64decode(ciphertext_b64)
    for i in range(len(AGE_SECRETS)):
        try:
            opened: bytes | None = crypto.open_sealed(ct, _identity(i))
        except crypto.CryptoError:
            opened = None
        if (opened == plaintext) != (i in indices):
            return False
    return True


def age_doc(previous: Doc | None) -> Doc:
    old = {f["name"]: f for f in (previous or {}).get("files", [])}
    files = []
    for name, plain, indices in _AGE_FILES:
        recipients = [_recipient(i) for i in indices]
        entry: Doc = {
            "name": name,
            "recipients": recipients,
            "identities": list(indices),
            "plaintext_sha256": hashlib.sha256(plain).hexdigest(),
            "plaintext_size": len(plain),
        }
        entry["plaintext_hex"] = plain.hex()
        stored = old.get(name)
        if (
            stored is not None
            and {k: stored.get(k) for k in entry} == entry
            and _opens(stored["ciphertext_b64"], plain, indices)
        ):
            files.append(stored)
            continue
        entry["ciphertext_b64"] = _b64(crypto.seal(plain, recipients))
        files.append(entry)
    return {
        "about": "age v1 files sealed by Python (pyrage) to X25519 test identities",
        "identities": [
            {"secret": s, "recipient": _recipient(i)} for i, s in enumerate(AGE_SECRETS)
        ],
        "files": files,
    }


# --- capture.json, sealed-text.json ---------------------------------------------------------


def _tiny_jpeg() -> bytes:
    """A 16x16 JPEG with a comment segment the scrubber removes: made by code, not stored."""
    from PIL import Image

    img = Image.new("RGB", (16, 16))
    img.putdata([(x * 16, y * 16, (x * y) % 256) for y in range(16) for x in range(16)])
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90, comment=b"patient: Jane Doe")
    return buf.getvalue()


class _FixedClock(datetime):
    """Stands in for ``datetime`` inside client/capture.py while a vector is made."""

    instant = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return cls.instant if tz is None else cls.instant.astimezone(tz)


@contextmanager
def _clock(instant: datetime) -> Iterator[None]:
    """client/capture.py's clock fixed at ``instant``, so a manifest's time is known."""
    _FixedClock.instant = instant
    with mock.patch.object(client_capture, "datetime", _FixedClock):
        yield


# Manifest fields that differ on every run: the random id and what depends on the age file
# (rage adds a random-length "grease" stanza to each header, so even the size varies).
RANDOM_FIELDS = frozenset(
    {"object_id", "ciphertext_sha256", "size", "caption_sealed", "message_sealed"}
)


def _sealed_caption(field: str, text: str, recipients: list[str], confirmed: str | None) -> Doc:
    patient = PatientIdentifiers(given_names=["Jane"], family_names=["Doe"], mrn="7654321")
    return client_text.seal_text(
        field, text, recipients=recipients, patient=patient, confirmed=confirmed
    ).fields


def _capture_entry(name: str, sealed: client_capture.SealedCapture, inputs: Doc) -> Doc:
    manifest = json.loads(sealed.manifest_bytes)
    return {
        "name": name,
        "inputs": inputs,
        "signing_public": _signing(1).public,
        "manifest": manifest,
        "manifest_header": protocol.manifest_header(sealed.manifest_bytes),
        "signature": sealed.signature,
        "ciphertext_b64": _b64(sealed.ciphertext),
        "plaintext_sha256": sealed.plaintext_sha256,
    }


def _capture_valid(stored: Doc, fresh: Doc, texts: dict[str, str]) -> bool:
    """The stored capture still verifies, opens, and differs from a fresh one only where a
    run differs."""
    if (
        stored.get("inputs") != fresh["inputs"]
        or stored.get("signing_public") != fresh["signing_public"]
    ):
        return False

    def fixed(m: Doc) -> Doc:
        return {k: v for k, v in m.items() if k not in RANDOM_FIELDS}

    try:
        raw, manifest = protocol.read_manifest_header(stored["manifest_header"])
        ct = base64.b64decode(stored["ciphertext_b64"])
        client_capture.open_capture(
            ct,
            identity=_identity(0),
            manifest_bytes=raw,
            signature=stored["signature"],
            author_signing_public=stored["signing_public"],
            plaintext_sha256=stored["plaintext_sha256"],
        )
        for field, text in texts.items():
            if client_text.open_text(manifest[field], _identity(1)) != text:
                return False
    except (crypto.CryptoError, ValueError, KeyError):
        return False
    return (
        manifest == stored["manifest"]
        and fixed(manifest) == fixed(fresh["manifest"])
        and set(manifest) == set(fresh["manifest"])
        and manifest["ciphertext_sha256"] == hashlib.sha256(ct).hexdigest()
    )


Sealed = client_capture.SealedCapture


def photo_of(image: bytes, recipients: list[str], **kw: Any) -> Callable[[], Sealed]:
    """seal_capture of ``image`` with the fixed ids and signing key, ready to run."""
    return lambda: client_capture.seal_capture(
        image,
        patient_id=PATIENT_ID,
        encounter_id=ENCOUNTER_ID,
        device_id=DEVICE_ID,
        signing=_signing(1),
        recipients=recipients,
        **kw,
    )


def capture_doc(previous: Doc | None) -> Doc:
    image = _tiny_jpeg()
    recipients = [_recipient(1), _recipient(0)]
    old = {c["name"]: c for c in (previous or {}).get("captures", [])}
    common = {
        "patient_id": PATIENT_ID,
        "encounter_id": ENCOUNTER_ID,
        "device_id": DEVICE_ID,
        "recipients": recipients,
        "seed": 1,
    }
    caption = "Lésion 2 cm, MRN 7654321"
    message = "Pour avis, merci \U0001f64f"
    # The plaintext a share re-seals: the photo as the records key opens it.
    scrubbed = crypto.open_sealed(photo_of(image, recipients)().ciphertext, _identity(0))
    plans: list[tuple[str, Doc, datetime, dict[str, str], Callable[[], Sealed]]] = []

    at = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    at_whole = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    plans.append(("photo", {**common}, at, {}, photo_of(image, recipients)))
    plans.append(
        (
            "photo at a whole second",
            {**common},
            at_whole,
            {},
            photo_of(image, recipients),
        )
    )
    plans.append(
        (
            "consent signature",
            {**common, "consent_id": CONSENT_ID},
            at,
            {},
            photo_of(image, recipients, consent_id=CONSENT_ID),
        )
    )
    plans.append(
        (
            "redacted version with a caption",
            {
                **common,
                "derived_from": "d" * 32,
                "caption": caption,
                "caption_confirmed": "clinically-necessary",
            },
            at,
            {"caption_sealed": caption},
            photo_of(
                image,
                recipients,
                derived_from="d" * 32,
                text=_sealed_caption("caption_sealed", caption, recipients, "clinically-necessary"),
            ),
        )
    )
    share_inputs = {
        "device_id": DEVICE_ID,
        "recipients": recipients,
        "recipient_user_id": RECIPIENT_USER_ID,
        "purpose": "consultation",
        "content_type": "image/jpeg",
        "seed": 1,
        "message": message,
    }
    plans.append(
        (
            "share with a message",
            share_inputs,
            at,
            {"message_sealed": message},
            lambda: client_capture.reseal_for_share(
                scrubbed,
                device_id=DEVICE_ID,
                signing=_signing(1),
                recipients=recipients,
                recipient_user_id=RECIPIENT_USER_ID,
                purpose="consultation",
                text=_sealed_caption("message_sealed", message, recipients, None),
            ),
        )
    )
    captures = []
    for name, inputs, instant, texts, make in plans:
        with _clock(instant):
            fresh = _capture_entry(name, make(), inputs)
        stored = old.get(name)
        captures.append(
            stored if stored is not None and _capture_valid(stored, fresh, texts) else fresh
        )
    return {
        "about": "seal_capture / reseal_for_share outputs; the image is the scrubbed JPEG "
        "(scrubbed_hex); identities 0 and 1 of age.json open every file",
        "scrubbed_hex": scrubbed.hex(),
        "random_fields": sorted(RANDOM_FIELDS),
        "captures": captures,
    }


def _text_valid(stored: Doc, fresh: Doc) -> bool:
    if {k: v for k, v in stored.items() if k != "fields"} != {
        k: v for k, v in fresh.items() if k != "fields"
    }:
        return False
    s_fields, f_fields = stored["fields"], fresh["fields"]
    if set(s_fields) != set(f_fields):
        return False
    field = stored["field"]
    if any(s_fields[k] != f_fields[k] for k in s_fields if k != field):
        return False
    try:
        return all(
            client_text.open_text(s_fields[field], _identity(i)) == stored["text"]
            for i in stored["identities"]
        )
    except (crypto.CryptoError, ValueError):
        return False


def sealed_text_doc(previous: Doc | None) -> Doc:
    recipients = [_recipient(0), _recipient(2)]
    cases = [
        ("caption, nothing found", "caption_sealed", "Lésion de 2 cm, bord irrégulier", None),
        ("caption, MRN confirmed", "caption_sealed", "MRN 7654321 au bras", "false-positive"),
        ("message, name confirmed", "message_sealed", "Jane Doe: avis svp", "patient-requested"),
        ("message, empty", "message_sealed", "", None),
    ]
    old = {c["name"]: c for c in (previous or {}).get("cases", [])}
    out = []
    for name, field, text, confirmed in cases:
        fresh = {
            "name": name,
            "field": field,
            "text": text,
            "confirmed": confirmed,
            "identities": [0, 2],
            "fields": _sealed_caption(field, text, recipients, confirmed),
        }
        stored = old.get(name)
        out.append(stored if stored is not None and _text_valid(stored, fresh) else fresh)
    return {
        "about": "client/text.py seal_text: base64 (standard alphabet, padded) of an age file "
        "to the recipients; warning kinds sorted; patient: Jane Doe, MRN 7654321",
        "recipients": recipients,
        "cases": out,
    }


# --- device-status.json ---------------------------------------------------------------------

_WIPE_ID = "3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f"
_SHARE_ID = "1f" * 16


def _status_case(name: str, time: str, locked: bool, since: str | None, holding: Any) -> Doc:
    message = protocol.device_status_message(DEVICE_ID, time, locked, since, holding)
    body = {
        "device_id": DEVICE_ID,
        "time": time,
        "locked": locked,
        "locked_since": since,
        "holding": holding,
    }
    return {
        "name": name,
        "body": {**body, "signature": crypto.sign(_signing(2), message)},
        "message_hex": message.hex(),
    }


def device_status_doc() -> Doc:
    """The status key's three messages (decision 014): a status report (locked, holding not
    known; unlocked, two captures held), a wipe confirmation and a deletion confirmation."""
    held = [
        {"patient_id": PATIENT_ID, "encounter_id": ENCOUNTER_ID, "media_id": "ab" * 16},
        {"media_id": "cd" * 16, "patient_id": PATIENT_ID, "encounter_id": ENCOUNTER_ID},
    ]
    erased = {"vault": True, "outbox_items": 2, "databases": 1, "caches": 3}
    wiped_at = "2026-11-30T06:05:00Z"
    wipe = protocol.wipe_confirmation_message(DEVICE_ID, _WIPE_ID, wiped_at, erased)
    deleted_at = "2026-11-30T06:06:00Z"
    deletion = protocol.share_deleted_message(DEVICE_ID, _SHARE_ID, deleted_at)
    return {
        "about": "Status-key messages (docs/wire/device-status.md): fields joined by 0x1F; "
        "holding and erased as canonical JSON (keys sorted); signed by the status key "
        "(seed 2 of ed25519.json)",
        "seed": 2,
        "status_public": _signing(2).public,
        "reports": [
            _status_case(
                "locked, holding not known",
                "2026-11-30T06:00:00Z",
                True,
                "2026-11-30T05:40:00Z",
                None,
            ),
            _status_case("unlocked, two captures held", "2026-11-30T06:01:00Z", False, None, held),
        ],
        "wipe_confirmation": {
            "body": {
                "device_id": DEVICE_ID,
                "wipe_id": _WIPE_ID,
                "wiped_at": wiped_at,
                "erased": erased,
                "signature": crypto.sign(_signing(2), wipe),
            },
            "message_hex": wipe.hex(),
        },
        "delete_confirmation": {
            "body": {
                "device_id": DEVICE_ID,
                "share_id": _SHARE_ID,
                "deleted_at": deleted_at,
                "signature": crypto.sign(_signing(2), deletion),
            },
            "message_hex": deletion.hex(),
        },
    }


# --- the files ------------------------------------------------------------------------------

BUILDERS: dict[str, Callable[[Doc | None], Doc]] = {
    "canonical.json": lambda _prev: canonical_doc(),
    "messages.json": lambda _prev: messages_doc(),
    "ed25519.json": lambda _prev: ed25519_doc(),
    "fingerprint.json": lambda _prev: fingerprint_doc(),
    "blind-index.json": lambda _prev: blind_index_doc(),
    "vault.json": vault_doc,
    "age.json": age_doc,
    "capture.json": capture_doc,
    "sealed-text.json": sealed_text_doc,
    "device-status.json": lambda _prev: device_status_doc(),
}


def render(doc: Doc) -> str:
    """The file's text: ASCII (non-ASCII as \\u escapes), one level of indentation."""
    return json.dumps(doc, indent=1, ensure_ascii=True) + "\n"


def read(directory: Path, name: str) -> Doc | None:
    path = directory / name
    if not path.exists():
        return None
    doc: Doc = json.loads(path.read_text(encoding="ascii"))
    return doc


def build(directory: Path = VECTORS) -> dict[str, str]:
    """Every file's text, keeping the random outputs already in ``directory`` that fit."""
    return {name: render(make(read(directory, name))) for name, make in BUILDERS.items()}


def main() -> int:
    VECTORS.mkdir(parents=True, exist_ok=True)
    for name, text in build(VECTORS).items():
        path = VECTORS / name
        old = path.read_text(encoding="ascii") if path.exists() else None
        if old != text:
            path.write_text(text, encoding="ascii")
            print(f"wrote {path.relative_to(ROOT)}")
        else:
            print(f"unchanged {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
