"""patient requests: copy and deletion requests and their decisions (RET-3, RET-4)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 06:10:00
"""

from collections.abc import Sequence

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
