"""Patients: register, find, read; care teams and emergency overrides (AUD-2).

Identifiers (name, date of birth, MRN, health-card number) are encrypted with the instance
field keyring; the associated data names table, column and row. Look-ups go through keyed
blind indexes of normalised values, never through plaintext, and the values looked up are
never written to the audit trail or the logs.

Who may do what is decided by :mod:`clinphoto.policy`; each use case here asks it, does its
work and appends its audit entry in the caller's unit of work. The care team is data: whoever
registers a patient or opens an encounter joins it; a team member or a privacy officer adds
others; a share recipient may confirm whose photo they received. An exact MRN or
health-card lookup (the wristband) is open to any clinician; a name search finds only the
caller's own patients; anything else is an emergency override, reasoned, time-limited and
reviewed (decision 008).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinphoto import crypto, policy
from clinphoto.accounts.models import Role, User
from clinphoto.accounts.service import Principal
from clinphoto.audit import service as audit
from clinphoto.audit.service import Action
from clinphoto.core import text
from clinphoto.core.clock import new_id, utcnow
from clinphoto.core.errors import Conflict, Invalid, NotFound
from clinphoto.crypto import FieldKeyring
from clinphoto.patients.models import CareTeamMember, EmergencyOverride, Patient, PatientNameIndex
from clinphoto.policy import Act, ObjectKind, Relation, Resource

# Canadian provinces and territories (ISO 3166-2:CA subdivision codes).
PROVINCES = frozenset(
    {"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"}
)
MRN, HCN, NAME = "mrn", "hcn", "name"
REGISTERED, ENCOUNTER, ADDED, SHARE = "registered", "encounter", "added", "share"
OVERRIDE_DEFAULT = timedelta(hours=1)
OVERRIDE_MAX = timedelta(hours=12)


@dataclass(frozen=True)
class PatientView:
    """A patient with identifiers decrypted: for the response only, never stored."""

    id: str
    name: str
    dob: date
    mrn: str
    hcn: str | None
    province: str
    created_at: datetime


def normalise_number(value: str) -> str:
    """MRN / health-card number: uppercase, without spaces or dashes."""
    return re.sub(r"[\s\-]+", "", value).upper()


def name_tokens(name: str) -> list[str]:
    """Lowercase tokens without accents: "Émilie Côté-Tremblay" -> émilie... -> emilie, cote,
    tremblay."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return sorted(set(re.findall(r"[^\W_]+", plain)))


def _aad(column: str, patient_id: str) -> str:
    return f"patients.{column}:{patient_id}"


# --- care relationships -------------------------------------------------------------------


def relations(db: Session, user_id: str, patient_id: str) -> frozenset[Relation]:
    """How ``user_id`` stands to the patient: care team, share recipient, override."""
    found: set[Relation] = set()
    member = db.get(CareTeamMember, (patient_id, user_id))
    if member is not None:
        found.add(Relation.SHARE_RECIPIENT if member.source == SHARE else Relation.CARE_TEAM)
    active = db.execute(
        select(EmergencyOverride.id).where(
            EmergencyOverride.user_id == user_id,
            EmergencyOverride.patient_id == patient_id,
            EmergencyOverride.expires_at > utcnow(),
        )
    ).first()
    if active is not None:
        found.add(Relation.EMERGENCY_OVERRIDE)
    return frozenset(found)


def join_care_team(db: Session, *, patient_id: str, user_id: str, source: str, by: str) -> bool:
    """Make ``user_id`` a member (idempotent). A share recipient who later opens an
    encounter becomes a full member. True when the membership is new or widened."""
    member = db.get(CareTeamMember, (patient_id, user_id))
    if member is not None:
        if member.source == SHARE and source != SHARE:
            member.source = source
            db.flush()
            return True
        return False
    db.add(
        CareTeamMember(
            patient_id=patient_id, user_id=user_id, source=source, added_by=by, added_at=utcnow()
        )
    )
    db.flush()
    return True


def patient_resource(db: Session, actor: Principal, patient_id: str) -> tuple[Patient, Resource]:
    """The patient and what the policy needs to know of it; an absent patient is a
    resource that does not exist (answered as "not found", audited without a reference)."""
    patient = db.get(Patient, patient_id) if text.is_id(patient_id) else None
    if patient is None:
        return Patient(id=""), Resource(ObjectKind.PATIENT, id=patient_id, exists=False)
    return patient, Resource(
        ObjectKind.PATIENT,
        id=patient.id,
        patient_ref=patient.id,
        relations=relations(db, actor.user.id, patient.id),
    )


