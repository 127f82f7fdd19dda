"""Consent: recording, consent-to-follow for emergencies, withdrawal, coverage.

- CON-1: a consent names its purposes (a subset of :class:`Purpose`), how it was obtained,
  who obtained it, the version of the text shown, and that the patient was told of their
  rights; a verbal consent needs a witness.
- CON-2: withdrawal of one purpose or all of them; the record is kept, the withdrawal is
  a new row, and coverage is computed from what is left.
- CON-3: in an emergency a consent-to-follow covers clinical care only, until a real consent
  completes it; privacy officers review the pending ones, soonest deadline first.
- CON-5: the options (identifiable, unsecure channel, foreign storage) are recorded as given;
  none of them switches off any security control.

- Who: consent is recorded, withdrawn or completed only by the patient's care team (opening
  a new encounter joins it) or a privacy officer; the access policy decides and each use case
  here writes its audit entry, allowed or refused, in the caller's unit of work.
- A withdrawn purpose comes back only through a new consent documented as renewing it; a
  consent-to-follow stops covering capture at its deadline, which has an upper bound; an
  electronic-signature consent covers nothing until its signature is attached.

Free text (witness name, reasons) is encrypted with the field keyring.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinphoto import policy
from clinphoto.accounts.models import Role
from clinphoto.accounts.service import Principal
from clinphoto.audit.service import Action
from clinphoto.consent.models import (
    ALL_PURPOSES,
    Consent,
    ConsentStatus,
    ConsentWithdrawal,
    Encounter,
    Method,
    Purpose,
)
from clinphoto.core import text
from clinphoto.core.clock import new_id, utcnow
from clinphoto.core.errors import Conflict, Forbidden, Invalid, NotFound
from clinphoto.crypto import FieldKeyring
from clinphoto.patients import service as patients
from clinphoto.policy import Act, Coverage, ObjectKind, Relation, Resource
from clinphoto.storage.jurisdiction import in_canada

COVERING = (ConsentStatus.ACTIVE, ConsentStatus.TO_FOLLOW)
# How far ahead a consent-to-follow's deadline may be set (CON-1): consent is obtained as soon
# as the patient can give it; past the deadline the encounter is no longer covered.
TO_FOLLOW_MAX = timedelta(hours=72)


@dataclass(frozen=True)
class WithdrawalView:
    purpose: str
    withdrawn_at: datetime
    recorded_by: str


@dataclass(frozen=True)
class ConsentView:
    """A consent with its free text decrypted and its effective purposes computed."""

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
    status: ConsentStatus
    to_follow_reason: str | None
    to_follow_deadline: datetime | None
    completes_consent_id: str | None
    withdrawals: list[WithdrawalView]


def _aad(table: str, column: str, row_id: str) -> str:
    return f"{table}.{column}:{row_id}"


def parse_purposes(values: Iterable[str]) -> list[Purpose]:
    """Known purposes, de-duplicated, in canonical order; :class:`Invalid` otherwise."""
    known = {p.value for p in Purpose}
    given = set()
    for v in values:
        if v not in known:
            raise Invalid(f"unknown purpose {v!r}; use one of {', '.join(sorted(known))}")
        given.add(v)
    if not given:
        raise Invalid("a consent names at least one purpose")
    return [p for p in Purpose if p.value in given]


def stored_purposes(consent: Consent) -> list[Purpose]:
    return [Purpose(p) for p in consent.purposes.split(",") if p]


def open_encounter(db: Session, *, actor: Principal, patient_id: str) -> Encounter:
    """Open an encounter: any clinician may (the wristband case); the clinician joins the
    patient's care team, and both are audited."""
    patient, grant = patients.require(
        db, actor, Act.OPEN_ENCOUNTER, patient_id, action=Action.ENCOUNTER_OPEN
    )
    encounter = Encounter(
        id=new_id(), patient_id=patient.id, started_at=utcnow(), created_by=actor.user.id
    )
    db.add(encounter)
    db.flush()
    joined = patients.join_care_team(
        db,
        patient_id=patient.id,
        user_id=actor.user.id,
        source=patients.ENCOUNTER,
        by=actor.user.id,
    )
    grant.record(
        db, object_id=encounter.id, object_type="encounter", details={"joined_care_team": joined}
    )
    return encounter


def _encounter_for(
    db: Session, actor: Principal, patient_id: str, encounter_id: str | None
) -> Encounter:
    """The patient's encounter of that id, or a new one (which joins the care team)."""
    if encounter_id is not None:
        encounter = db.get(Encounter, encounter_id) if text.is_id(encounter_id) else None
        if encounter is None or encounter.patient_id != patient_id:
            raise Invalid("encounter_id: no such encounter for this patient (omit it to open one)")
        return encounter
    return open_encounter(db, actor=actor, patient_id=patient_id)


