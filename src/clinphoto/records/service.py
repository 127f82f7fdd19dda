"""Retention use cases: the rules in force and a privacy officer's changes to them, each
item's destroy-not-before date, legal holds and clinical-decision marks (RET-1, RET-3).

Each asks the access policy and writes its audit entry in the caller's unit of work, allowed
or refused. Hold reasons are free text: field-encrypted at rest, never in the audit trail
in clear. A rule change's reason is field-encrypted too, and kept (as ciphertext) in the
change's audit entry, next to the old and the new rule: that entry is the change's record.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from clinphoto import policy
from clinphoto.audit.models import AuditEntry
from clinphoto.audit.service import Action
from clinphoto.consent.models import Consent, Encounter
from clinphoto.core import text
from clinphoto.core.clock import new_id
from clinphoto.core.errors import Conflict, Invalid
from clinphoto.crypto import FieldKeyring
from clinphoto.media.models import Media
from clinphoto.patients import service as patients
from clinphoto.patients.models import Patient
from clinphoto.policy import Act, ObjectKind, Relation, Resource, Role, Subject
from clinphoto.records import rules as rules_mod
from clinphoto.records import schedule
from clinphoto.records.clock import Clock
from clinphoto.records.models import (
    SCHEDULED,
    LegalHold,
    RetentionItem,
    RetentionPatient,
    RetentionRuleOverride,
)
from clinphoto.records.rules import RetentionRule
from clinphoto.sharing.models import Share

LEGAL_HOLD, CLINICAL_DECISION = "legal_hold", "clinical_decision"
HOLD_KINDS = frozenset({LEGAL_HOLD, CLINICAL_DECISION})
PATIENT, ENCOUNTER, ITEM = "patient", "encounter", "item"
SCOPES = frozenset({PATIENT, ENCOUNTER, ITEM})
_INSTANCE = Resource(ObjectKind.INSTANCE)


# --- rules --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleView:
    rule: RetentionRule
    overridden: bool
    set_by: str | None
    set_at: datetime | None


def list_rules(db: Session, *, subject: Subject) -> list[RuleView]:
    """The rules in force, each with its source and confidence, and whether a privacy
    officer changed it. Open to every signed-in user: no patient data."""
    grant = policy.authorize(
        db, subject, Act.READ_RETENTION_RULES, _INSTANCE, action=Action.RETENTION_READ
    )
    overrides = {o.jurisdiction: o for o in db.execute(select(RetentionRuleOverride)).scalars()}
    views = []
    for code, rule in schedule.rulebook(db).items():
        o = overrides.get(code)
        views.append(
            RuleView(rule, o is not None, o.set_by if o else None, o.set_at if o else None)
        )
    grant.record(db, object_type="retention_rules", details={"rules": len(views)})
    return views


@dataclass(frozen=True)
class RuleChange:
    rule: RetentionRule
    previous: RetentionRule
    patients_recomputed: int


def _rule_reason_aad(change_id: str) -> str:
    return f"retention_rule_change.reason_ct:{change_id}"


def _sealed_reason(keys: FieldKeyring, reason: str) -> dict[str, str]:
    """A rule change's reason for its audit entry: field-encrypted, under the change's own
    id (the entry holds no free text in clear)."""
    change_id = new_id()
    token = keys.encrypt(reason, _rule_reason_aad(change_id))
    return {"change": change_id, "reason_ct": base64.b64encode(token).decode("ascii")}


def rule_change_reason(details: dict[str, Any], keys: FieldKeyring) -> str | None:
    """The reason given for a rule change, from its audit entry's details (None before
    reasons were recorded)."""
    if "reason_ct" not in details:
        return None
    token = base64.b64decode(details["reason_ct"])
    return keys.decrypt(token, _rule_reason_aad(str(details["change"])))


def set_rule(
    db: Session,
    *,
    subject: Subject,
    rule: RetentionRule,
    reason: str,
    keys: FieldKeyring,
    clock: Clock,
    federal: bool = False,
) -> RuleChange:
    """A privacy officer replaces one jurisdiction's rule, saying why (audited with the old
    and new values and the reason, sealed); every date the rule governs is recomputed in the
    same unit of work."""
    grant = policy.authorize(
        db, subject, Act.MANAGE_RETENTION, _INSTANCE, action=Action.RETENTION_RULE_SET
    )
    with policy.refusals_audited(db, subject, Action.RETENTION_RULE_SET, _INSTANCE):
        clean = _reason(reason, "reason")
        if not clean:
            raise Invalid("reason: say why the rule changes", field="reason")
    previous = schedule.rulebook(db)[rule.jurisdiction]
    row = db.get(RetentionRuleOverride, rule.jurisdiction)
    if row is None:
        row = RetentionRuleOverride(jurisdiction=rule.jurisdiction)
        db.add(row)
    row.rule = rule.model_dump_json()
    row.set_by = subject.user_id
    row.set_at = clock.now()
    db.flush()
    # Items recorded since the last sweep get a date too, so none is left behind.
    schedule.schedule_new(db)
    count = schedule.recompute_jurisdiction(
        db, keys=keys, clock=clock, jurisdiction=rule.jurisdiction, federal=federal
    )
    grant.record(
        db,
        object_type="retention_rule",
        object_id=rule.jurisdiction,
        details={
            "previous": json.loads(previous.model_dump_json()),
            "rule": json.loads(rule.model_dump_json()),
            "patients_recomputed": count,
            **_sealed_reason(keys, clean),
        },
    )
    return RuleChange(rule, previous, count)


def reset_rule(
    db: Session,
    *,
    subject: Subject,
    jurisdiction: str,
    keys: FieldKeyring,
    clock: Clock,
    federal: bool = False,
) -> RuleChange:
    """Back to the shipped default for one jurisdiction (audited, dates recomputed)."""
    grant = policy.authorize(
        db, subject, Act.MANAGE_RETENTION, _INSTANCE, action=Action.RETENTION_RULE_SET
    )
    row = db.get(RetentionRuleOverride, jurisdiction)
    if row is None:
        raise Invalid(f"{jurisdiction} uses the shipped default already", field="jurisdiction")
    previous = RetentionRule.model_validate(json.loads(row.rule))
    db.delete(row)
    db.flush()
    default = rules_mod.load_default().by_code()[jurisdiction]
    count = schedule.recompute_jurisdiction(
        db, keys=keys, clock=clock, jurisdiction=jurisdiction, federal=federal
    )
    grant.record(
        db,
        object_type="retention_rule",
        object_id=jurisdiction,
        details={
            "previous": json.loads(previous.model_dump_json()),
            "rule": json.loads(default.model_dump_json()),
            "reset_to_default": True,
            "patients_recomputed": count,
        },
    )
    return RuleChange(default, previous, count)


# --- holds --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a hold names: its patient, its encounter (if any) and its family (an item)."""

    scope: str
    id: str
    patient_id: str
    family: str | None
    kind: ObjectKind


