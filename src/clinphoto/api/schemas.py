"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from clinphoto.accounts.models import DeviceStatus, Role


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    email: str
    display_name: str
    institution: str
    role: Role


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    user_id: str
    name: str
    age_recipient: str
    signing_public: str
    fingerprint: str
    status: DeviceStatus
    enrolled_at: datetime
    revoked_at: datetime | None


class UserAdminOut(BaseModel):
    """A user as administrators list them."""

    id: str
    email: str
    display_name: str
    institution: str
    role: Role
    active: bool
    active_devices: int = Field(description="Devices that can sign in now")
    created_at: datetime


class EnrollIn(BaseModel):
    code: str = Field(max_length=40)
    password: str = Field(max_length=256)
    device_name: str = Field(max_length=100)
    age_recipient: str = Field(max_length=100)
    signing_public: str = Field(max_length=64)


class SessionOut(BaseModel):
    token: str
    user: UserOut
    device: DeviceOut


class LoginIn(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)
    device_id: str = Field(max_length=32)
    timestamp: str = Field(max_length=40, description="ISO-8601 UTC, within 2 minutes of now")
    signature: str = Field(
        max_length=100, description="Ed25519 signature by the device of the login message"
    )


class DevicePolicyOut(BaseModel):
    """What the institution asks of its devices (STO-1, STO-3)."""

    lock_after_seconds: int = Field(description="Idle time before the app locks")
    lock_warning_seconds: int = Field(description="How long before the lock it warns")
    max_failed_unlocks: int = Field(description="Wrong passcodes in a row that wipe the vault")


class MeOut(BaseModel):
    user: UserOut
    device: DeviceOut
    records_recipient: str = Field(description="The custodian's age recipient (records key)")
    device_policy: DevicePolicyOut


class EnrollmentCodeIn(BaseModel):
    user_id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{32}$",
        description="The user's id (administrators); omit for yourself",
    )


class EnrollmentCodeOut(BaseModel):
    user_id: str
    code: str
    expires_in_hours: int
