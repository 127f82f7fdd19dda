"""The one exception of the crypto package."""

from __future__ import annotations


class CryptoError(Exception):
    """A cryptographic operation failed. The message never says why."""

    def __init__(self) -> None:
        super().__init__("cryptographic operation failed")
