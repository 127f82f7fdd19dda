"""retention: rule overrides, destroy-not-before dates, legal holds (RET-1, RET-3, RET-5)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "retention_rule_overrides",
        sa.Column("jurisdiction", sa.String(length=2), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=32), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jurisdiction", name=op.f("pk_retention_rule_overrides")),
    )
    op.create_table(
        "retention_patients",
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("jurisdiction", sa.String(length=2), nullable=False),
        sa.Column("last_entry", sa.Date(), nullable=False),
        sa.Column("minor_at_last_entry", sa.Boolean(), nullable=False),
        sa.Column("destroy_not_before", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_retention_patients")),
    )
    with op.batch_alter_table("retention_patients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_retention_patients_jurisdiction"), ["jurisdiction"], unique=False
        )
    op.create_table(
        "retention_items",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("encounter_id", sa.String(length=32), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("destroy_not_before", sa.Date(), nullable=False),
        sa.Column("ciphertext_sha256", sa.String(length=64), nullable=True),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("certificate_seq", BigInt, nullable=True),
        sa.PrimaryKeyConstraint("kind", "item_id", name=op.f("pk_retention_items")),
    )
    with op.batch_alter_table("retention_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_retention_items_due", ["status", "destroy_not_before"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_retention_items_family"), ["family"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_retention_items_patient_id"), ["patient_id"], unique=False
        )
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("target_id", sa.String(length=32), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=True),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("reason_ct", sa.LargeBinary(), nullable=False),
        sa.Column("placed_by", sa.String(length=32), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(length=32), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason_ct", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_holds_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_legal_holds_target_id"), ["target_id"], unique=False)
    # The sweep's look-ups on media, and the foreign key's check when a photo is deleted
    # (without an index on derived_from every delete scans the table).
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_encounter_id"), ["encounter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_media_blob_sha256"), ["blob_sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_media_derived_from"), ["derived_from"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_derived_from"))
        batch_op.drop_index(batch_op.f("ix_media_blob_sha256"))
        batch_op.drop_index(batch_op.f("ix_media_encounter_id"))
    op.drop_table("legal_holds")
    op.drop_table("retention_items")
    op.drop_table("retention_patients")
    op.drop_table("retention_rule_overrides")