def _item_target(db: Session, item_id: str) -> Target | None:
    schedule.schedule_new(db)  # an item stored since the last sweep is held all the same
    row = db.execute(
        select(RetentionItem).where(RetentionItem.item_id == item_id).limit(1)
    ).scalar()
    if row is None:
        return None
    kind = {"media": ObjectKind.MEDIA, "share": ObjectKind.SHARE}.get(row.kind, ObjectKind.CONSENT)
    return Target(ITEM, item_id, row.patient_id, row.family, kind)


def resolve_target(db: Session, scope: str, target_id: str) -> Target | None:
    if scope not in SCOPES:
        raise Invalid("scope: one of patient, encounter, item", field="scope")
    if not text.is_id(target_id):
        return None
    if scope == PATIENT:
        p = db.get(Patient, target_id)
        return Target(PATIENT, target_id, p.id, None, ObjectKind.PATIENT) if p else None
    if scope == ENCOUNTER:
        e = db.get(Encounter, target_id)
        return Target(ENCOUNTER, target_id, e.patient_id, None, ObjectKind.ENCOUNTER) if e else None
    return _item_target(db, target_id)


def _hold_resource(target: Target | None, target_id: str) -> Resource:
    if target is None:
        return Resource(ObjectKind.PATIENT, id=target_id or "-", exists=False)
    return Resource(target.kind, id=target.id, patient_ref=target.patient_id)


