"""Sharing routes (TRN-4): recipient directory, send, inbox, download, acknowledge, status."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from clinphoto.accounts.models import Role
from clinphoto.api.deps import OBJECT_ID_PATTERN, Auth, Db, Inst, ObjectId
from clinphoto.api.errors import CONFLICT
from clinphoto.api.media import (
    MediaOut,
    discarded_if_refused,
    read_signed_manifest,
    sealed_upload_openapi,
    store_body,
)
from clinphoto.core import wire
from clinphoto.core.errors import DomainError
from clinphoto.sharing import grants
from clinphoto.sharing import service as sharing
from clinphoto.sharing.models import Share

router = APIRouter(prefix="/v1", tags=["sharing"])


class RecipientDevice(BaseModel):
    id: str
    name: str
    age_recipient: str
    fingerprint: str


class RecipientOut(BaseModel):
    """What a sender is shown before confirming a share (TRN-4)."""

    id: str
    display_name: str
    role: Role
    institution: str
    devices: list[RecipientDevice]


class ShareOut(BaseModel):
    id: str
    original_media_id: str
    copy_media_id: str
    sender_user_id: str
    sender_device_id: str
    recipient_user_id: str
    purpose: str
    status: str
    sent_at: datetime
    delivered_at: datetime | None
    acknowledged_at: datetime | None

    @classmethod
    def of(cls, s: Share) -> ShareOut:
        return cls(**{f: getattr(s, f) for f in cls.model_fields})


class InboxItem(BaseModel):
    share: ShareOut
    media: MediaOut
    sender_signing_public: str
    sender_name: str = Field(description="The sender's display name, as the directory shows it")
    sender_institution: str


class AckIn(BaseModel):
    signature: str = Field(max_length=128, description="Ed25519 over the ack message")


@router.get("/directory", summary="Look up a recipient: name, role, institution, devices")
def directory(
    email: Annotated[str, Query(max_length=254, description="The colleague's e-mail")],
    principal: Auth,
    db: Db,
) -> RecipientOut:
    user, devices = sharing.directory(db, principal=principal, email=email)
    return RecipientOut(
        id=user.id,
        display_name=user.display_name,
        role=user.role,
        institution=user.institution,
        devices=[
            RecipientDevice(
                id=d.id, name=d.name, age_recipient=d.age_recipient, fingerprint=d.fingerprint
            )
            for d in devices
        ],
    )


@router.post(
    "/media/{media_id}/shares",
    status_code=201,
    summary="Send a re-sealed copy",
    responses=CONFLICT,
    openapi_extra=sealed_upload_openapi(wire.ShareManifest, "share"),
)
async def send(media_id: ObjectId, request: Request, principal: Auth, inst: Inst) -> ShareOut:
    manifest_bytes, manifest, signature = read_signed_manifest(request)

    def check() -> sharing.SharePlan:
        with inst.unit_of_work() as db:
            return sharing.check_share(
                db,
                principal=principal,
                original_id=media_id,
                records_recipient=inst.keys.records.recipient,
                manifest_bytes=manifest_bytes,
                manifest=manifest,
                signature=signature,
            )

    plan = await run_in_threadpool(check)
    try:
        blob = await store_body(request, inst, plan.upload)
    except DomainError as exc:

        def failed(error: DomainError) -> None:
            with inst.unit_of_work() as db:
                sharing.share_failed(db, principal=principal, plan=plan, error=error)

        await run_in_threadpool(failed, exc)
        raise

    def record() -> Share:
        with discarded_if_refused(inst, blob), inst.unit_of_work() as db:
            return sharing.record_share(
                db,
                principal=principal,
                plan=plan,
                blob=blob,
                jurisdiction=inst.blobs.jurisdiction,
            )

    return ShareOut.of(await run_in_threadpool(record))


class SentShareOut(ShareOut):
    recipient_name: str = Field(
        description="The recipient's display name, as the directory shows it"
    )
    recipient_institution: str
    recalled_at: datetime | None = Field(
        None, description="When the share was recalled (BRE-2); the recipient's access ended"
    )
    patient_id: str | None = Field(
        None, description="The photo's patient (a random id; in the list of all sent shares)"
    )

    @classmethod
    def of_sent(cls, e: sharing.SentShare) -> SentShareOut:
        return cls(
            **ShareOut.of(e.share).model_dump(),
            recipient_name=e.recipient_name,
            recipient_institution=e.recipient_institution,
            recalled_at=e.share.recalled_at,
            patient_id=e.patient_id or None,
        )


@router.get("/media/{media_id}/shares", summary="Your shares of a photo and their status")
def sent(media_id: ObjectId, principal: Auth, db: Db) -> list[SentShareOut]:
    return [
        SentShareOut.of_sent(e)
        for e in sharing.sent_for(db, principal=principal, original_id=media_id)
    ]


@router.get(
    "/shares/sent",
    summary="Every share you sent, newest first, and its status",
    description="Sent, delivered, acknowledged or recalled, per recipient, across all your "
    "photos; `waiting=true` keeps those not yet acknowledged nor recalled. A page at a time: "
    "the next page is `before` the last share's id.",
)
def sent_all(
    principal: Auth,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=200)] = sharing.SENT_PAGE,
    before: Annotated[str | None, Query(pattern=OBJECT_ID_PATTERN)] = None,
    waiting: bool = False,
) -> list[SentShareOut]:
    found = sharing.sent(db, principal=principal, limit=limit, before=before, waiting=waiting)
    return [SentShareOut.of_sent(e) for e in found]


@router.get("/inbox", summary="Photos shared with you")
def inbox(principal: Auth, db: Db) -> list[InboxItem]:
    entries = sharing.inbox(db, principal=principal)
    texts = grants.text_grants(db, principal.device, [e.copy for e in entries])
    return [
        InboxItem(
            share=ShareOut.of(e.share),
            media=MediaOut.of(e.copy, texts.get(e.copy.id)),
            sender_signing_public=e.sender_signing_public,
            sender_name=e.sender_name,
            sender_institution=e.sender_institution,
        )
        for e in entries
    ]


@router.get(
    "/shares/{share_id}/content",
    summary="Download a shared copy (marks it delivered)",
    description="The stored age file; for a device enrolled after the share was sealed, "
    "its grant's header followed by the stored payload (decision 011).",
    response_class=StreamingResponse,
)
def share_content(share_id: ObjectId, principal: Auth, inst: Inst) -> StreamingResponse:
    with inst.unit_of_work() as db:
        _, copy = sharing.deliver(db, principal=principal, share_id=share_id)
        grant = grants.grant_for(db, principal.device, copy, grants.CONTENT)
        sha = copy.blob_sha256
    chunks: Iterator[bytes] = grants.with_grant(grant, inst.blobs.open(sha))
    return StreamingResponse(chunks, media_type="application/octet-stream")


@router.post("/shares/{share_id}/ack", summary="Acknowledge receipt with a device signature")
def ack(share_id: ObjectId, body: AckIn, principal: Auth, db: Db) -> ShareOut:
    share = sharing.acknowledge(
        db, principal=principal, share_id=share_id, signature=body.signature
    )
    return ShareOut.of(share)
