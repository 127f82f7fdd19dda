"""Sharing (TRN-4): the sender's device re-seals the photo to the recipient's active devices
and the records key; the server checks, through the access policy, that the sender took the
photo, that the consent covers the share's purpose, that the photo is neither quarantined
nor identifiable beyond its consent, and that the copy is addressed to exactly the
recipient's devices. The recipient's device returns a signed acknowledgement.

Each use case writes its audit entry, allowed or refused; listings (inbox, sent shares) are
audited against each patient they show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinphoto import crypto, policy
from clinphoto.accounts import service as accounts
from clinphoto.accounts.models import Device, Role, User
from clinphoto.accounts.service import Principal
from clinphoto.audit import service as audit
from clinphoto.audit.service import Action
from clinphoto.consent import service as consent
from clinphoto.core import protocol, text
from clinphoto.core.clock import new_id, utcnow
from clinphoto.core.errors import Conflict, DomainError, Invalid, NotFound
from clinphoto.crypto import FieldKeyring
from clinphoto.inspection import service as inspection
from clinphoto.media import service as media_service
from clinphoto.media.models import Media
from clinphoto.patients import service as patients
from clinphoto.policy import Act, Coverage, ObjectKind, Relation, Resource
from clinphoto.sharing.models import Share
from clinphoto.storage.blobs import StoredBlob


def directory(db: Session, *, principal: Principal, email: str) -> tuple[User, list[Device]]:
    """Who a share would go to (TRN-4): name, role, institution and active devices, for the
    sender to confirm. Clinicians only; an unknown address is the sender's own mistake and
    is said so; the address looked up is never written down."""
    grant = policy.authorize(
        db,
        principal.subject,
        Act.SHARE,
        Resource(
            ObjectKind.USER,
            relations=frozenset({Relation.AUTHOR}),
            coverage=Coverage.COVERED,
        ),
        action=Action.DIRECTORY_LOOKUP,
    )
    try:
        user = accounts.find_user_by_email(db, text.clean(email, "email", max_len=254))
    except NotFound:
        user = None
    if user is None or user.role is not Role.CLINICIAN:
        raise Invalid("email: no clinician of this clinphoto has that address; check it")
    grant.record(db, object_id=user.id, object_type="user")
    return user, accounts.active_devices(db, user.id)


@dataclass(frozen=True)
class SharePlan:
    upload: media_service.UploadPlan
    original_id: str
    recipient_id: str
    purpose: str


def _share_resource(
    db: Session, principal: Principal, original_id: str, purpose: str
) -> tuple[Media, Resource]:
    media, resource = media_service.media_resource(db, principal, original_id, purpose)
    if media.id and media.kind != media_service.PHOTO:
        # Only photos travel; a consent's signature stays with its record.
        return media, Resource(ObjectKind.MEDIA, id=original_id, exists=False)
    if media.id:
        resource = Resource(
            ObjectKind.MEDIA,
            id=media.id,
            patient_ref=media.patient_id,
            relations=resource.relations,
            coverage=resource.coverage,
            quarantined=inspection.is_quarantined(db, media.id),
        )
    return media, resource


def check_share(
    db: Session,
    *,
    principal: Principal,
    original_id: str,
    records_recipient: str,
    manifest_bytes: bytes,
    manifest: dict[str, Any],
    signature: str,
) -> SharePlan:
    """Validate a share upload before its body arrives; every refusal is audited."""
    purpose = str(manifest.get("purpose", ""))[:32]
    original, resource = _share_resource(db, principal, original_id, purpose)
    try:
        policy.authorize(
            db, principal.subject, Act.SHARE, resource, action=Action.SHARE_SEND, purpose=purpose
        )
        inspection.require_shareable(db, original)
        recipient_id = str(manifest.get("recipient_user_id", ""))
        try:
            recipient = accounts.get_user(db, recipient_id)
        except NotFound:
            raise Invalid(
                "recipient_user_id: not a verified user of clinphoto (look them up with "
                "clinphoto share --to EMAIL)"
            ) from None
        if recipient.id == principal.user.id or recipient.role is not Role.CLINICIAN:
            raise Invalid("recipient_user_id: the recipient must be another clinician")
        if manifest.get("plaintext_sha256") != original.plaintext_sha256:
            raise Invalid("a share must carry the original photo")
        expected = {d.age_recipient for d in accounts.active_devices(db, recipient.id)}
        if not expected:
            raise Invalid("the recipient has no active device: ask them to enroll one")
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
    except DomainError as exc:
        policy.audit_refusal(db, principal.subject, Action.SHARE_SEND, resource, exc)
        raise
    upload = media_service.UploadPlan(
        plan.manifest_bytes, plan.manifest, plan.signature, "", Action.SHARE_SEND
    )
    return SharePlan(upload, original.id, recipient.id, purpose)


def share_failed(db: Session, *, principal: Principal, plan: SharePlan, error: DomainError) -> None:
    """Audit a share whose body could not be stored."""
    resource = Resource(
        ObjectKind.MEDIA, id=plan.original_id, patient_ref=_patient_of(db, plan.original_id)
    )
    policy.audit_refusal(db, principal.subject, Action.SHARE_SEND, resource, error)


def _patient_of(db: Session, media_id: str) -> str:
    media = db.get(Media, media_id)
    return media.patient_id if media is not None else ""


def record_share(
    db: Session,
    *,
    principal: Principal,
    plan: SharePlan,
    blob: StoredBlob,
    jurisdiction: str,
) -> Share:
    """Record the share once its body is stored: device, session, consent, quarantine and
    the inspection gate are checked again; the recipient may confirm whose photo it is."""
    original, resource = _share_resource(db, principal, plan.original_id, plan.purpose)
    try:
        accounts.require_still_signed_in(db, principal)
        grant = policy.authorize(
            db,
            principal.subject,
            Act.SHARE,
            resource,
            action=Action.SHARE_SEND,
            purpose=plan.purpose,
        )
        inspection.require_shareable(db, original)
        copy = media_service.record_upload(
            db,
            plan.upload,
            blob,
            jurisdiction,
            derived_from=original,
            consent_id=original.consent_id,
        )
    except DomainError as exc:
        policy.audit_refusal(db, principal.subject, Action.SHARE_SEND, resource, exc)
        raise
    share = Share(
        id=new_id(),
        original_media_id=original.id,
        copy_media_id=copy.id,
        sender_user_id=principal.user.id,
        sender_device_id=principal.device.id,
        recipient_user_id=plan.recipient_id,
        purpose=plan.purpose,
        status="sent",
        sent_at=utcnow(),
    )
    db.add(share)
    db.flush()
    patients.join_care_team(
        db,
        patient_id=original.patient_id,
        user_id=plan.recipient_id,
        source=patients.SHARE,
        by=principal.user.id,
    )
    grant.record(
        db,
        object_id=share.id,
        object_type="share",
        details={
            "recipient": plan.recipient_id,
            "original": original.id,
            **media_service.text_audit(plan.upload.manifest),
        },
    )
    return share


@dataclass(frozen=True)
class InboxEntry:
    share: Share
    copy: Media
    sender_signing_public: str
    sender_name: str
    sender_institution: str


def _share_as_resource(
    db: Session, principal: Principal, share: Share | None, share_id: str
) -> tuple[Media, Resource]:
    copy = db.get(Media, share.copy_media_id) if share is not None else None
    if share is None or copy is None or share.recalled_at is not None:
        # A recalled share is gone for its recipient: not listed, not downloadable (BRE-2).
        return Media(id=""), Resource(ObjectKind.SHARE, id=share_id, exists=False)
    rels = (
        frozenset({Relation.SHARE_RECIPIENT})
        if share.recipient_user_id == principal.user.id
        else frozenset()
    )
    # CON-7: a withdrawal stops later views of what was shared.
    found, _ = consent.coverage(db, copy.patient_id, copy.encounter_id, share.purpose)
    return copy, Resource(
        ObjectKind.SHARE,
        id=share.id,
        patient_ref=copy.patient_id,
        relations=rels,
        coverage=found,
    )


def inbox(db: Session, *, principal: Principal) -> list[InboxEntry]:
    """Shares to the caller whose consent still covers their purpose; each listed share is
    audited against its patient."""
    rows = db.execute(
        select(Share, Media)
        .join(Media, Media.id == Share.copy_media_id)
        .where(Share.recipient_user_id == principal.user.id)
        .order_by(Share.sent_at)
    ).all()
    entries = []
    for share, copy in rows:
        _, resource = _share_as_resource(db, principal, share, share.id)
        if not policy.decide(principal.subject, Act.RECEIVE, resource, share.purpose).allowed:
            continue
        sender = db.get(Device, share.sender_device_id)
        person = db.get(User, share.sender_user_id)
        if sender is None or person is None:
            continue
        entries.append(
            InboxEntry(share, copy, sender.signing_public, person.display_name, person.institution)
        )
    # The listing itself is the disclosure: one entry per share shown (one when none).
    listed: list[InboxEntry | None] = [*entries] or [None]
    for entry in listed:
        audit.log(
            db,
            action=Action.INBOX_LIST,
            actor=principal.user.id,
            device=principal.device.id,
            patient_ref=entry.copy.patient_id if entry else "",
            object_type="share",
            object_id=entry.share.id if entry else "",
            purpose=entry.share.purpose if entry else "",
            details={"results": len(entries)},
        )
    return entries


def _received(
    db: Session, principal: Principal, share_id: str, act: Act, action: Action
) -> tuple[Share, Media, policy.Grant]:
    share = db.get(Share, share_id) if text.is_id(share_id) else None
    copy, resource = _share_as_resource(db, principal, share, share_id)
    grant = policy.authorize(
        db,
        principal.subject,
        act,
        resource,
        action=action,
        purpose=share.purpose if share is not None else "",
    )
    assert share is not None
    return share, copy, grant


def deliver(db: Session, *, principal: Principal, share_id: str) -> tuple[Share, Media]:
    share, copy, grant = _received(db, principal, share_id, Act.RECEIVE, Action.SHARE_DELIVER)
    if share.status == "sent":
        share.status, share.delivered_at = "delivered", utcnow()
    grant.record(db)
    return share, copy


def acknowledge(db: Session, *, principal: Principal, share_id: str, signature: str) -> Share:
    share, copy, grant = _received(db, principal, share_id, Act.ACKNOWLEDGE, Action.SHARE_ACK)
    message = protocol.ack_message(share.id, copy.plaintext_sha256)
    if not crypto.verify_signature(principal.device.signing_public, message, signature):
        _, resource = _share_as_resource(db, principal, share, share_id)
        raise policy.audit_refusal(
            db,
            principal.subject,
            Action.SHARE_ACK,
            resource,
            Invalid("signature: the acknowledgement signature does not verify"),
        )
    now = utcnow()
    share.delivered_at = share.delivered_at or now
    share.status, share.acknowledged_at = "acknowledged", now
    share.ack_device_id, share.ack_signature = principal.device.id, signature
    grant.record(db)
    return share


@dataclass(frozen=True)
class SentShare:
    """One share of the caller's photo, with whom it went to, as the directory names them."""

    share: Share
    recipient_name: str
    recipient_institution: str
    patient_id: str = ""  # the photo's patient (a random id), for a link to the photo


