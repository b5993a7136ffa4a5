"""inbox: an index of the chats waiting for a failed update's retry, which the drain passes over

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = "processed_at IS NULL AND retry_at IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_inbox_waiting",
        "inbox",
        ["channel", "chat"],
        unique=False,
        postgresql_where=sa.text(WAITING),
        sqlite_where=sa.text(WAITING),
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_waiting", table_name="inbox")
