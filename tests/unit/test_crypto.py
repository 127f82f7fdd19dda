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


# --- age headers: device grants (decision 011) ---------------------------------------------

_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32(hrp: str, data: bytes, *, pad_bits: int = 0) -> str:
    """A Bech32 string (BIP 173), written independently of the code under test; ``pad_bits``
    sets the padding's value, which a valid string keeps at zero."""
    acc = bits = 0
    values = []
    for byte in data:
        acc, bits = (acc << 8) | byte, bits + 8
        while bits >= 5:
            bits -= 5
            values.append((acc >> bits) & 31)
    if bits:
        values.append(((acc << (5 - bits)) & 31) | pad_bits)

    def polymod(vs: list[int]) -> int:
        gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
        chk = 1
        for v in vs:
            top = chk >> 25
            chk = (chk & 0x1FFFFFF) << 5 ^ v
            for i in range(5):
                if (top >> i) & 1:
                    chk ^= gen[i]
        return chk

    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    check = polymod([*expanded, *values, 0, 0, 0, 0, 0, 0]) ^ 1
    values += [(check >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32[v] for v in values)


def _sealed(*identities: AgeIdentity, size: int = 2000) -> bytes:
    return crypto.seal(bytes(range(256)) * (size // 256 + 1), [i.recipient for i in identities])


def test_bech32_helper_agrees_with_age_keys() -> None:
    ident = AgeIdentity.generate()
    from clinphoto.crypto import _agehdr

    raw = _agehdr.x25519_recipient_bytes(ident.recipient)
    assert _bech32("age", raw) == ident.recipient
    secret = _agehdr.x25519_identity_bytes(ident.secret)
    assert _bech32("age-secret-key-", secret).upper() == ident.secret


def test_bech32_refuses_every_malformation() -> None:
    from clinphoto.crypto import _agehdr

    good = _bech32("age", bytes(range(32)))
    assert _agehdr.bech32_decode(good.upper(), "age") == bytes(range(32))
    bad = [
        "Age" + good[3:],  # mixed case
        good.replace("age1", "agf1", 1),  # another human-readable part
        "agexqpzry9x8",  # no separator
        "age1qpzry",  # shorter than a checksum
        good[:-1] + "b",  # "b" is not in the alphabet
        good[:-1] + ("q" if good[-1] != "q" else "p"),  # checksum
        _bech32("age", bytes(range(32)), pad_bits=1),  # padding not zero
        _bech32("age", bytes(range(32)))[:4] + "qq" + good[4:],  # padding longer than needed
    ]
    for text in bad:
        with pytest.raises(CryptoError):
            _agehdr.bech32_decode(text, "age")
    with pytest.raises(CryptoError):
        _agehdr.x25519_recipient_bytes(_bech32("age", bytes(31)))
    with pytest.raises(CryptoError):
        _agehdr.x25519_identity_bytes(_bech32("age-secret-key-", bytes(33)))


def test_split_age_finds_the_header_and_payload() -> None:
    ident = AgeIdentity.generate()
    ct = _sealed(ident)
    header, payload = crypto.split_age(ct)
    assert header + payload == ct
    assert header.startswith(b"age-encryption.org/v1\n")
    assert header.endswith(b"\n")
    assert header.rsplit(b"\n", 2)[1].startswith(b"--- ")
    for broken in (b"not age at all", ct[: len(header) - 50], header[:-1]):
        with pytest.raises(CryptoError):
            crypto.split_age(broken)
    with pytest.raises(CryptoError):
        crypto.split_age(ct, max_header=len(header) - 10)


def test_headers_written_by_pyrage_parse() -> None:
    idents = [AgeIdentity.generate() for _ in range(3)]
    for _ in range(10):  # rage adds a random "grease" stanza: several draws see its shapes
        header, _payload = crypto.split_age(_sealed(*idents))
        parsed = crypto.parse_header(header, x25519_only=False)
        assert parsed.x25519_count == 3
        assert len(parsed.mac) == 32
        assert parsed.size == len(header)
        assert header.startswith(parsed.mac_input)
        assert parsed.mac_input.endswith(b"\n---")


_SHARE = "A" * 43  # 32 zero bytes: a low-order point
_BODY = "B" * 42 + "A"  # 32 bytes


def _header(*stanzas: str, mac: str = "C" * 42 + "A") -> bytes:
    return ("age-encryption.org/v1\n" + "".join(stanzas) + f"--- {mac}\n").encode()


def test_parse_header_keeps_other_stanzas_only_when_asked() -> None:
    grease = "-> x-grease a!b ~\n" + "Q" * 64 + "\nQUJD\n"  # a body over two lines
    header = _header(f"-> X25519 {_SHARE}\n{_BODY}\n", grease)
    parsed = crypto.parse_header(header, x25519_only=False)
    assert [s.type for s in parsed.stanzas] == ["X25519", "x-grease"]
    assert parsed.stanzas[1].args == ("a!b", "~")
    assert len(parsed.stanzas[1].body) == 48 + 3
    assert parsed.x25519_count == 1
    with pytest.raises(CryptoError):
        crypto.parse_header(header)  # a grant holds X25519 stanzas only
    empty_body = _header(f"-> X25519 {_SHARE}\n{_BODY}\n", "-> other\n\n")
    assert crypto.parse_header(empty_body, x25519_only=False).stanzas[1].body == b""


def test_parse_header_refuses_malformed_headers() -> None:
    x = f"-> X25519 {_SHARE}\n{_BODY}\n"
    bad = [
        b"age-encryption.org/v2\n" + _header(x)[22:],  # another version
        _header(x)[:-1],  # no final newline
        _header(x) + b"payload",  # more than a header
        _header(),  # no stanza
        _header(x).replace(b"--- ", b"---", 1),  # MAC line
        _header(x, mac="A" * 42),  # MAC too short
        _header(x, mac="C" * 42 + "!"),  # not base64
        _header(x, mac="C" * 42 + "D"),  # base64 with non-zero trailing bits
        _header(x, mac="C" * 41),  # a length no base64 has
        _header(f"-> X25519 {_SHARE}\n"),  # a stanza with no body line before the MAC
        _header(f"-> X25519 {_SHARE}\n{'B' * 65}\n"),  # a body line over 64 columns
        _header(f"-> X25519 {_SHARE}\n{'B' * 64}\n"),  # a full line with nothing after it
        _header(f"-> \n{_BODY}\n"),  # no type
        _header(f"-> X25519  {_SHARE}\n{_BODY}\n"),  # an empty argument
        _header(f"-> X\x7f {_SHARE}\n{_BODY}\n"),  # not printable
        _header(f"-> X25519\n{_BODY}\n"),  # X25519 without its share
        _header(f"-> X25519 {_SHARE} more\n{_BODY}\n"),  # ...or with more
        _header(f"-> X25519 {_SHARE[:-4]}\n{_BODY}\n"),  # a share of the wrong length
        _header(f"-> X25519 {_SHARE}\n{_BODY[:-3]}\n"),  # a body of the wrong length
        _header(x) + b"\n",  # a line after the MAC's
        _header(x, "junk line\n"),  # neither stanza nor MAC
    ]
    for header in bad:
        with pytest.raises(CryptoError):
            crypto.parse_header(header, x25519_only=False)
    with pytest.raises(CryptoError):
        crypto.parse_header(_header(x, x), max_stanzas=1)
    with pytest.raises(CryptoError):
        crypto.parse_header(_header(x), max_bytes=20)
    assert crypto.parse_header(_header(x, x), max_stanzas=2).x25519_count == 2


def test_file_key_unwraps_for_a_recipient_and_checks_the_mac() -> None:
    a, b, outsider = AgeIdentity.generate(), AgeIdentity.generate(), AgeIdentity.generate()
    header, _ = crypto.split_age(_sealed(a, b))
    key = crypto.file_key(header, a)
    assert len(key) == 16
    assert crypto.file_key(header, b) == key
    with pytest.raises(CryptoError):
        crypto.file_key(header, outsider)
    mac_at = header.rindex(b"--- ") + 4
    flipped = "A" if header[mac_at : mac_at + 1] != b"A" else "B"
    with pytest.raises(CryptoError):  # the MAC no longer matches
        crypto.file_key(header[:mac_at] + flipped.encode() + header[mac_at + 1 :], a)
    grant = crypto.grant_header(key, [a.recipient])
    body_at = grant.index(b"\n", grant.index(b"-> X25519")) + 1
    flipped = "A" if grant[body_at : body_at + 1] != b"A" else "B"
    with pytest.raises(CryptoError):  # the stanza no longer opens: nobody's
        crypto.file_key(grant[:body_at] + flipped.encode() + grant[body_at + 1 :], a)
    low_order = _header(f"-> X25519 {_SHARE}\n{_BODY}\n")
    with pytest.raises(CryptoError):
        crypto.file_key(low_order, a)


def test_grant_opens_with_the_original_payload_and_nothing_else() -> None:
    owner, new, other = AgeIdentity.generate(), AgeIdentity.generate(), AgeIdentity.generate()
    ct = _sealed(owner, size=300_000)
    header, payload = crypto.split_age(ct)
    grant = crypto.grant_header(crypto.file_key(header, owner), [new.recipient])
    parsed = crypto.parse_header(grant)  # what the server checks: X25519 stanzas only
    assert parsed.x25519_count == 1
    assert len(grant) < 300
    assert crypto.open_sealed(grant + payload, new) == crypto.open_sealed(ct, owner)
    with pytest.raises(CryptoError):
        crypto.open_sealed(grant + payload, owner)  # the grant names only the new device
    two = crypto.grant_header(crypto.file_key(header, owner), [new.recipient, other.recipient])
    assert crypto.open_sealed(two + payload, other) == crypto.open_sealed(ct, owner)
    assert crypto.file_key(two, other) == crypto.file_key(header, owner)
    # A grant under another file key does not open this payload.
    forged = crypto.grant_header(bytes(16), [new.recipient])
    with pytest.raises(CryptoError):
        crypto.open_sealed(forged + payload, new)


def test_grant_header_refuses_bad_input() -> None:
    ident = AgeIdentity.generate()
    with pytest.raises(CryptoError):
        crypto.grant_header(bytes(15), [ident.recipient])
    with pytest.raises(CryptoError):
        crypto.grant_header(bytes(16), [])
    with pytest.raises(CryptoError):
        crypto.grant_header(bytes(16), ["age1nope"])
    with pytest.raises(CryptoError):  # a low-order key: every shared secret would be zero
        crypto.grant_header(bytes(16), [_bech32("age", bytes(32))])


@needs_age
def test_trn5_age_cli_opens_a_grant_with_its_payload(tmp_path: Path) -> None:
    owner, new = AgeIdentity.generate(), AgeIdentity.generate()
    ct = _sealed(owner, size=100_000)
    header, payload = crypto.split_age(ct)
    granted = tmp_path / "granted.age"
    granted.write_bytes(crypto.grant_header(crypto.file_key(header, owner), [new.recipient]))
    with granted.open("ab") as fh:
        fh.write(payload)
    key_file = tmp_path / "new.txt"
    key_file.write_text(new.identity_file())
    opened = subprocess.run(
        ["age", "-d", "-i", str(key_file), str(granted)], check=True, capture_output=True
    )
    assert opened.stdout == crypto.open_sealed(ct, owner)
    # And a header the age CLI wrote gives its file key to a grant too.
    theirs = subprocess.run(
        ["age", "-r", owner.recipient], input=b"from the CLI", check=True, capture_output=True
    ).stdout
    h, p = crypto.split_age(theirs)
    again = crypto.grant_header(crypto.file_key(h, owner), [new.recipient])
    assert crypto.open_sealed(again + p, new) == b"from the CLI"


def test_ret4_passphrase_sealing_round_trips_and_refuses_weak_or_wrong_passphrases() -> None:
    """A patient's copy of their record is sealed to a passphrase (age's scrypt recipient)."""
    passphrase = "correct horse battery staple 42"
    sealed = crypto.seal_with_passphrase(b"the patient's record", passphrase)
    assert sealed.startswith(b"age-encryption.org/v1\n-> scrypt ")
    assert crypto.open_with_passphrase(sealed, passphrase) == b"the patient's record"
    with pytest.raises(CryptoError):
        crypto.open_with_passphrase(sealed, passphrase + "!")
    with pytest.raises(CryptoError):
        crypto.open_with_passphrase(b"not an age file", passphrase)
    with pytest.raises(CryptoError):
        crypto.seal_with_passphrase(b"x", "too short")
