"""evaluation: survey dimensions and reminders, answer usefulness, bot visits, reopened
requests, indicator cards and evaluators' API tokens

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import foundation.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("created_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", foundation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", foundation.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_api_tokens_staff_user_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_tokens_staff_user_id"), ["staff_user_id"], unique=False
        )

    op.create_table(
        "indicator_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("formula", sa.Text(), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("frequency", sa.String(length=20), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("baseline", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("baseline_year", sa.Integer(), nullable=True),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("ods", sa.JSON(), nullable=False),
        sa.Column("higher_is_better", sa.Boolean(), nullable=False),
        sa.Column("tolerance", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("procedure_id", sa.String(length=80), nullable=True),
        sa.Column("department_id", sa.String(length=80), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_indicator_cards_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["procedure_id"],
            ["procedures.id"],
            name=op.f("fk_indicator_cards_procedure_id_procedures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_cards")),
        sa.UniqueConstraint("code", name=op.f("uq_indicator_cards_code")),
    )
    op.create_table(
        "survey_dimensions",
        sa.Column("procedure_id", sa.String(length=80), nullable=False),
        sa.Column("dimension", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["procedure_id"],
            ["procedures.id"],
            name=op.f("fk_survey_dimensions_procedure_id_procedures"),
        ),
        sa.PrimaryKeyConstraint("procedure_id", "dimension", name=op.f("pk_survey_dimensions")),
    )
    op.create_table(
        "answer_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=True),
        sa.Column("procedure_id", sa.String(length=80), nullable=False),
        sa.Column("department_id", sa.String(length=80), nullable=True),
        sa.Column("aspect", sa.String(length=20), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("asked_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", foundation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("useful", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_answer_feedback_citizen_id_citizens")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_answer_feedback_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_answer_feedback_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["procedure_id"],
            ["procedures.id"],
            name=op.f("fk_answer_feedback_procedure_id_procedures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_feedback")),
    )
    with op.batch_alter_table("answer_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answer_feedback_asked_at"), ["asked_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_answer_feedback_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_answer_feedback_procedure_id"), ["procedure_id"], unique=False
        )

    op.create_table(
        "bot_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("started_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("not_understood", sa.Integer(), nullable=False),
        sa.Column("handed_off", sa.Boolean(), nullable=False),
        sa.Column("procedure_id", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_bot_sessions_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_sessions")),
    )
    with op.batch_alter_table("bot_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bot_sessions_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bot_sessions_procedure_id"), ["procedure_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bot_sessions_started_at"), ["started_at"], unique=False
        )

    op.create_table(
        "rating_dimension_scores",
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=30), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rating_id"], ["ratings.id"], name=op.f("fk_rating_dimension_scores_rating_id_ratings")
        ),
        sa.PrimaryKeyConstraint("rating_id", "dimension", name=op.f("pk_rating_dimension_scores")),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bot_session_id", sa.Integer(), nullable=True))

    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoffs_created_at"), ["created_at"], unique=False)

    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminded_at", foundation.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_ratings_asked_at"), ["asked_at"], unique=False)

    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reopened", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index(batch_op.f("ix_requests_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_requests_resolved_at"), ["resolved_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_requests_resolved_at"))
        batch_op.drop_index(batch_op.f("ix_requests_created_at"))
        batch_op.drop_column("reopened")

    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ratings_asked_at"))
        batch_op.drop_column("reminded_at")

    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoffs_created_at"))

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("bot_session_id")

    op.drop_table("rating_dimension_scores")
    with op.batch_alter_table("bot_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_sessions_started_at"))
        batch_op.drop_index(batch_op.f("ix_bot_sessions_procedure_id"))
        batch_op.drop_index(batch_op.f("ix_bot_sessions_conversation_id"))

    op.drop_table("bot_sessions")
    with op.batch_alter_table("answer_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_feedback_procedure_id"))
        batch_op.drop_index(batch_op.f("ix_answer_feedback_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_answer_feedback_asked_at"))

    op.drop_table("answer_feedback")
    op.drop_table("survey_dimensions")
    op.drop_table("indicator_cards")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_staff_user_id"))

    op.drop_table("api_tokens")
