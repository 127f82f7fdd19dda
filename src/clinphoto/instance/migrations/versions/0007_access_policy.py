"""access policy: care teams, emergency overrides, inspection leases, sign-in throttle

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "care_team_members",
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("added_by", sa.String(length=32), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_care_team_members_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_care_team_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("patient_id", "user_id", name=op.f("pk_care_team_members")),
    )
    with op.batch_alter_table("care_team_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_team_members_user_id"), ["user_id"], unique=False)
    # Whoever registered a patient or opened an encounter is on the care team; recipients of
    # shares keep their (narrower) relation.
    op.execute(
        "INSERT INTO care_team_members (patient_id, user_id, source, added_by, added_at) "
        "SELECT id, created_by, 'registered', created_by, created_at FROM patients "
        "WHERE created_by IN (SELECT id FROM users)"
    )
    op.execute(
        "INSERT INTO care_team_members (patient_id, user_id, source, added_by, added_at) "
        "SELECT e.patient_id, e.created_by, 'encounter', e.created_by, MIN(e.started_at) "
        "FROM encounters e WHERE e.created_by IN (SELECT id FROM users) AND NOT EXISTS ("
        "SELECT 1 FROM care_team_members c WHERE c.patient_id = e.patient_id "
        "AND c.user_id = e.created_by) GROUP BY e.patient_id, e.created_by"
    )
    op.execute(
        "INSERT INTO care_team_members (patient_id, user_id, source, added_by, added_at) "
        "SELECT m.patient_id, s.recipient_user_id, 'share', s.sender_user_id, MIN(s.sent_at) "
        "FROM shares s JOIN media m ON m.id = s.original_media_id WHERE NOT EXISTS ("
        "SELECT 1 FROM care_team_members c WHERE c.patient_id = m.patient_id "
        "AND c.user_id = s.recipient_user_id) "
        "GROUP BY m.patient_id, s.recipient_user_id, s.sender_user_id"
    )

    op.create_table(
        "emergency_overrides",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("reason_ct", sa.LargeBinary(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(length=32), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_emergency_overrides_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_emergency_overrides_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_overrides")),
    )
    with op.batch_alter_table("emergency_overrides", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emergency_overrides_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_overrides_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "inspection_leases",
        sa.Column("media_id", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media.id"], name=op.f("fk_inspection_leases_media_id_media")
        ),
        sa.PrimaryKeyConstraint("media_id", name=op.f("pk_inspection_leases")),
    )

    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttle")),
    )

    # An MRN names one patient in the institution: a second registration is refused.
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patients_mrn_bidx"))
        batch_op.create_index(batch_op.f("ix_patients_mrn_bidx"), ["mrn_bidx"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patients_mrn_bidx"))
        batch_op.create_index(batch_op.f("ix_patients_mrn_bidx"), ["mrn_bidx"], unique=False)
    op.drop_table("sign_in_throttle")
    op.drop_table("inspection_leases")
    op.drop_table("emergency_overrides")
    op.drop_table("care_team_members")
