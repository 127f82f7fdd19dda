"""Device grants (decision 011): a device enrolled later opens its user's earlier objects.

A photo, a consent signature or a redaction is sealed to its author's devices of the day and
the records key; a share copy to its recipient's. A grant is a new age header that wraps the
same file key for a device that was not among them, written by another device of the same
user (which can open the object) or by the custodian with the records key. The server keeps
it beside the object, which never changes, and answers it in place of the original header
when that device downloads the object: header and stored payload make an ordinary age file.
It cannot read a grant (the file key travels only inside its stanzas) and need not trust
one: the device still checks what it opens against the author's signed manifest.

Who may act, and on what, is decided here and audited, allowed or refused:

- the target is one of the caller's own active devices (self-service, as in ``accounts``),
  or, for the custodian's path, any active device (the instance's subject, ``Act.ADMINISTER``);
  another user's device is "not found";
- an object is the target user's to grant when they took it (a photo, a consent signature,
  a redaction) or received it (a share); anything else is "not found";
- a grant must parse as an age v1 header with X25519 stanzas only, within size bounds.

Listing what a device is missing is a disclosure of object ids: audited per object shown,
against its patient, like any listing.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from clinphoto import crypto, policy
from clinphoto.accounts.models import Device, DeviceStatus
from clinphoto.audit.service import Action
from clinphoto.core import protocol, text
from clinphoto.core.clock import new_id, utcnow
from clinphoto.core.errors import Invalid, NotFound
from clinphoto.media import service as media_service
from clinphoto.media.models import Media
from clinphoto.policy import Act, Decision, Effect, ObjectKind, Resource, Subject
from clinphoto.sharing.models import DeviceGrant, Share
from clinphoto.storage.blobs import BlobError, BlobStore

CONTENT = "content"
# What a manifest may seal besides the object: a caption or message, a share's patient.
SEALED_FIELDS = (*protocol.SEALED_TEXT_FIELDS, protocol.SEALED_PATIENT_FIELD)
FIELDS = (CONTENT, *SEALED_FIELDS)
MEDIA = "media"
SHARE = "share"
KINDS = (MEDIA, SHARE)
MAX_BATCH = 200
MAX_PAGE = 200
# A grant is a few hundred bytes: one stanza for the target device, perhaps a few more.
MAX_GRANT_HEADER = 4096
MAX_GRANT_STANZAS = 16
CUSTODIAN_ACTOR = "custodian"
_OWN_KINDS = (media_service.PHOTO, media_service.SIGNATURE)


@dataclass(frozen=True)
class Granter:
    """Who writes grants: the signed-in user's device, or a named custodian (server side)."""

    subject: Subject
    custodian: str | None = None
    reason: str | None = None

    @classmethod
    def custodian_named(cls, name: str, reason: str) -> Granter:
        name = text.clean(name, "custodian", max_len=200)
        reason = text.clean(reason, "reason", max_len=500)
        if not name or len(reason) < 10:
            raise Invalid(
                "a custodian grant names the custodian and gives a reason of a sentence "
                "(the user's phone was lost, say)",
                field="reason" if name else "custodian",
            )
        return cls(Subject.system(CUSTODIAN_ACTOR), name, reason)

    @property
    def audit_details(self) -> dict[str, object]:
        if self.custodian is None:
            return {"by": "device"}
        return {"by": "custodian", "custodian": self.custodian, "reason": self.reason}


@dataclass(frozen=True)
class Missing:
    """An object the device cannot open: which fields need a grant, and each field's
    original age header (to unwrap the file key from, with no payload downloaded)."""

    kind: str  # media | share
    object_id: str
    media_kind: str  # photo | consent-signature | share
    headers: dict[str, bytes]

    @property
    def fields(self) -> list[str]:
        return list(self.headers)


@dataclass(frozen=True)
class MissingPage:
    device: Device
    items: list[Missing]
    next_after: str | None  # give it as ``after`` for the next page; None: no more


@dataclass(frozen=True)
class GrantIn:
    kind: str
    object_id: str
    field: str
    header: str  # base64 of the age header


@dataclass
class GrantResult:
    device: Device
    granted: int = 0
    existing: int = 0
    objects: list[str] = field(default_factory=list)


