"""Accounts routes: enrollment, sign-in, sessions, devices, users.

Routes parse, call the accounts use cases (which decide, and audit) and render.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from clinphoto.accounts import service as accounts
from clinphoto.accounts import signin
from clinphoto.api.deps import OBJECT_ID_PATTERN, Auth, Db, Inst, Kdf
from clinphoto.api.schemas import (
    DeviceOut,
    DevicePolicyOut,
    EnrollIn,
    EnrollmentCodeIn,
    EnrollmentCodeOut,
    LoginIn,
    MeOut,
    SessionOut,
    UserAdminOut,
    UserOut,
)
from clinphoto.core import protocol

router = APIRouter(prefix="/v1", tags=["accounts"])

_THROTTLED: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many failed attempts from this address: wait, then try again"}
}


def _client(request: Request) -> str:
    """The caller's address, as the throttle counts it."""
    return request.client.host if request.client is not None else ""


def _session_out(done: accounts.SignedIn) -> SessionOut:
    return SessionOut(
        token=done.token,
        user=UserOut.model_validate(done.user),
        device=DeviceOut.model_validate(done.device),
    )


@router.post(
    "/enroll", summary="Enroll a device with a one-time code (public)", responses=_THROTTLED
)
def enroll(body: EnrollIn, request: Request, inst: Inst, kdf: Kdf) -> SessionOut:
    done = signin.enroll(
        inst.unit_of_work,
        code=body.code,
        password=body.password,
        device_name=body.device_name,
        age_recipient=body.age_recipient,
        signing_public=body.signing_public,
        client=_client(request),
        kdf=kdf,
        lookup_key=inst.keys.blind_index_key,
    )
    return _session_out(done)


@router.post(
    "/sessions",
    summary="Sign in: password plus a signature by the device (public)",
    responses=_THROTTLED,
)
def login(body: LoginIn, request: Request, inst: Inst, kdf: Kdf) -> SessionOut:
    done = signin.sign_in(
        inst.unit_of_work,
        email=body.email,
        password=body.password,
        device_id=body.device_id,
        timestamp=body.timestamp,
        signature=body.signature,
        client=_client(request),
        kdf=kdf,
        lookup_key=inst.keys.blind_index_key,
    )
    return _session_out(done)


@router.delete("/sessions/current", status_code=204, summary="Sign out")
def logout(principal: Auth, db: Db) -> Response:
    accounts.logout(db, principal)
    return Response(status_code=204)


@router.get("/me", summary="The signed-in user and device, and the records recipient")
def me(principal: Auth, inst: Inst, request: Request) -> MeOut:
    settings = request.app.state.settings
    return MeOut(
        user=UserOut.model_validate(principal.user),
        device=DeviceOut.model_validate(principal.device),
        records_recipient=inst.keys.records.recipient,
        device_policy=DevicePolicyOut(
            lock_after_seconds=settings.lock_after_seconds,
            lock_warning_seconds=protocol.LOCK_WARNING_SECONDS,
            max_failed_unlocks=protocol.MAX_FAILED_UNLOCKS,
        ),
    )


@router.get("/users", summary="Every user, with role, status and active devices (administrators)")
def list_users(principal: Auth, db: Db) -> list[UserAdminOut]:
    found = accounts.list_users(db, actor=principal.subject)
    return [
        UserAdminOut(
            id=s.user.id,
            email=s.user.email,
            display_name=s.user.display_name,
            institution=s.user.institution,
            role=s.user.role,
            active=s.user.active,
            active_devices=s.active_devices,
            created_at=s.user.created_at,
        )
        for s in found
    ]


@router.get("/devices", summary="Your devices (administrators: any user's, by user_id)")
def list_devices(
    principal: Auth,
    db: Db,
    user_id: Annotated[
        str | None,
        Query(pattern=OBJECT_ID_PATTERN, description="A user id (administrators); omit for yours"),
    ] = None,
) -> list[DeviceOut]:
    devices = accounts.list_devices(db, actor=principal.subject, user_id=user_id)
    return [DeviceOut.model_validate(d) for d in devices]


DeviceRef = Annotated[
    str,
    Path(
        pattern=r"^[0-9a-f]{8,32}$",
        min_length=8,
        max_length=32,
        description="A device id (32 lowercase hexadecimal characters) or its first 8 or more",
    ),
]


@router.delete(
    "/devices/{device_id}",
    summary="Revoke a device by id or unambiguous prefix: its sessions end at once",
)
def revoke_device(device_id: DeviceRef, principal: Auth, db: Db, request: Request) -> DeviceOut:
    device = accounts.revoke_device(db, actor=principal.subject, ref=device_id)
    if device.id == principal.device.id:
        # A device that revokes itself (the app's "remove this device") is told to wipe too.
        request.state.clear_site_data = True
    return DeviceOut.model_validate(device)


@router.post(
    "/enrollment-codes",
    summary="Approve a new device: a one-time enrollment code",
    responses=_THROTTLED,
)
def issue_enrollment_code(
    body: EnrollmentCodeIn, principal: Auth, db: Db, inst: Inst, request: Request
) -> EnrollmentCodeOut:
    user, code = accounts.approve_device(
        db,
        actor=principal.subject,
        user_id=body.user_id,
        client=_client(request),
        lookup_key=inst.keys.blind_index_key,
    )
    hours = int(accounts.ENROLLMENT_CODE_LIFETIME.total_seconds() // 3600)
    return EnrollmentCodeOut(user_id=user.id, code=code, expires_in_hours=hours)
