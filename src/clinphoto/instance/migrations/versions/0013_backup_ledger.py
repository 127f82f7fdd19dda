"""backups: the key ledger that lets destruction reach every backup (RET-5, STO-5); an index
on consents.completes_consent_id, whose foreign-key check scanned the consents table for
every consent the retention sweep deleted

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backup_ledger",
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("key_ct", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("blob_sha256", name=op.f("pk_backup_ledger")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consents_completes_consent_id"), ["completes_consent_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_completes_consent_id"))
    op.drop_table("backup_ledger")
