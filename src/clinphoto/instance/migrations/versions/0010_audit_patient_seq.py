"""audit: one patient's entries in sequence order, for "who saw my photos" (BEY-6)

The single-column index on ``patient_ref`` becomes ``(patient_ref, seq)``. On SQLite the old
one already ended in the row id (``seq`` is the primary key, the row id); on PostgreSQL it did
not, and a page of a patient's newest entries had to fetch and sort all of them, or walk the
primary key backwards past everyone else's. The composite index serves every query the old
one did.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 04:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_entries_patient_ref_seq", ["patient_ref", "seq"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_audit_entries_patient_ref"))


def downgrade() -> None:
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_entries_patient_ref"), ["patient_ref"], unique=False
        )
        batch_op.drop_index("ix_audit_entries_patient_ref_seq")
