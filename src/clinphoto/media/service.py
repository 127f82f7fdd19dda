"""Capture and storage of media (TRN-1, AUD-2, AUD-4, CON-1).

An upload is a signed manifest plus an age ciphertext. The server can check everything but
the pixels: the session's device signed the manifest; the object is sealed to the records key
and to the author's own active devices only; a consent covers clinical care for the
encounter. It never sees plaintext. Reads need a care relationship and a purpose the consent
covers; anything else is "not found", with no hint.

Each use case asks the access policy (capture, view) and writes its audit entry, allowed or
refused, in the caller's unit of work. An upload spans three: the manifest is checked, the
body streamed with no transaction open, then the upload is recorded, and that last step
checks the device, the session and the consent again, so that a revocation or withdrawal
during a long upload still stops it.
"""

from __future__ import annotations

import base64
import re
import typing
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinphoto import crypto, policy
from clinphoto.accounts import service as accounts
from clinphoto.accounts.models import Device
from clinphoto.accounts.service import Principal
from clinphoto.audit import service as audit
from clinphoto.audit.service import Action
from clinphoto.consent import service as consent
from clinphoto.consent.models import Encounter
from clinphoto.core import protocol, wire
from clinphoto.core.clock import utcnow
from clinphoto.core.errors import Conflict, DomainError, Invalid, NotFound
from clinphoto.media.models import Media
from clinphoto.patients import service as patients
from clinphoto.policy import Act, Coverage, ObjectKind, Relation, Resource
from clinphoto.storage.blobs import BlobStore, StoredBlob

MAX_MEDIA_BYTES = wire.MAX_MEDIA_BYTES
# What the device client's scrubber can produce (imaging.scrub): nothing else is accepted.
CONTENT_TYPES = frozenset(typing.get_args(wire.MediaType))
PHOTO = "photo"
SIGNATURE = "consent-signature"
CAPTURE_PURPOSE = "clinical_care"
_HEX32 = re.compile(r"[0-9a-f]{32}")
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class UploadPlan:
    """A checked manifest, waiting for its ciphertext."""

    manifest_bytes: bytes
    manifest: dict[str, Any]
    signature: str
    consent_id: str
    action: Action = Action.MEDIA_UPLOAD

    @property
    def object_id(self) -> str:
        return str(self.manifest["object_id"])

    @property
    def size(self) -> int:
        return int(self.manifest["size"])

    @property
    def ciphertext_sha256(self) -> str:
        return str(self.manifest["ciphertext_sha256"])


def _field(m: dict[str, Any], name: str, pattern: re.Pattern[str] | None = None) -> str:
    value = m.get(name)
    if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
        raise Invalid(f"manifest field {name!r} is missing or malformed")
    return value


def check_manifest(
    db: Session,
    *,
    principal: Principal,
    manifest_bytes: bytes,
    manifest: dict[str, Any],
    signature: str,
    kind: str,
) -> UploadPlan:
    """Checks every upload shares: format, the session's device signed it, a new id."""
    if manifest.get("v") != 1:
        raise Invalid("unsupported manifest version")
    object_id = _field(manifest, "object_id", _HEX32)
    if _field(manifest, "kind") != kind:
        raise Invalid("unexpected media kind for this request")
    if _field(manifest, "content_type") not in CONTENT_TYPES:
        raise Invalid("unsupported content type")
    _field(manifest, "plaintext_sha256", _HEX64)
    _field(manifest, "ciphertext_sha256", _HEX64)
    size = manifest.get("size")
    if not isinstance(size, int) or not 0 < size <= MAX_MEDIA_BYTES:
        raise Invalid(f"size must be between 1 and {MAX_MEDIA_BYTES} bytes")
    if _field(manifest, "device_id") != principal.device.id:
        raise Invalid("the manifest names another device")
    if not crypto.verify_signature(principal.device.signing_public, manifest_bytes, signature):
        raise Invalid("the manifest signature does not verify")
    recipients = manifest.get("recipients")
    if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
        raise Invalid("manifest field 'recipients' is missing or malformed")
    check_sealed_text(manifest)
    try:
        wire.parse_manifest(manifest)  # the whole shape, unknown fields refused
    except wire.ManifestError as exc:
        raise Invalid(str(exc), field=f"manifest.{exc.field}") from None
    if db.get(Media, object_id) is not None:
        raise Conflict("an object with this id exists; objects are never overwritten")
    return UploadPlan(manifest_bytes, manifest, signature, "")


