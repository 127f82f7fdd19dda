"""patient requests: copy and deletion requests and their decisions (RET-3, RET-4)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "copy_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("received_at", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("packaged_by", sa.String(length=32), nullable=True),
        sa.Column("packaged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("package_sha256", sa.String(length=64), nullable=True),
        sa.Column("package_size", BigInt, nullable=True),
        sa.Column("passphrase_sha256", sa.String(length=64), nullable=True),
        sa.Column("downloaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copy_requests")),
    )
    with op.batch_alter_table("copy_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_copy_requests_patient_id"), ["patient_id"])
    op.create_table(
        "deletion_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("encounter_id", sa.String(length=32), nullable=True),
        sa.Column("media_ids", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("reason_ct", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason_ct", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deletion_requests")),
    )
    with op.batch_alter_table("deletion_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deletion_requests_patient_id"), ["patient_id"])
    op.create_table(
        "deletion_request_items",
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("certificate_seq", BigInt, nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["deletion_requests.id"],
            name=op.f("fk_deletion_request_items_request_id_deletion_requests"),
        ),
        sa.PrimaryKeyConstraint("request_id", "item_id", name=op.f("pk_deletion_request_items")),
    )


def downgrade() -> None:
    op.drop_table("deletion_request_items")
    with op.batch_alter_table("deletion_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deletion_requests_patient_id"))
    op.drop_table("deletion_requests")
    with op.batch_alter_table("copy_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_copy_requests_patient_id"))
    op.drop_table("copy_requests")
