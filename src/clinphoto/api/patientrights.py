"""Patients' requests over HTTP (RET-3, RET-4, AUD-3, CON-2, CON-3): copy requests with their
printable report and sealed package, deletion requests with the privacy officer's decision
and the letter to the patient, and consent forms as PDF.

Each route parses, calls one use case of :mod:`clinphoto.patientrights.service` (which asks
the access policy and writes the audit trail) and renders. Media are opened by the records
custodian's :func:`~clinphoto.instance.custodian.open_media`, in this process, in memory.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from clinphoto.api.deps import Auth, Db, Inst, ObjectId
from clinphoto.api.downloads import OCTET_RESPONSES, PDF_RESPONSES, attachment
from clinphoto.api.records import Clk
from clinphoto.consent import texts
from clinphoto.instance.custodian import open_media
from clinphoto.instance.runtime import Instance
from clinphoto.patientrights import service

router = APIRouter(tags=["patient requests"])
Language = Literal["en", "fr"]


def _texts(inst: Instance) -> dict[str, texts.ConsentText]:
    return texts.catalogue(inst.settings.data_dir / "consent-texts")


# --- copies -------------------------------------------------------------------------------


class CopyRequestIn(BaseModel):
    language: Language
    received_at: date = Field(description="The day the patient's request was received")


class CopyRequestOut(BaseModel):
    id: str
    patient_id: str
    status: Literal["open", "packaged", "delivered"]
    language: Language
    received_at: date
    created_at: datetime
    packaged_at: datetime | None = None
    package_size: int | None = None
    downloaded_at: datetime | None = None


class CopyRequestList(BaseModel):
    requests: list[CopyRequestOut]


def _copy_out(v: service.CopyView) -> CopyRequestOut:
    return CopyRequestOut.model_validate(v, from_attributes=True)


@router.post(
    "/v1/patients/{patient_id}/copy-requests",
    status_code=201,
    summary="Privacy officers: record a patient's request for a copy of their record (RET-4)",
)
def create_copy_request(
    patient_id: ObjectId, body: CopyRequestIn, principal: Auth, db: Db, clock: Clk
) -> CopyRequestOut:
    return _copy_out(
        service.create_copy_request(
            db,
            subject=principal.subject,
            clock=clock,
            patient_id=patient_id,
            language=body.language,
            received_at=body.received_at,
        )
    )


@router.get("/v1/copy-requests", summary="Privacy officers: copy requests, open and done")
def list_copy_requests(principal: Auth, db: Db) -> CopyRequestList:
    return CopyRequestList(
        requests=[_copy_out(v) for v in service.list_copy_requests(db, subject=principal.subject)]
    )


@router.get(
    "/v1/copy-requests/{request_id}/report.pdf",
    summary="Privacy officers: the printable report of a copy request (AUD-3), as PDF",
    response_class=Response,
    responses=PDF_RESPONSES,
)
def copy_report(request_id: ObjectId, principal: Auth, db: Db, inst: Inst, clock: Clk) -> Response:
    pdf = service.copy_report(
        db,
        subject=principal.subject,
        keys=inst.keys.fields,
        clock=clock,
        request_id=request_id,
        open_media=partial(open_media, inst),
        texts=_texts(inst),
    )
    return attachment(pdf, f"copy-{request_id[:8]}.pdf")


class PackageOut(BaseModel):
    passphrase: str = Field(description="Shown once; give it to the patient separately")
    download: str
    size: int


@router.post(
    "/v1/copy-requests/{request_id}/package",
    summary="Privacy officers: seal the patient's package (one age file) with a new passphrase",
)
def copy_package(
    request_id: ObjectId, principal: Auth, db: Db, inst: Inst, clock: Clk
) -> PackageOut:
    made = service.copy_package(
        db,
        subject=principal.subject,
        keys=inst.keys.fields,
        clock=clock,
        blobs=inst.blobs,
        request_id=request_id,
        open_media=partial(open_media, inst),
        texts=_texts(inst),
    )
    return PackageOut(
        passphrase=made.passphrase,
        download=f"/v1/copy-requests/{request_id}/package.age",
        size=made.size,
    )


@router.get(
    "/v1/copy-requests/{request_id}/package.age",
    summary="Privacy officers: download the sealed package (once; it is then deleted)",
    response_class=Response,
    responses=OCTET_RESPONSES,
)
def package_file(request_id: ObjectId, principal: Auth, db: Db, inst: Inst, clock: Clk) -> Response:
    data = service.package_file(
        db, subject=principal.subject, clock=clock, blobs=inst.blobs, request_id=request_id
    )
    return attachment(data, f"record-{request_id[:8]}.age", "application/octet-stream")


# --- deletion -----------------------------------------------------------------------------


class DeletionRequestIn(BaseModel):
    scope: Literal["patient", "encounter", "items"]
    encounter_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    media_ids: list[Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]] | None = Field(
        default=None, max_length=1000
    )
    reason: str = Field(max_length=2000, description="The patient's reason (field-encrypted)")
    language: Language


class ItemOut(BaseModel):
    id: str
    kind: str
    outcome: (
        Literal["destroyed", "refused_hold", "refused_clinical_decision", "refused_retention"]
        | None
    )
    certificate_seq: int | None


class DeletionRequestOut(BaseModel):
    id: str
    patient_id: str
    scope: str
    encounter_id: str | None
    media_ids: list[str] | None
    language: Language
    status: Literal["open", "granted", "refused", "partly_granted"]
    reason: str
    created_at: datetime
    decision: str | None
    decided_at: datetime | None
    decision_reason: str | None
    items: list[ItemOut]


class DeletionList(BaseModel):
    requests: list[DeletionRequestOut]


class DecisionIn(BaseModel):
    decision: Literal["granted", "refused", "partly_granted"]
    reason: str = Field(max_length=2000)
    retain: list[Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]] | None = Field(
        default=None,
        max_length=1000,
        description="partly_granted: the photos kept under the retention rule",
    )


def _deletion_out(v: service.DeletionView) -> DeletionRequestOut:
    return DeletionRequestOut.model_validate(v, from_attributes=True)


@router.post(
    "/v1/patients/{patient_id}/deletion-requests",
    status_code=201,
    summary="Privacy officers: record a patient's request that photos be deleted (RET-3)",
)
def create_deletion_request(
    patient_id: ObjectId, body: DeletionRequestIn, principal: Auth, db: Db, inst: Inst, clock: Clk
) -> DeletionRequestOut:
    return _deletion_out(
        service.create_deletion_request(
            db,
            subject=principal.subject,
            keys=inst.keys.fields,
            clock=clock,
            patient_id=patient_id,
            scope=body.scope,
            encounter_id=body.encounter_id,
            media_ids=body.media_ids,
            reason=body.reason,
            language=body.language,
        )
    )


@router.post(
    "/v1/deletion-requests/{request_id}/decision",
    summary="Privacy officers: decide a deletion request; granted photos are destroyed",
)
def decide_deletion(
    request_id: ObjectId, body: DecisionIn, principal: Auth, db: Db, inst: Inst, clock: Clk
) -> DeletionRequestOut:
    return _deletion_out(
        service.decide_deletion(
            db,
            subject=principal.subject,
            keys=inst.keys.fields,
            clock=clock,
            blobs=inst.blobs,
            request_id=request_id,
            decision=body.decision,
            reason=body.reason,
            retain=body.retain,
        )
    )


@router.get("/v1/deletion-requests", summary="Privacy officers: deletion requests")
def list_deletion_requests(principal: Auth, db: Db, inst: Inst) -> DeletionList:
    return DeletionList(
        requests=[
            _deletion_out(v)
            for v in service.list_deletion_requests(
                db, subject=principal.subject, keys=inst.keys.fields
            )
        ]
    )


@router.get(
    "/v1/deletion-requests/{request_id}/letter.pdf",
    summary="Privacy officers: the letter to the patient (what was deleted, what kept, why)",
    response_class=Response,
    responses=PDF_RESPONSES,
)
def deletion_letter(
    request_id: ObjectId, principal: Auth, db: Db, inst: Inst, clock: Clk
) -> Response:
    pdf = service.deletion_letter(
        db, subject=principal.subject, keys=inst.keys.fields, clock=clock, request_id=request_id
    )
    return attachment(pdf, f"deletion-{request_id[:8]}.pdf")


# --- consent forms ------------------------------------------------------------------------


@router.get(
    "/v1/consents/{consent_id}/form.pdf",
    summary="The consent form as PDF (CON-2, CON-3): privacy officers and the care team",
    response_class=Response,
    responses=PDF_RESPONSES,
)
def consent_form(
    consent_id: ObjectId,
    principal: Auth,
    db: Db,
    inst: Inst,
    clock: Clk,
    lang: Annotated[Language, Query()] = "en",
) -> Response:
    pdf = service.consent_form(
        db,
        subject=principal.subject,
        keys=inst.keys.fields,
        clock=clock,
        consent_id=consent_id,
        language=lang,
        open_media=partial(open_media, inst),
        texts=_texts(inst),
    )
    return attachment(pdf, f"consent-{consent_id[:8]}-{lang}.pdf")
