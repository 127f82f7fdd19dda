"""Shares: a copy re-sealed by the sender's device for one recipient (TRN-4); and device
grants: an object's file key re-wrapped for a device enrolled after it was sealed (011)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clinphoto.storage.db import Base, UtcDateTime


class Share(Base):
    __tablename__ = "shares"
    # A sender's shares, newest first (`GET /v1/shares/sent`; migration 0015).
    __table_args__ = (Index("ix_shares_sender_sent", "sender_user_id", "sent_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    original_media_id: Mapped[str] = mapped_column(ForeignKey("media.id"), index=True)
    copy_media_id: Mapped[str] = mapped_column(ForeignKey("media.id"), unique=True)
    sender_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    sender_device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    recipient_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # sent, delivered, acknowledged
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ack_device_id: Mapped[str | None] = mapped_column(String(32))
    ack_signature: Mapped[str | None] = mapped_column(String(128))
    # A recalled share (BRE-2): the recipient's access ended then; their devices are asked to
    # delete their copy. The reason is field-encrypted (decision 004).
    recalled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    recalled_by: Mapped[str | None] = mapped_column(String(32))
    recall_reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


class DeviceGrant(Base):
    """An age header that opens one sealed object (a stored photo, consent signature or
    share copy, or a caption or message sealed in its manifest) for one device: written by
    another device of the same user, or by the custodian with the records key. The object
    and its signed manifest never change; the header is served in place of the original's
    when that device downloads it (docs/decisions/011-device-grants.md)."""

    __tablename__ = "device_grants"
    __table_args__ = (UniqueConstraint("media_id", "field", "device_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    object_kind: Mapped[str] = mapped_column(String(16))  # media | share
    object_id: Mapped[str] = mapped_column(String(32))  # the media's or the share's id
    media_id: Mapped[str] = mapped_column(ForeignKey("media.id"))  # the sealed object
    field: Mapped[str] = mapped_column(String(16))  # content, or a sealed manifest field
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), index=True)
    header: Mapped[bytes] = mapped_column(LargeBinary)
    granted_by_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    granted_by_device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id"))
    custodian: Mapped[str | None] = mapped_column(String(200))  # the named custodian
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
