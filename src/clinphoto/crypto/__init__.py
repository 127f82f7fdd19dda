"""Crypto recipes: every cryptographic operation clinphoto performs, named for what it does.

Primitives live in ``_primitives`` (and, for age headers written and read directly, in
``_agehdr``) and nowhere else in the code base (a ruff rule bans
``cryptography.hazmat``, ``pyrage`` and ``argon2`` outside this package). Every failure is
raised as :class:`CryptoError`, which deliberately says nothing about why (TRN-5).
"""

from clinphoto.crypto._agehdr import MAX_HEADER_BYTES as MAX_AGE_HEADER_BYTES
from clinphoto.crypto._agehdr import AgeHeader, Stanza, parse_header, split_age
from clinphoto.crypto._errors import CryptoError
from clinphoto.crypto._primitives import (
    FAST_TEST_KDF,
    RFC9106_KDF,
    AgeIdentity,
    FieldKeyring,
    KdfParams,
    SigningKey,
    blind_index,
    derive_vault_key,
    file_key,
    fingerprint,
    grant_header,
    hash_password,
    is_age_recipient,
    is_signing_public,
    open_sealed,
    open_sealed_stream,
    open_with_passphrase,
    password_needs_rehash,
    random_token,
    seal,
    seal_stream,
    seal_with_passphrase,
    sign,
    unwrap_key,
    verify_password,
    verify_signature,
    wrap_key,
)

__all__ = [
    "FAST_TEST_KDF",
    "MAX_AGE_HEADER_BYTES",
    "RFC9106_KDF",
    "AgeHeader",
    "AgeIdentity",
    "CryptoError",
    "FieldKeyring",
    "KdfParams",
    "SigningKey",
    "Stanza",
    "blind_index",
    "derive_vault_key",
    "file_key",
    "fingerprint",
    "grant_header",
    "hash_password",
    "is_age_recipient",
    "is_signing_public",
    "open_sealed",
    "open_sealed_stream",
    "open_with_passphrase",
    "parse_header",
    "password_needs_rehash",
    "random_token",
    "seal",
    "seal_stream",
    "seal_with_passphrase",
    "sign",
    "split_age",
    "unwrap_key",
    "verify_password",
    "verify_signature",
    "wrap_key",
]
