"""The custodian's verdict on one stored photo. Written once; a photo is never re-judged in
place (a new detector version would add a new row in a later schema)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clinphoto.storage.db import Base, UtcDateTime


class MediaInspection(Base):
    """``regions`` holds boxes, kinds and scores only: never the text read from the image,
    which may be a name or a number. ``reasons`` never repeat an identifier's value."""

    __tablename__ = "media_inspections"

    media_id: Mapped[str] = mapped_column(ForeignKey("media.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # done | failed
    identifiable: Mapped[bool] = mapped_column()
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of strings
    regions: Mapped[str] = mapped_column(Text)  # JSON list of {kind, box, score}
    inspector: Mapped[str] = mapped_column(String(64))
    inspected_at: Mapped[datetime] = mapped_column(UtcDateTime())


class InspectionLease(Base):
    """Which custodian process holds a photo's inspection, until when: several server
    processes never inspect the same photo at once, and a crashed holder's lease expires."""

    __tablename__ = "inspection_leases"

    media_id: Mapped[str] = mapped_column(ForeignKey("media.id"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
