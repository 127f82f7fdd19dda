"""Crypto recipes: every cryptographic operation clinphoto performs, named for what it does.

Primitives live in ``_primitives`` and nowhere else in the code base (a ruff rule bans
``cryptography.hazmat``, ``pyrage`` and ``argon2`` outside this package). Every failure is
raised as :class:`CryptoError`, which deliberately says nothing about why (TRN-5).
"""

from clinphoto.crypto._primitives import (
    FAST_TEST_KDF,
    RFC9106_KDF,
    AgeIdentity,
    CryptoError,
    FieldKeyring,
    KdfParams,
    SigningKey,
    blind_index,
    derive_vault_key,
    fingerprint,
    hash_password,
    is_age_recipient,
    is_signing_public,
    open_sealed,
    open_sealed_stream,
    password_needs_rehash,
    random_token,
    seal,
    seal_stream,
    sign,
    unwrap_key,
    verify_password,
    verify_signature,
    wrap_key,
)

__all__ = [
    "FAST_TEST_KDF",
    "RFC9106_KDF",
    "AgeIdentity",
    "CryptoError",
    "FieldKeyring",
    "KdfParams",
    "SigningKey",
    "blind_index",
    "derive_vault_key",
    "fingerprint",
    "hash_password",
    "is_age_recipient",
    "is_signing_public",
    "open_sealed",
    "open_sealed_stream",
    "password_needs_rehash",
    "random_token",
    "seal",
    "seal_stream",
    "sign",
    "unwrap_key",
    "verify_password",
    "verify_signature",
    "wrap_key",
]