def existing_ref(db: Session, patient_id: str) -> str:
    """``patient_id`` if such a patient exists, else "": for audit references only."""
    if not text.is_id(patient_id):
        return ""
    return patient_id if db.get(Patient, patient_id) is not None else ""


def require(
    db: Session, actor: Principal, act: Act, patient_id: str, *, action: Action
) -> tuple[Patient, policy.Grant]:
    """Ask the policy about ``act`` on a patient; the grant, or an audited refusal."""
    patient, resource = patient_resource(db, actor, patient_id)
    grant = policy.authorize(db, actor.subject, act, resource, action=action)
    return patient, grant


# --- use cases ----------------------------------------------------------------------------


def _identifier(value: str, field: str) -> str:
    cleaned = normalise_number(text.clean(value, field, max_len=40))
    if not re.fullmatch(r"[0-9A-Z]{1,30}", cleaned):
        raise Invalid(f"{field}: expected letters and digits (spaces and dashes are ignored)")
    return cleaned


def create_patient(
    db: Session,
    *,
    keys: FieldKeyring,
    bidx_key: bytes,
    actor: Principal,
    name: str,
    dob: date,
    mrn: str,
    hcn: str | None,
    province: str,
) -> Patient:
    """Register a patient; the registering user joins the care team."""
    grant = policy.authorize(
        db,
        actor.subject,
        Act.REGISTER_PATIENT,
        Resource(ObjectKind.PATIENT),
        action=Action.PATIENT_CREATE,
    )
    province = text.clean(province, "province", max_len=2).upper()
    if province not in PROVINCES:
        raise Invalid("province: expected a Canadian province or territory code (e.g. QC, ON)")
    name = text.clean(name, "name", max_len=200)
    tokens = name_tokens(name)
    if not tokens:
        raise Invalid("name: a patient name is required")
    mrn_n = _identifier(mrn, "mrn")
    hcn_n = _identifier(hcn, "hcn") if hcn else ""
    if dob > utcnow().date():
        raise Invalid("dob: the date of birth is in the future")
    mrn_bidx = crypto.blind_index(bidx_key, MRN, mrn_n)
    if db.execute(select(Patient.id).where(Patient.mrn_bidx == mrn_bidx)).first() is not None:
        raise Conflict(
            "a patient with this MRN is already registered: find them by MRN "
            "(clinphoto patient find --mrn) and open an encounter"
        )
    pid = new_id()
    patient = Patient(
        id=pid,
        province=province,
        name_ct=keys.encrypt(name, _aad("name_ct", pid)),
        dob_ct=keys.encrypt(dob.isoformat(), _aad("dob_ct", pid)),
        mrn_ct=keys.encrypt(mrn_n, _aad("mrn_ct", pid)),
        hcn_ct=keys.encrypt(hcn_n, _aad("hcn_ct", pid)) if hcn_n else None,
        mrn_bidx=mrn_bidx,
        hcn_bidx=crypto.blind_index(bidx_key, HCN, hcn_n) if hcn_n else None,
        created_by=actor.user.id,
        created_at=utcnow(),
    )
    db.add(patient)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        # Two registrations of one MRN at the same moment: the second loses.
        raise Conflict("a patient with this MRN is already registered: find them by MRN") from None
    for token in tokens:
        db.add(
            PatientNameIndex(patient_id=pid, token_bidx=crypto.blind_index(bidx_key, NAME, token))
        )
    join_care_team(db, patient_id=pid, user_id=actor.user.id, source=REGISTERED, by=actor.user.id)
    grant.record(db, object_id=pid, patient_ref=pid)
    return patient


