"""patients consent

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 16:30:50.512849
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("province", sa.String(length=2), nullable=False),
        sa.Column("name_ct", sa.LargeBinary(), nullable=False),
        sa.Column("dob_ct", sa.LargeBinary(), nullable=False),
        sa.Column("mrn_ct", sa.LargeBinary(), nullable=False),
        sa.Column("hcn_ct", sa.LargeBinary(), nullable=True),
        sa.Column("mrn_bidx", sa.String(length=64), nullable=False),
        sa.Column("hcn_bidx", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
    )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patients_hcn_bidx"), ["hcn_bidx"], unique=False)
        batch_op.create_index(batch_op.f("ix_patients_mrn_bidx"), ["mrn_bidx"], unique=False)

    op.create_table(
        "encounters",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_encounters_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encounters")),
    )
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_encounters_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "patient_name_index",
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("token_bidx", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_patient_name_index_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("patient_id", "token_bidx", name=op.f("pk_patient_name_index")),
    )
    with op.batch_alter_table("patient_name_index", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patient_name_index_token_bidx"), ["token_bidx"], unique=False
        )

    op.create_table(
        "consents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("encounter_id", sa.String(length=32), nullable=False),
        sa.Column("purposes", sa.String(length=100), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "verbal",
                "written",
                "electronic_signature",
                name="consent_method",
                native_enum=False,
            ),
            nullable=True,
        ),
        sa.Column("obtained_by", sa.String(length=32), nullable=False),
        sa.Column("witness_name_ct", sa.LargeBinary(), nullable=True),
        sa.Column("informed_of_rights", sa.Boolean(), nullable=False),
        sa.Column("identifiable_allowed", sa.Boolean(), nullable=False),
        sa.Column("unsecure_channel_allowed", sa.Boolean(), nullable=False),
        sa.Column("foreign_storage_allowed", sa.Boolean(), nullable=False),
        sa.Column("text_version", sa.String(length=64), nullable=False),
        sa.Column("obtained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signature_sha256", sa.String(length=64), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "active", "to_follow", "completed_follow", name="consent_status", native_enum=False
            ),
            nullable=False,
        ),
        sa.Column("to_follow_reason_ct", sa.LargeBinary(), nullable=True),
        sa.Column("to_follow_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completes_consent_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["completes_consent_id"],
            ["consents.id"],
            name=op.f("fk_consents_completes_consent_id_consents"),
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_consents_encounter_id_encounters")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_consents_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consents_encounter_id"), ["encounter_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_consents_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "consent_withdrawals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("consent_id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=32), nullable=False),
        sa.Column("reason_ct", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consents.id"], name=op.f("fk_consent_withdrawals_consent_id_consents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_withdrawals")),
    )
    with op.batch_alter_table("consent_withdrawals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_withdrawals_consent_id"), ["consent_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("consent_withdrawals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_withdrawals_consent_id"))

    op.drop_table("consent_withdrawals")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_patient_id"))
        batch_op.drop_index(batch_op.f("ix_consents_encounter_id"))

    op.drop_table("consents")
    with op.batch_alter_table("patient_name_index", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_name_index_token_bidx"))

    op.drop_table("patient_name_index")
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_encounters_patient_id"))

    op.drop_table("encounters")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patients_mrn_bidx"))
        batch_op.drop_index(batch_op.f("ix_patients_hcn_bidx"))

    op.drop_table("patients")