_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_WARNING_KIND = re.compile(r"[a-z][a-z-]{1,40}")


def check_sealed_text(manifest: dict[str, Any]) -> None:
    """A caption or message travels only sealed, and only with its warnings resolved (TRN-3).

    The server cannot read the text (it is sealed to the object's recipients); it checks that
    it is an age ciphertext, and that any identifier warning the sender's device raised was
    confirmed with a recognised reason. Both are audited with the upload.
    """
    for name in (*protocol.SEALED_TEXT_FIELDS, protocol.SEALED_PATIENT_FIELD):
        value = manifest.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > protocol.MAX_SEALED_TEXT:
            raise Invalid(f"manifest field {name!r} is too long or malformed")
        if not _B64.fullmatch(value):
            raise Invalid(f"manifest field {name!r} must be base64")
        if not base64.b64decode(value).startswith(protocol.AGE_MAGIC):
            raise Invalid("captions and messages travel only as age ciphertext")
    for plain in ("caption", "message"):
        if plain in manifest:
            raise Invalid(f"a {plain} must be sealed, never sent in the clear")
    warnings = manifest.get(protocol.TEXT_WARNINGS_FIELD, [])
    if not isinstance(warnings, list) or not all(
        isinstance(w, str) and _WARNING_KIND.fullmatch(w) for w in warnings
    ):
        raise Invalid("manifest field 'text_warnings' is malformed")
    confirmed = manifest.get(protocol.TEXT_CONFIRMED_FIELD)
    if warnings and confirmed not in protocol.TEXT_CONFIRMATIONS:
        raise Invalid(
            "the text carries identifier warnings: edit it, or confirm it with one of "
            + ", ".join(protocol.TEXT_CONFIRMATIONS)
        )


def text_audit(manifest: dict[str, Any]) -> dict[str, object]:
    """What the audit trail keeps of a caption or message: that it existed, and warnings."""
    details: dict[str, object] = {}
    for name in protocol.SEALED_TEXT_FIELDS:
        if manifest.get(name):
            details[name.removesuffix("_sealed")] = True
    warnings = manifest.get(protocol.TEXT_WARNINGS_FIELD) or []
    if warnings:
        details["text_warnings"] = sorted(set(warnings))
        details["text_warnings_confirmed"] = manifest.get(protocol.TEXT_CONFIRMED_FIELD)
    return details


def _check_own_recipients(
    db: Session, principal: Principal, records_recipient: str, manifest: dict[str, Any]
) -> None:
    """Sealed to the records key and the author's own active devices, and nobody else."""
    recipients = set(manifest["recipients"])
    if records_recipient not in recipients:
        raise Invalid("media must also be sealed to the records key")
    own = {d.age_recipient for d in accounts.active_devices(db, principal.user.id)}
    if principal.device.age_recipient not in recipients or not recipients <= own | {
        records_recipient
    }:
        raise Invalid("media must be sealed to your own active devices and the records key only")


def _manifest_patient(db: Session, manifest: dict[str, Any]) -> str:
    """The manifest's patient, as an audit reference, only if that patient exists."""
    value = manifest.get("patient_id")
    if isinstance(value, str) and _HEX32.fullmatch(value):
        return patients.existing_ref(db, value)
    return ""


def _manifest_refusals_audited(
    db: Session, principal: Principal, action: Action, manifest: dict[str, Any]
) -> AbstractContextManager[None]:
    """Refusals of an upload, audited against its manifest's object and patient."""
    resource = Resource(
        ObjectKind.MEDIA,
        id=str(manifest.get("object_id", ""))[:64],
        patient_ref=_manifest_patient(db, manifest),
    )
    return policy.refusals_audited(db, principal.subject, action, resource)


