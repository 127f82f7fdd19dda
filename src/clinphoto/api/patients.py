"""Patients routes: register, find, read, care team, emergency override (PRV, AUD-2).

Routes parse, call one use case of :mod:`clinphoto.patients.service` (which asks the access
policy and writes the audit trail) and render.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from clinphoto.api.deps import Auth, Db, Inst, ObjectId
from clinphoto.api.errors import CONFLICT
from clinphoto.api.media import MediaOut, Purpose
from clinphoto.media import service as media_service
from clinphoto.patients import service as patients
from clinphoto.sharing import grants

router = APIRouter(prefix="/v1", tags=["patients"])


class PatientIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    dob: date = Field(description="Date of birth, YYYY-MM-DD")
    mrn: str = Field(min_length=1, max_length=40, description="Medical record number")
    hcn: str | None = Field(default=None, max_length=40, description="Health-card number")
    province: str = Field(
        min_length=2, max_length=2, description="Province or territory code, e.g. QC, ON, BC"
    )


class PatientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    dob: date
    mrn: str
    hcn: str | None
    province: str
    created_at: datetime


class PatientMatch(BaseModel):
    """What a search shows: enough to confirm the patient (the wristband's name and date of
    birth) and open an encounter; identifiers beyond that need a care relationship."""

    id: str
    name: str
    dob: date
    province: str
    relation: str | None = Field(
        description="care_team, share_recipient or emergency_override; null: none yet "
        "(open an encounter, by recording consent, to join the care team)"
    )


class MemberIn(BaseModel):
    """Exactly one of ``user_id`` or ``email``."""

    user_id: str | None = Field(
        default=None, min_length=32, max_length=32, description="The clinician to add"
    )
    email: str | None = Field(default=None, max_length=254, description="Or their e-mail")


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    user_id: str
    display_name: str = ""
    institution: str = ""
    source: str = Field(description="registered, encounter, added or share")
    added_by: str
    added_at: datetime


class OverrideIn(BaseModel):
    reason: str = Field(min_length=10, max_length=2000, description="Why, in a sentence")
    minutes: int = Field(default=60, ge=1, le=12 * 60, description="How long (at most 12 h)")


class OverrideOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    user_id: str
    patient_id: str
    reason: str
    started_at: datetime
    expires_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None


@router.post(
    "/patients",
    summary="Register a patient (identifiers are encrypted at rest)",
    responses=CONFLICT,
)
def create_patient(body: PatientIn, principal: Auth, db: Db, inst: Inst) -> PatientOut:
    patient = patients.create_patient(
        db,
        keys=inst.keys.fields,
        bidx_key=inst.keys.blind_index_key,
        actor=principal,
        name=body.name,
        dob=body.dob,
        mrn=body.mrn,
        hcn=body.hcn,
        province=body.province,
    )
    return PatientOut.model_validate(patients.view(patient, inst.keys.fields))


@router.get(
    "/patients",
    summary="Find patients by exactly one of mrn, hcn (any clinician: the wristband) or name "
    "(your own patients only)",
)
def find_patients(
    principal: Auth,
    db: Db,
    inst: Inst,
    mrn: str | None = None,
    hcn: str | None = None,
    name: str | None = None,
) -> list[PatientMatch]:
    found = patients.find(
        db, bidx_key=inst.keys.blind_index_key, actor=principal, mrn=mrn, hcn=hcn, name=name
    )
    out = []
    for p in found:
        v = patients.view(p, inst.keys.fields)
        rel = patients.relations(db, principal.user.id, p.id)
        out.append(
            PatientMatch(
                id=v.id,
                name=v.name,
                dob=v.dob,
                province=v.province,
                relation=min((r.value for r in rel), default=None),
            )
        )
    return out


@router.get("/patients/{patient_id}", summary="Read one patient (care team only)")
def get_patient(patient_id: ObjectId, principal: Auth, db: Db, inst: Inst) -> PatientOut:
    patient = patients.get(db, actor=principal, patient_id=patient_id)
    return PatientOut.model_validate(patients.view(patient, inst.keys.fields))


@router.get(
    "/patients/{patient_id}/media",
    summary="Your own photos of a patient, oldest first, that the consent lets you view for "
    "the purpose you state (the timeline)",
    tags=["media"],
)
def patient_media(
    patient_id: ObjectId, purpose: Purpose, principal: Auth, db: Db
) -> list[MediaOut]:
    found = media_service.timeline(db, principal=principal, patient_id=patient_id, purpose=purpose)
    # A device enrolled later opens the captions with its grants (decision 011).
    texts = grants.text_grants(db, principal.device, found)
    return [MediaOut.of(m, texts.get(m.id)) for m in found]


@router.get("/patients/{patient_id}/care-team", summary="A patient's care team")
def care_team(patient_id: ObjectId, principal: Auth, db: Db) -> list[MemberOut]:
    members = patients.care_team(db, actor=principal, patient_id=patient_id)
    return [MemberOut.model_validate(m) for m in members]


@router.post(
    "/patients/{patient_id}/care-team",
    summary="Add a clinician to the care team (team members and privacy officers)",
)
def add_member(patient_id: ObjectId, body: MemberIn, principal: Auth, db: Db) -> MemberOut:
    member = patients.add_member(
        db, actor=principal, patient_id=patient_id, user_id=body.user_id, email=body.email
    )
    return MemberOut.model_validate(member)


@router.post(
    "/patients/{patient_id}/emergency-override",
    status_code=201,
    summary="Break the glass: time-limited access outside the care team, reviewed later",
)
def emergency_override(
    patient_id: ObjectId, body: OverrideIn, principal: Auth, db: Db, inst: Inst
) -> OverrideOut:
    row = patients.declare_override(
        db,
        keys=inst.keys.fields,
        actor=principal,
        patient_id=patient_id,
        reason=body.reason,
        duration=timedelta(minutes=body.minutes),
    )
    return OverrideOut.model_validate(patients.override_view(row, inst.keys.fields))


@router.get(
    "/review/emergency-overrides",
    summary="Privacy officers: emergency overrides not yet reviewed, oldest first",
)
def overrides_to_review(principal: Auth, db: Db, inst: Inst) -> list[OverrideOut]:
    rows = patients.overrides_to_review(db, keys=inst.keys.fields, actor=principal)
    return [OverrideOut.model_validate(r) for r in rows]


@router.post(
    "/review/emergency-overrides/{override_id}",
    summary="Privacy officers: mark an emergency override reviewed",
)
def review_override(override_id: ObjectId, principal: Auth, db: Db, inst: Inst) -> OverrideOut:
    row = patients.review_override(
        db, keys=inst.keys.fields, actor=principal, override_id=override_id
    )
    return OverrideOut.model_validate(row)


@router.get(
    "/patients/{patient_id}/audit",
    summary="Privacy officers: one patient's audit entries, refusals included (AUD-1, BEY-6)",
)
def patient_audit(patient_id: ObjectId, principal: Auth, db: Db) -> list[dict[str, Any]]:
    lines = patients.audit_export(db, subject=principal.subject, patient_id=patient_id)
    return [json.loads(line) for line in lines]
