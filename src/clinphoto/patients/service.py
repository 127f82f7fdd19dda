"""Patients: create, find by blind index, read and decrypt.

Identifiers (name, date of birth, MRN, health-card number) are encrypted with the instance
field keyring; the associated data names table, column and row. Look-ups go through keyed
blind indexes of normalised values, never through plaintext. Administrators may not create,
find or read patients (AUD-2). The caller owns the transaction and writes the audit entry.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinphoto import crypto
from clinphoto.accounts.models import Role
from clinphoto.accounts.service import Principal, require_role
from clinphoto.core.clock import new_id, utcnow
from clinphoto.core.errors import Invalid, NotFound
from clinphoto.crypto import FieldKeyring
from clinphoto.patients.models import Patient, PatientNameIndex

# Canadian provinces and territories (ISO 3166-2:CA subdivision codes).
PROVINCES = frozenset(
    {"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"}
)
CLINICAL_ROLES = (Role.CLINICIAN, Role.PRIVACY_OFFICER)
MRN, HCN, NAME = "mrn", "hcn", "name"


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
    require_role(actor, *CLINICAL_ROLES)
    province = province.strip().upper()
    if province not in PROVINCES:
        raise Invalid("province must be a Canadian province or territory code (e.g. QC)")
    tokens = name_tokens(name)
    if not tokens:
        raise Invalid("a patient name is required")
    mrn_n = normalise_number(mrn)
    if not mrn_n:
        raise Invalid("an MRN is required")
    hcn_n = normalise_number(hcn) if hcn is not None else ""
    if dob > utcnow().date():
        raise Invalid("date of birth is in the future")
    pid = new_id()
    patient = Patient(
        id=pid,
        province=province,
        name_ct=keys.encrypt(name.strip(), _aad("name_ct", pid)),
        dob_ct=keys.encrypt(dob.isoformat(), _aad("dob_ct", pid)),
        mrn_ct=keys.encrypt(mrn_n, _aad("mrn_ct", pid)),
        hcn_ct=keys.encrypt(hcn_n, _aad("hcn_ct", pid)) if hcn_n else None,
        mrn_bidx=crypto.blind_index(bidx_key, MRN, mrn_n),
        hcn_bidx=crypto.blind_index(bidx_key, HCN, hcn_n) if hcn_n else None,
        created_by=actor.user.id,
        created_at=utcnow(),
    )
    db.add(patient)
    db.flush()
    for token in tokens:
        db.add(
            PatientNameIndex(patient_id=pid, token_bidx=crypto.blind_index(bidx_key, NAME, token))
        )
    db.flush()
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
    """Exactly one of ``mrn``, ``hcn``, ``name``. A name matches when every token of the
    query is one of the patient's name tokens (so a surname alone finds the patient)."""
    require_role(actor, *CLINICAL_ROLES)
    given = [(k, v) for k, v in ((MRN, mrn), (HCN, hcn), (NAME, name)) if v is not None]
    if len(given) != 1:
        raise Invalid("search by exactly one of mrn, hcn or name")
    kind, value = given[0]
    query = select(Patient)
    if kind == NAME:
        tokens = name_tokens(value)
        if not tokens:
            raise Invalid("a name to search for is required")
        for token in tokens:
            bidx = crypto.blind_index(bidx_key, NAME, token)
            query = query.where(
                Patient.id.in_(
                    select(PatientNameIndex.patient_id).where(PatientNameIndex.token_bidx == bidx)
                )
            )
    else:
        normalised = normalise_number(value)
        if not normalised:
            raise Invalid(f"a {kind} to search for is required")
        bidx = crypto.blind_index(bidx_key, kind, normalised)
        column = Patient.mrn_bidx if kind == MRN else Patient.hcn_bidx
        query = query.where(column == bidx)
    return list(db.execute(query.order_by(Patient.created_at, Patient.id)).scalars())


def get(db: Session, *, actor: Principal, patient_id: str) -> Patient:
    require_role(actor, *CLINICAL_ROLES)
    patient = db.get(Patient, patient_id)
    if patient is None:
        raise NotFound()
    return patient


def view(patient: Patient, keys: FieldKeyring) -> PatientView:
    pid = patient.id
    return PatientView(
        id=pid,
        name=keys.decrypt(patient.name_ct, _aad("name_ct", pid)),
        dob=date.fromisoformat(keys.decrypt(patient.dob_ct, _aad("dob_ct", pid))),
        mrn=keys.decrypt(patient.mrn_ct, _aad("mrn_ct", pid)),
        hcn=keys.decrypt(patient.hcn_ct, _aad("hcn_ct", pid)) if patient.hcn_ct else None,
        province=patient.province,
        # SQLite hands back naive datetimes; everything we store is UTC.
        created_at=patient.created_at.replace(tzinfo=patient.created_at.tzinfo or UTC),
    )
