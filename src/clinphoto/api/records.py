"""Retention routes (RET-1, RET-3, RET-5), for the privacy officer's screens to come: the
rules in force and changes to them, an item's destroy-not-before date, legal holds and
clinical-decision marks, a sweep on demand, and certificates of destruction.

Each route parses, calls one use case of :mod:`clinphoto.records` (which asks the access
policy and writes the audit trail) and renders. The scheduled sweep runs in the server as a
background task started by the app's lifespan, every ``CLINPHOTO_RETENTION_SWEEP_INTERVAL``
seconds (the first one interval after start-up; 0: never).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from pydantic import BaseModel, Field

from clinphoto.api.deps import Auth, Db, Inst, ObjectId
from clinphoto.breaches import devices
from clinphoto.core.errors import Invalid
from clinphoto.instance.runtime import Instance
from clinphoto.records import service as records
from clinphoto.records import sweep as sweeper
from clinphoto.records.clock import Clock, SystemClock, today
from clinphoto.records.rules import RetentionRule

router = APIRouter(prefix="/v1/retention", tags=["retention"])
log = logging.getLogger(__name__)


def get_clock(request: Request) -> Clock:
    """The retention clock: the real time, unless a test put another in ``app.state``."""
    clock = getattr(request.app.state, "retention_clock", None)
    return clock if clock is not None else SystemClock()


Clk = Annotated[Clock, Depends(get_clock)]


# --- the scheduled sweep ------------------------------------------------------------------


def run_sweep(inst: Instance, clock: Clock) -> sweeper.SweepReport:
    return sweeper.sweep(
        inst.unit_of_work,
        keys=inst.keys.fields,
        blobs=inst.blobs,
        clock=clock,
        federal=inst.settings.retention_federal,
    )


async def _periodic(app: FastAPI, interval: float) -> None:
    inst: Instance = app.state.instance
    while True:
        await asyncio.sleep(interval)
        clock = getattr(app.state, "retention_clock", None) or SystemClock()
        try:
            report = await asyncio.to_thread(run_sweep, inst, clock)
        except Exception:
            log.exception("retention sweep failed")
        else:
            log.info(
                "retention sweep",
                extra={"families": len(report.destroyed), "held": report.held},
            )
        try:  # on the same schedule: the devices' old status reports (decision 014)
            pruned = await asyncio.to_thread(
                devices.prune_history,
                inst.unit_of_work,
                clock=clock,
                keep_days=app.state.settings.status_history_days,
            )
        except Exception:
            log.exception("status history pruning failed")
        else:
            log.info("status history pruned", extra={"reports": pruned})


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    interval = app.state.settings.retention_sweep_interval
    task = asyncio.create_task(_periodic(app, interval)) if interval > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


# --- rules --------------------------------------------------------------------------------


class RuleOut(BaseModel):
    rule: RetentionRule
    overridden: bool = Field(description="A privacy officer replaced the shipped default")
    set_by: str | None
    set_at: datetime | None
    cmpa_default: bool = Field(description="No rule was confirmed: the CMPA's recommendation")


@router.get("/rules", summary="The retention rules in force, with sources and confidence")
def list_rules(principal: Auth, db: Db) -> list[RuleOut]:
    return [
        RuleOut(
            rule=v.rule,
            overridden=v.overridden,
            set_by=v.set_by,
            set_at=v.set_at,
            cmpa_default=v.rule.basis == "cmpa-default",
        )
        for v in records.list_rules(db, subject=principal.subject)
    ]


Jurisdiction = Annotated[str, Path(pattern=r"^[A-Z]{2}$", description="e.g. ON, BC, CA")]


class RuleChangeIn(RetentionRule):
    """The new rule, and why it changes (kept, sealed, in the change's audit entry)."""

    reason: str = Field(min_length=1, max_length=1000)


class RuleChangeOut(BaseModel):
    rule: RetentionRule
    previous: RetentionRule
    patients_recomputed: int


@router.put(
    "/rules/{jurisdiction}",
    summary="Privacy officers: replace a jurisdiction's rule, with the reason (audited; dates "
    "recomputed)",
)
def set_rule(
    jurisdiction: Jurisdiction, body: RuleChangeIn, principal: Auth, db: Db, inst: Inst, clock: Clk
) -> RuleChangeOut:
    if body.jurisdiction != jurisdiction:
        raise Invalid("jurisdiction: the rule names another jurisdiction", field="jurisdiction")
    change = records.set_rule(
        db,
        subject=principal.subject,
        rule=RetentionRule.model_validate(body.model_dump(exclude={"reason"})),
        reason=body.reason,
        keys=inst.keys.fields,
        clock=clock,
        federal=inst.settings.retention_federal,
    )
    return RuleChangeOut(
        rule=change.rule, previous=change.previous, patients_recomputed=change.patients_recomputed
    )


@router.delete(
    "/rules/{jurisdiction}",
    summary="Privacy officers: back to the shipped default rule (audited; dates recomputed)",
)
def reset_rule(
    jurisdiction: Jurisdiction, principal: Auth, db: Db, inst: Inst, clock: Clk
) -> RuleChangeOut:
    change = records.reset_rule(
        db,
        subject=principal.subject,
        jurisdiction=jurisdiction,
        keys=inst.keys.fields,
        clock=clock,
        federal=inst.settings.retention_federal,
    )
    return RuleChangeOut(
        rule=change.rule, previous=change.previous, patients_recomputed=change.patients_recomputed
    )


# --- items and holds ----------------------------------------------------------------------


class HoldOut(BaseModel):
    id: str
    kind: str
    scope: str
    target_id: str
    patient_ref: str
    reason: str = Field(description="Empty for a clinician: the privacy officer's own")
    placed_by: str
    placed_at: datetime
    released_by: str | None
    released_at: datetime | None
    release_reason: str | None
    active: bool


def _hold(h: records.HoldView) -> HoldOut:
    return HoldOut(
        id=h.id,
        kind=h.kind,
        scope=h.scope,
        target_id=h.target_id,
        patient_ref=h.patient_id,
        reason=h.reason,
        placed_by=h.placed_by,
        placed_at=h.placed_at,
        released_by=h.released_by,
        released_at=h.released_at,
        release_reason=h.release_reason,
        active=h.active,
    )


class ItemRetentionOut(BaseModel):
    kind: str
    item_id: str
    patient_ref: str
    status: str = Field(description="scheduled, or destroyed (a tombstone)")
    destroy_not_before: date | None
    jurisdiction: str | None
    rule: RetentionRule | None
    cmpa_default: bool | None
    last_entry: date | None
    held: bool
    holds: list[HoldOut]
    destroyed_at: datetime | None
    certificate: int | None


@router.get(
    "/items/{item_id}",
    summary="An item's destroy-not-before date, its rule and the holds on it",
)
def item(item_id: ObjectId, principal: Auth, db: Db, inst: Inst, clock: Clk) -> ItemRetentionOut:
    r = records.item_retention(
        db,
        subject=principal.subject,
        keys=inst.keys.fields,
        clock=clock,
        item_id=item_id,
        federal=inst.settings.retention_federal,
    )
    return ItemRetentionOut(
        kind=r.kind,
        item_id=r.item_id,
        patient_ref=r.patient_id,
        status=r.status,
        destroy_not_before=r.destroy_not_before,
        jurisdiction=r.jurisdiction,
        rule=r.rule,
        cmpa_default=(r.rule.basis == "cmpa-default") if r.rule is not None else None,
        last_entry=r.last_entry,
        held=bool(r.holds),
        holds=[_hold(h) for h in r.holds],
        destroyed_at=r.destroyed_at,
        certificate=r.certificate_seq,
    )


class HoldIn(BaseModel):
    scope: Literal["patient", "encounter", "item"]
    target_id: str = Field(max_length=32)
    reason: str = Field(min_length=1, max_length=1000)
    kind: Literal["legal_hold", "clinical_decision"] = "legal_hold"


class ReleaseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


@router.get("/holds", summary="Privacy officers: legal holds and clinical-decision marks")
def holds(
    principal: Auth,
    db: Db,
    inst: Inst,
    include_released: Annotated[bool, Query()] = False,
) -> list[HoldOut]:
    views = records.list_holds(
        db, subject=principal.subject, keys=inst.keys.fields, include_released=include_released
    )
    return [_hold(h) for h in views]


@router.post("/holds", summary="Privacy officers: hold a patient, an encounter or an item")
def place_hold(body: HoldIn, principal: Auth, db: Db, inst: Inst, clock: Clk) -> HoldOut:
    view = records.place_hold(
        db,
        subject=principal.subject,
        keys=inst.keys.fields,
        clock=clock,
        scope=body.scope,
        target_id=body.target_id,
        reason=body.reason,
        kind=body.kind,
    )
    return _hold(view)


@router.post("/holds/{hold_id}/release", summary="Privacy officers: release a hold (audited)")
def release_hold(
    hold_id: ObjectId, body: ReleaseIn, principal: Auth, db: Db, inst: Inst, clock: Clk
) -> HoldOut:
    view = records.release_hold(
        db,
        subject=principal.subject,
        keys=inst.keys.fields,
        clock=clock,
        hold_id=hold_id,
        reason=body.reason,
    )
    return _hold(view)


# --- sweep and certificates ---------------------------------------------------------------


class SweepIn(BaseModel):
    dry_run: bool = True
    as_of: date | None = Field(
        default=None, description="Apply this day's expiry; later than today only in a dry run"
    )


class SweepOut(BaseModel):
    as_of: date
    dry_run: bool
    families: int
    items: int
    held: int
    waiting: int
    blobs_deleted: int
    certificates: list[int]
    planned: list[dict[str, Any]]


@router.post("/sweep", summary="Privacy officers: run the retention sweep now (or preview it)")
def sweep(body: SweepIn, principal: Auth, inst: Inst, clock: Clk) -> SweepOut:
    # No request transaction here: the sweep opens its own, one per family destroyed.
    if body.as_of is not None and body.as_of > today(clock) and not body.dry_run:
        raise Invalid("as_of: destroying ahead of time is never allowed; preview with dry_run")
    report = sweeper.sweep(
        inst.unit_of_work,
        keys=inst.keys.fields,
        blobs=inst.blobs,
        clock=clock,
        subject=principal.subject,
        as_of=body.as_of,
        dry_run=body.dry_run,
        federal=inst.settings.retention_federal,
    )
    return SweepOut(
        as_of=report.as_of,
        dry_run=report.dry_run,
        families=len(report.destroyed),
        items=report.items,
        held=report.held,
        waiting=report.waiting,
        blobs_deleted=report.blobs_deleted,
        certificates=report.certificates,
        planned=[
            {
                "family": p.family,
                "kind": p.kind,
                "patient_ref": p.patient_id,
                "destroy_not_before": p.destroy_not_before.isoformat(),
                "items": [{"kind": k, "id": i} for k, i in p.items],
            }
            for p in report.destroyed[:1000]
        ],
    )


class CertificateOut(BaseModel):
    number: int
    at: str
    actor: str
    patient_ref: str
    family: str
    details: dict[str, Any]
    text: str = Field(description="The certificate as printed by `clinphoto retention certificate`")


class CertificateSummaryOut(BaseModel):
    number: int
    destroyed_at: str
    job: str
    patient_ref: str
    rule: str | None = Field(description="The jurisdiction whose rule applied")
    why: str
    families: int
    media: int = Field(description="Photos, videos, derived versions, share copies, signatures")
    shares: int
    consents: int
    device_grants: int
    blobs: int


class CertificatePageOut(BaseModel):
    certificates: list[CertificateSummaryOut]
    next_before: int | None = Field(description="Pass as `before` for the next page")


@router.get(
    "/certificates",
    summary="Privacy officers: the certificates of destruction, newest first, a page at a time",
)
def certificates(
    principal: Auth,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=500)] = records.CERTIFICATES_PAGE,
    before: Annotated[int | None, Query(ge=1, lt=2**63)] = None,
) -> CertificatePageOut:
    found = records.list_certificates(db, subject=principal.subject, limit=limit, before=before)
    return CertificatePageOut(
        certificates=[
            CertificateSummaryOut(
                number=c.seq, **{k: v for k, v in asdict(c).items() if k != "seq"}
            )
            for c in found
        ],
        next_before=found[-1].seq if len(found) == limit else None,
    )


@router.get(
    "/certificates/{ref}",
    summary="Privacy officers: a certificate of destruction, by number or by an item's id",
)
def certificate(
    ref: Annotated[str, Path(pattern=r"^([0-9]{1,18}|[0-9a-f]{32})$")], principal: Auth, db: Db
) -> CertificateOut:
    c = records.certificate(db, subject=principal.subject, ref=ref)
    return CertificateOut(
        number=c.seq,
        at=c.at,
        actor=c.actor,
        patient_ref=c.patient_ref,
        family=c.family,
        details=c.details,
        text=records.render_certificate(c),
    )
