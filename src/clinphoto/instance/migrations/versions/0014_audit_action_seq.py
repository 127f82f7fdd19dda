"""audit: an index on (action, seq), for the certificates of destruction (RET-5)

The list of certificates (`clinphoto retention certificates`, GET /v1/retention/certificates)
reads the trail's destruction entries newest first. Without this index the database walks the
trail backwards from its newest entry and keeps the few destruction entries it meets: on a
trail of millions of entries where destructions are rare, a scan of nearly all of it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 09:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_entries_action_seq", "audit_entries", ["action", "seq"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_entries_action_seq", table_name="audit_entries")
