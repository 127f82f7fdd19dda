"""device grants: an object's file key re-wrapped for a device enrolled later (decision 011)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "device_grants",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("object_kind", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.String(length=32), nullable=False),
        sa.Column("media_id", sa.String(length=32), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("header", sa.LargeBinary(), nullable=False),
        sa.Column("granted_by_user_id", sa.String(length=32), nullable=True),
        sa.Column("granted_by_device_id", sa.String(length=32), nullable=True),
        sa.Column("custodian", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_grants_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_device_id"],
            ["devices.id"],
            name=op.f("fk_device_grants_granted_by_device_id_devices"),
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_user_id"],
            ["users.id"],
            name=op.f("fk_device_grants_granted_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media.id"], name=op.f("fk_device_grants_media_id_media")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_grants")),
        sa.UniqueConstraint(
            "media_id", "field", "device_id", name=op.f("uq_device_grants_media_id")
        ),
    )
    with op.batch_alter_table("device_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_grants_device_id"), ["device_id"], unique=False)


def downgrade() -> None:
    op.drop_table("device_grants")