def sent_for(db: Session, *, principal: Principal, original_id: str) -> list[SentShare]:
    """The caller's shares of their own photo, with status and recipient (TRN-4); audited."""
    media, resource = _listing_resource(db, principal, original_id)
    grant = policy.authorize(
        db, principal.subject, Act.LIST_SHARES, resource, action=Action.SHARE_LIST
    )
    shares = list(
        db.execute(
            select(Share)
            .where(Share.original_media_id == media.id, Share.sender_user_id == principal.user.id)
            .order_by(Share.sent_at)
        ).scalars()
    )
    grant.record(db, details={"results": len(shares)})
    return _with_recipients(db, [(share, "") for share in shares])


def _listing_resource(db: Session, principal: Principal, media_id: str) -> tuple[Media, Resource]:
    """A photo as the listing of its shares sees it: the sender's relation to it, not what
    today's consent covers (a share already sent stays the sender's to follow up)."""
    media, found = media_service.media_resource(db, principal, media_id, "")
    return media, Resource(
        ObjectKind.MEDIA,
        id=found.id,
        patient_ref=found.patient_ref,
        exists=found.exists,
        relations=found.relations,
    )


def _with_recipients(db: Session, shares: list[tuple[Share, str]]) -> list[SentShare]:
    """``shares`` (each with its patient id, or "") with their recipients as the directory
    names them."""
    people = {
        u.id: u
        for u in db.execute(
            select(User).where(User.id.in_({share.recipient_user_id for share, _ in shares}))
        ).scalars()
    }
    return [
        SentShare(
            share,
            people[share.recipient_user_id].display_name,
            people[share.recipient_user_id].institution,
            patient_id,
        )
        for share, patient_id in shares
    ]


