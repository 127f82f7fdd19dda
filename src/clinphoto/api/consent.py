"""Consent routes: record, consent-to-follow, withdraw, read, review queue (CON-1..3, CON-5)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from clinphoto.api.deps import Auth, Db, Inst, ObjectId
from clinphoto.consent import service as consents
from clinphoto.consent import texts
from clinphoto.consent.models import Consent, ConsentStatus, Method, Purpose
from clinphoto.core.errors import NotFound
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
    renews_withdrawn: bool = Field(
        default=False,
        description="This consent renews purposes the patient withdrew in this encounter",
    )


class ToFollowIn(BaseModel):
    patient_id: str = Field(max_length=32)
    encounter_id: str | None = Field(default=None, max_length=32)
    reason: str = Field(min_length=1, max_length=2000)
    deadline: datetime = Field(
        description="When consent must be obtained: ISO 8601 with its UTC offset, at most 72 h "
        "ahead"
    )


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


class ConsentTextOut(BaseModel):
    id: str = Field(description="What a consent records as its text_version")
    language: str = Field(description="en, fr, or empty when the id does not say")
    body: str
    sha256: str = Field(description="SHA-256 of the text's UTF-8 bytes")
    shipped: bool = Field(description="Shipped with clinphoto, or added by the institution")

    @classmethod
    def of(cls, t: texts.ConsentText) -> ConsentTextOut:
        return cls(id=t.id, language=t.language, body=t.body, sha256=t.sha256, shipped=t.shipped)


class ConsentTextsOut(BaseModel):
    current: dict[str, ConsentTextOut] = Field(
        description="The version the apps offer, by language (en, fr)"
    )
    ids: list[str] = Field(description="Every text a consent may name, the institution's too")


def _texts(inst: Instance) -> dict[str, texts.ConsentText]:
    return texts.catalogue(inst.settings.data_dir / "consent-texts")


@router.get(
    "/consent-texts",
    summary="The consent text to show, in English and French, and every text a consent may name",
)
def consent_texts(principal: Auth, inst: Inst) -> ConsentTextsOut:
    return ConsentTextsOut(
        current={lang: ConsentTextOut.of(t) for lang, t in texts.current().items()},
        ids=sorted(_texts(inst)),
    )


@router.get("/consent-texts/{text_id}", summary="One consent text, word for word, by its id")
def consent_text(text_id: str, principal: Auth, inst: Inst) -> ConsentTextOut:
    found = _texts(inst).get(text_id)
    if found is None:
        raise NotFound("no such consent text")
    return ConsentTextOut.of(found)


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
        known_texts=_texts(inst),
        encounter_id=body.encounter_id,
        completes=body.completes,
        renews_withdrawn=body.renews_withdrawn,
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
    return _out(db, inst, consent)


@router.post("/consents/{consent_id}/withdrawals", summary="Withdraw some purposes, or all")
def withdraw(
    consent_id: ObjectId, body: WithdrawalIn, principal: Auth, db: Db, inst: Inst
) -> ConsentOut:
    consents.withdraw(
        db,
        keys=inst.keys.fields,
        actor=principal,
        consent_id=consent_id,
        purposes=None if body.purposes is None else [p.value for p in body.purposes],
        reason=body.reason,
    )
    return _out(db, inst, consents.get_consent(db, actor=principal, consent_id=consent_id))


@router.get("/consents/{consent_id}", summary="Read one consent")
def get_consent(consent_id: ObjectId, principal: Auth, db: Db, inst: Inst) -> ConsentOut:
    return _out(db, inst, consents.get_consent(db, actor=principal, consent_id=consent_id))


@router.get("/patients/{patient_id}/consents", summary="A patient's consents")
def list_patient_consents(
    patient_id: ObjectId, principal: Auth, db: Db, inst: Inst
) -> list[ConsentOut]:
    found = consents.list_for_patient(db, actor=principal, patient_id=patient_id)
    return [_out(db, inst, c) for c in found]


@router.get(
    "/review/consents-to-follow",
    summary="Privacy officers: pending consents-to-follow, soonest deadline first",
)
def consents_to_follow(principal: Auth, db: Db, inst: Inst) -> list[ConsentOut]:
    pending = consents.pending_to_follow(db, actor=principal)
    return [_out(db, inst, c) for c in pending]


class EncounterOut(BaseModel):
    id: str
    patient_id: str
    started_at: datetime


@router.post(
    "/patients/{patient_id}/encounters",
    status_code=201,
    summary="Open an encounter (any clinician, e.g. after a wristband lookup); joins the care team",
)
def open_encounter(patient_id: ObjectId, principal: Auth, db: Db) -> EncounterOut:
    e = consents.open_encounter(db, actor=principal, patient_id=patient_id)
    return EncounterOut(id=e.id, patient_id=e.patient_id, started_at=e.started_at)
