"""Alembic environment: always run with a connection handed over by casework.schema."""

from alembic import context

from casework.schema import load_models
from foundation.db import Base

load_models()
target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `ventanilla db upgrade` (casework.schema.upgrade)")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
