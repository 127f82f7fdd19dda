"""Breach register routes (BRE-1 to BRE-6; decision 014) and share recall (BRE-2).

Each route parses, calls one use case of :mod:`clinphoto.breaches` or of sharing (which asks
the access policy and writes the audit trail) and renders.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from clinphoto.api.deps import OBJECT_ID_PATTERN, Auth, Db, Inst, ObjectId
from clinphoto.api.downloads import PDF_RESPONSES, attachment
from clinphoto.api.errors import CONFLICT
from clinphoto.api.records import Clk
from clinphoto.api.sharing import ShareOut
from clinphoto.breaches import notify
from clinphoto.breaches import service as breaches
from clinphoto.breaches.exposure import CLASSIFICATIONS
from clinphoto.sharing import service as sharing

router = APIRouter(prefix="/v1", tags=["breaches"])

Kind = Literal["lost_device", "stolen_device", "misdirected_share", "shown_by_accident", "other"]
Classification = Literal["not_a_breach", "breach_low_risk", "breach_real_risk"]
Party = Literal["patients", "cmpa", "organization", "college", "commissioner"]
assert set(CLASSIFICATIONS) == set(Classification.__args__)  # type: ignore[attr-defined]


class BreachIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind
    device_id: str | None = Field(default=None, pattern=OBJECT_ID_PATTERN)
    share_id: str | None = Field(default=None, pattern=OBJECT_ID_PATTERN)
    occurred_at: datetime | None = None
    description: str = Field(default="", max_length=2000, description="Stored field-encrypted")


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    step: Literal["contained", "assessed", "notified", "closed"]
    reason: str = Field(max_length=2000)
    classification: Classification | None = None


class NotificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sent_at: datetime
    method: str = Field(max_length=40, description="letter, e-mail, telephone, portal...")
    note: str = Field(default="", max_length=2000, description="Stored field-encrypted")


class RecallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=2000, description="Stored field-encrypted")


class Proposed(BaseModel):
    classification: Classification
    reasons: list[str]


class BreachSummary(BaseModel):
    id: str
    kind: Kind
    status: str
    reported_at: datetime
    reported_by_name: str
    device_id: str | None
    share_id: str | None
    proposed_classification: Classification


class BreachList(BaseModel):
    breaches: list[BreachSummary]


class StepOut(BaseModel):
    step: str
    at: datetime
    by_name: str
    reason: str | None
    classification: Classification | None


class WipeOut(BaseModel):
    wipe_id: str
    requested_at: datetime
    confirmed_at: datetime | None
    signature_valid: bool | None
    erased: dict[str, int | bool] | None


class DeviceOut(BaseModel):
    id: str
    name: str
    owner_name: str
    revoked_at: datetime | None
    last_contact_at: datetime | None
    locked: bool | None
    locked_since: str | None
    wipe: WipeOut | None


class DeletionOut(BaseModel):
    device_id: str
    deleted_at: str


class ShareOfBreach(BaseModel):
    id: str
    recipient_name: str
    recalled_at: datetime | None
    opened_before_recall: bool
    deletions: list[DeletionOut]


class ExposedPatientOut(BaseModel):
    patient_id: str
    display_name: str | None
    reasons: list[str]
    media_ids: list[str]


class ExposureOut(BaseModel):
    as_of: datetime
    patients: list[ExposedPatientOut]


class MediaVerdictOut(BaseModel):
    media_id: str
    verdict: str
    faces: int
    text: int
    metadata: bool


class CaptionOverrideOut(BaseModel):
    media_id: str
    at: str
    by_name: str


class AssessmentOut(BaseModel):
    media: list[MediaVerdictOut]
    caption_overrides: list[CaptionOverrideOut]


class BreachOut(BaseModel):
    id: str
    kind: Kind
    status: str
    reported_at: datetime
    reported_by_name: str
    description: str | None
    occurred_at: datetime | None
    steps: list[StepOut]
    device: DeviceOut | None
    share: ShareOfBreach | None
    exposure: ExposureOut
    assessment: AssessmentOut
    proposed_classification: Proposed
    classification: Classification | None


class NotificationSent(BaseModel):
    at: datetime
    method: str
    by_name: str
    note: str | None


class NotificationItem(BaseModel):
    party: Party
    who: str
    required: Literal["yes", "if_real_risk", "not_confirmed", "no"]
    deadline: str
    source: str
    confirmed: bool
    sent: NotificationSent | None


class NotificationList(BaseModel):
    jurisdiction: str
    items: list[NotificationItem]


class RecalledShareOut(ShareOut):
    recalled_at: datetime | None


def _lock(inst: Inst) -> int:
    return inst.settings.lock_after_seconds


def render(db: Session, view: breaches.BreachView) -> BreachOut:
    """The API's form of a breach (the CLI's --json prints the same)."""
    b = view.breach
    device = None
    if view.device is not None:
        d = view.device
        wipe = None
        if d.wipe is not None:
            w = d.wipe.wipe
            wipe = WipeOut(
                wipe_id=w.id,
                requested_at=w.requested_at,
                confirmed_at=w.confirmed_at,
                signature_valid=d.wipe.signature_valid,
                erased=json.loads(w.erased) if w.erased else None,
            )
        device = DeviceOut(
            id=d.device.id,
            name=d.device.name,
            owner_name=d.owner_name,
            revoked_at=d.device.revoked_at,
            last_contact_at=d.last_contact_at,
            locked=d.locked,
            locked_since=d.locked_since,
            wipe=wipe,
        )
    share = None
    if view.share is not None:
        s = view.share
        share = ShareOfBreach(
            id=s.share.id,
            recipient_name=s.recipient_name,
            recalled_at=s.share.recalled_at,
            opened_before_recall=bool(view.exposure.opened_before_recall),
            deletions=[
                DeletionOut(device_id=x.device_id, deleted_at=x.deleted_at) for x in s.deletions
            ],
        )
    proposed, reasons = view.proposed
    return BreachOut(
        id=b.id,
        kind=b.kind,
        status=b.status,
        reported_at=b.reported_at,
        reported_by_name=view.reported_by_name,
        description=view.description,
        occurred_at=b.occurred_at,
        steps=[
            StepOut(
                step=s.step,
                at=s.at,
                by_name=s.by_name,
                reason=s.reason,
                classification=s.classification,
            )
            for s in view.steps
        ],
        device=device,
        share=share,
        exposure=ExposureOut(
            as_of=view.exposure.as_of,
            patients=[
                ExposedPatientOut(
                    patient_id=p.patient_id,
                    display_name=view.names.get(p.patient_id),
                    reasons=p.reasons,
                    media_ids=p.media_ids,
                )
                for p in view.exposure.patients.values()
            ],
        ),
        assessment=AssessmentOut(
            media=[MediaVerdictOut(**vars(m)) for m in view.assessment.media],
            caption_overrides=[
                CaptionOverrideOut(
                    media_id=o.media_id, at=o.at, by_name=breaches.user_name(db, o.by)
                )
                for o in view.assessment.caption_overrides
            ],
        ),
        proposed_classification=Proposed(classification=proposed, reasons=reasons),
        classification=b.classification,
    )


def _view(db: Db, inst: Inst, principal: Auth, breach_id: str) -> BreachOut:
    view = breaches.get(
        db,
        subject=principal.subject,
        keys=inst.keys.fields,
        breach_id=breach_id,
        lock_after_seconds=_lock(inst),
    )
    return render(db, view)


@router.post(
    "/breaches",
    status_code=201,
    summary="Report a problem: a lost or stolen device, a misdirected share, a photo shown",
)
def report(body: BreachIn, principal: Auth, db: Db, inst: Inst, clock: Clk) -> BreachOut:
    breach = breaches.report(
        db,
        subject=principal.subject,
        keys=inst.keys.fields,
        clock=clock,
        kind=body.kind,
        device_id=body.device_id,
        share_id=body.share_id,
        occurred_at=body.occurred_at,
        description=body.description,
    )
    return _view(db, inst, principal, breach.id)


@router.get(
    "/breaches",
    summary="The breach register (privacy officers); the problems you reported (others)",
)
def list_breaches(principal: Auth, db: Db, inst: Inst) -> BreachList:
    found = breaches.list_breaches(db, subject=principal.subject, lock_after_seconds=_lock(inst))
    return BreachList(
        breaches=[
            BreachSummary(
                id=s.breach.id,
                kind=s.breach.kind,
                status=s.breach.status,
                reported_at=s.breach.reported_at,
                reported_by_name=s.reported_by_name,
                device_id=s.breach.device_id,
                share_id=s.breach.share_id,
                proposed_classification=s.proposed,
            )
            for s in found
        ]
    )


@router.get(
    "/breaches/{breach_id}",
    summary="One breach: what could have been exposed, the assessment and the steps",
)
def get_breach(breach_id: ObjectId, principal: Auth, db: Db, inst: Inst) -> BreachOut:
    return _view(db, inst, principal, breach_id)


@router.post(
    "/breaches/{breach_id}/steps",
    summary="Take a breach to its next step, with the reason (privacy officers)",
    responses=CONFLICT,
)
def add_step(
    breach_id: ObjectId, body: StepIn, principal: Auth, db: Db, inst: Inst, clock: Clk
) -> BreachOut:
    breaches.step(
        db,
        subject=principal.subject,
        keys=inst.keys.fields,
        clock=clock,
        breach_id=breach_id,
        step=body.step,
        reason=body.reason,
        classification=body.classification,
    )
    return _view(db, inst, principal, breach_id)


def _item_out(item: notify.Item) -> NotificationItem:
    sent = None
    if item.sent is not None:
        sent = NotificationSent(
            at=item.sent.sent_at, method=item.sent.method, by_name=item.sent_by_name, note=item.note
        )
    return NotificationItem(
        party=item.party,
        who=item.who,
        required=item.required,
        deadline=item.deadline,
        source=item.source,
        confirmed=item.confirmed,
        sent=sent,
    )


@router.get(
    "/breaches/{breach_id}/notifications",
    summary="Who must be told, by when, under which rule (privacy officers)",
)
def notifications(breach_id: ObjectId, principal: Auth, db: Db, inst: Inst) -> NotificationList:
    jurisdiction, items = notify.checklist(
        db,
        subject=principal.subject,
        keys=inst.keys.fields,
        breach_id=breach_id,
        lock_after_seconds=_lock(inst),
    )
    return NotificationList(jurisdiction=jurisdiction, items=[_item_out(i) for i in items])


@router.post(
    "/breaches/{breach_id}/notifications/{party}",
    summary="Record that a party was notified (privacy officers)",
)
def record_notification(
    breach_id: ObjectId,
    party: Annotated[Party, Path(description="Who was notified")],
    body: NotificationIn,
    principal: Auth,
    db: Db,
    inst: Inst,
    clock: Clk,
) -> NotificationItem:
    item = notify.record_sent(
        db,
        subject=principal.subject,
        keys=inst.keys.fields,
        clock=clock,
        breach_id=breach_id,
        party=party,
        sent_at=body.sent_at,
        method=body.method,
        note=body.note,
        lock_after_seconds=_lock(inst),
    )
    return _item_out(item)


@router.get(
    "/breaches/{breach_id}/letters/{party}.pdf",
    summary="A notification letter as PDF, in English or French (privacy officers)",
    response_class=Response,
    responses=PDF_RESPONSES,
)
def letter(
    breach_id: ObjectId,
    party: Annotated[Party, Path(description="Who the letter is for")],
    principal: Auth,
    db: Db,
    inst: Inst,
    clock: Clk,
    lang: Annotated[Literal["en", "fr"], Query(description="The letter's language")] = "en",
    patient_id: Annotated[
        str | None,
        Query(pattern=OBJECT_ID_PATTERN, description="For the patients' letter: one patient"),
    ] = None,
) -> Response:
    pdf = notify.letter(
        db,
        subject=principal.subject,
        keys=inst.keys.fields,
        clock=clock,
        breach_id=breach_id,
        party=party,
        language=lang,
        patient_id=patient_id,
        lock_after_seconds=_lock(inst),
    )
    return attachment(pdf, f"breach-{breach_id[:8]}-{party}-{lang}.pdf")


@router.post(
    "/shares/{share_id}/recall",
    summary="Recall a share sent to the wrong person (its sender, or a privacy officer)",
    responses=CONFLICT,
)
def recall(
    share_id: ObjectId, body: RecallIn, principal: Auth, db: Db, inst: Inst
) -> RecalledShareOut:
    share = sharing.recall(
        db, subject=principal.subject, keys=inst.keys.fields, share_id=share_id, reason=body.reason
    )
    return RecalledShareOut(**ShareOut.of(share).model_dump(), recalled_at=share.recalled_at)
