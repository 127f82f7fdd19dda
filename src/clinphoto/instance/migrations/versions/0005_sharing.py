"""sharing

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 16:49:09.771696
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shares",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("original_media_id", sa.String(length=32), nullable=False),
        sa.Column("copy_media_id", sa.String(length=32), nullable=False),
        sa.Column("sender_user_id", sa.String(length=32), nullable=False),
        sa.Column("sender_device_id", sa.String(length=32), nullable=False),
        sa.Column("recipient_user_id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_device_id", sa.String(length=32), nullable=True),
        sa.Column("ack_signature", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["copy_media_id"], ["media.id"], name=op.f("fk_shares_copy_media_id_media")
        ),
        sa.ForeignKeyConstraint(
            ["original_media_id"], ["media.id"], name=op.f("fk_shares_original_media_id_media")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_user_id"], ["users.id"], name=op.f("fk_shares_recipient_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["sender_device_id"], ["devices.id"], name=op.f("fk_shares_sender_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["sender_user_id"], ["users.id"], name=op.f("fk_shares_sender_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shares")),
        sa.UniqueConstraint("copy_media_id", name=op.f("uq_shares_copy_media_id")),
    )
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shares_original_media_id"), ["original_media_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_shares_recipient_user_id"), ["recipient_user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shares_recipient_user_id"))
        batch_op.drop_index(batch_op.f("ix_shares_original_media_id"))

    op.drop_table("shares")
