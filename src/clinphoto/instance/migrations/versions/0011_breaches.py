"""breaches: the breach register, device status, remote wipes, share recalls (BRE-1 to BRE-6)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "device_status_reports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("received_at", Time, nullable=False),
        sa.Column("reported_at", Time, nullable=False),
        sa.Column("time_text", sa.String(length=40), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("locked_since", sa.String(length=40), nullable=True),
        sa.Column("holding", sa.Text(), nullable=True),
        sa.Column("signature", sa.String(length=128), nullable=False),
        _fk("device_status_reports", "device_id", "devices"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_status_reports")),
    )
    op.create_index(
        "ix_device_status_reports_device_received",
        "device_status_reports",
        ["device_id", "received_at"],
        unique=False,
    )
    op.create_table(
        "device_wipes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("breach_id", sa.String(length=32), nullable=True),
        sa.Column("requested_at", Time, nullable=False),
        sa.Column("requested_by", sa.String(length=32), nullable=False),
        sa.Column("confirmed_at", Time, nullable=True),
        sa.Column("wiped_at", sa.String(length=40), nullable=True),
        sa.Column("erased", sa.Text(), nullable=True),
        sa.Column("signature", sa.String(length=128), nullable=True),
        sa.Column("status_public", sa.String(length=64), nullable=True),
        _fk("device_wipes", "device_id", "devices"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_wipes")),
    )
    op.create_index(op.f("ix_device_wipes_device_id"), "device_wipes", ["device_id"], unique=False)
    op.create_table(
        "breaches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reported_at", Time, nullable=False),
        sa.Column("reported_by", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", Time, nullable=True),
        sa.Column("description_ct", sa.LargeBinary(), nullable=True),
        sa.Column("device_id", sa.String(length=32), nullable=True),
        sa.Column("share_id", sa.String(length=32), nullable=True),
        sa.Column("classification", sa.String(length=24), nullable=True),
        _fk("breaches", "device_id", "devices"),
        _fk("breaches", "reported_by", "users"),
        _fk("breaches", "share_id", "shares"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breaches")),
    )
    op.create_index(op.f("ix_breaches_reported_by"), "breaches", ["reported_by"], unique=False)
    op.create_index(op.f("ix_breaches_status"), "breaches", ["status"], unique=False)
    op.create_table(
        "share_deletions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("share_id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("deleted_at", sa.String(length=40), nullable=False),
        sa.Column("received_at", Time, nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        _fk("share_deletions", "device_id", "devices"),
        _fk("share_deletions", "share_id", "shares"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_deletions")),
        sa.UniqueConstraint("share_id", "device_id", name=op.f("uq_share_deletions_share_id")),
    )
    op.create_index(
        op.f("ix_share_deletions_share_id"), "share_deletions", ["share_id"], unique=False
    )
    op.create_table(
        "breach_notifications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("breach_id", sa.String(length=32), nullable=False),
        sa.Column("party", sa.String(length=16), nullable=False),
        sa.Column("sent_at", Time, nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("by_user", sa.String(length=32), nullable=False),
        sa.Column("note_ct", sa.LargeBinary(), nullable=True),
        sa.Column("recorded_at", Time, nullable=False),
        _fk("breach_notifications", "breach_id", "breaches"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breach_notifications")),
    )
    op.create_index(
        op.f("ix_breach_notifications_breach_id"),
        "breach_notifications",
        ["breach_id"],
        unique=False,
    )
    op.create_table(
        "breach_steps",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("breach_id", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=12), nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Column("by_user", sa.String(length=32), nullable=False),
        sa.Column("reason_ct", sa.LargeBinary(), nullable=True),
        sa.Column("classification", sa.String(length=24), nullable=True),
        _fk("breach_steps", "breach_id", "breaches"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breach_steps")),
    )
    op.create_index(op.f("ix_breach_steps_breach_id"), "breach_steps", ["breach_id"], unique=False)
    # The breach register's "opened on the device" reads a device's entries (decision 014):
    # without this index, a scan of the whole trail.
    op.create_index("ix_audit_entries_device_seq", "audit_entries", ["device", "seq"], unique=False)
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_public", sa.String(length=64), nullable=True))
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recalled_at", Time, nullable=True))
        batch_op.add_column(sa.Column("recalled_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("recall_reason_ct", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_index("ix_audit_entries_device_seq", table_name="audit_entries")
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.drop_column("recall_reason_ct")
        batch_op.drop_column("recalled_by")
        batch_op.drop_column("recalled_at")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("status_public")
    for table in (
        "breach_steps",
        "breach_notifications",
        "share_deletions",
        "breaches",
        "device_wipes",
        "device_status_reports",
    ):
        op.drop_table(table)