def _check_own_sealed_object(
    db: Session,
    principal: Principal,
    records_recipient: str,
    manifest_bytes: bytes,
    manifest: dict[str, Any],
    signature: str,
    kind: str,
) -> None:
    """What every object the author seals for themself shares: a well-formed manifest
    signed by this device, sealed to the records key and the author's own devices only."""
    check_manifest(
        db,
        principal=principal,
        manifest_bytes=manifest_bytes,
        manifest=manifest,
        signature=signature,
        kind=kind,
    )
    _check_own_recipients(db, principal, records_recipient, manifest)


def _capture_resource(
    db: Session, principal: Principal, patient_id: str, encounter_id: str
) -> tuple[Resource, str]:
    """The encounter a photo is captured in, with the caller's relations and the consent's
    coverage of clinical care; and the covering consent's id."""
    encounter = db.get(Encounter, encounter_id)
    if encounter is None or encounter.patient_id != patient_id:
        return Resource(ObjectKind.ENCOUNTER, id=encounter_id, exists=False), ""
    found, covering = consent.coverage(db, patient_id, encounter_id, CAPTURE_PURPOSE)
    return (
        Resource(
            ObjectKind.ENCOUNTER,
            id=encounter_id,
            patient_ref=patient_id,
            relations=patients.relations(db, principal.user.id, patient_id),
            coverage=found,
        ),
        covering.id if covering is not None else "",
    )


def check_upload(
    db: Session,
    *,
    principal: Principal,
    records_recipient: str,
    manifest_bytes: bytes,
    manifest: dict[str, Any],
    signature: str,
) -> UploadPlan:
    """A photo's signed manifest, before its body: the policy decides the capture (care
    team, consent covering clinical care) and every refusal is audited."""
    with _manifest_refusals_audited(db, principal, Action.MEDIA_UPLOAD, manifest):
        _check_own_sealed_object(
            db, principal, records_recipient, manifest_bytes, manifest, signature, PHOTO
        )
        patient_id = _field(manifest, "patient_id", _HEX32)
        encounter_id = _field(manifest, "encounter_id", _HEX32)
        resource, covering = _capture_resource(db, principal, patient_id, encounter_id)
        policy.authorize(
            db,
            principal.subject,
            Act.CAPTURE,
            resource,
            action=Action.MEDIA_UPLOAD,
            purpose=CAPTURE_PURPOSE,
        )
        if manifest.get("derived_from") is not None:
            # A derived version (a redaction) of one of the author's own photos: same patient
            # and encounter, and the original stays exactly as it was (AUD-4).
            original = readable(
                db,
                principal=principal,
                media_id=_field(manifest, "derived_from", _HEX32),
                purpose=CAPTURE_PURPOSE,
            )
            if original.kind != PHOTO or (original.patient_id, original.encounter_id) != (
                patient_id,
                encounter_id,
            ):
                raise Invalid("a derived version must keep its original's patient and encounter")
    return UploadPlan(manifest_bytes, manifest, signature, covering)


def check_signature_upload(
    db: Session,
    *,
    principal: Principal,
    records_recipient: str,
    consent_id: str,
    manifest_bytes: bytes,
    manifest: dict[str, Any],
    signature: str,
) -> UploadPlan:
    """A patient's signature on a consent (CON-3), sealed exactly like a photo.

    Only the clinician who recorded the consent may attach it, once, and only to a consent
    that was actually obtained (not a consent-to-follow); the manifest must name the
    consent's own patient and encounter.
    """
    with _manifest_refusals_audited(db, principal, Action.CONSENT_SIGNATURE, manifest):
        _check_own_sealed_object(
            db, principal, records_recipient, manifest_bytes, manifest, signature, SIGNATURE
        )
        record = consent.signable(db, actor=principal, consent_id=consent_id)
        if (
            _field(manifest, "patient_id", _HEX32) != record.patient_id
            or _field(manifest, "encounter_id", _HEX32) != record.encounter_id
        ):
            raise Invalid("the signature's manifest names another patient or encounter")
        if _field(manifest, "consent_id", _HEX32) != record.id:
            raise Invalid("the signature's manifest names another consent")
    return UploadPlan(manifest_bytes, manifest, signature, record.id, Action.CONSENT_SIGNATURE)


