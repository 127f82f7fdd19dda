"""Review routes for privacy officers: photos the records custodian quarantined (DEI-2).

A route parses, calls one use case of :mod:`clinphoto.inspection.service` (which asks the
access policy and writes the audit trail) and renders. Privacy officers see references,
never the photos themselves.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from clinphoto.api.deps import Auth, Db
from clinphoto.inspection import service as inspection

router = APIRouter(prefix="/v1", tags=["review"])


class QuarantinedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    media_id: str
    patient_ref: str = Field(description="The pseudonymous patient id")
    encounter_id: str
    author_user_id: str
    author_device_id: str
    captured_at: datetime
    quarantined_at: datetime
    reasons: list[str] = Field(description="Why the custodian quarantined it, and what to do")


@router.get(
    "/review/quarantine",
    summary="Privacy officers: photos the records custodian could not open, oldest first",
)
def quarantine(principal: Auth, db: Db) -> list[QuarantinedOut]:
    rows = inspection.quarantine_to_review(db, actor=principal)
    return [QuarantinedOut.model_validate(r) for r in rows]
