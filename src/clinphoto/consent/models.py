"""Encounters, consents and withdrawals (CON-1..CON-3, CON-5, CON-7)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from clinphoto.storage.db import Base, UtcDateTime


class Purpose(enum.StrEnum):
    CLINICAL_CARE = "clinical_care"
    EDUCATION = "education"
    RESEARCH = "research"
    PUBLICATION = "publication"


class Method(enum.StrEnum):
    VERBAL = "verbal"
    WRITTEN = "written"
    ELECTRONIC_SIGNATURE = "electronic_signature"


class ConsentStatus(enum.StrEnum):
    ACTIVE = "active"
    TO_FOLLOW = "to_follow"
    COMPLETED_FOLLOW = "completed_follow"


ALL_PURPOSES = "all"


def _enum(e: type[enum.StrEnum], name: str) -> Enum:
    return Enum(e, name=name, native_enum=False, values_callable=lambda x: [m.value for m in x])


class Encounter(Base):
    __tablename__ = "encounters"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(32))


class Consent(Base):
    """One consent for one encounter. ``purposes`` is a comma-joined subset of
    :class:`Purpose`; withdrawals are separate rows, so the record itself never changes
    except for its status (a consent-to-follow being completed)."""

    __tablename__ = "consents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    encounter_id: Mapped[str] = mapped_column(ForeignKey("encounters.id"), index=True)
    purposes: Mapped[str] = mapped_column(String(100))
    method: Mapped[Method | None] = mapped_column(_enum(Method, "consent_method"))
    obtained_by: Mapped[str] = mapped_column(String(32))
    witness_name_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    informed_of_rights: Mapped[bool] = mapped_column()
    identifiable_allowed: Mapped[bool] = mapped_column()
    unsecure_channel_allowed: Mapped[bool] = mapped_column()
    foreign_storage_allowed: Mapped[bool] = mapped_column()
    text_version: Mapped[str] = mapped_column(String(64))
    obtained_at: Mapped[datetime] = mapped_column(UtcDateTime())
    signature_sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[ConsentStatus] = mapped_column(_enum(ConsentStatus, "consent_status"))
    to_follow_reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    to_follow_deadline: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Indexed: deleting a consent (retention, RET-5) checks this foreign key in every row.
    completes_consent_id: Mapped[str | None] = mapped_column(ForeignKey("consents.id"), index=True)


class ConsentWithdrawal(Base):
    __tablename__ = "consent_withdrawals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    consent_id: Mapped[str] = mapped_column(ForeignKey("consents.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    withdrawn_at: Mapped[datetime] = mapped_column(UtcDateTime())
    recorded_by: Mapped[str] = mapped_column(String(32))
    reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
