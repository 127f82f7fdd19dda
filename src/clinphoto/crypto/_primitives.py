"""The only module that touches cryptographic primitives.

- Media: age v1 (X25519 recipients) through pyrage; files open with the stock ``age`` CLI.
- Device grants: a new age header re-wrapping a file key (X25519, HKDF-SHA256,
  ChaCha20-Poly1305, HMAC-SHA256, as the age spec says; the format is in ``_agehdr``).
- Signatures: Ed25519 (manifests, receipts, audit checkpoints).
- Passwords and the device vault: Argon2id, RFC 9106 "second recommended" parameters.
- Fields at rest: AES-256-GCM with associated data, keys identified by a key id (keyring).
- Lookup: HMAC-SHA256 blind index.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import secrets
from dataclasses import dataclass
from typing import BinaryIO

import argon2
import pyrage
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from clinphoto.crypto import _agehdr
from clinphoto.crypto._errors import CryptoError

# pyrage raises its own exception types (and ValueError/TypeError for malformed input);
# callers see only CryptoError.
_AGE_ERRORS = (
    pyrage.DecryptError,
    pyrage.EncryptError,
    pyrage.IdentityError,
    pyrage.RecipientError,
    ValueError,
    TypeError,
)


# --- Argon2id -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id cost: time (passes), memory in KiB, lanes."""

    time_cost: int
    memory_kib: int
    parallelism: int


# RFC 9106 section 4, second recommended option (for memory-constrained environments).
RFC9106_KDF = KdfParams(time_cost=3, memory_kib=64 * 1024, parallelism=4)
# Only for the test suite, switched on by a fixture that a test checks.
FAST_TEST_KDF = KdfParams(time_cost=1, memory_kib=8, parallelism=1)


