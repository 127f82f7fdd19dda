"""The device vault (STO-3, BRE-4): sealed under the passcode, wiped after 10 wrong tries."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from clinphoto import crypto
from clinphoto.client.profile import MAX_FAILED_UNLOCKS, DeviceSecrets, Profile, ProfileError


def _secrets() -> DeviceSecrets:
    return DeviceSecrets(
        server="http://127.0.0.1:8000",
        user_id="u" * 32,
        email="a@h.example",
        device_id="d" * 32,
        age_secret=crypto.AgeIdentity.generate().secret,
        signing_key=base64.b64encode(crypto.SigningKey.generate().raw).decode(),
        token="session-token-value",
    )


def test_sto3_vault_holds_no_plaintext_key_and_opens_with_the_passcode(
    tmp_path: Path, kdf: crypto.KdfParams
) -> None:
    profile = Profile(tmp_path / "p", kdf)
    s = _secrets()
    profile.save(s, "246810")
    raw = profile.vault_path.read_text()
    assert s.age_secret not in raw
    assert s.token not in raw
    assert s.signing_key not in raw
    assert profile.vault_path.stat().st_mode & 0o077 == 0
    assert profile.unlock("246810") == s


def test_sto3_wrong_passcode_says_so_and_counts_down(tmp_path: Path, kdf: crypto.KdfParams) -> None:
    profile = Profile(tmp_path / "p", kdf)
    profile.save(_secrets(), "246810")
    with pytest.raises(ProfileError, match="9 attempts left"):
        profile.unlock("000000")
    profile.unlock("246810")  # a success resets the count
    with pytest.raises(ProfileError, match="9 attempts left"):
        profile.unlock("000000")


def test_bre4_vault_is_wiped_after_too_many_wrong_passcodes(
    tmp_path: Path, kdf: crypto.KdfParams
) -> None:
    profile = Profile(tmp_path / "p", kdf)
    profile.save(_secrets(), "246810")
    for _ in range(MAX_FAILED_UNLOCKS - 1):
        with pytest.raises(ProfileError, match="attempts left"):
            profile.unlock("000000")
    with pytest.raises(ProfileError, match="wiped"):
        profile.unlock("000000")
    assert not profile.exists()
    with pytest.raises(ProfileError, match="no device profile"):
        profile.unlock("246810")


def test_short_passcode_is_refused(tmp_path: Path, kdf: crypto.KdfParams) -> None:
    with pytest.raises(ProfileError, match="at least 6"):
        Profile(tmp_path / "p", kdf).save(_secrets(), "12345")
