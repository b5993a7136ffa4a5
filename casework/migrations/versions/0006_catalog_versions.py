"""catalog versions: drafts, published and earlier versions of departments and procedures

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 21:28:55.128624

The published catalogue stays in ``departments`` and ``procedures`` (the bot reads only those);
this table holds every version staff saved, published, superseded or discarded.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import foundation.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalog_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.String(length=80), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", foundation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_catalog_versions_staff_user_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_versions")),
        sa.UniqueConstraint(
            "entity", "entity_id", "number", name="uq_catalog_versions_entry_number"
        ),
    )
    with op.batch_alter_table("catalog_versions", schema=None) as batch_op:
        batch_op.create_index("ix_catalog_versions_entry", ["entity", "entity_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("catalog_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_versions_entry")

    op.drop_table("catalog_versions")