def _reason(reason: str, field: str) -> str:
    return text.clean(reason, field, max_len=1000)


@dataclass(frozen=True)
class HoldView:
    id: str
    kind: str
    scope: str
    target_id: str
    patient_id: str
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str | None
    released_at: datetime | None
    release_reason: str | None

    @property
    def active(self) -> bool:
        return self.released_at is None


def _aad(column: str, hold_id: str) -> str:
    return f"legal_holds.{column}:{hold_id}"


def hold_view(h: LegalHold, keys: FieldKeyring) -> HoldView:
    return HoldView(
        id=h.id,
        kind=h.kind,
        scope=h.scope,
        target_id=h.target_id,
        patient_id=h.patient_id,
        reason=keys.decrypt(h.reason_ct, _aad("reason_ct", h.id)),
        placed_by=h.placed_by,
        placed_at=h.placed_at,
        released_by=h.released_by,
        released_at=h.released_at,
        release_reason=(
            keys.decrypt(h.release_reason_ct, _aad("release_reason_ct", h.id))
            if h.release_reason_ct is not None
            else None
        ),
    )


def place_hold(
    db: Session,
    *,
    subject: Subject,
    keys: FieldKeyring,
    clock: Clock,
    scope: str,
    target_id: str,
    reason: str,
    kind: str = LEGAL_HOLD,
) -> HoldView:
    """Hold a patient, an encounter or an item (with its derived versions, copies and
    shares) against deletion and destruction (RET-3). A privacy officer's act; audited."""
    if kind not in HOLD_KINDS:
        raise Invalid("kind: legal_hold or clinical_decision", field="kind")
    target = resolve_target(db, scope, target_id)
    resource = _hold_resource(target, target_id)
    grant = policy.authorize(db, subject, Act.PLACE_HOLD, resource, action=Action.HOLD_PLACE)
    assert target is not None
    with policy.refusals_audited(db, subject, Action.HOLD_PLACE, resource):
        clean = _reason(reason, "reason")
    hold_id = new_id()
    hold = LegalHold(
        id=hold_id,
        kind=kind,
        scope=scope,
        target_id=target.id,
        family=target.family,
        patient_id=target.patient_id,
        reason_ct=keys.encrypt(clean, _aad("reason_ct", hold_id)),
        placed_by=subject.user_id,
        placed_at=clock.now(),
    )
    db.add(hold)
    db.flush()
    grant.record(
        db,
        object_type="legal_hold",
        object_id=hold_id,
        details={"kind": kind, "scope": scope, "target": target.id},
    )
    return hold_view(hold, keys)


def release_hold(
    db: Session,
    *,
    subject: Subject,
    keys: FieldKeyring,
    clock: Clock,
    hold_id: str,
    reason: str,
) -> HoldView:
    """End a hold, with the reason (audited); the next sweep may destroy what it kept."""
    hold = db.get(LegalHold, hold_id) if text.is_id(hold_id) else None
    resource = (
        Resource(ObjectKind.PATIENT, id=hold.target_id, patient_ref=hold.patient_id)
        if hold is not None
        else Resource(ObjectKind.PATIENT, id=hold_id or "-", exists=False)
    )
    grant = policy.authorize(db, subject, Act.RELEASE_HOLD, resource, action=Action.HOLD_RELEASE)
    assert hold is not None
    with policy.refusals_audited(db, subject, Action.HOLD_RELEASE, resource):
        clean = _reason(reason, "reason")
        if hold.released_at is not None:
            raise Conflict("this hold was released already")
    hold.released_by = subject.user_id
    hold.released_at = clock.now()
    hold.release_reason_ct = keys.encrypt(clean, _aad("release_reason_ct", hold.id))
    db.flush()
    grant.record(
        db,
        object_type="legal_hold",
        object_id=hold.id,
        details={"kind": hold.kind, "scope": hold.scope, "target": hold.target_id},
    )
    return hold_view(hold, keys)


