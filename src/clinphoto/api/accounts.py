"""Accounts routes: enrollment, sign-in, sessions, devices."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from clinphoto.accounts import service as accounts
from clinphoto.api.deps import Auth, Db, Inst, Kdf
from clinphoto.api.schemas import (
    DeviceOut,
    EnrollIn,
    EnrollmentCodeIn,
    EnrollmentCodeOut,
    LoginIn,
    MeOut,
    SessionOut,
    UserOut,
)
from clinphoto.audit import service as audit
from clinphoto.audit.service import Action, Outcome
from clinphoto.core.errors import DomainError

router = APIRouter(prefix="/v1", tags=["accounts"])


def _session_out(user: object, device: object, token: str) -> SessionOut:
    return SessionOut(
        token=token, user=UserOut.model_validate(user), device=DeviceOut.model_validate(device)
    )


@router.post("/enroll", summary="Enroll a device with a one-time code (public)")
def enroll(body: EnrollIn, inst: Inst, kdf: Kdf) -> SessionOut:
    failure: DomainError | None = None
    with inst.unit_of_work() as db:
        try:
            user, device, token = accounts.enroll_device(
                db,
                code=body.code,
                password=body.password,
                device_name=body.device_name,
                age_recipient=body.age_recipient,
                signing_public=body.signing_public,
                kdf=kdf,
            )
        except DomainError as exc:
            failure = exc
    if failure is not None:
        with inst.unit_of_work() as db:
            audit.append(
                db,
                inst.audit_keys,
                action=Action.DEVICE_ENROLL,
                outcome=Outcome.DENIED,
                details={"reason": failure.code},
            )
        raise failure
    with inst.unit_of_work() as db:
        audit.append(
            db,
            inst.audit_keys,
            action=Action.DEVICE_ENROLL,
            actor=user.id,
            device=device.id,
            object_type="device",
            object_id=device.id,
        )
    return _session_out(user, device, token)


@router.post("/sessions", summary="Sign in: password plus a signature by the device (public)")
def login(body: LoginIn, inst: Inst, kdf: Kdf) -> SessionOut:
    failure: DomainError | None = None
    # The failed-attempt counter must persist even though the sign-in fails, so the
    # attempt and its audit entry commit in their own transaction.
    with inst.unit_of_work() as db:
        try:
            user, device, token = accounts.login(
                db,
                email=body.email,
                password=body.password,
                device_id=body.device_id,
                timestamp=body.timestamp,
                signature=body.signature,
                kdf=kdf,
            )
        except DomainError as exc:
            failure = exc
            audit.append(
                db,
                inst.audit_keys,
                action=Action.LOGIN,
                outcome=Outcome.DENIED,
                details={"reason": exc.code},
            )
        else:
            audit.append(db, inst.audit_keys, action=Action.LOGIN, actor=user.id, device=device.id)
    if failure is not None:
        raise failure
    return _session_out(user, device, token)


@router.delete("/sessions/current", status_code=204, summary="Sign out")
def logout(principal: Auth, db: Db, inst: Inst) -> Response:
    accounts.end_session(db, principal)
    audit.append(
        db,
        inst.audit_keys,
        action=Action.LOGOUT,
        actor=principal.user.id,
        device=principal.device.id,
    )
    return Response(status_code=204)


@router.get("/me", summary="The signed-in user and device, and the records recipient")
def me(principal: Auth, inst: Inst) -> MeOut:
    return MeOut(
        user=UserOut.model_validate(principal.user),
        device=DeviceOut.model_validate(principal.device),
        records_recipient=inst.keys.records.recipient,
    )


@router.get("/devices", summary="Your devices (administrators: any user's, by user_id)")
def list_devices(principal: Auth, db: Db, user_id: str | None = None) -> list[DeviceOut]:
    devices = accounts.list_devices(db, actor=principal, user_id=user_id)
    return [DeviceOut.model_validate(d) for d in devices]


@router.delete("/devices/{device_id}", summary="Revoke a device: its sessions end at once")
def revoke_device(device_id: str, principal: Auth, db: Db, inst: Inst) -> DeviceOut:
    device = accounts.revoke_device(db, actor=principal, device_id=device_id)
    audit.append(
        db,
        inst.audit_keys,
        action=Action.DEVICE_REVOKE,
        actor=principal.user.id,
        device=principal.device.id,
        object_type="device",
        object_id=device.id,
    )
    return DeviceOut.model_validate(device)


@router.post("/enrollment-codes", summary="Approve a new device: a one-time enrollment code")
def issue_enrollment_code(
    body: EnrollmentCodeIn, principal: Auth, db: Db, inst: Inst, request: Request
) -> EnrollmentCodeOut:
    user, code = accounts.issue_code_for(db, actor=principal, user_id=body.user_id)
    audit.append(
        db,
        inst.audit_keys,
        action=Action.ENROLLMENT_CODE_ISSUE,
        actor=principal.user.id,
        device=principal.device.id,
        object_type="user",
        object_id=user.id,
    )
    hours = int(accounts.ENROLLMENT_CODE_LIFETIME.total_seconds() // 3600)
    return EnrollmentCodeOut(user_id=user.id, code=code, expires_in_hours=hours)