# --- the target device ----------------------------------------------------------------


def _self_service(subject: Subject, action: Action, resource: Resource) -> policy.Grant:
    """A user granting their own device: allowed by this area (as a user's acts on their
    own devices are in ``accounts``) and audited like a policy grant."""
    decision = Decision(Effect.ALLOW, (f"role:{subject.role}", "relation:self"))
    return policy.Grant(subject, Act.ADMINISTER, action, resource, "", decision)


def _target(db: Session, granter: Granter, device_id: str, action: Action) -> Device:
    """The device grants are for: the caller's own, or any (the custodian); active."""
    resource = Resource(ObjectKind.DEVICE, id=device_id if text.is_id(device_id) else "")
    subject = granter.subject
    with policy.refusals_audited(db, subject, action, resource):
        device = db.get(Device, device_id) if text.is_id(device_id) else None
        if subject.role is None:
            policy.authorize(
                db,
                subject,
                Act.ADMINISTER,
                Resource(ObjectKind.DEVICE, id=resource.id, exists=device is not None),
                action=action,
                details=granter.audit_details,
            )
        elif device is None or device.user_id != subject.user_id:
            raise NotFound()  # another user's device: not theirs to know of
        assert device is not None
        if device.status is not DeviceStatus.ACTIVE:
            raise Invalid(
                "device_id: that device is revoked; grants go only to active devices",
                field="device_id",
            )
    return device


# --- what a device cannot open ----------------------------------------------------------


def _recipients(media: Media) -> tuple[dict[str, Any], set[str]]:
    manifest: dict[str, Any] = json.loads(media.manifest)
    recipients = manifest.get("recipients")
    return manifest, set(recipients) if isinstance(recipients, list) else set()


def _sealed_text_header(manifest: dict[str, Any], name: str) -> bytes | None:
    value = manifest.get(name)
    if not isinstance(value, str) or not value:
        return None
    try:
        header, _ = crypto.split_age(base64.b64decode(value))
    except (crypto.CryptoError, binascii.Error):
        return None
    return header


def stored_header(blobs: BlobStore, sha256: str) -> bytes | None:
    """The age header at the start of a stored object, or None if it cannot be read."""
    head = b""
    try:
        for chunk in blobs.open(sha256):
            head += chunk
            try:
                return crypto.split_age(head)[0]
            except crypto.CryptoError:
                if len(head) > crypto.MAX_AGE_HEADER_BYTES:
                    return None
    except BlobError:
        return None
    return None


def _objects_of(user_id: str) -> Any:
    """The media rows a user's devices should open: their own photos, consent signatures
    and redactions, and the copies of shares sent to them."""
    received = select(Share.copy_media_id).where(Share.recipient_user_id == user_id)
    return or_(
        and_(Media.author_user_id == user_id, Media.kind.in_(_OWN_KINDS)),
        Media.id.in_(received),
    )


def _granted(db: Session, device_id: str, media_ids: Sequence[str]) -> set[tuple[str, str]]:
    rows = db.execute(
        select(DeviceGrant.media_id, DeviceGrant.field).where(
            DeviceGrant.device_id == device_id, DeviceGrant.media_id.in_(media_ids)
        )
    ).all()
    return {(m, f) for m, f in rows}


