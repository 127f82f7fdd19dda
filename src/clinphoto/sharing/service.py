"""Sharing (TRN-4): the sender's device re-seals the photo to the recipient's active devices
and the records key; the server checks the sender may read the original for the purpose, that
the consent covers it, and that the copy is addressed to exactly the recipient's devices; the
recipient's device returns a signed acknowledgement."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinphoto import crypto
from clinphoto.accounts import service as accounts
from clinphoto.accounts.models import Role
from clinphoto.accounts.service import Principal
from clinphoto.core import protocol
from clinphoto.core.clock import new_id, utcnow
from clinphoto.core.errors import Invalid, NotFound
from clinphoto.inspection import service as inspection
from clinphoto.media import service as media_service
from clinphoto.media.models import Media
from clinphoto.sharing.models import Share
from clinphoto.storage.blobs import StoredBlob


def check_share(
    db: Session,
    *,
    principal: Principal,
    original_id: str,
    records_recipient: str,
    manifest_bytes: bytes,
    manifest: dict[str, Any],
    signature: str,
) -> tuple[media_service.UploadPlan, Media, str]:
    """Validate a share upload; returns the plan, the original, and the recipient's id."""
    purpose = str(manifest.get("purpose", ""))
    original = media_service.readable(
        db, principal=principal, media_id=original_id, purpose=purpose
    )
    if original.kind != media_service.PHOTO:
        raise NotFound()  # only photos travel; a consent's signature stays with its record
    inspection.require_shareable(db, original)
    recipient_id = str(manifest.get("recipient_user_id", ""))
    try:
        recipient = accounts.get_user(db, recipient_id)
    except NotFound:
        raise Invalid("the recipient is not a verified user of clinphoto") from None
    if recipient.id == principal.user.id or recipient.role is Role.ADMINISTRATOR:
        raise Invalid("the recipient must be another clinician")
    if manifest.get("plaintext_sha256") != original.plaintext_sha256:
        raise Invalid("a share must carry the original photo")
    expected = {d.age_recipient for d in accounts.active_devices(db, recipient.id)}
    if not expected:
        raise Invalid("the recipient has no active device")
    recipients = manifest.get("recipients")
    if not isinstance(recipients, list) or set(recipients) != expected | {records_recipient}:
        raise Invalid(
            "a share must be sealed to the recipient's active devices and the records key"
        )
    plan = media_service.check_manifest(
        db,
        principal=principal,
        manifest_bytes=manifest_bytes,
        manifest=manifest,
        signature=signature,
        kind="share",
    )
    return plan, original, recipient.id


def record_share(
    db: Session,
    *,
    principal: Principal,
    plan: media_service.UploadPlan,
    original: Media,
    recipient_id: str,
    blob: StoredBlob,
    jurisdiction: str,
) -> Share:
    copy = media_service.record_upload(
        db, plan, blob, jurisdiction, derived_from=original, consent_id=original.consent_id
    )
    share = Share(
        id=new_id(),
        original_media_id=original.id,
        copy_media_id=copy.id,
        sender_user_id=principal.user.id,
        sender_device_id=principal.device.id,
        recipient_user_id=recipient_id,
        purpose=str(plan.manifest["purpose"]),
        status="sent",
        sent_at=utcnow(),
    )
    db.add(share)
    db.flush()
    return share


def inbox(db: Session, *, principal: Principal) -> list[tuple[Share, Media]]:
    rows = db.execute(
        select(Share, Media)
        .join(Media, Media.id == Share.copy_media_id)
        .where(Share.recipient_user_id == principal.user.id)
        .order_by(Share.sent_at)
    ).all()
    return [(s, m) for s, m in rows]


def _received(db: Session, principal: Principal, share_id: str) -> tuple[Share, Media]:
    share = db.get(Share, share_id)
    if share is None or share.recipient_user_id != principal.user.id:
        raise NotFound()
    copy = db.get(Media, share.copy_media_id)
    if copy is None:
        raise NotFound()
    # The consent must still cover the purpose (CON-7: withdrawal stops later views).
    media_service.readable_by_consent(db, copy, share.purpose)
    return share, copy


def deliver(db: Session, *, principal: Principal, share_id: str) -> tuple[Share, Media]:
    share, copy = _received(db, principal, share_id)
    if share.status == "sent":
        share.status, share.delivered_at = "delivered", utcnow()
    return share, copy


def acknowledge(db: Session, *, principal: Principal, share_id: str, signature: str) -> Share:
    share, copy = _received(db, principal, share_id)
    message = protocol.ack_message(share.id, copy.plaintext_sha256)
    if not crypto.verify_signature(principal.device.signing_public, message, signature):
        raise Invalid("the acknowledgement signature does not verify")
    now = utcnow()
    share.delivered_at = share.delivered_at or now
    share.status, share.acknowledged_at = "acknowledged", now
    share.ack_device_id, share.ack_signature = principal.device.id, signature
    return share


def sent_for(db: Session, *, principal: Principal, original_id: str) -> list[Share]:
    original = db.get(Media, original_id)
    if original is None or original.author_user_id != principal.user.id:
        raise NotFound()
    return list(
        db.execute(
            select(Share)
            .where(
                Share.original_media_id == original_id, Share.sender_user_id == principal.user.id
            )
            .order_by(Share.sent_at)
        ).scalars()
    )
