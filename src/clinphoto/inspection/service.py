"""Inspection results and the rules they drive (DEI-2, CON-4, TRN-3).

The server never sees plaintext on the request path. The records custodian, a job holding
the records key (``instance.custodian``), opens each new photo, runs the detectors of
:mod:`clinphoto.imaging` and records the verdict here. Until a photo is inspected it is
treated as identifiable (fail closed). An identifiable photo may be shared only when its
consent allows identifiable images; otherwise the author shares a redacted derivative, which
is inspected in turn.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinphoto.consent.models import Consent
from clinphoto.core.clock import utcnow
from clinphoto.core.errors import Conflict, Invalid
from clinphoto.inspection.models import MediaInspection
from clinphoto.media import service as media_service
from clinphoto.media.models import Media

PENDING = "pending"
DONE = "done"
FAILED = "failed"


@dataclass(frozen=True)
class Verdict:
    status: str  # pending | done | failed
    identifiable: bool
    reasons: list[str]
    regions: list[dict[str, Any]]
    inspector: str
    inspected_at: datetime | None


def pending(db: Session, limit: int = 20) -> list[Media]:
    """Photos (originals and derived versions) that have no verdict yet, oldest first."""
    return list(
        db.execute(
            select(Media)
            .outerjoin(MediaInspection, MediaInspection.media_id == Media.id)
            .where(Media.kind == media_service.PHOTO, MediaInspection.media_id.is_(None))
            .order_by(Media.created_at, Media.id)
            .limit(limit)
        ).scalars()
    )


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
    if status not in (DONE, FAILED):
        raise Invalid("an inspection is done or failed")
    if db.get(MediaInspection, media.id) is not None:
        raise Conflict("this photo already has its verdict")
    row = MediaInspection(
        media_id=media.id,
        status=status,
        # A failed inspection proves nothing: the photo stays identifiable (fail closed).
        identifiable=identifiable or status == FAILED,
        reasons=json.dumps(list(reasons)),
        regions=json.dumps(list(regions)),
        inspector=inspector[:64],
        inspected_at=utcnow(),
    )
    db.add(row)
    db.flush()
    return row


def reopen_failed(db: Session, limit: int = 100) -> list[str]:
    """Clear up to ``limit`` failed verdicts so the custodian inspects those photos again.

    For after the cause is fixed (a detector that could not load, a full disk). Until the
    new verdict, the photos are pending, which the sharing gate refuses like identifiable.
    """
    rows = list(
        db.execute(
            select(MediaInspection)
            .where(MediaInspection.status == FAILED)
            .order_by(MediaInspection.inspected_at, MediaInspection.media_id)
            .limit(limit)
        ).scalars()
    )
    for row in rows:
        db.delete(row)
    db.flush()
    return [row.media_id for row in rows]


def verdict(db: Session, media: Media) -> Verdict:
    row = db.get(MediaInspection, media.id)
    if row is None:
        return Verdict(PENDING, True, ["not inspected yet"], [], "", None)
    at = row.inspected_at if row.inspected_at.tzinfo else row.inspected_at.replace(tzinfo=UTC)
    return Verdict(
        row.status,
        row.identifiable,
        list(json.loads(row.reasons)),
        list(json.loads(row.regions)),
        row.inspector,
        at,
    )


def require_shareable(db: Session, media: Media) -> None:
    """Refuse to let an identifiable photo travel beyond what its consent allows (CON-4)."""
    found = verdict(db, media)
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
