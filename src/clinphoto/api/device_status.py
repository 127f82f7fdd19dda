"""Device status routes (BRE-2, BRE-4, BRE-5; docs/wire/device-status.md, decision 014).

The status key is registered with a session; the three reports after that have none: they
are signed by the status key, so that a locked or revoked device can still report, be told
to wipe, and confirm. They are on the allow-list in ``api/app.py`` for that reason, and are
throttled per client address like sign-in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from clinphoto.accounts import service as accounts
from clinphoto.api.deps import OBJECT_ID_PATTERN, Auth, Db, Inst
from clinphoto.api.errors import ErrorBody
from clinphoto.api.records import Clk
from clinphoto.breaches import devices

router = APIRouter(prefix="/v1", tags=["device status"])

Id = Annotated[str, StringConstraints(pattern=OBJECT_ID_PATTERN)]
WireTime = Annotated[
    str,
    StringConstraints(max_length=40),
    Field(description="UTC time as signed, like 2026-11-30T06:00:00Z"),
]
Signature = Annotated[str, Field(max_length=128, description="Ed25519 by the status key")]

_REFUSED: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ErrorBody,
        "description": "Too many refused reports from this address: wait, then try again",
    },
    401: {
        "model": ErrorBody,
        "description": "bad_status_signature: unknown device, no status key, or bad signature",
    },
}


def client_address(request: Request) -> str:
    """The caller's address, as the throttle counts it (as sign-in does)."""
    return request.client.host if request.client is not None else ""


class StatusKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    public_key: str = Field(max_length=64, description="base64url Ed25519 public key")


class HeldItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    patient_id: Id
    encounter_id: Id
    media_id: Id


class StatusReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device_id: Id
    time: WireTime
    locked: bool
    locked_since: WireTime | None
    # The bound is checked by the use case (422 naming `holding`), not declared as maxItems:
    # a list over it could be refused as too large a body (413) first.
    holding: list[HeldItem] | None = Field(
        description=f"Captures not yet uploaded, at most {devices.MAX_HOLDING}; "
        "null: not known now",
    )
    signature: Signature


class WipeOut(BaseModel):
    wipe_id: str
    requested_at: datetime


class StatusReportOut(BaseModel):
    wipe: WipeOut | None
    delete_shares: list[str]
    next_poll_seconds: int


class Erased(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vault: bool
    outbox_items: int = Field(ge=0, le=1_000_000)
    databases: int = Field(ge=0, le=1_000_000)
    caches: int = Field(ge=0, le=1_000_000)


class WipeConfirmationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device_id: Id
    wipe_id: Id
    wiped_at: WireTime
    erased: Erased
    signature: Signature


class DeleteConfirmationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device_id: Id
    share_id: Id
    deleted_at: WireTime
    signature: Signature


@router.put(
    "/devices/current/status-key",
    status_code=204,
    summary="Register this device's status key (once)",
    responses={
        409: {"model": ErrorBody, "description": "status_key_set: another key is registered"}
    },
)
def register_status_key(body: StatusKeyIn, principal: Auth, db: Db) -> Response:
    accounts.set_status_key(db, principal=principal, public_key=body.public_key)
    return Response(status_code=204)


@router.post(
    "/device-status",
    summary="A device's signed status report; answers wipe and delete orders (public)",
    responses={
        **_REFUSED,
        400: {"model": ErrorBody, "description": "stale_status: time too far from the server's"},
    },
)
def status_report(
    body: StatusReportIn, request: Request, inst: Inst, clock: Clk
) -> StatusReportOut:
    holding = None if body.holding is None else [h.model_dump() for h in body.holding]
    answer = devices.report_status(
        inst.unit_of_work,
        body=devices.StatusIn(
            device_id=body.device_id,
            time=body.time,
            locked=body.locked,
            locked_since=body.locked_since,
            holding=holding,
            signature=body.signature,
        ),
        client=client_address(request),
        lookup_key=inst.keys.blind_index_key,
        clock=clock,
    )
    wipe = answer.wipe
    return StatusReportOut(
        wipe=None if wipe is None else WipeOut(wipe_id=wipe.id, requested_at=wipe.requested_at),
        delete_shares=answer.delete_shares,
        next_poll_seconds=answer.next_poll_seconds,
    )


@router.post(
    "/device-status/wipe-confirmation",
    status_code=204,
    summary="A wiped device's signed confirmation (public)",
    responses=_REFUSED,
)
def wipe_confirmation(
    body: WipeConfirmationIn, request: Request, inst: Inst, clock: Clk
) -> Response:
    devices.confirm_wipe(
        inst.unit_of_work,
        device_id=body.device_id,
        wipe_id=body.wipe_id,
        wiped_at=body.wiped_at,
        erased=body.erased.model_dump(),
        signature=body.signature,
        client=client_address(request),
        lookup_key=inst.keys.blind_index_key,
        clock=clock,
    )
    return Response(status_code=204)


@router.post(
    "/device-status/delete-confirmation",
    status_code=204,
    summary="A recipient device's signed confirmation that it deleted a recalled share (public)",
    responses=_REFUSED,
)
def delete_confirmation(
    body: DeleteConfirmationIn, request: Request, inst: Inst, clock: Clk
) -> Response:
    devices.confirm_share_deleted(
        inst.unit_of_work,
        device_id=body.device_id,
        share_id=body.share_id,
        deleted_at=body.deleted_at,
        signature=body.signature,
        client=client_address(request),
        lookup_key=inst.keys.blind_index_key,
        clock=clock,
    )
    return Response(status_code=204)
