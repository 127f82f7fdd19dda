"""Sharing routes (TRN-4): recipient directory, send, inbox, download, acknowledge, status."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from clinphoto.accounts import service as accounts
from clinphoto.accounts.models import Device, Role, User
from clinphoto.api.deps import Auth, Db, Inst
from clinphoto.api.media import MediaOut, audit_denied, read_signed_manifest, store_body
from clinphoto.audit import service as audit
from clinphoto.audit.service import Action
from clinphoto.core.errors import DomainError, NotFound
from clinphoto.media import service as media_service
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
def directory(email: str, principal: Auth, db: Db, inst: Inst) -> RecipientOut:
    accounts.require_role(principal, Role.CLINICIAN)
    user = accounts.find_user_by_email(db, email)
    if user.role is Role.ADMINISTRATOR:
        raise NotFound()
    audit.append(
        db,
        inst.audit_keys,
        action=Action.DIRECTORY_LOOKUP,
        actor=principal.user.id,
        device=principal.device.id,
        object_type="user",
        object_id=user.id,
    )
    return RecipientOut(
        id=user.id,
        display_name=user.display_name,
        role=user.role,
        institution=user.institution,
        devices=[
            RecipientDevice(
                id=d.id, name=d.name, age_recipient=d.age_recipient, fingerprint=d.fingerprint
            )
            for d in accounts.active_devices(db, user.id)
        ],
    )


@router.post("/media/{media_id}/shares", status_code=201, summary="Send a re-sealed copy")
async def send(media_id: str, request: Request, principal: Auth, inst: Inst) -> ShareOut:
    manifest_bytes, manifest, signature = read_signed_manifest(request)

    def check() -> tuple[media_service.UploadPlan, str, str]:
        with inst.unit_of_work() as db:
            plan, original, recipient = sharing.check_share(
                db,
                principal=principal,
                original_id=media_id,
                records_recipient=inst.keys.records.recipient,
                manifest_bytes=manifest_bytes,
                manifest=manifest,
                signature=signature,
            )
            return plan, original.id, recipient

    try:
        plan, _, recipient_id = await run_in_threadpool(check)
    except DomainError as exc:
        await run_in_threadpool(audit_denied, inst, principal, Action.SHARE_SEND, media_id, exc)
        raise
    blob = await store_body(request, inst, plan)

    def record() -> Share:
        with inst.unit_of_work() as db:
            original = media_service.readable(
                db, principal=principal, media_id=media_id, purpose=str(manifest["purpose"])
            )
            share = sharing.record_share(
                db,
                principal=principal,
                plan=plan,
                original=original,
                recipient_id=recipient_id,
                blob=blob,
                jurisdiction=inst.blobs.jurisdiction,
            )
            audit.append(
                db,
                inst.audit_keys,
                action=Action.SHARE_SEND,
                actor=principal.user.id,
                device=principal.device.id,
                patient_ref=original.patient_id,
                object_type="share",
                object_id=share.id,
                purpose=share.purpose,
                details={
                    "recipient": recipient_id,
                    "original": original.id,
                    **media_service.text_audit(plan.manifest),
                },
            )
            return share

    return ShareOut.of(await run_in_threadpool(record))


@router.get("/media/{media_id}/shares", summary="Your shares of a photo and their status")
def sent(media_id: str, principal: Auth, db: Db) -> list[ShareOut]:
    return [ShareOut.of(s) for s in sharing.sent_for(db, principal=principal, original_id=media_id)]


@router.get("/inbox", summary="Photos shared with you")
def inbox(principal: Auth, db: Db) -> list[InboxItem]:
    items = []
    for share, copy in sharing.inbox(db, principal=principal):
        sender = db.get(Device, share.sender_device_id)
        person = db.get(User, share.sender_user_id)
        if sender is None or person is None:
            continue
        items.append(
            InboxItem(
                share=ShareOut.of(share),
                media=MediaOut.of(copy),
                sender_signing_public=sender.signing_public,
                sender_name=person.display_name,
                sender_institution=person.institution,
            )
        )
    return items


@router.get(
    "/shares/{share_id}/content",
    summary="Download a shared copy (marks it delivered)",
    response_class=StreamingResponse,
)
def share_content(share_id: str, principal: Auth, inst: Inst) -> StreamingResponse:
    try:
        with inst.unit_of_work() as db:
            share, copy = sharing.deliver(db, principal=principal, share_id=share_id)
            audit.append(
                db,
                inst.audit_keys,
                action=Action.SHARE_DELIVER,
                actor=principal.user.id,
                device=principal.device.id,
                patient_ref=copy.patient_id,
                object_type="share",
                object_id=share.id,
                purpose=share.purpose,
            )
            sha = copy.blob_sha256
    except DomainError as exc:
        audit_denied(inst, principal, Action.SHARE_DELIVER, share_id, exc)
        raise
    chunks: Iterator[bytes] = inst.blobs.open(sha)
    return StreamingResponse(chunks, media_type="application/octet-stream")


@router.post("/shares/{share_id}/ack", summary="Acknowledge receipt with a device signature")
def ack(share_id: str, body: AckIn, principal: Auth, db: Db, inst: Inst) -> ShareOut:
    share = sharing.acknowledge(
        db, principal=principal, share_id=share_id, signature=body.signature
    )
    audit.append(
        db,
        inst.audit_keys,
        action=Action.SHARE_ACK,
        actor=principal.user.id,
        device=principal.device.id,
        object_type="share",
        object_id=share.id,
        purpose=share.purpose,
    )
    return ShareOut.of(share)
