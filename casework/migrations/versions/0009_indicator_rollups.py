"""indicator rollups: daily counts of settled days of ratings, bot visits and handoff waits,
their watermarks, the index that finds open or recently changed visits and the one that reads
one bucket of handoff waits

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import foundation.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "indicator_rollups",
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("upto", sa.Date(), nullable=True),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("checked_at", foundation.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_indicator_rollups")),
    )
    op.create_table(
        "rating_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("procedure_id", sa.String(length=80), nullable=True),
        sa.Column("department_id", sa.String(length=80), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=10), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("score_sum", sa.BigInteger(), nullable=False),
        sa.Column("score_1", sa.Integer(), nullable=False),
        sa.Column("score_2", sa.Integer(), nullable=False),
        sa.Column("score_3", sa.Integer(), nullable=False),
        sa.Column("score_4", sa.Integer(), nullable=False),
        sa.Column("score_5", sa.Integer(), nullable=False),
    )
    op.create_index("ix_rating_days_day", "rating_days", ["day"], unique=False)
    op.create_table(
        "bot_session_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("procedure_id", sa.String(length=80), nullable=True),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("handed_off", sa.Integer(), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("not_understood", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_bot_session_days_day", "bot_session_days", ["day"], unique=False)
    op.create_index("ix_bot_sessions_last_at", "bot_sessions", ["last_at"], unique=False)
    op.create_table(
        "handoff_wait_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("claimed", sa.Integer(), nullable=False),
    )
    op.create_index("ix_handoff_wait_days_day", "handoff_wait_days", ["day"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Refining a wait percentile reads one bucket of waits through this index.
        op.execute(
            "CREATE INDEX ix_handoffs_wait_seconds ON handoffs "
            "(date_part('epoch'::text, (claimed_at - created_at)))"
        )
        op.execute("ANALYZE handoffs")  # statistics of the new expression


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_handoffs_wait_seconds", table_name="handoffs")
    op.drop_index("ix_handoff_wait_days_day", table_name="handoff_wait_days")
    op.drop_table("handoff_wait_days")
    op.drop_index("ix_bot_sessions_last_at", table_name="bot_sessions")
    op.drop_index("ix_bot_session_days_day", table_name="bot_session_days")
    op.drop_table("bot_session_days")
    op.drop_index("ix_rating_days_day", table_name="rating_days")
    op.drop_table("rating_days")
    op.drop_table("indicator_rollups")
