"""Patients' requests (RET-3, RET-4): copies of their record and deletion requests.

Free text (the patient's reason, the privacy officer's reason) is field-encrypted (decision
004). A copy package is kept only as the passphrase-sealed age file in the blob store, until
it is downloaded once; the passphrase itself is never stored, only its SHA-256.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clinphoto.storage.db import Base, UtcDateTime

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class CopyRequest(Base):
    """A patient's request for a copy of their record (RET-4, AUD-3)."""

    __tablename__ = "copy_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(32), index=True)
    language: Mapped[str] = mapped_column(String(2))  # en | fr
    received_at: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))  # open | packaged | delivered
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    packaged_by: Mapped[str | None] = mapped_column(String(32))
    packaged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    package_sha256: Mapped[str | None] = mapped_column(String(64))  # the age file's
    package_size: Mapped[int | None] = mapped_column(BigInt)
    passphrase_sha256: Mapped[str | None] = mapped_column(String(64))
    downloaded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class DeletionRequest(Base):
    """A patient's request that photos be deleted, and the privacy officer's decision
    (RET-3). ``media_ids`` (scope ``items``) is a JSON list of ids."""

    __tablename__ = "deletion_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(32), index=True)
    scope: Mapped[str] = mapped_column(String(12))  # patient | encounter | items
    encounter_id: Mapped[str | None] = mapped_column(String(32))
    media_ids: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2))
    reason_ct: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))  # open | granted | refused | partly_granted
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decision: Mapped[str | None] = mapped_column(String(16))  # what the officer decided
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decision_reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


class DeletionItem(Base):
    """One photo (with its family: derived versions, share copies) of a deletion request,
    and what became of it: destroyed (with its certificate) or refused, and on what ground."""

    __tablename__ = "deletion_request_items"

    request_id: Mapped[str] = mapped_column(ForeignKey("deletion_requests.id"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # photo | video
    outcome: Mapped[str | None] = mapped_column(String(32))
    certificate_seq: Mapped[int | None] = mapped_column(BigInt)
