"""Shares: a copy re-sealed by the sender's device for one recipient (TRN-4)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from clinphoto.storage.db import Base, UtcDateTime


class Share(Base):
    __tablename__ = "shares"

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