def upload_failed(
    db: Session, *, principal: Principal, plan: UploadPlan, error: DomainError
) -> None:
    """Audit an upload whose body could not be stored (wrong size or hash, not age)."""
    with _manifest_refusals_audited(db, principal, plan.action, plan.manifest):
        raise error


def record_capture(
    db: Session, *, principal: Principal, plan: UploadPlan, blob: StoredBlob, jurisdiction: str
) -> Media:
    """Record a stored photo or consent signature, once its body is in the blob store.

    The device and session are checked again, and so is the capture decision (the consent
    may have been withdrawn while the body streamed); the entry is audited either way."""
    with _manifest_refusals_audited(db, principal, plan.action, plan.manifest):
        accounts.require_still_signed_in(db, principal)
        m = plan.manifest
        if plan.action is Action.CONSENT_SIGNATURE:
            signable = consent.signable(db, actor=principal, consent_id=plan.consent_id)
            media = record_upload(db, plan, blob, jurisdiction)
            consent.attach_signature(db, consent_id=signable.id, sha256=media.plaintext_sha256)
            purpose = CAPTURE_PURPOSE
        else:
            resource, covering = _capture_resource(
                db, principal, str(m["patient_id"]), str(m["encounter_id"])
            )
            grant = policy.authorize(
                db,
                principal.subject,
                Act.CAPTURE,
                resource,
                action=plan.action,
                purpose=CAPTURE_PURPOSE,
            )
            plan = UploadPlan(plan.manifest_bytes, m, plan.signature, covering, plan.action)
            media = record_upload(db, plan, blob, jurisdiction)
            purpose = grant.purpose
    audit.log(
        db,
        action=plan.action,
        actor=principal.user.id,
        device=principal.device.id,
        patient_ref=media.patient_id,
        object_type="media",
        object_id=media.id,
        purpose=purpose,
        details={"consent": media.consent_id, "size": media.size, **text_audit(m)},
    )
    return media


def signature_of(db: Session, consent_id: str) -> Media | None:
    return db.execute(
        select(Media).where(Media.consent_id == consent_id, Media.kind == SIGNATURE)
    ).scalar_one_or_none()


def record_upload(
    db: Session,
    plan: UploadPlan,
    blob: StoredBlob,
    jurisdiction: str,
    *,
    derived_from: Media | None = None,
    consent_id: str | None = None,
) -> Media:
    """Record a stored object. A derived copy (a share) takes its patient, encounter and
    consent from its original, never from the uploader's manifest."""
    if blob.sha256 != plan.ciphertext_sha256 or blob.size != plan.size:
        raise Invalid("the upload does not match its manifest")
    consent.require_storage_in(
        db, consent_id=consent_id or plan.consent_id, jurisdiction=jurisdiction
    )
    if db.get(Media, plan.object_id) is not None:
        raise Conflict("an object with this id exists; objects are never overwritten")
    m = plan.manifest
    media = Media(
        id=plan.object_id,
        kind=m["kind"],
        patient_id=derived_from.patient_id if derived_from else m["patient_id"],
        encounter_id=derived_from.encounter_id if derived_from else m["encounter_id"],
        consent_id=consent_id or plan.consent_id,
        author_user_id=_author_user(db, m["device_id"]),
        author_device_id=m["device_id"],
        blob_sha256=blob.sha256,
        size=blob.size,
        plaintext_sha256=m["plaintext_sha256"],
        content_type=m["content_type"],
        manifest=plan.manifest_bytes.decode("utf-8"),
        signature=plan.signature,
        jurisdiction=jurisdiction,
        derived_from=derived_from.id if derived_from else m.get("derived_from"),
        created_at=utcnow(),
    )
    db.add(media)
    db.flush()
    return media


