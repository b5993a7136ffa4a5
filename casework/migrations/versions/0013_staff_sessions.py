"""staff sessions kept in the database; login throttling per username and per username and address

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import foundation.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_sessions_staff_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_sessions")),
    )
    op.create_index(
        op.f("ix_staff_sessions_staff_user_id"), "staff_sessions", ["staff_user_id"], unique=False
    )
    op.create_index(
        op.f("ix_staff_sessions_expires_at"), "staff_sessions", ["expires_at"], unique=False
    )
    # The counts change meaning (per username and address instead of per address); what was
    # counted before is only minutes of failed logins, so the table starts afresh.
    op.drop_table("login_throttles")
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", foundation.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )
    op.create_index(
        op.f("ix_login_throttles_last_failure_at"),
        "login_throttles",
        ["last_failure_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_login_throttles_last_failure_at"), table_name="login_throttles")
    op.drop_table("login_throttles")
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", foundation.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )
    op.drop_index(op.f("ix_staff_sessions_expires_at"), table_name="staff_sessions")
    op.drop_index(op.f("ix_staff_sessions_staff_user_id"), table_name="staff_sessions")
    op.drop_table("staff_sessions")