def find(
    db: Session,
    *,
    bidx_key: bytes,
    actor: Principal,
    mrn: str | None = None,
    hcn: str | None = None,
    name: str | None = None,
) -> list[Patient]:
    """Exactly one of ``mrn``, ``hcn``, ``name``.

    An exact MRN or health-card number finds the patient for any clinician (the wristband
    case). A name matches when every token of the query is one of the patient's name tokens
    (a surname alone finds the patient), among the caller's own care relationships only
    (privacy officers: all patients). One audit entry per patient disclosed; the value
    searched for is never written down.
    """
    given = [(k, v) for k, v in ((MRN, mrn), (HCN, hcn), (NAME, name)) if v is not None]
    if len(given) != 1:
        raise Invalid("search by exactly one of mrn, hcn or name")
    kind, value = given[0]
    act = Act.FIND_BY_NAME if kind == NAME else Act.FIND_BY_IDENTIFIER
    grant = policy.authorize(
        db, actor.subject, act, Resource(ObjectKind.PATIENT), action=Action.PATIENT_FIND
    )
    query = select(Patient)
    if kind == NAME:
        tokens = name_tokens(text.clean(value, "name", max_len=200))
        if not tokens:
            raise Invalid("name: a name to search for is required")
        for token in tokens:
            bidx = crypto.blind_index(bidx_key, NAME, token)
            query = query.where(
                Patient.id.in_(
                    select(PatientNameIndex.patient_id).where(PatientNameIndex.token_bidx == bidx)
                )
            )
        if actor.role is not Role.PRIVACY_OFFICER:
            mine = exists().where(
                CareTeamMember.patient_id == Patient.id, CareTeamMember.user_id == actor.user.id
            )
            overridden = exists().where(
                EmergencyOverride.patient_id == Patient.id,
                EmergencyOverride.user_id == actor.user.id,
                EmergencyOverride.expires_at > utcnow(),
            )
            query = query.where(mine | overridden)
    else:
        normalised = _identifier(value, kind)
        bidx = crypto.blind_index(bidx_key, kind, normalised)
        column = Patient.mrn_bidx if kind == MRN else Patient.hcn_bidx
        query = query.where(column == bidx)
    found = list(db.execute(query.order_by(Patient.created_at, Patient.id).limit(50)).scalars())
    grant.record_listing(
        db, [(p.id, p.id) for p in found], details={"by": kind, "results": len(found)}
    )
    return found


def get(db: Session, *, actor: Principal, patient_id: str) -> Patient:
    """Read one patient's identifiers: their care team, a share recipient, or under an
    emergency override; to anyone else the patient does not exist."""
    patient, grant = require(
        db, actor, Act.READ_IDENTIFIERS, patient_id, action=Action.PATIENT_READ
    )
    grant.record(db)
    return patient


def add_member(
    db: Session,
    *,
    actor: Principal,
    patient_id: str,
    user_id: str | None = None,
    email: str | None = None,
) -> CareTeamMember:
    """A team member or a privacy officer adds a clinician (by id or e-mail) to the
    patient's care team. Who may is decided first, so a stranger learns nothing of who
    exists; then an unknown or non-clinician colleague is the caller's own mistake."""
    patient, grant = require(
        db, actor, Act.ADD_CARE_TEAM_MEMBER, patient_id, action=Action.CARE_TEAM_ADD
    )
    if (user_id is None) == (email is None):
        raise Invalid("give exactly one of user_id or email")
    if email is not None:
        address = text.clean(email, "email", max_len=254).lower()
        user = db.execute(select(User).where(User.email == address)).scalar()
        field = "email"
    else:
        user = db.get(User, user_id) if text.is_id(user_id) else None
        field = "user_id"
    if user is None or not user.active or user.role is not Role.CLINICIAN:
        raise Invalid(f"{field}: expected an active clinician of this clinphoto")
    join_care_team(db, patient_id=patient.id, user_id=user.id, source=ADDED, by=actor.user.id)
    grant.record(db, details={"member": user.id})
    member = db.get(CareTeamMember, (patient.id, user.id))
    assert member is not None
    return member


@dataclass(frozen=True)
class MemberView:
    user_id: str
    display_name: str
    institution: str
    source: str
    added_by: str
    added_at: datetime


def care_team(db: Session, *, actor: Principal, patient_id: str) -> list[MemberView]:
    """Who is on the patient's care team, and how they joined; audited as a read."""
    patient, grant = require(
        db, actor, Act.READ_IDENTIFIERS, patient_id, action=Action.PATIENT_READ
    )
    grant.record(db, details={"care_team": True})
    rows = db.execute(
        select(CareTeamMember, User)
        .join(User, User.id == CareTeamMember.user_id)
        .where(CareTeamMember.patient_id == patient.id)
        .order_by(CareTeamMember.added_at, CareTeamMember.user_id)
    ).all()
    return [
        MemberView(m.user_id, u.display_name, u.institution, m.source, m.added_by, m.added_at)
        for m, u in rows
    ]