def _withdrawn_in_encounter(db: Session, encounter_id: str) -> set[str]:
    """Purposes withdrawn from any consent of this encounter ("all" when all were)."""
    return set(
        db.execute(
            select(ConsentWithdrawal.purpose)
            .join(Consent, Consent.id == ConsentWithdrawal.consent_id)
            .where(Consent.encounter_id == encounter_id)
        ).scalars()
    )


def _consent_resource(db: Session, actor: Principal, consent_id: str) -> tuple[Consent, Resource]:
    consent = db.get(Consent, consent_id) if text.is_id(consent_id) else None
    if consent is None:
        return Consent(id=""), Resource(ObjectKind.CONSENT, id=consent_id, exists=False)
    rels = set(patients.relations(db, actor.user.id, consent.patient_id))
    if consent.obtained_by == actor.user.id:
        rels.add(Relation.CONSENT_OBTAINER)
    return consent, Resource(
        ObjectKind.CONSENT,
        id=consent.id,
        patient_ref=consent.patient_id,
        relations=frozenset(rels),
    )


def _require_consent(
    db: Session, actor: Principal, act: Act, consent_id: str, *, action: Action
) -> tuple[Consent, policy.Grant]:
    consent, resource = _consent_resource(db, actor, consent_id)
    return consent, policy.authorize(db, actor.subject, act, resource, action=action)


def _encounter_and_grant(
    db: Session, actor: Principal, patient_id: str, encounter_id: str | None, action: Action
) -> tuple[Encounter, policy.Grant]:
    """The encounter a consent is recorded in, and the grant to record it.

    In an existing encounter the care team (or a privacy officer) may; with none, a
    clinician opens one first (open to any clinician, audited, and it joins the care team),
    and the consent is then the team's."""
    if encounter_id is None:
        if actor.role is Role.PRIVACY_OFFICER:
            raise Invalid(
                "encounter_id: privacy officers document consent in an existing encounter; "
                "clinicians open encounters"
            )
        patient, _ = patients.patient_resource(db, actor, patient_id)
        if patient.id:
            encounter = _encounter_for(db, actor, patient.id, None)
            _, grant = patients.require(db, actor, Act.RECORD_CONSENT, patient.id, action=action)
            return encounter, grant
    # An existing encounter, or a patient that does not exist (refused, audited, here).
    _, grant = patients.require(db, actor, Act.RECORD_CONSENT, patient_id, action=action)
    if encounter_id is None:  # pragma: no cover - require() refused an absent patient
        raise NotFound()
    return _encounter_for(db, actor, patient_id, encounter_id), grant


