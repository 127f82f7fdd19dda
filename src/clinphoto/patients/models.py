"""Patients: identifiers encrypted at rest, found through keyed blind indexes (PRV)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from clinphoto.storage.db import Base


class Patient(Base):
    """Only the province is stored in the clear; every identifier is a field ciphertext."""

    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    province: Mapped[str] = mapped_column(String(2))
    name_ct: Mapped[bytes] = mapped_column(LargeBinary)
    dob_ct: Mapped[bytes] = mapped_column(LargeBinary)
    mrn_ct: Mapped[bytes] = mapped_column(LargeBinary)
    hcn_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    mrn_bidx: Mapped[str] = mapped_column(String(64), index=True)
    hcn_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PatientNameIndex(Base):
    """One blind index per normalised name token, so a search by any token (surname) works."""

    __tablename__ = "patient_name_index"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    token_bidx: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