def missing_grants(
    db: Session,
    *,
    granter: Granter,
    device_id: str,
    blobs: BlobStore,
    after: str | None = None,
    limit: int = 50,
) -> MissingPage:
    """One page of what ``device_id`` cannot open and has no grant for, by object id.

    Each page examines up to ``limit`` of the user's objects after ``after``, so a page may
    hold fewer items than ``limit`` (even none) while ``next_after`` says there is more.
    Audited: one entry per object listed, against its patient."""
    limit = max(1, min(limit, MAX_PAGE))
    if after is not None and not text.is_id(after):
        raise Invalid("after: expected an object id from next_after", field="after")
    device = _target(db, granter, device_id, Action.GRANT_LIST)
    query = select(Media).where(_objects_of(device.user_id))
    if after is not None:
        query = query.where(Media.id > after)
    rows = list(db.execute(query.order_by(Media.id).limit(limit)).scalars())
    copies = {m.id for m in rows if m.kind == "share"}
    share_of = (
        {
            s.copy_media_id: s
            for s in db.execute(select(Share).where(Share.copy_media_id.in_(copies))).scalars()
        }
        if copies
        else {}
    )
    granted = _granted(db, device.id, [m.id for m in rows])
    items: list[Missing] = []
    shown: list[tuple[str, str, str]] = []
    for media in rows:
        manifest, recipients = _recipients(media)
        if device.age_recipient in recipients:
            continue  # sealed to this device already
        headers: dict[str, bytes] = {}
        if (media.id, CONTENT) not in granted:
            found = stored_header(blobs, media.blob_sha256)
            if found is not None:
                headers[CONTENT] = found
        for name in SEALED_FIELDS:
            sealed = _sealed_text_header(manifest, name)
            if sealed is not None and (media.id, name) not in granted:
                headers[name] = sealed
        if not headers:
            continue
        share = share_of.get(media.id)
        kind, object_id = (SHARE, share.id) if share is not None else (MEDIA, media.id)
        items.append(Missing(kind, object_id, media.kind, headers))
        shown.append((kind, object_id, media.patient_id))
    grant = _allowed(granter, Action.GRANT_LIST, device)
    for kind, object_id, patient_ref in shown or [(MEDIA, "", "")]:
        grant.record(
            db,
            object_type=kind,
            object_id=object_id,
            patient_ref=patient_ref,
            details={"device": device.id, "results": len(items), **granter.audit_details},
        )
    next_after = rows[-1].id if len(rows) == limit else None
    return MissingPage(device, items, next_after)


def _allowed(granter: Granter, action: Action, device: Device) -> policy.Grant:
    """The allowed decision :func:`_target` reached, to record against each object."""
    resource = Resource(ObjectKind.DEVICE, id=device.id)
    if granter.subject.role is None:
        decision = Decision(Effect.ALLOW, ("role:instance",))
        return policy.Grant(granter.subject, Act.ADMINISTER, action, resource, "", decision)
    return _self_service(granter.subject, action, resource)


# --- writing grants -----------------------------------------------------------------------


def _object(db: Session, user_id: str, kind: str, object_id: str) -> tuple[Media | None, str]:
    """The sealed object behind (kind, id) if it is ``user_id``'s to grant, and the patient
    reference of whatever exists under that id (for the audit trail)."""
    if not text.is_id(object_id):
        return None, ""
    if kind == SHARE:
        share = db.get(Share, object_id)
        copy = db.get(Media, share.copy_media_id) if share is not None else None
        patient = copy.patient_id if copy is not None else ""
        if share is None or copy is None or share.recipient_user_id != user_id:
            return None, patient
        return copy, patient
    media = db.get(Media, object_id)
    if media is None:
        return None, ""
    if media.kind not in _OWN_KINDS or media.author_user_id != user_id:
        return None, media.patient_id
    return media, media.patient_id


def _header(value: str, index: int) -> bytes:
    where = f"grants[{index}].header"
    try:
        raw = base64.b64decode(value, validate=True)
        crypto.parse_header(raw, max_bytes=MAX_GRANT_HEADER, max_stanzas=MAX_GRANT_STANZAS)
    except (binascii.Error, ValueError, crypto.CryptoError):
        raise Invalid(
            f"{where}: expected the base64 of an age v1 header with X25519 stanzas only "
            f"(at most {MAX_GRANT_HEADER} bytes and {MAX_GRANT_STANZAS} stanzas)",
            field=where,
        ) from None
    return raw