def record_consent(
    db: Session,
    *,
    keys: FieldKeyring,
    actor: Principal,
    patient_id: str,
    purposes: Iterable[str],
    method: Method,
    witness_name: str | None,
    informed_of_rights: bool,
    identifiable_allowed: bool,
    unsecure_channel_allowed: bool,
    foreign_storage_allowed: bool,
    text_version: str,
    known_texts: Container[str],
    encounter_id: str | None = None,
    completes: str | None = None,
    renews_withdrawn: bool = False,
) -> Consent:
    """Record a consent (a new encounter unless one of the patient's is given). With
    ``completes``, the consent-to-follow of that id is marked completed by this one.

    Purposes the patient withdrew in this encounter come back only when the consent says it
    renews them (``renews_withdrawn``), documented like any consent (method, witness for a
    verbal one, the text shown)."""
    chosen = parse_purposes(purposes)
    method = Method(method)
    witness = text.clean(witness_name or "", "witness_name", max_len=200)
    if method is Method.VERBAL and not witness:
        raise Invalid("witness_name: a verbal consent needs a witness")
    if not informed_of_rights:
        raise Invalid(
            "informed_of_rights: the patient must be told they may ask for a copy or deletion "
            "of any photo before consenting"
        )
    version = text.clean(text_version, "text_version", max_len=64)
    if not version:
        raise Invalid("text_version: the version of the consent text shown is required")
    if version not in known_texts:
        raise Invalid(
            f"text_version: no consent text {version!r} is kept here, so the consent could "
            "not be printed as the patient read it; GET /v1/consent-texts lists the texts "
            "(an institution adds its own in <data_dir>/consent-texts/)"
        )
    follow: Consent | None = None
    if completes is not None:
        follow = db.get(Consent, completes) if text.is_id(completes) else None
        if follow is None or follow.patient_id != patient_id:
            raise Invalid("completes: no such consent-to-follow for this patient")
        if follow.status is not ConsentStatus.TO_FOLLOW:
            raise Invalid("completes: that consent is not a pending consent-to-follow")
        if encounter_id is None:
            encounter_id = follow.encounter_id
    encounter, grant = _encounter_and_grant(
        db, actor, patient_id, encounter_id, Action.CONSENT_RECORD
    )
    pid = encounter.patient_id
    withdrawn = _withdrawn_in_encounter(db, encounter.id)
    renewing = [p.value for p in chosen if p.value in withdrawn or ALL_PURPOSES in withdrawn]
    if renewing and not renews_withdrawn:
        raise Invalid(
            f"the patient withdrew {', '.join(renewing)} for this encounter: record a new "
            "consent documented as renewing it (renews_withdrawn, with method, witness and "
            "text), or open a new encounter"
        )
    cid = new_id()
    consent = Consent(
        id=cid,
        patient_id=pid,
        encounter_id=encounter.id,
        purposes=",".join(p.value for p in chosen),
        method=method,
        obtained_by=actor.user.id,
        witness_name_ct=keys.encrypt(witness, _aad("consents", "witness_name_ct", cid))
        if witness
        else None,
        informed_of_rights=True,
        identifiable_allowed=bool(identifiable_allowed),
        unsecure_channel_allowed=bool(unsecure_channel_allowed),
        foreign_storage_allowed=bool(foreign_storage_allowed),
        text_version=version,
        obtained_at=utcnow(),
        signature_sha256=None,
        status=ConsentStatus.ACTIVE,
        completes_consent_id=follow.id if follow is not None else None,
    )
    db.add(consent)
    if follow is not None:
        follow.status = ConsentStatus.COMPLETED_FOLLOW
    db.flush()
    grant.record(
        db,
        object_id=consent.id,
        object_type="consent",
        details={
            "purposes": [p.value for p in chosen],
            "method": method.value,
            "completes": consent.completes_consent_id or "",
            "renews_withdrawn": renewing,
            "encounter": encounter.id,
        },
    )
    return consent


def signable(db: Session, *, actor: Principal, consent_id: str) -> Consent:
    """The consent the actor may attach a signature image to (CON-3): one they obtained
    themselves, with a method, that has no signature yet. Someone else's consent is
    "not found"; a second signature is a conflict. The upload records the grant."""
    consent, _ = _require_consent(
        db, actor, Act.ATTACH_SIGNATURE, consent_id, action=Action.CONSENT_SIGNATURE
    )
    if consent.method is None:
        raise Invalid("a consent-to-follow has no signature; record the completing consent")
    if consent.signature_sha256 is not None:
        raise Conflict("this consent already has its signature; records are never rewritten")
    return consent


def attach_signature(db: Session, *, consent_id: str, sha256: str) -> None:
    """Bind the signature's plaintext hash into the consent: its one permitted change."""
    consent = db.get(Consent, consent_id, with_for_update=True)
    if consent is None:
        raise NotFound()
    if consent.signature_sha256 is not None:
        raise Conflict("this consent already has its signature; records are never rewritten")
    consent.signature_sha256 = sha256
    db.flush()


