"""inbox claims: many workers drain the inbox, each holding a chat with a lease on its oldest
pending update (claimed_by, claimed_until), and each handled update records its worker
(handled_by); the chats' pending updates are indexed in order instead of the waiting ones

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import foundation.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "processed_at IS NULL"
WAITING = "processed_at IS NULL AND retry_at IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("claimed_until", foundation.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("handled_by", sa.String(length=200), nullable=True))
    op.drop_index("ix_inbox_waiting", table_name="inbox")
    op.create_index(
        "ix_inbox_chat_pending",
        "inbox",
        ["channel", "chat", "id"],
        unique=False,
        postgresql_where=sa.text(PENDING),
        sqlite_where=sa.text(PENDING),
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_chat_pending", table_name="inbox")
    op.create_index(
        "ix_inbox_waiting",
        "inbox",
        ["channel", "chat"],
        unique=False,
        postgresql_where=sa.text(WAITING),
        sqlite_where=sa.text(WAITING),
    )
    with op.batch_alter_table("inbox") as batch_op:
        batch_op.drop_column("handled_by")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