def list_holds(
    db: Session,
    *,
    subject: Subject,
    keys: FieldKeyring,
    include_released: bool = False,
    patient_id: str | None = None,
) -> list[HoldView]:
    """Holds, newest first; each one shown is audited against its patient."""
    # The list of every hold is a privacy officer's (the act that places them); at the
    # server's console, the instance reads it.
    grant = policy.authorize(
        db,
        subject,
        Act.PLACE_HOLD if subject.role is not None else Act.READ_RETENTION,
        _INSTANCE,
        action=Action.RETENTION_READ,
    )
    query = select(LegalHold).order_by(LegalHold.placed_at.desc(), LegalHold.id)
    if not include_released:
        query = query.where(LegalHold.released_at.is_(None))
    if patient_id is not None:
        query = query.where(LegalHold.patient_id == patient_id)
    holds = [hold_view(h, keys) for h in db.execute(query).scalars()]
    grant.record_listing(db, [(h.id, h.patient_id) for h in holds], object_type="legal_hold")
    return holds


def active_holds(
    db: Session, *, patient_id: str, encounter_id: str | None, family: str | None
) -> list[LegalHold]:
    """The holds and marks in force over an item (or an encounter, or a patient): what
    blocks its deletion or destruction (RET-3). For the sweep and deletion requests."""
    ors = [(LegalHold.scope == PATIENT) & (LegalHold.target_id == patient_id)]
    if encounter_id:
        ors.append((LegalHold.scope == ENCOUNTER) & (LegalHold.target_id == encounter_id))
    if family:
        ors.append((LegalHold.scope == ITEM) & (LegalHold.family == family))
    return list(
        db.execute(select(LegalHold).where(LegalHold.released_at.is_(None), or_(*ors))).scalars()
    )


# --- one item's date ----------------------------------------------------------------------


@dataclass(frozen=True)
class ItemRetention:
    kind: str
    item_id: str
    patient_id: str
    status: str
    destroy_not_before: date | None
    jurisdiction: str | None
    rule: RetentionRule | None
    last_entry: date | None
    holds: list[HoldView]
    destroyed_at: datetime | None
    certificate_seq: int | None


def _relations(db: Session, subject: Subject, row: RetentionItem) -> frozenset[Relation]:
    if subject.role is None:
        return frozenset()
    found = set(patients.relations(db, subject.user_id, row.patient_id))
    if row.kind == "media":
        m = db.get(Media, row.item_id)
        if m is not None and m.author_user_id == subject.user_id:
            found.add(Relation.AUTHOR)
    elif row.kind == "share":
        s = db.get(Share, row.item_id)
        if s is not None and s.sender_user_id == subject.user_id:
            found.add(Relation.AUTHOR)
    elif row.kind == "consent":
        c = db.get(Consent, row.item_id)
        if c is not None and c.obtained_by == subject.user_id:
            found.add(Relation.AUTHOR)
    # Only a full care-team member or the item's author: a share recipient sees no date.
    return frozenset(found & {Relation.CARE_TEAM, Relation.AUTHOR})


def item_retention(
    db: Session,
    *,
    subject: Subject,
    keys: FieldKeyring,
    clock: Clock,
    item_id: str,
    federal: bool = False,
) -> ItemRetention:
    """An item's destroy-not-before date, the rule behind it, and what holds it; for the
    privacy officer, the item's author and the patient's care team. Audited."""
    row = None
    if text.is_id(item_id):
        fresh = schedule.schedule_new(db)
        row = db.execute(
            select(RetentionItem).where(RetentionItem.item_id == item_id).limit(1)
        ).scalar()
        if row is not None and row.destroy_not_before == schedule.NOT_YET:
            fresh.add(row.patient_id)  # recorded earlier (a hold placed), not yet dated
        if fresh:
            schedule.recompute_patients(
                db, keys=keys, clock=clock, patient_ids=fresh, federal=federal
            )
            if row is not None:
                db.refresh(row)
    resource = (
        Resource(
            ObjectKind.MEDIA,
            id=item_id,
            patient_ref=row.patient_id,
            relations=_relations(db, subject, row),
        )
        if row is not None
        else Resource(ObjectKind.MEDIA, id=item_id or "-", exists=False)
    )
    grant = policy.authorize(
        db, subject, Act.READ_RETENTION, resource, action=Action.RETENTION_READ
    )
    assert row is not None
    patient = db.get(RetentionPatient, row.patient_id)
    rule = schedule.rulebook(db).get(patient.jurisdiction) if patient is not None else None
    holds = active_holds(
        db, patient_id=row.patient_id, encounter_id=row.encounter_id, family=row.family
    )
    grant.record(db, object_type=row.kind, details={"status": row.status})
    return ItemRetention(
        kind=row.kind,
        item_id=row.item_id,
        patient_id=row.patient_id,
        status=row.status,
        destroy_not_before=(
            row.destroy_not_before if row.destroy_not_before != schedule.NOT_YET else None
        ),
        jurisdiction=patient.jurisdiction if patient is not None else None,
        rule=rule,
        last_entry=patient.last_entry if patient is not None else None,
        holds=[_shown(hold_view(h, keys), subject) for h in holds],
        destroyed_at=row.destroyed_at,
        certificate_seq=row.certificate_seq,
    )


