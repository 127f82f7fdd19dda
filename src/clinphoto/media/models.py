"""Media objects: the record of one sealed, stored object. Rows and blobs are never updated
in place (AUD-4); a derived version is a new row pointing at its original."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clinphoto.storage.db import Base, UtcDateTime


class Media(Base):
    __tablename__ = "media"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random object id
    kind: Mapped[str] = mapped_column(String(32))
    patient_id: Mapped[str] = mapped_column(String(32), index=True)
    # Indexed for the retention sweep (migration 0009): an encounter's photos, what derives
    # from a photo (also the foreign key's check on delete), and who else names a blob.
    encounter_id: Mapped[str] = mapped_column(String(32), index=True)
    consent_id: Mapped[str] = mapped_column(String(32))
    author_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    author_device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    blob_sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    plaintext_sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[str] = mapped_column(Text)  # the exact signed bytes, as text
    signature: Mapped[str] = mapped_column(String(128))
    jurisdiction: Mapped[str] = mapped_column(String(16))
    derived_from: Mapped[str | None] = mapped_column(ForeignKey("media.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
