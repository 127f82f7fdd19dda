"""Inspection results and the rules they drive (DEI-2, CON-4, TRN-3).

The server never sees plaintext on the request path. The records custodian, a job holding
the records key (``instance.custodian``, run as its own process), opens each new photo, runs
the detectors of :mod:`clinphoto.imaging` and records the verdict here. Until a photo is
inspected it is treated as identifiable (fail closed). An identifiable photo may be shared
only when its consent allows identifiable images; otherwise the author shares a redacted
derivative, which is inspected in turn.

A photo that the records key cannot open, or whose plaintext does not match its signed
hash, is **quarantined**: the institution could never open or audit what was shared, so it
is never shareable or exportable whatever the consent, its author is told to capture it
again, and privacy officers see it in their review list. ``--retry-failed`` never reopens it.

Several custodian processes share the work through a lease per photo (``inspection_leases``):
a photo is inspected only by the holder of an unexpired lease, taken in a short transaction
of its own; a crashed holder's lease expires and the photo is taken up again, at most
:data:`MAX_ATTEMPTS` times. Verdicts and reopenings are use cases: each asks the policy
(the custodian is the instance's subject "custodian") and writes its audit entry in the
caller's unit of work.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinphoto import policy
from clinphoto.accounts.service import Principal
from clinphoto.audit import service as audit
from clinphoto.audit.service import Action
from clinphoto.consent.models import Consent
from clinphoto.core.clock import utcnow
from clinphoto.core.errors import Conflict, Invalid
from clinphoto.imaging.metadata_tags import METADATA_REASONS
from clinphoto.inspection.models import InspectionLease, MediaInspection
from clinphoto.media import service as media_service
from clinphoto.media.models import Media
from clinphoto.policy import Act, ObjectKind, Resource, Subject

PENDING = "pending"
DONE = "done"
FAILED = "failed"
QUARANTINED = "quarantined"
VERDICTS = (DONE, FAILED, QUARANTINED)

CUSTODIAN = "custodian"  # the audit actor of every verdict
# A photo whose inspection was started this many times without a verdict (timeouts, crashed
# decoders, crashed custodians) gets a failed verdict instead of one more try.
MAX_ATTEMPTS = 3

QUARANTINE_ADVICE = (
    "the records custodian could not open this photo; capture it again (the quarantined copy "
    "can never be shared or exported, and a privacy officer reviews it)"
)
_QUARANTINE_REFUSAL = (
    "this photo is quarantined: the records custodian could not open it, so it can never be "
    "shared or exported whatever the consent. Capture it again; a privacy officer reviews it."
)


@dataclass(frozen=True)
class Verdict:
    status: str  # pending | done | failed | quarantined
    identifiable: bool
    reasons: list[str]
    regions: list[dict[str, Any]]
    inspector: str
    inspected_at: datetime | None


@dataclass(frozen=True)
class QuarantinedPhoto:
    """A quarantined photo as a privacy officer reviews it: references, never content."""

    media_id: str
    patient_ref: str
    encounter_id: str
    author_user_id: str
    author_device_id: str
    captured_at: datetime
    quarantined_at: datetime
    reasons: list[str]


def _custodian() -> Subject:
    return Subject.system(CUSTODIAN)


# --- the queue and its leases -------------------------------------------------------------


def pending(db: Session, limit: int = 20) -> list[Media]:
    """Photos (originals and derived versions) with no verdict and no live lease, oldest
    first."""
    now = utcnow()
    return list(
        db.execute(
            select(Media)
            .outerjoin(MediaInspection, MediaInspection.media_id == Media.id)
            .outerjoin(InspectionLease, InspectionLease.media_id == Media.id)
            .where(
                Media.kind == media_service.PHOTO,
                MediaInspection.media_id.is_(None),
                (InspectionLease.media_id.is_(None)) | (InspectionLease.expires_at < now),
            )
            .order_by(Media.created_at, Media.id)
            .limit(limit)
        ).scalars()
    )


def take_lease(db: Session, media_id: str, *, holder: str, seconds: float) -> int | None:
    """Hold ``media_id`` for ``seconds``; returns which attempt this is, or None when another
    holder has it or it already has its verdict.

    Call it in a short unit of work of its own, committed before the inspection starts, so
    other custodians see the lease. An expired lease is taken over (its holder crashed).
    """
    now = utcnow()
    expires = now + timedelta(seconds=seconds)
    taken = db.execute(
        update(InspectionLease)
        .where(InspectionLease.media_id == media_id, InspectionLease.expires_at < now)
        .values(holder=holder[:64], expires_at=expires, attempts=InspectionLease.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        if db.get(InspectionLease, media_id) is not None:
            return None  # a live lease: someone else is on it
        try:
            with db.begin_nested():
                db.add(
                    InspectionLease(
                        media_id=media_id, holder=holder[:64], expires_at=expires, attempts=1
                    )
                )
        except IntegrityError:
            return None  # another custodian inserted it first
    # Checked after the lease row is ours: a verdict committed meanwhile is seen here.
    if db.get(MediaInspection, media_id) is not None:
        db.execute(delete(InspectionLease).where(InspectionLease.media_id == media_id))
        return None
    lease = db.get(InspectionLease, media_id, populate_existing=True)
    return lease.attempts if lease is not None else None


def _holds(db: Session, media_id: str, holder: str) -> bool:
    lease = db.execute(
        select(InspectionLease).where(InspectionLease.media_id == media_id).with_for_update()
    ).scalar_one_or_none()
    return lease is not None and lease.holder == holder[:64]


def retry_later(db: Session, media_id: str, *, holder: str, seconds: float) -> bool:
    """Give the photo back after a failed attempt; nobody takes it for ``seconds``, so the
    queue goes on with the next photos. False when the lease was no longer ours."""
    if not _holds(db, media_id, holder):
        return False
    db.execute(
        update(InspectionLease)
        .where(InspectionLease.media_id == media_id)
        .values(holder="", expires_at=utcnow() + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )
    return True


# --- verdicts -----------------------------------------------------------------------------


def record(
    db: Session,
    media: Media,
    *,
    status: str,
    identifiable: bool,
    reasons: Sequence[str],
    regions: Sequence[dict[str, Any]],
    inspector: str,
) -> MediaInspection:
    """Store a verdict (no audit entry: :func:`record_verdict` is the use case)."""
    if status not in VERDICTS:
        raise Invalid("an inspection is done, failed or quarantined")
    if db.get(MediaInspection, media.id) is not None:
        raise Conflict("this photo already has its verdict")
    row = MediaInspection(
        media_id=media.id,
        status=status,
        # A failed or quarantined inspection proves nothing: identifiable (fail closed).
        identifiable=identifiable or status != DONE,
        reasons=json.dumps(list(reasons)),
        regions=json.dumps(list(regions)),
        inspector=inspector[:64],
        inspected_at=utcnow(),
    )
    db.add(row)
    db.flush()
    return row


def record_verdict(
    db: Session,
    media_id: str,
    *,
    holder: str,
    status: str,
    identifiable: bool,
    reasons: Sequence[str],
    regions: Sequence[dict[str, Any]],
    inspector: str,
) -> bool:
    """The custodian's verdict on a photo it holds the lease of, audited; releases the lease.

    Returns False (and records nothing) when the lease is no longer ours: it expired and
    another custodian took the photo over, whose verdict counts.
    """
    media = db.get(Media, media_id)
    if media is None or not _holds(db, media_id, holder):
        return False
    grant = policy.authorize(
        db,
        _custodian(),
        Act.INSPECT,
        Resource(ObjectKind.MEDIA, id=media.id, patient_ref=media.patient_id),
        action=Action.MEDIA_INSPECT,
        purpose="clinical_care",
    )
    record(
        db,
        media,
        status=status,
        identifiable=identifiable,
        reasons=reasons,
        regions=regions,
        inspector=inspector,
    )
    db.execute(delete(InspectionLease).where(InspectionLease.media_id == media_id))
    audit.log(
        db,
        action=Action.MEDIA_INSPECT,
        actor=CUSTODIAN,
        patient_ref=media.patient_id,
        object_type="media",
        object_id=media.id,
        purpose="clinical_care",
        outcome=audit.Outcome.SUCCESS if status == DONE else audit.Outcome.FAILED,
        details={
            "decision": grant.decision.effect.value,
            "status": status,
            "identifiable": identifiable or status != DONE,
            "faces": sum(1 for r in regions if r.get("kind") == "face"),
            "text": sum(1 for r in regions if r.get("kind") == "text"),
            # The photo still carried metadata: the device that took it did not scrub it.
            "metadata": any(reason.startswith(METADATA_REASONS) for reason in reasons),
        },
    )
    return True


def reopen_failed(db: Session, limit: int = 100) -> list[str]:
    """Clear up to ``limit`` failed verdicts so the custodian inspects those photos again,
    each audited; returns the photos' ids.

    For after the cause is fixed (a detector that could not load, a full disk). Until the
    new verdict, the photos are pending, which the sharing gate refuses like identifiable.
    Quarantined photos are never reopened: the records key cannot open them.
    """
    rows = list(
        db.execute(
            select(MediaInspection)
            .where(MediaInspection.status == FAILED)
            .order_by(MediaInspection.inspected_at, MediaInspection.media_id)
            .limit(limit)
        ).scalars()
    )
    reopened: list[str] = []
    for row in rows:
        media = db.get(Media, row.media_id)
        patient_ref = media.patient_id if media is not None else ""
        grant = policy.authorize(
            db,
            _custodian(),
            Act.INSPECT,
            Resource(ObjectKind.MEDIA, id=row.media_id, patient_ref=patient_ref),
            action=Action.MEDIA_INSPECT,
            purpose="clinical_care",
        )
        db.delete(row)
        db.execute(delete(InspectionLease).where(InspectionLease.media_id == row.media_id))
        audit.log(
            db,
            action=Action.MEDIA_INSPECT,
            actor=CUSTODIAN,
            patient_ref=patient_ref,
            object_type="media",
            object_id=row.media_id,
            purpose="clinical_care",
            details={
                "decision": grant.decision.effect.value,
                "reopened": "failed verdict cleared for a new inspection",
            },
        )
        reopened.append(row.media_id)
    db.flush()
    return reopened


def verdict(db: Session, media: Media) -> Verdict:
    row = db.get(MediaInspection, media.id)
    if row is None:
        return Verdict(PENDING, True, ["not inspected yet"], [], "", None)
    return Verdict(
        row.status,
        row.identifiable,
        list(json.loads(row.reasons)),
        list(json.loads(row.regions)),
        row.inspector,
        (row.inspected_at),
    )


def is_quarantined(db: Session, media_id: str) -> bool:
    """Whether the custodian quarantined this photo (the policy's ``Resource.quarantined``)."""
    row = db.get(MediaInspection, media_id)
    return row is not None and row.status == QUARANTINED


def require_shareable(db: Session, media: Media) -> None:
    """Refuse to let an identifiable photo travel beyond what its consent allows (CON-4),
    and a quarantined photo at all."""
    found = verdict(db, media)
    if found.status == QUARANTINED:
        raise Invalid(_QUARANTINE_REFUSAL)
    if found.status == PENDING:
        raise Invalid(
            "this photo is still being inspected for identifying content; try again shortly"
        )
    if not found.identifiable:
        return
    consent = db.get(Consent, media.consent_id)
    if consent is not None and consent.identifiable_allowed:
        return
    why = "; ".join(found.reasons) or "flagged identifiable"
    raise Invalid(
        f"this photo is identifiable ({why}) and the consent does not allow identifiable "
        "images: redact it (clinphoto redact-media) and share the redacted version"
    )


# --- review -------------------------------------------------------------------------------


def quarantine_to_review(db: Session, *, actor: Principal) -> list[QuarantinedPhoto]:
    """Quarantined photos, oldest first: privacy officers only, each listing audited."""
    grant = policy.authorize(
        db,
        actor.subject,
        Act.REVIEW,
        Resource(ObjectKind.MEDIA),
        action=Action.QUARANTINE_REVIEW,
    )
    rows = db.execute(
        select(MediaInspection, Media)
        .join(Media, Media.id == MediaInspection.media_id)
        .where(MediaInspection.status == QUARANTINED)
        .order_by(MediaInspection.inspected_at, MediaInspection.media_id)
    ).all()
    found = [
        QuarantinedPhoto(
            media_id=m.id,
            patient_ref=m.patient_id,
            encounter_id=m.encounter_id,
            author_user_id=m.author_user_id,
            author_device_id=m.author_device_id,
            captured_at=(m.created_at),
            quarantined_at=(i.inspected_at),
            reasons=list(json.loads(i.reasons)),
        )
        for i, m in rows
    ]
    # Each patient's audit export shows that a privacy officer saw the photo listed.
    grant.record_listing(
        db,
        [(photo.media_id, photo.patient_ref) for photo in found],
        object_type="media",
        details={"quarantined": len(found)},
    )
    return found
