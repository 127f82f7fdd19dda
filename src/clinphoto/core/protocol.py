"""Byte strings that clients sign and the server verifies: part of the API contract, shared by
the server's services and the device client (which must not import server internals)."""

from __future__ import annotations


def login_message(device_id: str, email: str, timestamp: str) -> bytes:
    """What a device signs to sign in, alongside the password."""
    return "\x1f".join(["clinphoto-login-v1", device_id, email.lower(), timestamp]).encode()
