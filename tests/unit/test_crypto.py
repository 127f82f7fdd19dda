"""Crypto recipes (TRN-1, TRN-5, STO-3): round trips, tamper detection, and interop with age."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from clinphoto import crypto
from clinphoto.crypto import (
    FAST_TEST_KDF,
    RFC9106_KDF,
    AgeIdentity,
    CryptoError,
    FieldKeyring,
    KdfParams,
    SigningKey,
)

needs_age = pytest.mark.skipif(shutil.which("age") is None, reason="the age CLI is not installed")


def test_fast_kdf_fixture_is_only_the_test_setting(kdf: KdfParams) -> None:
    assert kdf == FAST_TEST_KDF
    assert kdf != RFC9106_KDF
    # RFC 9106, section 4, second recommended option.
    assert (RFC9106_KDF.time_cost, RFC9106_KDF.memory_kib, RFC9106_KDF.parallelism) == (
        3,
        65536,
        4,
    )


def test_password_hash_round_trip_and_mismatch(kdf: KdfParams) -> None:
    h = crypto.hash_password("correct horse battery staple", kdf)
    assert h.startswith("$argon2id$")
    assert crypto.verify_password(h, "correct horse battery staple", kdf)
    assert not crypto.verify_password(h, "wrong", kdf)
    assert not crypto.verify_password("not-a-hash", "x", kdf)
    assert crypto.password_needs_rehash(h, RFC9106_KDF)
    assert not crypto.password_needs_rehash(h, kdf)


def test_sto3_vault_key_depends_on_passcode_and_salt(kdf: KdfParams) -> None:
    salt = b"s" * 16
    k = crypto.derive_vault_key("1234-5678", salt, kdf)
    assert len(k) == 32
    assert k == crypto.derive_vault_key("1234-5678", salt, kdf)
    assert k != crypto.derive_vault_key("1234-5679", salt, kdf)
    assert k != crypto.derive_vault_key("1234-5678", b"t" * 16, kdf)
    with pytest.raises(CryptoError):
        crypto.derive_vault_key("x", b"short", kdf)


def test_wrap_key_binds_context_and_detects_tampering() -> None:
    kek = bytes(range(32))
    wrapped = crypto.wrap_key(kek, b"secret", b"ctx")
    assert crypto.unwrap_key(kek, wrapped, b"ctx") == b"secret"
    with pytest.raises(CryptoError):
        crypto.unwrap_key(kek, wrapped, b"other")
    with pytest.raises(CryptoError):
        crypto.unwrap_key(bytes(32), wrapped, b"ctx")
    with pytest.raises(CryptoError):
        crypto.unwrap_key(kek, wrapped[:-1] + bytes([wrapped[-1] ^ 1]), b"ctx")
    with pytest.raises(CryptoError):
        crypto.unwrap_key(kek, b"short", b"ctx")
    with pytest.raises(CryptoError):
        crypto.wrap_key(b"short", b"x", b"ctx")


def test_field_ciphertext_is_bound_to_its_row_and_column() -> None:
    ring = FieldKeyring({"k1": bytes(32)}, "k1")
    token = ring.encrypt("Jane Doe", "patients.name:42")
    assert b"Jane" not in token
    assert ring.key_id_of(token) == "k1"
    assert ring.decrypt(token, "patients.name:42") == "Jane Doe"
    with pytest.raises(CryptoError):
        ring.decrypt(token, "patients.name:43")
    with pytest.raises(CryptoError):
        ring.decrypt(b"k9$" + token[3:], "patients.name:42")
    with pytest.raises(CryptoError):
        ring.decrypt(b"no separator", "x")
    with pytest.raises(CryptoError):
        ring.key_id_of(b"no separator")


def test_field_keyring_rotation_keeps_old_fields_readable() -> None:
    old = FieldKeyring({"k1": bytes(32)}, "k1")
    token = old.encrypt("MRN 1234567", "aad")
    new = FieldKeyring({"k1": bytes(32), "k2": b"\x01" * 32}, "k2")
    assert new.decrypt(token, "aad") == "MRN 1234567"
    assert new.key_id_of(new.encrypt("x", "aad")) == "k2"
    assert new.key_ids == ["k1", "k2"]


def test_field_keyring_rejects_bad_keys() -> None:
    with pytest.raises(CryptoError):
        FieldKeyring({"k1": bytes(31)}, "k1")
    with pytest.raises(CryptoError):
        FieldKeyring({"k1": bytes(32)}, "k2")
    with pytest.raises(CryptoError):
        FieldKeyring({"k$1": bytes(32)}, "k$1")


def test_blind_index_is_keyed_and_separates_kinds() -> None:
    a = crypto.blind_index(b"k" * 32, "mrn", "1234567")
    assert a == crypto.blind_index(b"k" * 32, "mrn", "1234567")
    assert a != crypto.blind_index(b"j" * 32, "mrn", "1234567")
    assert a != crypto.blind_index(b"k" * 32, "hcn", "1234567")
    assert "1234567" not in a


def test_trn1_seal_to_several_recipients_each_opens() -> None:
    a, b, outsider = AgeIdentity.generate(), AgeIdentity.generate(), AgeIdentity.generate()
    ct = crypto.seal(b"\xff\xd8 photo bytes", [a.recipient, b.recipient])
    assert ct.startswith(b"age-encryption.org/v1\n")
    assert b"photo bytes" not in ct
    assert crypto.open_sealed(ct, a) == b"\xff\xd8 photo bytes"
    assert crypto.open_sealed(ct, b) == b"\xff\xd8 photo bytes"
    with pytest.raises(CryptoError):
        crypto.open_sealed(ct, outsider)
    with pytest.raises(CryptoError):
        crypto.open_sealed(ct[:-1] + bytes([ct[-1] ^ 1]), a)


def test_seal_stream_round_trip() -> None:
    ident = AgeIdentity.generate()
    src, sealed, opened = io.BytesIO(b"x" * 300_000), io.BytesIO(), io.BytesIO()
    crypto.seal_stream(src, sealed, [ident.recipient])
    sealed.seek(0)
    crypto.open_sealed_stream(sealed, opened, ident)
    assert opened.getvalue() == b"x" * 300_000
    with pytest.raises(CryptoError):
        crypto.open_sealed_stream(io.BytesIO(b"garbage"), io.BytesIO(), ident)
    with pytest.raises(CryptoError):
        crypto.seal_stream(io.BytesIO(b"x"), io.BytesIO(), [])


def test_seal_refuses_no_or_bad_recipients() -> None:
    with pytest.raises(CryptoError):
        crypto.seal(b"x", [])
    with pytest.raises(CryptoError):
        crypto.seal(b"x", ["age1notarecipient"])
    with pytest.raises(CryptoError):
        AgeIdentity("AGE-SECRET-KEY-1NOPE")


def test_signatures_verify_and_reject_tampering() -> None:
    key = SigningKey.generate()
    sig = crypto.sign(key, b"manifest")
    assert crypto.verify_signature(key.public, b"manifest", sig)
    assert not crypto.verify_signature(key.public, b"manifest!", sig)
    assert not crypto.verify_signature(SigningKey.generate().public, b"manifest", sig)
    assert not crypto.verify_signature("!!notbase64", b"manifest", sig)
    assert not crypto.verify_signature(key.public, b"manifest", "AAAA")
    assert SigningKey(key.raw).public == key.public
    with pytest.raises(CryptoError):
        SigningKey(b"short")


def test_fingerprint_is_grouped_and_stable() -> None:
    fp = crypto.fingerprint("age1abc", "ed25519pub")
    assert fp == crypto.fingerprint("age1abc", "ed25519pub")
    assert fp != crypto.fingerprint("age1abd", "ed25519pub")
    assert len(fp.split(" ")) == 8


def test_crypto_error_says_nothing() -> None:
    assert str(CryptoError()) == "cryptographic operation failed"


@needs_age
def test_trn5_age_cli_opens_our_files_and_we_open_its(tmp_path: Path) -> None:
    ident = AgeIdentity.generate()
    key_file = tmp_path / "key.txt"
    key_file.write_text(ident.identity_file())
    sealed = tmp_path / "photo.age"
    sealed.write_bytes(crypto.seal(b"clinical photo", [ident.recipient]))
    opened = subprocess.run(
        ["age", "-d", "-i", str(key_file), str(sealed)], check=True, capture_output=True
    )
    assert opened.stdout == b"clinical photo"

    theirs = subprocess.run(
        ["age", "-r", ident.recipient], input=b"from the CLI", check=True, capture_output=True
    )
    assert crypto.open_sealed(theirs.stdout, ident) == b"from the CLI"


def test_key_format_checks() -> None:
    assert crypto.is_signing_public(SigningKey.generate().public)
    assert not crypto.is_signing_public("AAAA")
    assert not crypto.is_signing_public("%%%")
    assert crypto.is_age_recipient(AgeIdentity.generate().recipient)
    assert not crypto.is_age_recipient("age1nope")


def test_random_tokens_are_long_and_distinct() -> None:
    tokens = {crypto.random_token() for _ in range(5)}
    assert len(tokens) == 5
    assert all(len(t) >= 43 for t in tokens)
