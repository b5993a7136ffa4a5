"""request assignment: which staff member works each request

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("assigned_to_id", sa.Integer(), nullable=True))
        batch.create_index("ix_requests_assigned_to_id", ["assigned_to_id"])
        batch.create_foreign_key(
            "fk_requests_assigned_to_id_staff_users", "staff_users", ["assigned_to_id"], ["id"]
        )
    with op.batch_alter_table("request_events") as batch:
        batch.add_column(sa.Column("assigned_to_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_request_events_assigned_to_id_staff_users",
            "staff_users",
            ["assigned_to_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("request_events") as batch:
        batch.drop_constraint("fk_request_events_assigned_to_id_staff_users", type_="foreignkey")
        batch.drop_column("assigned_to_id")
    with op.batch_alter_table("requests") as batch:
        batch.drop_constraint("fk_requests_assigned_to_id_staff_users", type_="foreignkey")
        batch.drop_index("ix_requests_assigned_to_id")
        batch.drop_column("assigned_to_id")
