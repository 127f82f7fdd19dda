"""The breach register (BRE-1 to BRE-6): report a problem, contain it at once, see what could
have been exposed, and take it through the workflow reported -> contained -> assessed ->
notified -> closed, each step timestamped, with who and why, audited (allowed or refused).

Anybody signed in reports a problem; a clinician sees the problems they reported; privacy
officers see and handle all of them. A lost or stolen device is revoked at once (its sessions
end) and a remote wipe is queued; a share sent to the wrong person is recalled at once.
Decision 014.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinphoto import policy
from clinphoto.accounts import service as accounts
from clinphoto.accounts.models import Device, Role, User
from clinphoto.audit.service import Action
from clinphoto.breaches import devices
from clinphoto.breaches import exposure as risk
from clinphoto.breaches.models import Breach, BreachStep, DeviceWipe, ShareDeletion
from clinphoto.core import text
from clinphoto.core.clock import new_id
from clinphoto.core.errors import Conflict, Invalid
from clinphoto.crypto import FieldKeyring
from clinphoto.patients.models import Patient
from clinphoto.patients.service import view as patient_view
from clinphoto.policy import Act, ObjectKind, Relation, Resource, Subject
from clinphoto.records.clock import Clock
from clinphoto.sharing import service as sharing
from clinphoto.sharing.models import Share

KINDS = ("lost_device", "stolen_device", "misdirected_share", "shown_by_accident", "other")
DEVICE_KINDS = ("lost_device", "stolen_device")
STEPS = ("reported", "contained", "assessed", "notified", "closed")
DESCRIPTION_MAX = 2000
REASON_MAX = 2000


class BreachStepOrder(Conflict):
    code = "breach_step_order"


def _aad(table: str, column: str, row_id: str) -> str:
    return f"{table}.{column}:{row_id}"


def free_text(value: str, field: str, max_len: int) -> str:
    """Free text as typed (one line: the input guard refuses control characters)."""
    return text.clean(value, field, max_len=max_len)


def _collection() -> Resource:
    return Resource(ObjectKind.BREACH)


# --- reporting a problem (BRE-2) -----------------------------------------------------------


def report(
    db: Session,
    *,
    subject: Subject,
    keys: FieldKeyring,
    clock: Clock,
    kind: str,
    device_id: str | None,
    share_id: str | None,
    occurred_at: datetime | None,
    description: str,
) -> Breach:
    """Record a problem and contain it at once: a lost or stolen device is revoked and told
    to wipe; a misdirected share is recalled. Audited, refusals included."""
    grant = policy.authorize(
        db, subject, Act.REPORT_BREACH, _collection(), action=Action.BREACH_REPORT
    )
    now = clock.now()
    with policy.refusals_audited(db, subject, Action.BREACH_REPORT, _collection()):
        if kind not in KINDS:
            raise Invalid(f"kind: one of {', '.join(KINDS)}", field="kind")
        clean = free_text(description, "description", DESCRIPTION_MAX)
        if occurred_at is not None and occurred_at > now:
            raise Invalid("occurred_at: a time in the past", field="occurred_at")
        device = _reported_device(db, subject, kind, device_id)
        share = _reported_share(db, kind, share_id)
    breach_id = new_id()
    breach = Breach(
        id=breach_id,
        kind=kind,
        status="reported",
        reported_at=now,
        reported_by=subject.user_id,
        occurred_at=occurred_at,
        description_ct=keys.encrypt(clean, _aad("breaches", "description_ct", breach_id))
        if clean
        else None,
        device_id=device.id if device is not None else None,
        share_id=share.id if share is not None else None,
    )
    db.add(breach)
    db.add(
        BreachStep(
            id=new_id(), breach_id=breach_id, step="reported", at=now, by_user=subject.user_id
        )
    )
    db.flush()
    details: dict[str, object] = {"kind": kind}
    if device is not None:
        accounts.end_device(db, device)
        wipe = devices.queue_wipe(
            db, device=device, by=subject.user_id, breach_id=breach_id, now=now
        )
        details |= {"device": device.id, "revoked": True, "wipe": wipe.id}
    if share is not None:
        if share.recalled_at is None:
            sharing.recall(
                db,
                subject=subject,
                keys=keys,
                share_id=share.id,
                reason=f"breach {breach_id}: {kind}",
            )
        details |= {"share": share.id, "recalled": True}
    grant.record(db, object_type="breach", object_id=breach_id, details=details)
    return breach


def _reported_device(
    db: Session, subject: Subject, kind: str, device_id: str | None
) -> Device | None:
    if kind not in DEVICE_KINDS:
        if device_id is not None:
            raise Invalid("device_id: only for a lost or stolen device", field="device_id")
        return None
    if device_id is None:
        raise Invalid("device_id: required for a lost or stolen device", field="device_id")
    device = db.get(Device, device_id) if text.is_id(device_id) else None
    officer = subject.role is Role.PRIVACY_OFFICER
    if device is None or (device.user_id != subject.user_id and not officer):
        raise Invalid(
            "device_id: not one of your devices (device list shows them)", field="device_id"
        )
    return device


def _reported_share(db: Session, kind: str, share_id: str | None) -> Share | None:
    if kind != "misdirected_share":
        if share_id is not None:
            raise Invalid("share_id: only for a misdirected share", field="share_id")
        return None
    if share_id is None:
        raise Invalid("share_id: required for a misdirected share", field="share_id")
    share = db.get(Share, share_id) if text.is_id(share_id) else None
    if share is None:
        raise Invalid("share_id: not a share of yours", field="share_id")
    # Whether the reporter may recall it is the policy's to decide (sharing.recall).
    return share


# --- reading -------------------------------------------------------------------------------


def _resource(breach: Breach | None, breach_id: str, subject: Subject) -> Resource:
    if breach is None:
        return Resource(ObjectKind.BREACH, id=breach_id[:64] or "-", exists=False)
    rels = frozenset({Relation.SELF}) if breach.reported_by == subject.user_id else frozenset()
    return Resource(ObjectKind.BREACH, id=breach.id, relations=rels)


def get_for(
    db: Session, subject: Subject, breach_id: str, act: Act, action: Action
) -> tuple[Breach, policy.Grant]:
    breach = db.get(Breach, breach_id) if text.is_id(breach_id) else None
    grant = policy.authorize(db, subject, act, _resource(breach, breach_id, subject), action=action)
    assert breach is not None
    return breach, grant


@dataclass(frozen=True)
class Summary:
    breach: Breach
    reported_by_name: str
    proposed: str


def list_breaches(db: Session, *, subject: Subject, lock_after_seconds: int) -> list[Summary]:
    """Privacy officers: every breach, newest first; others: the ones they reported."""
    officer = subject.role is Role.PRIVACY_OFFICER
    grant = policy.authorize(
        db,
        subject,
        Act.READ_BREACH,
        Resource(ObjectKind.BREACH, relations=frozenset({Relation.SELF})),
        action=Action.BREACH_LIST,
    )
    query = select(Breach).order_by(Breach.reported_at.desc(), Breach.id)
    if not officer:
        query = query.where(Breach.reported_by == subject.user_id)
    found = list(db.execute(query).scalars())
    out = []
    for b in found:
        exp = _exposure(db, b, lock_after_seconds)
        proposed, _ = risk.propose(b.kind, exp, risk.assess(db, exp))
        out.append(Summary(b, user_name(db, b.reported_by), proposed))
    grant.record(db, object_type="breach", details={"results": len(out)})
    return out


def user_name(db: Session, user_id: str | None) -> str:
    user = db.get(User, user_id) if user_id else None
    return user.display_name if user is not None else (user_id or "")


def _exposure(db: Session, breach: Breach, lock_after_seconds: int) -> risk.Exposure:
    as_of = breach.occurred_at or breach.reported_at
    if breach.device_id is not None:
        device = db.get(Device, breach.device_id)
        if device is not None:
            return risk.device_exposure(db, device, as_of, lock_after_seconds=lock_after_seconds)
    if breach.share_id is not None:
        share = db.get(Share, breach.share_id)
        if share is not None:
            return risk.share_exposure(db, share, as_of)
    return risk.Exposure(as_of=as_of, patients={})


@dataclass(frozen=True)
class StepView:
    step: str
    at: datetime
    by_name: str
    reason: str | None
    classification: str | None


@dataclass(frozen=True)
class WipeView:
    wipe: DeviceWipe
    signature_valid: bool | None


@dataclass(frozen=True)
class DeviceView:
    device: Device
    owner_name: str
    last_contact_at: datetime | None
    locked: bool | None
    locked_since: str | None
    wipe: WipeView | None


@dataclass(frozen=True)
class ShareView:
    share: Share
    recipient_name: str
    deletions: list[ShareDeletion]


@dataclass(frozen=True)
class BreachView:
    breach: Breach
    reported_by_name: str
    description: str | None
    steps: list[StepView]
    device: DeviceView | None
    share: ShareView | None
    exposure: risk.Exposure
    names: dict[str, str | None]
    assessment: risk.Assessment
    proposed: tuple[str, list[str]]
    jurisdiction: str


def _steps(db: Session, breach: Breach, keys: FieldKeyring) -> list[StepView]:
    rows = db.execute(
        select(BreachStep)
        .where(BreachStep.breach_id == breach.id)
        .order_by(BreachStep.at, BreachStep.id)
    ).scalars()
    return [
        StepView(
            s.step,
            s.at,
            user_name(db, s.by_user),
            keys.decrypt(s.reason_ct, _aad("breach_steps", "reason_ct", s.id))
            if s.reason_ct
            else None,
            s.classification,
        )
        for s in sorted(rows, key=lambda s: STEPS.index(s.step))
    ]


def _device_view(db: Session, device_id: str | None) -> DeviceView | None:
    device = db.get(Device, device_id) if device_id else None
    if device is None:
        return None
    last = devices.latest_report(db, device.id, None)
    wipe = devices.last_wipe(db, device.id)
    return DeviceView(
        device=device,
        owner_name=user_name(db, device.user_id),
        last_contact_at=last.received_at if last is not None else None,
        locked=last.locked if last is not None else None,
        locked_since=last.locked_since if last is not None else None,
        wipe=WipeView(wipe, devices.wipe_signature_valid(wipe)) if wipe is not None else None,
    )


def _share_view(db: Session, share_id: str | None) -> ShareView | None:
    share = db.get(Share, share_id) if share_id else None
    if share is None:
        return None
    deletions = list(
        db.execute(
            select(ShareDeletion)
            .where(ShareDeletion.share_id == share.id)
            .order_by(ShareDeletion.received_at)
        ).scalars()
    )
    return ShareView(share, user_name(db, share.recipient_user_id), deletions)


def jurisdiction_of(db: Session, patient_ids: list[str]) -> str:
    """The province of most patients involved (ties: alphabetical); the federal rule (CA)
    when no patient is involved."""
    if not patient_ids:
        return "CA"
    provinces = db.execute(select(Patient.province).where(Patient.id.in_(patient_ids))).scalars()
    counts = Counter(provinces)
    if not counts:
        return "CA"
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def get(
    db: Session,
    *,
    subject: Subject,
    keys: FieldKeyring,
    breach_id: str,
    lock_after_seconds: int,
) -> BreachView:
    """One breach with what could have been exposed; the read is audited against each
    patient it names. Names are shown to privacy officers only."""
    breach, grant = get_for(db, subject, breach_id, Act.READ_BREACH, Action.BREACH_READ)
    view = build_view(
        db, breach, keys, lock_after_seconds, names=subject.role is Role.PRIVACY_OFFICER
    )
    shown = [(breach.id, pid) for pid in view.exposure.patients]
    grant.record_listing(db, shown, object_type="breach")
    return view


def build_view(
    db: Session, breach: Breach, keys: FieldKeyring, lock_after_seconds: int, *, names: bool
) -> BreachView:
    exp = _exposure(db, breach, lock_after_seconds)
    assessment = risk.assess(db, exp)
    named: dict[str, str | None] = {}
    for pid in exp.patients:
        patient = db.get(Patient, pid) if names else None
        named[pid] = patient_view(patient, keys).name if patient is not None else None
    description = (
        keys.decrypt(breach.description_ct, _aad("breaches", "description_ct", breach.id))
        if breach.description_ct
        else None
    )
    return BreachView(
        breach=breach,
        reported_by_name=user_name(db, breach.reported_by),
        description=description,
        steps=_steps(db, breach, keys),
        device=_device_view(db, breach.device_id),
        share=_share_view(db, breach.share_id),
        exposure=exp,
        names=named,
        assessment=assessment,
        proposed=risk.propose(breach.kind, exp, assessment),
        jurisdiction=jurisdiction_of(db, list(exp.patients)),
    )


# --- the workflow (BRE-1) ------------------------------------------------------------------


def step(
    db: Session,
    *,
    subject: Subject,
    keys: FieldKeyring,
    clock: Clock,
    breach_id: str,
    step: str,
    reason: str,
    classification: str | None,
) -> Breach:
    """Take a breach to its next step, with the reason (privacy officers; audited, refusals
    included). Steps go in order; an assessed breach that is not a breach may be closed
    without notifications."""
    breach, grant = get_for(db, subject, breach_id, Act.MANAGE_BREACH, Action.BREACH_STEP)
    resource = _resource(breach, breach_id, subject)
    with policy.refusals_audited(db, subject, Action.BREACH_STEP, resource):
        if step not in STEPS[1:]:
            raise Invalid(f"step: one of {', '.join(STEPS[1:])}", field="step")
        clean = free_text(reason, "reason", REASON_MAX)
        if not clean:
            raise Invalid("reason: say why", field="reason")
        current = STEPS.index(breach.status)
        wanted = STEPS.index(step)
        skip_notify = (
            step == "closed"
            and breach.status == "assessed"
            and (breach.classification == risk.NOT_A_BREACH)
        )
        if wanted != current + 1 and not skip_notify:
            raise BreachStepOrder(
                f"this breach is {breach.status}: the next step is {STEPS[min(current + 1, 4)]}"
                if current < 4
                else "this breach is closed"
            )
        if step == "assessed":
            if classification not in risk.CLASSIFICATIONS:
                raise Invalid(
                    "classification: required to assess, one of " + ", ".join(risk.CLASSIFICATIONS),
                    field="classification",
                )
        elif classification is not None:
            raise Invalid("classification: only with the assessed step", field="classification")
    now = clock.now()
    row_id = new_id()
    db.add(
        BreachStep(
            id=row_id,
            breach_id=breach.id,
            step=step,
            at=now,
            by_user=subject.user_id,
            reason_ct=keys.encrypt(clean, _aad("breach_steps", "reason_ct", row_id)),
            classification=classification,
        )
    )
    breach.status = step
    if classification is not None:
        breach.classification = classification
    db.flush()
    grant.record(
        db,
        object_type="breach",
        details={"step": step, **({"classification": classification} if classification else {})},
    )
    return breach


def breach_resource(breach: Breach, subject: Subject) -> Resource:
    return _resource(breach, breach.id, subject)


def jurisdiction_for(db: Session, breach: Breach, lock_after_seconds: int) -> str:
    """Whose rules apply: the patients' province (decision 014)."""
    return jurisdiction_of(db, list(_exposure(db, breach, lock_after_seconds).patients))