def _shown(view: HoldView, subject: Subject) -> HoldView:
    """A clinician learns that a hold exists and since when, not the privacy officer's
    reasons (a legal matter may be confidential)."""
    if subject.role is Role.PRIVACY_OFFICER or subject.role is None:
        return view
    return replace(view, reason="", release_reason=None)


__all__ = [
    "SCHEDULED",
    "HoldView",
    "ItemRetention",
    "RuleChange",
    "RuleView",
    "active_holds",
    "item_retention",
    "list_certificates",
    "list_holds",
    "list_rules",
    "place_hold",
    "release_hold",
    "reset_rule",
    "rule_change_reason",
    "set_rule",
]


# --- certificates of destruction ----------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    seq: int
    at: str
    actor: str
    patient_ref: str
    object_type: str
    family: str
    details: dict[str, Any]
    entry_hash: str


def certificate(db: Session, *, subject: Subject, ref: str) -> Certificate:
    """A certificate of destruction from the audit trail, by its sequence number or by the
    id of anything it destroyed. For privacy officers and the server's console; audited."""
    seq: int | None = None
    if ref.isdigit() and len(ref) < 19:
        seq = int(ref)
    elif text.is_id(ref):
        seq = db.execute(
            select(RetentionItem.certificate_seq).where(RetentionItem.item_id == ref).limit(1)
        ).scalar()
        if seq is None:
            seq = db.execute(
                select(RetentionItem.certificate_seq).where(RetentionItem.family == ref).limit(1)
            ).scalar()
    entry = (
        db.execute(
            select(AuditEntry).where(
                AuditEntry.seq == seq, AuditEntry.action == Action.RETENTION_DESTROY.value
            )
        ).scalar()
        if seq is not None
        else None
    )
    resource = (
        Resource(ObjectKind.INSTANCE, id=str(entry.seq), patient_ref=entry.patient_ref)
        if entry is not None
        else Resource(ObjectKind.INSTANCE, id=ref[:64] or "-", exists=False)
    )
    act = Act.PLACE_HOLD if subject.role is not None else Act.READ_RETENTION
    grant = policy.authorize(db, subject, act, resource, action=Action.RETENTION_READ)
    assert entry is not None
    grant.record(db, object_type="certificate", object_id=str(entry.seq))
    return Certificate(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        patient_ref=entry.patient_ref,
        object_type=entry.object_type,
        family=entry.object_id,
        details=json.loads(entry.details),
        entry_hash=entry.hash.hex(),
    )


@dataclass(frozen=True)
class CertificateSummary:
    """One certificate of destruction in a list: what, when, by which job, under which rule;
    counts only (the certificate itself has the ids and hashes)."""

    seq: int
    destroyed_at: str
    job: str
    patient_ref: str
    rule: str | None  # the jurisdiction's code
    why: str
    families: int
    media: int
    shares: int
    consents: int
    device_grants: int
    blobs: int


CERTIFICATES_PAGE = 50


def _summary(entry: AuditEntry) -> CertificateSummary:
    d = json.loads(entry.details)
    families = d.get("families", [])
    rule = d.get("rule") or {}
    return CertificateSummary(
        seq=entry.seq,
        destroyed_at=str(d.get("destroyed_at", entry.at)),
        job=str(d.get("job", entry.actor)),
        patient_ref=entry.patient_ref,
        rule=rule.get("jurisdiction"),
        why=str(d.get("why", "")),
        families=len(families),
        media=sum(len(f.get("media", [])) for f in families),
        shares=sum(len(f.get("shares", [])) for f in families),
        consents=sum(len(f.get("consents", [])) for f in families),
        device_grants=sum(int(f.get("device_grants_destroyed", 0)) for f in families),
        blobs=sum(int(f.get("blobs_destroyed", 0)) for f in families),
    )