def _hasher(p: KdfParams) -> argon2.PasswordHasher:
    return argon2.PasswordHasher(
        time_cost=p.time_cost,
        memory_cost=p.memory_kib,
        parallelism=p.parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def hash_password(password: str, params: KdfParams) -> str:
    """An encoded Argon2id hash (PHC string) of ``password``."""
    return _hasher(params).hash(password)


def verify_password(encoded: str, password: str, params: KdfParams) -> bool:
    """True when ``password`` matches ``encoded``; False for a mismatch or a malformed hash."""
    try:
        return _hasher(params).verify(encoded, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def password_needs_rehash(encoded: str, params: KdfParams) -> bool:
    return _hasher(params).check_needs_rehash(encoded)


def derive_vault_key(passcode: str, salt: bytes, params: KdfParams) -> bytes:
    """A 32-byte key from the device passcode (STO-3); the key itself is never stored."""
    if len(salt) < 16:
        raise CryptoError
    return hash_secret_raw(
        passcode.encode("utf-8"),
        salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=32,
        type=Type.ID,
    )


# --- AES-256-GCM key wrapping and field encryption -------------------------------------


def wrap_key(kek: bytes, secret: bytes, context: bytes) -> bytes:
    """Seal ``secret`` under a 32-byte key-encryption key; ``context`` is bound as AAD."""
    if len(kek) != 32:
        raise CryptoError
    nonce = os.urandom(12)
    return nonce + AESGCM(kek).encrypt(nonce, secret, context)


def unwrap_key(kek: bytes, wrapped: bytes, context: bytes) -> bytes:
    if len(kek) != 32 or len(wrapped) < 12 + 16:
        raise CryptoError
    try:
        return AESGCM(kek).decrypt(wrapped[:12], wrapped[12:], context)
    except InvalidTag:
        raise CryptoError from None


class FieldKeyring:
    """AES-256-GCM keys by key id; encrypts with the primary key, decrypts with any.

    A ciphertext is ``b"<key id>$" + nonce + ciphertext-and-tag``. The associated data names
    the table, column and row, so a ciphertext moved to another row or column does not open.
    """

    def __init__(self, keys: dict[str, bytes], primary: str) -> None:
        if primary not in keys or any(len(k) != 32 for k in keys.values()):
            raise CryptoError
        if any(not kid.isalnum() for kid in keys):
            raise CryptoError
        self._keys = dict(keys)
        self.primary = primary

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._keys)

    def encrypt(self, plaintext: str, aad: str) -> bytes:
        nonce = os.urandom(12)
        ct = AESGCM(self._keys[self.primary]).encrypt(
            nonce, plaintext.encode("utf-8"), aad.encode("utf-8")
        )
        return self.primary.encode("ascii") + b"$" + nonce + ct

    def key_id_of(self, token: bytes) -> str:
        kid, sep, _ = token.partition(b"$")
        if not sep:
            raise CryptoError
        return kid.decode("ascii", "replace")

    def decrypt(self, token: bytes, aad: str) -> str:
        kid, sep, rest = token.partition(b"$")
        key = self._keys.get(kid.decode("ascii", "replace"))
        if not sep or key is None or len(rest) < 12 + 16:
            raise CryptoError
        try:
            return AESGCM(key).decrypt(rest[:12], rest[12:], aad.encode("utf-8")).decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise CryptoError from None


def blind_index(key: bytes, kind: str, value: str) -> str:
    """A keyed, deterministic lookup token for an identifier (MRN, health-card number)."""
    mac = hmac.new(key, kind.encode("utf-8") + b"\x1f" + value.encode("utf-8"), hashlib.sha256)
    return mac.hexdigest()


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


# --- age v1 ----------------------------------------------------------------------------


class AgeIdentity:
    """An X25519 age identity (``AGE-SECRET-KEY-1...``) and its recipient (``age1...``)."""

    def __init__(self, secret: str) -> None:
        try:
            self._identity = pyrage.x25519.Identity.from_str(secret)
        except _AGE_ERRORS:
            raise CryptoError from None
        self.secret = secret

    @classmethod
    def generate(cls) -> AgeIdentity:
        return cls(str(pyrage.x25519.Identity.generate()))

    @property
    def recipient(self) -> str:
        return str(self._identity.to_public())

    def identity_file(self) -> str:
        """The text of an age identity file, as ``age-keygen`` writes it."""
        return f"# public key: {self.recipient}\n{self.secret}\n"


def _recipients(recipients: list[str]) -> list[object]:
    if not recipients:
        raise CryptoError
    try:
        return [pyrage.x25519.Recipient.from_str(r) for r in recipients]
    except _AGE_ERRORS:
        raise CryptoError from None


def seal(plaintext: bytes, recipients: list[str]) -> bytes:
    """age v1 encryption of ``plaintext`` to every X25519 recipient."""
    # With recipients already parsed, encrypting bytes in memory has no failure mode.
    return bytes(pyrage.encrypt(plaintext, _recipients(recipients)))


def seal_stream(src: BinaryIO, dst: BinaryIO, recipients: list[str]) -> None:
    # Recipients are checked above; a failing stream is an I/O error, and surfaces as one.
    pyrage.encrypt_io(src, dst, _recipients(recipients))


def seal_with_passphrase(plaintext: bytes, passphrase: str) -> bytes:
    """age v1 passphrase (scrypt) encryption, in memory: what ``age -p`` writes, and what the
    stock ``age -d`` opens given the passphrase (a patient's copy of their record, RET-4)."""
    if len(passphrase) < 16:
        raise CryptoError
    return bytes(pyrage.passphrase.encrypt(plaintext, passphrase))


def open_with_passphrase(ciphertext: bytes, passphrase: str) -> bytes:
    try:
        return bytes(pyrage.passphrase.decrypt(ciphertext, passphrase))
    except _AGE_ERRORS:
        raise CryptoError from None


def open_sealed(ciphertext: bytes, identity: AgeIdentity) -> bytes:
    try:
        return bytes(pyrage.decrypt(ciphertext, [identity._identity]))
    except _AGE_ERRORS:
        raise CryptoError from None


def open_sealed_stream(src: BinaryIO, dst: BinaryIO | io.BytesIO, identity: AgeIdentity) -> None:
    try:
        pyrage.decrypt_io(src, dst, [identity._identity])
    except _AGE_ERRORS:
        raise CryptoError from None


# --- age v1 headers: device grants (decision 011) --------------------------------------

X25519_LABEL = b"age-encryption.org/v1/X25519"
FILE_KEY_BYTES = 16
_ZERO_NONCE = bytes(12)


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=salt, info=info).derive(ikm)


