"""Consent routes: record, consent-to-follow, withdraw, read, review queue (CON-1..3, CON-5)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from clinphoto.api.deps import Auth, Db, Inst
from clinphoto.audit import service as audit
from clinphoto.audit.service import Action
from clinphoto.consent import service as consents
from clinphoto.consent.models import Consent, ConsentStatus, Method, Purpose
from clinphoto.instance.runtime import Instance
from clinphoto.media import service as media_service

router = APIRouter(prefix="/v1", tags=["consent"])


class ConsentIn(BaseModel):
    patient_id: str = Field(max_length=32)
    encounter_id: str | None = Field(default=None, max_length=32, description="Omit for new")
    purposes: list[Purpose] = Field(min_length=1, max_length=4)
    method: Method
    witness_name: str | None = Field(default=None, max_length=200, description="Verbal: required")
    informed_of_rights: bool
    identifiable_allowed: bool = False
    unsecure_channel_allowed: bool = False
    foreign_storage_allowed: bool = False
    text_version: str = Field(min_length=1, max_length=64)
    completes: str | None = Field(
        default=None, max_length=32, description="The consent-to-follow this consent completes"
    )


class ToFollowIn(BaseModel):
    patient_id: str = Field(max_length=32)
    encounter_id: str | None = Field(default=None, max_length=32)
    reason: str = Field(min_length=1, max_length=2000)
    deadline: datetime


class WithdrawalIn(BaseModel):
    purposes: list[Purpose] | None = Field(default=None, description="Omit to withdraw all")
    reason: str | None = Field(default=None, max_length=2000)


class WithdrawalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    purpose: str
    withdrawn_at: datetime
    recorded_by: str


class ConsentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    patient_id: str
    encounter_id: str
    purposes: list[Purpose]
    effective_purposes: list[Purpose]
    method: Method | None
    obtained_by: str
    witness_name: str | None
    informed_of_rights: bool
    identifiable_allowed: bool
    unsecure_channel_allowed: bool
    foreign_storage_allowed: bool
    text_version: str
    obtained_at: datetime
    signature_sha256: str | None
    signature_object_id: str | None = Field(
        default=None, description="The sealed signature image, opened like a photo (CON-3)"
    )
    status: ConsentStatus
    to_follow_reason: str | None
    to_follow_deadline: datetime | None
    completes_consent_id: str | None
    withdrawals: list[WithdrawalOut]


def _out(db: Db, inst: Instance, consent: Consent) -> ConsentOut:
    out = ConsentOut.model_validate(consents.view(db, inst.keys.fields, consent))
    signature = media_service.signature_of(db, consent.id)
    out.signature_object_id = signature.id if signature is not None else None
    return out


def _audit(
    db: Db,
    inst: Instance,
    principal: Auth,
    action: Action,
    consent: Consent,
    details: dict[str, object] | None = None,
) -> None:
    audit.append(
        db,
        inst.audit_keys,
        action=action,
        actor=principal.user.id,
        device=principal.device.id,
        patient_ref=consent.patient_id,
        object_type="consent",
        object_id=consent.id,
        details=details,
    )


@router.post("/consents", summary="Record a consent (optionally completing a consent-to-follow)")
def record_consent(body: ConsentIn, principal: Auth, db: Db, inst: Inst) -> ConsentOut:
    consent = consents.record_consent(
        db,
        keys=inst.keys.fields,
        actor=principal,
        patient_id=body.patient_id,
        purposes=[p.value for p in body.purposes],
        method=body.method,
        witness_name=body.witness_name,
        informed_of_rights=body.informed_of_rights,
        identifiable_allowed=body.identifiable_allowed,
        unsecure_channel_allowed=body.unsecure_channel_allowed,
        foreign_storage_allowed=body.foreign_storage_allowed,
        text_version=body.text_version,
        encounter_id=body.encounter_id,
        completes=body.completes,
    )
    _audit(
        db,
        inst,
        principal,
        Action.CONSENT_RECORD,
        consent,
        {
            "purposes": consent.purposes.split(","),
            "method": str(consent.method),
            "completes": consent.completes_consent_id or "",
        },
    )
    return _out(db, inst, consent)


@router.post("/consents/to-follow", summary="Emergency: a consent-to-follow (clinical care only)")
def record_to_follow(body: ToFollowIn, principal: Auth, db: Db, inst: Inst) -> ConsentOut:
    consent = consents.record_to_follow(
        db,
        keys=inst.keys.fields,
        actor=principal,
        patient_id=body.patient_id,
        reason=body.reason,
        deadline=body.deadline,
        encounter_id=body.encounter_id,
    )
    _audit(db, inst, principal, Action.CONSENT_TO_FOLLOW, consent)
    return _out(db, inst, consent)


@router.post("/consents/{consent_id}/withdrawals", summary="Withdraw some purposes, or all")
def withdraw(
    consent_id: str, body: WithdrawalIn, principal: Auth, db: Db, inst: Inst
) -> ConsentOut:
    rows = consents.withdraw(
        db,
        keys=inst.keys.fields,
        actor=principal,
        consent_id=consent_id,
        purposes=None if body.purposes is None else [p.value for p in body.purposes],
        reason=body.reason,
    )
    consent = consents.get_consent(db, actor=principal, consent_id=consent_id)
    _audit(
        db,
        inst,
        principal,
        Action.CONSENT_WITHDRAW,
        consent,
        {"purposes": [r.purpose for r in rows]},
    )
    return _out(db, inst, consent)


@router.get("/consents/{consent_id}", summary="Read one consent")
def get_consent(consent_id: str, principal: Auth, db: Db, inst: Inst) -> ConsentOut:
    consent = consents.get_consent(db, actor=principal, consent_id=consent_id)
    _audit(db, inst, principal, Action.CONSENT_READ, consent)
    return _out(db, inst, consent)


@router.get("/patients/{patient_id}/consents", summary="A patient's consents")
def list_patient_consents(patient_id: str, principal: Auth, db: Db, inst: Inst) -> list[ConsentOut]:
    found = consents.list_for_patient(db, actor=principal, patient_id=patient_id)
    audit.append(
        db,
        inst.audit_keys,
        action=Action.CONSENT_READ,
        actor=principal.user.id,
        device=principal.device.id,
        patient_ref=patient_id,
        object_type="patient",
        object_id=patient_id,
        details={"results": len(found)},
    )
    return [_out(db, inst, c) for c in found]


@router.get(
    "/review/consents-to-follow",
    summary="Privacy officers: pending consents-to-follow, soonest deadline first",
)
def consents_to_follow(principal: Auth, db: Db, inst: Inst) -> list[ConsentOut]:
    pending = consents.pending_to_follow(db, actor=principal)
    for consent in pending:
        _audit(db, inst, principal, Action.CONSENT_REVIEW, consent)
    return [_out(db, inst, c) for c in pending]