SENT_PAGE = 50  # shares listed at a time by default


def sent(
    db: Session,
    *,
    principal: Principal,
    limit: int = SENT_PAGE,
    before: str | None = None,
    waiting: bool = False,
) -> list[SentShare]:
    """Every share the caller sent, of any photo, newest first, ``limit`` at a time (the
    next page: ``before`` the last one's id); with ``waiting``, only those not yet
    acknowledged nor recalled: the shares to follow up (TRN-4, "confirmed receipt").

    Each share is listed as its photo's shares are (Act.LIST_SHARES on the photo, so a share
    of a photo the caller may no longer see is left out), and each one listed is audited
    against its patient (one entry when none is)."""
    if not 1 <= limit <= 200:
        raise Invalid("limit: 1 to 200", field="limit")
    # The photos come in the same query: the policy's look-up of each (media_resource) then
    # finds it in the session instead of asking the database once per share.
    query = (
        select(Share, Media)
        .join(Media, Media.id == Share.original_media_id)
        .where(Share.sender_user_id == principal.user.id)
        .order_by(Share.sent_at.desc(), Share.id.desc())
        .limit(limit)
    )
    if waiting:
        query = query.where(Share.acknowledged_at.is_(None), Share.recalled_at.is_(None))
    if before is not None:
        mark = db.get(Share, before) if text.is_id(before) else None
        if mark is None or mark.sender_user_id != principal.user.id:
            raise Invalid("before: a share you sent", field="before")
        query = query.where(
            (Share.sent_at < mark.sent_at)
            | ((Share.sent_at == mark.sent_at) & (Share.id < mark.id))
        )
    listed: list[tuple[Share, str]] = []
    for share, media in db.execute(query).all():
        _, resource = _listing_resource(db, principal, media.id)
        if policy.decide(principal.subject, Act.LIST_SHARES, resource).allowed:
            listed.append((share, resource.patient_ref))
    # The listing itself is the disclosure: one entry per share shown (one when none).
    shown: list[tuple[Share | None, str]] = [*listed] or [(None, "")]
    for one, patient_ref in shown:
        audit.log(
            db,
            action=Action.SHARE_LIST,
            actor=principal.user.id,
            device=principal.device.id,
            patient_ref=patient_ref,
            object_type="share",
            object_id=one.id if one is not None else "",
            purpose=one.purpose if one is not None else "",
            details={"results": len(listed), "waiting": waiting},
        )
    return _with_recipients(db, listed)


