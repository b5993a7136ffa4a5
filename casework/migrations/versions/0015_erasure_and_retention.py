"""erasure and retention: when a chat's data was erased (so the retention job can empty what
was still being handled then), and an index of the replies by transcript line (deleting old
lines checks the replies that point at them)

Revision ID: 0015
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import foundation.db

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channel_identities") as batch_op:
        batch_op.add_column(
            sa.Column("erased_at", foundation.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_channel_identities_erased_at", ["erased_at"], unique=False)
    op.create_index("ix_outbox_message_id", "outbox", ["message_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_message_id", table_name="outbox")
    with op.batch_alter_table("channel_identities") as batch_op:
        batch_op.drop_index("ix_channel_identities_erased_at")
        batch_op.drop_column("erased_at")
