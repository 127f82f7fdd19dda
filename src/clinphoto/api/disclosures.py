"""Privacy officers' reports (BEY-6, CON-7): who saw a patient's records, what was shared
under purposes the patient later withdrew, and the queue of withdrawals to follow up.

A route parses, calls one use case of :mod:`clinphoto.disclosures.service` (which asks the
access policy and writes the audit trail) and renders. To anyone but a privacy officer a
named patient or consent is "not found" (decision 013).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from clinphoto.api.deps import Auth, Db, ObjectId
from clinphoto.disclosures import service as disclosures

router = APIRouter(prefix="/v1", tags=["privacy"])


class AccessEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int = Field(description="The audit entry's sequence number")
    at: str = Field(description="When, ISO 8601 in UTC")
    who: str = Field(description="The user's display name, or which part of clinphoto acted")
    role: str = Field(description="clinician, privacy_officer, administrator, or instance")
    institution: str
    device: str = Field(description="The device's name, as its owner enrolled it")
    user_id: str
    device_id: str
    about: str = Field(description="photo, consent, patient or record")
    object_type: str
    object_id: str
    photo_id: str = Field(description="The photo concerned (for a share, its original)")
    kind: str = Field(description="The stored object's kind, when it still exists")
    what: str = Field(description="What happened, in plain words")
    to: str = Field(description="For a share: its recipient and their institution")
    purpose: str
    outcome: str = Field(
        description="allowed, allowed under an emergency override, refused, or failed"
    )
    allowed: bool


class AccessReportOut(BaseModel):
    patient_id: str
    events: list[AccessEventOut] = Field(description="Newest first")
    next_cursor: int | None = Field(
        description="Pass as ?cursor= for the next, older page; null when this is the last"
    )


@router.get(
    "/patients/{patient_id}/access-report",
    summary="Privacy officers: who saw this patient's photos, consents and records, "
    "refusals included, newest first (BEY-6)",
)
def access_report(
    patient_id: ObjectId,
    principal: Auth,
    db: Db,
    cursor: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="next_cursor of the last page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=disclosures.PAGE_MAX)] = disclosures.PAGE_DEFAULT,
) -> AccessReportOut:
    page = disclosures.access_report(
        db, subject=principal.subject, patient_id=patient_id, cursor=cursor, limit=limit
    )
    return AccessReportOut(
        patient_id=page.patient_id,
        events=[AccessEventOut.model_validate(e) for e in page.events],
        next_cursor=page.next_cursor,
    )


class WithdrawalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    purpose: str
    withdrawn_at: datetime


class DisclosureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    share_id: str
    photo_id: str
    purpose: str = Field(description="The purpose it was shared for, since withdrawn")
    sent_at: datetime
    withdrawn_at: datetime = Field(description="When that purpose was withdrawn")
    sender_id: str
    sender_name: str
    recipient_id: str
    recipient_name: str
    recipient_institution: str
    recipient_email: str
    status: str = Field(description="sent, delivered or acknowledged")
    delivered_at: datetime | None
    acknowledged_at: datetime | None
    covered_now: bool = Field(
        description="Another consent of the encounter covers this purpose again today"
    )


class DisclosureReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    consent_id: str
    patient_id: str
    encounter_id: str
    withdrawals: list[WithdrawalOut]
    disclosures: list[DisclosureOut]
    kinds: list[str] = Field(description="What clinphoto records as a disclosure")


@router.get(
    "/consents/{consent_id}/disclosures",
    summary="Privacy officers: what was shared under purposes of this consent before the "
    "patient withdrew them, with recipients and status, to follow up (CON-7)",
)
def consent_disclosures(consent_id: ObjectId, principal: Auth, db: Db) -> DisclosureReportOut:
    report = disclosures.withdrawn_disclosures(db, subject=principal.subject, consent_id=consent_id)
    return DisclosureReportOut.model_validate(report)


class WithdrawalToFollowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    consent_id: str
    patient_id: str = Field(description="The pseudonymous patient id")
    encounter_id: str
    last_withdrawn_at: datetime
    disclosures: int = Field(description="Shares made before the withdrawal, to follow up")


@router.get(
    "/review/withdrawn-disclosures",
    summary="Privacy officers: withdrawn consents whose purposes had already been shared, "
    "most recent withdrawal first (CON-7)",
)
def withdrawal_queue(principal: Auth, db: Db) -> list[WithdrawalToFollowOut]:
    rows = disclosures.withdrawal_queue(db, subject=principal.subject)
    return [WithdrawalToFollowOut.model_validate(r) for r in rows]