def record_to_follow(
    db: Session,
    *,
    keys: FieldKeyring,
    actor: Principal,
    patient_id: str,
    reason: str,
    deadline: datetime,
    encounter_id: str | None = None,
) -> Consent:
    """Emergency: care cannot wait for consent. Covers clinical care only, until completed
    or until its deadline (at most :data:`TO_FOLLOW_MAX` ahead)."""
    reason = text.clean(reason, "reason", max_len=2000)
    if not reason:
        raise Invalid("reason: a consent-to-follow needs a reason")
    if deadline.tzinfo is None:
        raise Invalid(
            "deadline: expected a date and time with its UTC offset, e.g. 2026-11-30T08:00:00-05:00"
        )
    deadline = deadline.astimezone(UTC)
    now = utcnow()
    if deadline <= now:
        raise Invalid("deadline: the deadline of a consent-to-follow must be in the future")
    if deadline > now + TO_FOLLOW_MAX:
        hours = int(TO_FOLLOW_MAX.total_seconds() // 3600)
        raise Invalid(f"deadline: at most {hours} hours ahead; obtain consent as soon as possible")
    encounter, grant = _encounter_and_grant(
        db, actor, patient_id, encounter_id, Action.CONSENT_TO_FOLLOW
    )
    pid = encounter.patient_id
    withdrawn = _withdrawn_in_encounter(db, encounter.id)
    if Purpose.CLINICAL_CARE.value in withdrawn or ALL_PURPOSES in withdrawn:
        raise Invalid(
            "the patient withdrew clinical care for this encounter: a consent-to-follow cannot "
            "bring it back; record a new consent documented as renewing it"
        )
    cid = new_id()
    consent = Consent(
        id=cid,
        patient_id=pid,
        encounter_id=encounter.id,
        purposes=Purpose.CLINICAL_CARE.value,
        method=None,
        obtained_by=actor.user.id,
        witness_name_ct=None,
        informed_of_rights=False,
        identifiable_allowed=False,
        unsecure_channel_allowed=False,
        foreign_storage_allowed=False,
        text_version="",
        obtained_at=now,
        signature_sha256=None,
        status=ConsentStatus.TO_FOLLOW,
        to_follow_reason_ct=keys.encrypt(reason, _aad("consents", "to_follow_reason_ct", cid)),
        to_follow_deadline=deadline,
    )
    db.add(consent)
    db.flush()
    grant.record(
        db,
        object_id=consent.id,
        object_type="consent",
        details={"deadline": deadline.isoformat(), "encounter": encounter.id},
    )
    return consent


def get_consent(db: Session, *, actor: Principal, consent_id: str) -> Consent:
    consent, grant = _require_consent(
        db, actor, Act.READ_CONSENT, consent_id, action=Action.CONSENT_READ
    )
    grant.record(db)
    return consent


def _withdrawals(db: Session, consent_id: str) -> list[ConsentWithdrawal]:
    return list(
        db.execute(
            select(ConsentWithdrawal)
            .where(ConsentWithdrawal.consent_id == consent_id)
            .order_by(ConsentWithdrawal.withdrawn_at, ConsentWithdrawal.id)
        ).scalars()
    )


def effective_purposes(db: Session, consent: Consent) -> list[Purpose]:
    """The consent's purposes minus those withdrawn (none at all once "all" is withdrawn)."""
    withdrawn = {w.purpose for w in _withdrawals(db, consent.id)}
    if ALL_PURPOSES in withdrawn:
        return []
    return [p for p in stored_purposes(consent) if p.value not in withdrawn]


def withdraw(
    db: Session,
    *,
    keys: FieldKeyring,
    actor: Principal,
    consent_id: str,
    purposes: Iterable[str] | None,
    reason: str | None,
) -> list[ConsentWithdrawal]:
    """Withdraw some purposes, or all (``purposes`` None). One row per purpose withdrawn.
    Only the patient's care team or a privacy officer records a withdrawal."""
    consent, grant = _require_consent(
        db, actor, Act.WITHDRAW_CONSENT, consent_id, action=Action.CONSENT_WITHDRAW
    )
    remaining = effective_purposes(db, consent)
    if not remaining:
        raise Invalid("this consent has nothing left to withdraw")
    if purposes is None:
        targets = [ALL_PURPOSES]
    else:
        purposes = list(purposes)
        if not purposes:
            raise Invalid("purposes: name the purposes to withdraw, or omit it to withdraw all")
        chosen = parse_purposes(purposes)
        missing = [p.value for p in chosen if p not in remaining]
        if missing:
            raise Invalid(f"purposes: this consent does not cover {', '.join(missing)}")
        targets = [p.value for p in chosen]
    reason_text = text.clean(reason or "", "reason", max_len=2000)
    now = utcnow()
    rows = []
    for purpose in targets:
        wid = new_id()
        row = ConsentWithdrawal(
            id=wid,
            consent_id=consent.id,
            purpose=purpose,
            withdrawn_at=now,
            recorded_by=actor.user.id,
            reason_ct=keys.encrypt(reason_text, _aad("consent_withdrawals", "reason_ct", wid))
            if reason_text
            else None,
        )
        db.add(row)
        rows.append(row)
    db.flush()
    grant.record(db, details={"purposes": targets})
    return rows


def coverage(
    db: Session, patient_id: str, encounter_id: str, purpose: str
) -> tuple[Coverage, Consent | None]:
    """Whether a consent covers ``purpose`` for this encounter now, and which one.

    Covering: an active consent (with its signature, if it was an electronic signature) or a
    consent-to-follow before its deadline, for clinical care only, whose purpose is not
    withdrawn. Otherwise the most telling reason: withdrawn, consent-to-follow expired, or
    not covered."""
    try:
        wanted = Purpose(purpose)
    except ValueError:
        return Coverage.NOT_COVERED, None
    candidates = db.execute(
        select(Consent)
        .where(
            Consent.patient_id == patient_id,
            Consent.encounter_id == encounter_id,
            Consent.status.in_(COVERING),
        )
        .order_by(Consent.obtained_at.desc(), Consent.id)
    ).scalars()
    now = utcnow()
    why = Coverage.NOT_COVERED
    for consent in candidates:
        if wanted not in stored_purposes(consent):
            continue
        if wanted not in effective_purposes(db, consent):
            why = Coverage.WITHDRAWN
            continue
        if consent.status is ConsentStatus.TO_FOLLOW and (
            consent.to_follow_deadline is None or (consent.to_follow_deadline) <= now
        ):
            why = Coverage.TO_FOLLOW_EXPIRED if why is Coverage.NOT_COVERED else why
            continue
        if consent.method is Method.ELECTRONIC_SIGNATURE and consent.signature_sha256 is None:
            continue  # not documented until the signature is attached (CON-3)
        return Coverage.COVERED, consent
    return why, None


def covering_consent(db: Session, patient_id: str, encounter_id: str, purpose: str) -> Consent:
    """The consent covering ``purpose`` for this encounter, or :class:`Invalid`."""
    found, consent = coverage(db, patient_id, encounter_id, purpose)
    if consent is None:
        raise Invalid(f"no consent covers {purpose} for this encounter ({found.value})")
    return consent


def list_for_patient(db: Session, *, actor: Principal, patient_id: str) -> list[Consent]:
    """A patient's consents: the care team and privacy officers; each listed consent is
    audited against the patient."""
    patient, grant = patients.require(
        db, actor, Act.READ_CONSENT, patient_id, action=Action.CONSENT_READ
    )
    found = list(
        db.execute(
            select(Consent)
            .where(Consent.patient_id == patient.id)
            .order_by(Consent.obtained_at, Consent.id)
        ).scalars()
    )
    grant.record(db, details={"results": len(found), "listed": [c.id for c in found][:50]})
    return found


def pending_to_follow(db: Session, *, actor: Principal) -> list[Consent]:
    """Consents-to-follow not yet completed, soonest deadline first: privacy officers only."""
    grant = policy.authorize(
        db,
        actor.subject,
        Act.REVIEW,
        Resource(ObjectKind.CONSENT),
        action=Action.CONSENT_REVIEW,
    )
    pending = list(
        db.execute(
            select(Consent)
            .where(Consent.status == ConsentStatus.TO_FOLLOW)
            .order_by(Consent.to_follow_deadline, Consent.id)
        ).scalars()
    )
    for consent in pending:
        grant.record(db, object_id=consent.id, patient_ref=consent.patient_id)
    return pending


def view(db: Session, keys: FieldKeyring, consent: Consent) -> ConsentView:
    cid = consent.id
    return ConsentView(
        id=cid,
        patient_id=consent.patient_id,
        encounter_id=consent.encounter_id,
        purposes=stored_purposes(consent),
        effective_purposes=effective_purposes(db, consent),
        method=consent.method,
        obtained_by=consent.obtained_by,
        witness_name=keys.decrypt(consent.witness_name_ct, _aad("consents", "witness_name_ct", cid))
        if consent.witness_name_ct
        else None,
        informed_of_rights=consent.informed_of_rights,
        identifiable_allowed=consent.identifiable_allowed,
        unsecure_channel_allowed=consent.unsecure_channel_allowed,
        foreign_storage_allowed=consent.foreign_storage_allowed,
        text_version=consent.text_version,
        obtained_at=(consent.obtained_at),
        signature_sha256=consent.signature_sha256,
        status=consent.status,
        to_follow_reason=keys.decrypt(
            consent.to_follow_reason_ct, _aad("consents", "to_follow_reason_ct", cid)
        )
        if consent.to_follow_reason_ct
        else None,
        to_follow_deadline=(consent.to_follow_deadline) if consent.to_follow_deadline else None,
        completes_consent_id=consent.completes_consent_id,
        withdrawals=[
            WithdrawalView(w.purpose, (w.withdrawn_at), w.recorded_by)
            for w in _withdrawals(db, cid)
        ],
    )


def require_storage_in(db: Session, *, consent_id: str, jurisdiction: str) -> None:
    """Media under this consent may be stored in a blob store of ``jurisdiction`` (TRN-2,
    CLD-1): in Canada always; outside Canada only if the patient's consent allows storage
    outside Canada (``foreign_storage_allowed``). The caller audits the refusal."""
    if in_canada(jurisdiction):
        return
    found = db.get(Consent, consent_id)
    if found is None or not found.foreign_storage_allowed:
        raise Forbidden(
            f"this instance stores media in {jurisdiction}, outside Canada, and the "
            "patient's consent does not allow storage outside Canada"
        )