def discard_unrecorded(db: Session, blobs: BlobStore, sha256: str) -> bool:
    """Delete a stored body that no media row names: an upload refused once its bytes were
    written (a store outside Canada the patient's consent does not allow, TRN-2 and CLD-1; a
    consent withdrawn while it streamed) leaves no ciphertext in the store. A body a row
    names (the same object sent again) is kept. Returns whether one was deleted."""
    named = db.execute(select(Media.id).where(Media.blob_sha256 == sha256).limit(1)).first()
    return named is None and blobs.delete(sha256)


def _author_user(db: Session, device_id: str) -> str:
    device = db.get(Device, device_id)
    if device is None:
        raise NotFound()
    return device.user_id


def media_resource(
    db: Session, principal: Principal, media_id: str, purpose: str
) -> tuple[Media, Resource]:
    """A media object and what the policy needs: the caller's relation (author; a share
    recipient's copy is judged by the sharing area), and the consent's coverage of
    ``purpose`` for its encounter. A consent's signature is part of the consent record: it
    stays readable to the clinician who obtained it after a withdrawal, as evidence."""
    media = db.get(Media, media_id) if _HEX32.fullmatch(media_id) else None
    if media is None or media.kind not in (PHOTO, SIGNATURE):
        return Media(id=""), Resource(ObjectKind.MEDIA, id=media_id, exists=False)
    rels = {Relation.AUTHOR} if media.author_user_id == principal.user.id else set()
    if media.kind == SIGNATURE:
        found = Coverage.COVERED
    else:
        found, _ = consent.coverage(db, media.patient_id, media.encounter_id, purpose)
    return media, Resource(
        ObjectKind.MEDIA,
        id=media.id,
        patient_ref=media.patient_id,
        relations=frozenset(rels),
        coverage=found,
    )


def readable(
    db: Session,
    *,
    principal: Principal,
    media_id: str,
    purpose: str,
    action: Action = Action.MEDIA_VIEW,
) -> Media:
    """The media if the caller took it and the consent covers ``purpose``; audited.

    Otherwise NotFound, exactly as for an id that does not exist (AUD-2), and audited too.
    """
    media, resource = media_resource(db, principal, media_id, purpose)
    grant = policy.authorize(
        db, principal.subject, Act.VIEW, resource, action=action, purpose=purpose
    )
    grant.record(db)
    return media


def patient_of(db: Session, media_id: str) -> str:
    media = db.get(Media, media_id)
    return media.patient_id if media is not None else ""


def timeline(
    db: Session, *, principal: Principal, patient_id: str, purpose: str, limit: int = 500
) -> list[Media]:
    """The caller's own photos of a patient (redacted versions included), oldest first.

    The patient must be the caller's to read (care team, override), else NotFound, audited.
    Each photo is judged by the policy for ``purpose`` as a view would be, and only those it
    allows are listed; the listing is audited with one entry per photo shown (AUD-1).
    """
    _, grant = patients.require(
        db, principal, Act.READ_IDENTIFIERS, patient_id, action=Action.MEDIA_LIST
    )
    rows = db.execute(
        select(Media)
        .where(
            Media.patient_id == patient_id,
            Media.author_user_id == principal.user.id,
            Media.kind == PHOTO,
        )
        .order_by(Media.created_at, Media.id)
        .limit(limit)
    ).scalars()
    shown = []
    for media in rows:
        _, resource = media_resource(db, principal, media.id, purpose)
        if policy.decide(principal.subject, Act.VIEW, resource, purpose).allowed:
            shown.append(media)
    grant.record_listing(
        db,
        [(m.id, m.patient_id) for m in shown],
        object_type="media",
        details={"purpose": purpose[:32], "shown": len(shown)},
    )
    return shown
