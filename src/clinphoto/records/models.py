"""Retention tables: rule overrides, each patient's and each item's destroy-not-before date,
legal holds and clinical-decision marks (RET-1, RET-3, RET-5).

An item's row outlives the item: once destroyed it stays as its tombstone (its id, its
ciphertext's hash, when, and the audit sequence number of its certificate of destruction).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clinphoto.storage.db import Base, UtcDateTime

BigInt = BigInteger().with_variant(Integer(), "sqlite")

SCHEDULED = "scheduled"
DESTROYED = "destroyed"


class RetentionRuleOverride(Base):
    """A privacy officer's rule for one jurisdiction, in place of the shipped default. The
    previous value is in the audit trail, whose entry names who changed it and why."""

    __tablename__ = "retention_rule_overrides"

    jurisdiction: Mapped[str] = mapped_column(String(2), primary_key=True)
    rule: Mapped[str] = mapped_column(Text)  # the RetentionRule as JSON
    set_by: Mapped[str] = mapped_column(String(32))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RetentionPatient(Base):
    """One patient's schedule: which rule, the latest record date, and the date computed
    from them and the (encrypted) date of birth. No date of birth is stored here."""

    __tablename__ = "retention_patients"

    patient_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(2), index=True)
    last_entry: Mapped[date] = mapped_column(Date)
    minor_at_last_entry: Mapped[bool] = mapped_column()
    destroy_not_before: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RetentionItem(Base):
    """One photo, video, derived version, share copy, consent signature (``media``), share
    (``share``) or consent (``consent``), with its destroy-not-before date.

    ``family`` is what is destroyed together: a photo with its derived versions, share copies
    and shares (the original's id); a consent with the encounter's other consents and their
    signatures (the encounter's id)."""

    __tablename__ = "retention_items"
    __table_args__ = (
        # The sweep: scheduled items whose date has come, in date order.
        Index("ix_retention_items_due", "status", "destroy_not_before"),
    )

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(32), index=True)
    encounter_id: Mapped[str] = mapped_column(String(32))
    family: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(12))  # scheduled | destroyed
    destroy_not_before: Mapped[date] = mapped_column(Date)
    ciphertext_sha256: Mapped[str | None] = mapped_column(String(64))
    destroyed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    certificate_seq: Mapped[int | None] = mapped_column(BigInt)


class LegalHold(Base):
    """A legal hold, or a mark that an item was integral to a clinical decision (RET-3), on a
    patient, an encounter or an item (held with its whole family). Either blocks deletion and
    destruction until released. The reasons are field-encrypted free text."""

    __tablename__ = "legal_holds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # legal_hold | clinical_decision
    scope: Mapped[str] = mapped_column(String(12))  # patient | encounter | item
    target_id: Mapped[str] = mapped_column(String(32), index=True)  # the id held
    family: Mapped[str | None] = mapped_column(String(32))  # scope item: the family held
    patient_id: Mapped[str] = mapped_column(String(32), index=True)
    reason_ct: Mapped[bytes] = mapped_column(LargeBinary)
    placed_by: Mapped[str] = mapped_column(String(32))
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    released_by: Mapped[str | None] = mapped_column(String(32))
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    release_reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


class BackupKey(Base):
    """The backup key ledger (RET-5, STO-5; decision 012, "Backups"): for each ciphertext
    blob, the random key that seals its age header (and its manifest and device grants) in
    every backup. The key is field-encrypted here; this table is never written into a
    backup's database dump, only into the backup's own ledger copy, sealed under a ledger key
    kept outside the backups and destroyed after :data:`LEDGER_WINDOW_DAYS`.

    Destroying a blob deletes its row in the same transaction: once the ledger copies made
    before that are past their window, no copy of the key is left, and every backup of the
    blob is ciphertext that nothing opens."""

    __tablename__ = "backup_ledger"

    blob_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_ct: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


# How long a backup's ledger copy (and its ledger key) lives: after this many days from a
# destruction no backup can bring the destroyed object back. Fixed, not a setting: the
# certificate of destruction states the date it gives.
LEDGER_WINDOW_DAYS = 35