# --- recall (BRE-2) ----------------------------------------------------------------------

RECALL_REASON_MAX = 2000


def recall(
    db: Session, *, subject: policy.Subject, keys: FieldKeyring, share_id: str, reason: str
) -> Share:
    """Recall a share sent to the wrong person: the sender or a privacy officer. The
    recipient's inbox drops it and its download answers "not found" at once; the
    recipient's devices are told to delete their copy at their next status report (decision
    014). The reason is field-encrypted; audited, refusals included."""
    share = db.get(Share, share_id) if text.is_id(share_id) else None
    copy = db.get(Media, share.copy_media_id) if share is not None else None
    resource = (
        Resource(
            ObjectKind.SHARE,
            id=share.id,
            patient_ref=copy.patient_id if copy is not None else "",
            relations=(
                frozenset({Relation.AUTHOR})
                if share.sender_user_id == subject.user_id
                else frozenset()
            ),
        )
        if share is not None
        else Resource(ObjectKind.SHARE, id=share_id[:64], exists=False)
    )
    grant = policy.authorize(db, subject, Act.RECALL_SHARE, resource, action=Action.SHARE_RECALL)
    assert share is not None
    with policy.refusals_audited(db, subject, Action.SHARE_RECALL, resource):
        clean = text.clean(reason, "reason", max_len=RECALL_REASON_MAX)
        if not clean:
            raise Invalid("reason: say why the share is recalled", field="reason")
        if share.recalled_at is not None:
            raise Conflict("this share was recalled already")
    share.recalled_at = utcnow()
    share.recalled_by = subject.user_id
    share.recall_reason_ct = keys.encrypt(clean, f"shares.recall_reason_ct:{share.id}")
    db.flush()
    grant.record(
        db,
        object_type="share",
        details={
            "recipient": share.recipient_user_id,
            "delivered": share.delivered_at is not None,
            "acknowledged": share.acknowledged_at is not None,
        },
    )
    return share
