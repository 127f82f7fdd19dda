"""shares: an index on (sender_user_id, sent_at), for a clinician's sent shares (TRN-4)

`GET /v1/shares/sent` and `clinphoto shares` without a photo list every share a user sent,
newest first, a page at a time: without this index, a scan of every share of the instance.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 09:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_shares_sender_sent", "shares", ["sender_user_id", "sent_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_shares_sender_sent", table_name="shares")