def record_grants(
    db: Session, *, granter: Granter, device_id: str, grants: Sequence[GrantIn]
) -> GrantResult:
    """Store grants for ``device_id``, all or none. Each object must be the device's user's
    (taken or received), each field one its manifest seals, each header an age header;
    a grant already given is left as it is and counted as existing. Audited per object,
    refusals included."""
    if not 1 <= len(grants) <= MAX_BATCH:
        raise Invalid(f"grants: give 1 to {MAX_BATCH} grants at a time", field="grants")
    device = _target(db, granter, device_id, Action.GRANT_WRITE)
    result = GrantResult(device)
    by_object: dict[tuple[str, str], list[str]] = {}
    patient_of: dict[tuple[str, str], str] = {}
    for index, g in enumerate(grants):
        resource_id = g.object_id[:64] if text.is_id(g.object_id) else ""
        media, patient = _object(db, device.user_id, g.kind, g.object_id)
        resource = Resource(
            ObjectKind.SHARE if g.kind == SHARE else ObjectKind.MEDIA,
            id=resource_id,
            patient_ref=patient,
        )
        with policy.refusals_audited(db, granter.subject, Action.GRANT_WRITE, resource):
            if g.kind not in KINDS:
                raise Invalid(f"grants[{index}].kind: expected media or share")
            if media is None:
                raise NotFound()
            manifest, recipients = _recipients(media)
            if g.field not in FIELDS or (g.field != CONTENT and not manifest.get(g.field)):
                raise Invalid(
                    f"grants[{index}].field: this object has no {g.field!r} to grant",
                    field=f"grants[{index}].field",
                )
            if device.age_recipient in recipients:
                raise Invalid(
                    f"grants[{index}]: the device can open this object already",
                    field=f"grants[{index}]",
                )
            header = _header(g.header, index)
        key = (g.kind, g.object_id)
        patient_of[key] = media.patient_id
        existing = db.execute(
            select(DeviceGrant.id).where(
                DeviceGrant.media_id == media.id,
                DeviceGrant.field == g.field,
                DeviceGrant.device_id == device.id,
            )
        ).first()
        if existing is not None:
            result.existing += 1
            continue
        db.add(
            DeviceGrant(
                id=new_id(),
                object_kind=g.kind,
                object_id=g.object_id,
                media_id=media.id,
                field=g.field,
                device_id=device.id,
                header=header,
                granted_by_user_id=granter.subject.user_id if granter.custodian is None else None,
                granted_by_device_id=granter.subject.device_id or None,
                custodian=granter.custodian,
                created_at=utcnow(),
            )
        )
        db.flush()
        result.granted += 1
        by_object.setdefault(key, []).append(g.field)
    grant = _allowed(granter, Action.GRANT_WRITE, device)
    for (kind, object_id), fields in by_object.items():
        grant.record(
            db,
            object_type=kind,
            object_id=object_id,
            patient_ref=patient_of[(kind, object_id)],
            details={"device": device.id, "fields": sorted(fields), **granter.audit_details},
        )
        result.objects.append(object_id)
    return result


# --- serving grants -----------------------------------------------------------------------


def grant_for(db: Session, device: Device, media: Media, field_name: str) -> bytes | None:
    """The grant header that opens ``media``'s ``field_name`` for ``device``, or None when
    the object is sealed to the device itself or it has no grant. The caller has already
    been allowed to read the object."""
    _, recipients = _recipients(media)
    if device.age_recipient in recipients or device.status is not DeviceStatus.ACTIVE:
        return None
    found = db.execute(
        select(DeviceGrant.header).where(
            DeviceGrant.media_id == media.id,
            DeviceGrant.field == field_name,
            DeviceGrant.device_id == device.id,
        )
    ).scalar()
    return bytes(found) if found is not None else None


def text_grants(db: Session, device: Device, media: Iterable[Media]) -> dict[str, dict[str, str]]:
    """For each object, the grant headers (base64) that open its sealed caption, message or
    patient details on ``device``: what the media JSON carries so the device can read them."""
    out: dict[str, dict[str, str]] = {}
    for m in media:
        found = {}
        for name in SEALED_FIELDS:
            header = grant_for(db, device, m, name)
            if header is not None:
                found[name] = base64.b64encode(header).decode("ascii")
        if found:
            out[m.id] = found
    return out


def with_grant(header: bytes | None, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The stored object's bytes, with its header replaced by ``header`` when there is one:
    an age file for the granted device. The payload is passed through unchanged."""
    if header is None:
        yield from chunks
        return
    head = b""
    for chunk in chunks:
        head += chunk
        try:
            _, payload = crypto.split_age(head)
        except crypto.CryptoError:
            if len(head) > crypto.MAX_AGE_HEADER_BYTES:
                raise BlobError("the stored object has no age header") from None
            continue
        yield header
        yield payload
        yield from chunks
        return
    raise BlobError("the stored object has no age header")