def _header_mac(file_key: bytes, mac_input: bytes) -> bytes:
    return hmac.new(_hkdf(file_key, b"", b"header"), mac_input, hashlib.sha256).digest()


def _exchange(private: X25519PrivateKey, public: bytes) -> bytes:
    try:
        return private.exchange(X25519PublicKey.from_public_bytes(public))
    except ValueError:  # a low-order point: the shared secret would be all zeros
        raise CryptoError from None


def _unwrap_file_key(header: bytes, scalar: bytes) -> bytes:
    """The file key from the X25519 stanza addressed to ``scalar``, with the header's MAC
    verified; CryptoError when no stanza is for it or anything fails to check."""
    parsed = _agehdr.parse_header(header, x25519_only=False)
    private = X25519PrivateKey.from_private_bytes(scalar)
    own = private.public_key().public_bytes_raw()
    for stanza in parsed.stanzas:
        if stanza.type != "X25519":
            continue
        share = _agehdr.b64decode(stanza.args[0].encode())
        wrap = _hkdf(_exchange(private, share), share + own, X25519_LABEL)
        try:
            key = ChaCha20Poly1305(wrap).decrypt(_ZERO_NONCE, stanza.body, None)
        except InvalidTag:
            continue  # addressed to somebody else
        if not hmac.compare_digest(_header_mac(key, parsed.mac_input), parsed.mac):
            raise CryptoError
        return key
    raise CryptoError


def grant_header(file_key: bytes, recipients: list[str]) -> bytes:
    """A new age v1 header wrapping ``file_key`` for each X25519 recipient (a fresh ephemeral
    key for each stanza), with its MAC: put it in front of the original payload."""
    if len(file_key) != FILE_KEY_BYTES or not recipients:
        raise CryptoError
    lines = [_agehdr.INTRO.rstrip(b"\n")]
    for recipient in recipients:
        public = _agehdr.x25519_recipient_bytes(recipient)
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes_raw()
        wrap = _hkdf(_exchange(ephemeral, public), share + public, X25519_LABEL)
        body = ChaCha20Poly1305(wrap).encrypt(_ZERO_NONCE, file_key, None)
        # 32 bytes of body are 43 columns: always one line, shorter than 64.
        lines += [b"-> X25519 " + _agehdr.b64encode(share), _agehdr.b64encode(body)]
    mac_input = b"\n".join(lines) + b"\n---"
    return mac_input + b" " + _agehdr.b64encode(_header_mac(file_key, mac_input)) + b"\n"


def file_key(header: bytes, identity: AgeIdentity) -> bytes:
    """The 16-byte file key of an age header, unwrapped from ``identity``'s X25519 stanza
    and checked against the header's MAC (decision 011: what a grant re-wraps)."""
    return _unwrap_file_key(header, _agehdr.x25519_identity_bytes(identity.secret))


# --- Ed25519 ---------------------------------------------------------------------------


class SigningKey:
    """An Ed25519 signing key; ``public`` is the raw 32-byte public key, base64url."""

    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise CryptoError
        self._key = Ed25519PrivateKey.from_private_bytes(raw)
        self.raw = raw

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(os.urandom(32))

    @property
    def public(self) -> str:
        pub = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.urlsafe_b64encode(pub).decode("ascii")


def sign(key: SigningKey, message: bytes) -> str:
    return base64.urlsafe_b64encode(key._key.sign(message)).decode("ascii")


def verify_signature(public: str, message: bytes, signature: str) -> bool:
    """True only for a valid Ed25519 signature; any malformed input is simply False."""
    try:
        pub = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(public))
        pub.verify(base64.urlsafe_b64decode(signature), message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def is_signing_public(public: str) -> bool:
    """True when ``public`` is a base64url Ed25519 public key."""
    try:
        Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(public))
    except (ValueError, TypeError):
        return False
    return True


def is_age_recipient(recipient: str) -> bool:
    """True when ``recipient`` is an X25519 age recipient (``age1...``)."""
    try:
        pyrage.x25519.Recipient.from_str(recipient)
    except _AGE_ERRORS:
        return False
    return True


def fingerprint(*public_keys: str) -> str:
    """A human-comparable fingerprint of a device's public keys (shown before sharing)."""
    digest = hashlib.sha256("\n".join(public_keys).encode("utf-8")).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4)).upper()