def list_certificates(
    db: Session, *, subject: Subject, limit: int = CERTIFICATES_PAGE, before: int | None = None
) -> list[CertificateSummary]:
    """Certificates of destruction, newest first, ``limit`` at a time (the next page:
    ``before`` the last one's number). For privacy officers and the server's console; each
    one listed is audited against its patient, as a certificate read is.

    The trail is walked backwards by its primary key from ``before``, keeping destruction
    entries: a page costs the entries written since its oldest certificate, not the trail."""
    if not 1 <= limit <= 500:
        raise Invalid("limit: 1 to 500", field="limit")
    act = Act.PLACE_HOLD if subject.role is not None else Act.READ_RETENTION
    grant = policy.authorize(db, subject, act, _INSTANCE, action=Action.RETENTION_READ)
    query = (
        select(AuditEntry)
        .where(AuditEntry.action == Action.RETENTION_DESTROY.value)
        .order_by(AuditEntry.seq.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(AuditEntry.seq < before)
    found = [_summary(e) for e in db.execute(query).scalars()]
    grant.record_listing(
        db, [(str(c.seq), c.patient_ref) for c in found], object_type="certificate"
    )
    return found


def render_certificate(c: Certificate) -> str:
    """The certificate as a person reads it (``clinphoto retention certificate``)."""
    d = c.details
    rule = d.get("rule") or {}
    lines = [
        f"CERTIFICATE OF DESTRUCTION No. {c.seq}",
        "",
        f"Destroyed at:        {d.get('destroyed_at', c.at)} (audit entry written {c.at})",
        f"By:                  {c.actor} (job {d.get('job', c.actor)})",
        f"Patient reference:   {c.patient_ref}",
        f"Why:                 {d.get('why', '')}",
        f"Destroy not before:  {d.get('destroy_not_before')} (applied as of {d.get('as_of')})",
        f"Last entry:          {d.get('last_entry')}"
        + (" (the patient was a minor then)" if d.get("minor_at_last_entry") else ""),
        f"Rule:                {rule.get('jurisdiction', '?')}: {rule.get('summary', '?')}",
        f"Rule basis:          {rule.get('basis', '?')} (minors: {rule.get('minor_basis', '?')}),"
        f" confidence {rule.get('confidence', '?')},"
        f" {'confirmed' if rule.get('confirmed') else 'NOT confirmed: the CMPA recommendation'}",
        f"Rule source:         {rule.get('source_url', '?')}",
        "",
        "Destroyed (ciphertext deleted; no key that opens it is kept):",
    ]
    for fam in d.get("families", []):
        kind = "photo, with what was made of it" if fam["kind"] == "media" else "consents"
        lines.append(f"  {kind} ({fam['family']}), not before {fam['destroy_not_before']}:")
        for m in fam.get("media", []):
            lines.append(
                f"    - {m['kind']:<17} {m['id']}  sha256 {m['ciphertext_sha256']}"
                f"  {m['size']} bytes"
            )
        for sid in fam.get("shares", []):
            lines.append(f"    - share             {sid}")
        for cid in fam.get("consents", []):
            lines.append(f"    - consent           {cid}")
        lines.append(
            f"    device grants destroyed (re-wrapped file keys): "
            f"{fam.get('device_grants_destroyed', 0)}; blobs deleted: "
            f"{fam.get('blobs_destroyed', 0)}"
        )
    if d.get("backups_unrecoverable_from"):
        lines += [
            "",
            f"Backups:             unrecoverable from {d['backups_unrecoverable_from']} (the"
            " backup keys were destroyed with the objects; the last ledger copy",
            "                     that held them expires then: decision 012)",
        ]
    lines += [
        "",
        f"Audit entry hash: {c.entry_hash} (`clinphoto audit verify` proves the trail intact)",
    ]
    return "\n".join(lines) + "\n"
