"""Patients routes: create, find by MRN / health-card number / name, read (PRV, AUD-2)."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from clinphoto.api.deps import Auth, Db, Inst
from clinphoto.audit import service as audit
from clinphoto.audit.service import Action
from clinphoto.patients import service as patients

router = APIRouter(prefix="/v1", tags=["patients"])


class PatientIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    dob: date
    mrn: str = Field(min_length=1, max_length=40)
    hcn: str | None = Field(default=None, max_length=40, description="Health-card number")
    province: str = Field(min_length=2, max_length=2, description="e.g. QC, ON, BC")


class PatientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    dob: date
    mrn: str
    hcn: str | None
    province: str
    created_at: datetime


@router.post("/patients", summary="Register a patient (identifiers are encrypted at rest)")
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
    audit.append(
        db,
        inst.audit_keys,
        action=Action.PATIENT_CREATE,
        actor=principal.user.id,
        device=principal.device.id,
        patient_ref=patient.id,
        object_type="patient",
        object_id=patient.id,
    )
    return PatientOut.model_validate(patients.view(patient, inst.keys.fields))


@router.get("/patients", summary="Find patients by exactly one of mrn, hcn or name")
def find_patients(
    principal: Auth,
    db: Db,
    inst: Inst,
    mrn: str | None = None,
    hcn: str | None = None,
    name: str | None = None,
) -> list[PatientOut]:
    found = patients.find(
        db, bidx_key=inst.keys.blind_index_key, actor=principal, mrn=mrn, hcn=hcn, name=name
    )
    by = "mrn" if mrn is not None else "hcn" if hcn is not None else "name"
    # One entry per patient disclosed; one with no patient when nothing matched.
    for ref in [p.id for p in found] or [""]:
        audit.append(
            db,
            inst.audit_keys,
            action=Action.PATIENT_FIND,
            actor=principal.user.id,
            device=principal.device.id,
            patient_ref=ref,
            object_type="patient",
            object_id=ref,
            details={"by": by, "results": len(found)},
        )
    return [PatientOut.model_validate(patients.view(p, inst.keys.fields)) for p in found]


@router.get("/patients/{patient_id}", summary="Read one patient")
def get_patient(patient_id: str, principal: Auth, db: Db, inst: Inst) -> PatientOut:
    patient = patients.get(db, actor=principal, patient_id=patient_id)
    audit.append(
        db,
        inst.audit_keys,
        action=Action.PATIENT_READ,
        actor=principal.user.id,
        device=principal.device.id,
        patient_ref=patient.id,
        object_type="patient",
        object_id=patient.id,
    )
    return PatientOut.model_validate(patients.view(patient, inst.keys.fields))
