"""backups: the key ledger that lets destruction reach every backup (RET-5, STO-5)

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


def downgrade() -> None:
    op.drop_table("backup_ledger")
