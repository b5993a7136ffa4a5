"""Migrations build exactly the schema the models describe, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from casework.db import Base, Database
from casework.schema import load_models, upgrade


async def test_migrations_match_the_models(db: Database) -> None:
    load_models()

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_upgrade_twice_is_harmless(db: Database) -> None:
    await upgrade(db)
    await upgrade(db)
