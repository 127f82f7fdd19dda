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

Free text (witness name, reasons) is encrypted with the field keyring. The caller owns the
transaction and writes the audit entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinphoto.accounts.models import Role
from clinphoto.accounts.service import Principal, require_role
from clinphoto.consent.models import (
    ALL_PURPOSES,
    Consent,
    ConsentStatus,
    ConsentWithdrawal,
    Encounter,
    Method,
    Purpose,
)
from clinphoto.core.clock import new_id, utcnow
from clinphoto.core.errors import Conflict, Invalid, NotFound
from clinphoto.crypto import FieldKeyring
from clinphoto.patients import service as patients

CLINICAL_ROLES = (Role.CLINICIAN, Role.PRIVACY_OFFICER)
COVERING = (ConsentStatus.ACTIVE, ConsentStatus.TO_FOLLOW)


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


def _aware(dt: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


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


def _encounter_for(
    db: Session, actor: Principal, patient_id: str, encounter_id: str | None
) -> Encounter:
    if encounter_id is not None:
        encounter = db.get(Encounter, encounter_id)
        if encounter is None or encounter.patient_id != patient_id:
            raise NotFound("no such encounter for this patient")
        return encounter
    encounter = Encounter(
        id=new_id(), patient_id=patient_id, started_at=utcnow(), created_by=actor.user.id
    )
    db.add(encounter)
    db.flush()
    return encounter


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
    encounter_id: str | None = None,
    completes: str | None = None,
) -> Consent:
    """Record a consent (a new encounter unless one of the patient's is given). With
    ``completes``, the consent-to-follow of that id is marked completed by this one."""
    require_role(actor, *CLINICAL_ROLES)
    patient = patients.get(db, actor=actor, patient_id=patient_id)
    chosen = parse_purposes(purposes)
    method = Method(method)
    witness = (witness_name or "").strip()
    if method is Method.VERBAL and not witness:
        raise Invalid("a verbal consent needs a witness")
    if not informed_of_rights:
        raise Invalid("the patient must be informed of their rights before consenting")
    if not text_version.strip():
        raise Invalid("the version of the consent text is required")
    follow: Consent | None = None
    if completes is not None:
        follow = db.get(Consent, completes)
        if follow is None or follow.patient_id != patient.id:
            raise NotFound("no such consent-to-follow for this patient")
        if follow.status is not ConsentStatus.TO_FOLLOW:
            raise Invalid("that consent is not a pending consent-to-follow")
        if encounter_id is None:
            encounter_id = follow.encounter_id
    encounter = _encounter_for(db, actor, patient.id, encounter_id)
    cid = new_id()
    consent = Consent(
        id=cid,
        patient_id=patient.id,
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
        text_version=text_version.strip()[:64],
        obtained_at=utcnow(),
        signature_sha256=None,
        status=ConsentStatus.ACTIVE,
        completes_consent_id=follow.id if follow is not None else None,
    )
    db.add(consent)
    if follow is not None:
        follow.status = ConsentStatus.COMPLETED_FOLLOW
    db.flush()
    return consent


def signable(db: Session, *, actor: Principal, consent_id: str) -> Consent:
    """The consent the actor may attach a signature image to (CON-3): one they obtained
    themselves, with a method, that has no signature yet. Someone else's consent is
    "not found"; a second signature is a conflict."""
    require_role(actor, *CLINICAL_ROLES)
    consent = db.get(Consent, consent_id)
    if consent is None or consent.obtained_by != actor.user.id:
        raise NotFound()
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
    """Emergency: care cannot wait for consent. Covers clinical care only, until completed."""
    require_role(actor, *CLINICAL_ROLES)
    patient = patients.get(db, actor=actor, patient_id=patient_id)
    reason = reason.strip()
    if not reason:
        raise Invalid("a consent-to-follow needs a reason")
    now = utcnow()
    if _aware(deadline) <= now:
        raise Invalid("the deadline of a consent-to-follow must be in the future")
    encounter = _encounter_for(db, actor, patient.id, encounter_id)
    cid = new_id()
    consent = Consent(
        id=cid,
        patient_id=patient.id,
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
        to_follow_deadline=_aware(deadline),
    )
    db.add(consent)
    db.flush()
    return consent


def get_consent(db: Session, *, actor: Principal, consent_id: str) -> Consent:
    require_role(actor, *CLINICAL_ROLES)
    consent = db.get(Consent, consent_id)
    if consent is None:
        raise NotFound()
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
    """Withdraw some purposes, or all (``purposes`` None). One row per purpose withdrawn."""
    consent = get_consent(db, actor=actor, consent_id=consent_id)
    remaining = effective_purposes(db, consent)
    if not remaining:
        raise Invalid("this consent has nothing left to withdraw")
    if purposes is None:
        targets = [ALL_PURPOSES]
    else:
        chosen = parse_purposes(purposes)
        missing = [p.value for p in chosen if p not in remaining]
        if missing:
            raise Invalid(f"this consent does not cover {', '.join(missing)}")
        targets = [p.value for p in chosen]
    text = (reason or "").strip()
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
            reason_ct=keys.encrypt(text, _aad("consent_withdrawals", "reason_ct", wid))
            if text
            else None,
        )
        db.add(row)
        rows.append(row)
    db.flush()
    return rows


def covering_consent(db: Session, patient_id: str, encounter_id: str, purpose: str) -> Consent:
    """The consent covering ``purpose`` for this encounter, or :class:`Invalid`."""
    try:
        wanted = Purpose(purpose)
    except ValueError:
        raise Invalid(f"unknown purpose {purpose!r}") from None
    candidates = db.execute(
        select(Consent)
        .where(
            Consent.patient_id == patient_id,
            Consent.encounter_id == encounter_id,
            Consent.status.in_(COVERING),
        )
        .order_by(Consent.obtained_at.desc(), Consent.id)
    ).scalars()
    for consent in candidates:
        if wanted in effective_purposes(db, consent):
            return consent
    raise Invalid(f"no consent covers {wanted.value} for this encounter")


def list_for_patient(db: Session, *, actor: Principal, patient_id: str) -> list[Consent]:
    patient = patients.get(db, actor=actor, patient_id=patient_id)
    return list(
        db.execute(
            select(Consent)
            .where(Consent.patient_id == patient.id)
            .order_by(Consent.obtained_at, Consent.id)
        ).scalars()
    )


def pending_to_follow(db: Session, *, actor: Principal) -> list[Consent]:
    """Consents-to-follow not yet completed, soonest deadline first: privacy officers only
    (to anyone else the queue does not exist)."""
    if actor.role is not Role.PRIVACY_OFFICER:
        raise NotFound()
    return list(
        db.execute(
            select(Consent)
            .where(Consent.status == ConsentStatus.TO_FOLLOW)
            .order_by(Consent.to_follow_deadline, Consent.id)
        ).scalars()
    )


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
        obtained_at=_aware(consent.obtained_at),
        signature_sha256=consent.signature_sha256,
        status=consent.status,
        to_follow_reason=keys.decrypt(
            consent.to_follow_reason_ct, _aad("consents", "to_follow_reason_ct", cid)
        )
        if consent.to_follow_reason_ct
        else None,
        to_follow_deadline=_aware(consent.to_follow_deadline)
        if consent.to_follow_deadline
        else None,
        completes_consent_id=consent.completes_consent_id,
        withdrawals=[
            WithdrawalView(w.purpose, _aware(w.withdrawn_at), w.recorded_by)
            for w in _withdrawals(db, cid)
        ],
    )
