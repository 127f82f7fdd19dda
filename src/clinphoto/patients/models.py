"""Patients: identifiers encrypted at rest, found through keyed blind indexes (PRV)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from clinphoto.storage.db import Base, UtcDateTime


class Patient(Base):
    """Only the province is stored in the clear; every identifier is a field ciphertext."""

    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    province: Mapped[str] = mapped_column(String(2))
    name_ct: Mapped[bytes] = mapped_column(LargeBinary)
    dob_ct: Mapped[bytes] = mapped_column(LargeBinary)
    mrn_ct: Mapped[bytes] = mapped_column(LargeBinary)
    hcn_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    # One MRN per patient in the instance's institution (a second registration is refused).
    mrn_bidx: Mapped[str] = mapped_column(String(64), index=True, unique=True)
    hcn_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PatientNameIndex(Base):
    """One blind index per normalised name token, so a search by any token (surname) works."""

    __tablename__ = "patient_name_index"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    token_bidx: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class CareTeamMember(Base):
    """A user's care relationship with a patient (AUD-2), as data.

    ``source``: ``registered`` (registered the patient), ``encounter`` (opened an encounter),
    ``added`` (added by a team member or a privacy officer), ``share`` (a share recipient:
    may confirm whose photo they received, nothing more).
    """

    __tablename__ = "care_team_members"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    source: Mapped[str] = mapped_column(String(16))
    added_by: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime())


class EmergencyOverride(Base):
    """ "Break the glass": access outside the care team, with a reason, for a limited time,
    listed for privacy officers until reviewed."""

    __tablename__ = "emergency_overrides"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    reason_ct: Mapped[bytes] = mapped_column(LargeBinary)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reviewed_by: Mapped[str | None] = mapped_column(String(32))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