def declare_override(
    db: Session,
    *,
    keys: FieldKeyring,
    actor: Principal,
    patient_id: str,
    reason: str,
    duration: timedelta = OVERRIDE_DEFAULT,
) -> EmergencyOverride:
    """ "Break the glass": access to a patient outside the care team, for ``duration`` (at
    most :data:`OVERRIDE_MAX`), with a stated reason, listed for privacy officers."""
    patient, grant = require(
        db, actor, Act.EMERGENCY_OVERRIDE, patient_id, action=Action.EMERGENCY_OVERRIDE
    )
    reason = text.clean(reason, "reason", max_len=2000)
    if len(reason) < 10:
        raise Invalid("reason: state why, in a sentence (at least 10 characters)")
    if not timedelta(minutes=1) <= duration <= OVERRIDE_MAX:
        hours = int(OVERRIDE_MAX.total_seconds() // 3600)
        raise Invalid(f"minutes: expected between 1 and {hours * 60}")
    now = utcnow()
    oid = new_id()
    row = EmergencyOverride(
        id=oid,
        user_id=actor.user.id,
        patient_id=patient.id,
        reason_ct=keys.encrypt(reason, f"emergency_overrides.reason_ct:{oid}"),
        started_at=now,
        expires_at=now + duration,
    )
    db.add(row)
    db.flush()
    grant.record(db, object_id=oid, details={"minutes": int(duration.total_seconds() // 60)})
    return row


def audit_export(db: Session, *, subject: policy.Subject, patient_id: str) -> list[str]:
    """One patient's audit entries as JSON Lines (AUD-1, BEY-6): privacy officers, or the
    instance's operator at the server. The export is itself audited. Only a pseudonymous
    patient id is accepted: anything else (an MRN typed by mistake) is refused without being
    written anywhere."""
    if not text.is_id(patient_id):
        raise Invalid(
            "patient: expected the pseudonymous patient id (32 hexadecimal characters); "
            "find it with clinphoto patient find --mrn"
        )
    # A patient's entries outlive the patient's record (after retention ends): the trail
    # is exported whenever it names them.
    lines = list(audit.export_patient(db, patient_id))
    known = bool(lines) or db.get(Patient, patient_id) is not None
    resource = Resource(
        ObjectKind.PATIENT,
        id=patient_id,
        patient_ref=patient_id if known else "",
        exists=known,
    )
    grant = policy.authorize(db, subject, Act.AUDIT_EXPORT, resource, action=Action.AUDIT_EXPORT)
    grant.record(db, details={"entries": len(lines)})
    return lines


@dataclass(frozen=True)
class OverrideView:
    id: str
    user_id: str
    patient_id: str
    reason: str
    started_at: datetime
    expires_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None


def override_view(row: EmergencyOverride, keys: FieldKeyring) -> OverrideView:
    return OverrideView(
        id=row.id,
        user_id=row.user_id,
        patient_id=row.patient_id,
        reason=keys.decrypt(row.reason_ct, f"emergency_overrides.reason_ct:{row.id}"),
        started_at=(row.started_at),
        expires_at=(row.expires_at),
        reviewed_by=row.reviewed_by,
        reviewed_at=(row.reviewed_at) if row.reviewed_at else None,
    )


def overrides_to_review(db: Session, *, keys: FieldKeyring, actor: Principal) -> list[OverrideView]:
    """Emergency overrides not yet reviewed, oldest first: privacy officers only."""
    grant = policy.authorize(
        db,
        actor.subject,
        Act.REVIEW,
        Resource(ObjectKind.PATIENT),
        action=Action.OVERRIDE_REVIEW,
    )
    rows = list(
        db.execute(
            select(EmergencyOverride)
            .where(EmergencyOverride.reviewed_at.is_(None))
            .order_by(EmergencyOverride.started_at, EmergencyOverride.id)
        ).scalars()
    )
    grant.record_listing(db, [(r.id, r.patient_id) for r in rows], object_type="override")
    return [override_view(r, keys) for r in rows]


def review_override(
    db: Session, *, keys: FieldKeyring, actor: Principal, override_id: str
) -> OverrideView:
    grant = policy.authorize(
        db,
        actor.subject,
        Act.REVIEW,
        Resource(ObjectKind.PATIENT),
        action=Action.OVERRIDE_REVIEW,
    )
    row = db.get(EmergencyOverride, override_id) if text.is_id(override_id) else None
    if row is None:
        raise NotFound()
    if row.reviewed_at is None:
        row.reviewed_by, row.reviewed_at = actor.user.id, utcnow()
        db.flush()
    grant.record(
        db,
        object_id=row.id,
        patient_ref=row.patient_id,
        object_type="override",
        details={"reviewed": True},
    )
    return override_view(row, keys)


def view(patient: Patient, keys: FieldKeyring) -> PatientView:
    pid = patient.id
    return PatientView(
        id=pid,
        name=keys.decrypt(patient.name_ct, _aad("name_ct", pid)),
        dob=date.fromisoformat(keys.decrypt(patient.dob_ct, _aad("dob_ct", pid))),
        mrn=keys.decrypt(patient.mrn_ct, _aad("mrn_ct", pid)),
        hcn=keys.decrypt(patient.hcn_ct, _aad("hcn_ct", pid)) if patient.hcn_ct else None,
        province=patient.province,
        created_at=patient.created_at,
    )
