"""The breach register (BRE-1 to BRE-6) and what devices report to it (decision 014).

Free text (a report's description, each step's reason, a notification's note) is
field-encrypted; the associated data names table, column and row (decision 004). Ids of
patients, encounters and media are random and name nobody, as in the audit trail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clinphoto.storage.db import Base, UtcDateTime


class DeviceStatusReport(Base):
    """One stored status report, signed by the device's status key: at most one per device
    per 30 seconds, kept as the device's history ("what was on it at time T")."""

    __tablename__ = "device_status_reports"
    __table_args__ = (
        Index("ix_device_status_reports_device_received", "device_id", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime())  # the device's signed time
    time_text: Mapped[str] = mapped_column(String(40))  # as signed
    locked: Mapped[bool] = mapped_column(Boolean)
    locked_since: Mapped[str | None] = mapped_column(String(40))  # as signed
    holding: Mapped[str | None] = mapped_column(Text)  # canonical JSON as signed; None: unknown
    signature: Mapped[str] = mapped_column(String(128))


class DeviceWipe(Base):
    """A remote wipe queued for a device, and its signed confirmation once it came (BRE-4)."""

    __tablename__ = "device_wipes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), index=True)
    breach_id: Mapped[str | None] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    requested_by: Mapped[str] = mapped_column(String(32))
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # received
    wiped_at: Mapped[str | None] = mapped_column(String(40))  # as signed
    erased: Mapped[str | None] = mapped_column(Text)  # canonical JSON as signed
    signature: Mapped[str | None] = mapped_column(String(128))
    status_public: Mapped[str | None] = mapped_column(String(64))  # the key that signed it


class ShareDeletion(Base):
    """A recipient's device confirmed, signed by its status key, that it deleted its copy
    of a recalled share (BRE-2)."""

    __tablename__ = "share_deletions"
    __table_args__ = (UniqueConstraint("share_id", "device_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    share_id: Mapped[str] = mapped_column(ForeignKey("shares.id"), index=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    deleted_at: Mapped[str] = mapped_column(String(40))  # as signed
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    signature: Mapped[str] = mapped_column(String(128))


class Breach(Base):
    __tablename__ = "breaches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(12), index=True)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reported_by: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    occurred_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    description_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id"))
    share_id: Mapped[str | None] = mapped_column(ForeignKey("shares.id"))
    classification: Mapped[str | None] = mapped_column(String(24))


class BreachStep(Base):
    """One step of the workflow: when, by whom, why (BRE-1)."""

    __tablename__ = "breach_steps"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    breach_id: Mapped[str] = mapped_column(ForeignKey("breaches.id"), index=True)
    step: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by_user: Mapped[str] = mapped_column(String(32))
    reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    classification: Mapped[str | None] = mapped_column(String(24))


class BreachNotification(Base):
    """A notification sent to one party, as the privacy officer recorded it (BRE-6)."""

    __tablename__ = "breach_notifications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    breach_id: Mapped[str] = mapped_column(ForeignKey("breaches.id"), index=True)
    party: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())
    method: Mapped[str] = mapped_column(String(40))
    by_user: Mapped[str] = mapped_column(String(32))
    note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
