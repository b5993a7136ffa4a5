"""Migrations build exactly the schema the models describe, on both backends."""

import asyncio
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text

from casework.schema import MIGRATIONS, load_models, upgrade
from foundation.db import Base, Database
from tests.support import BACKENDS, PG_ADMIN_DSN, _pg_admin

VERSIONS = [p for p in (MIGRATIONS / "versions").glob("0*.py")]


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


async def test_processes_starting_together_migrate_in_turn() -> None:
    """`serve` and `worker` containers start at once against a new PostgreSQL database."""
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL not in VENTANILLA_TEST_BACKENDS")
    name = f"ventanilla_test_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    first, second = Database(f"{base}/{name}"), Database(f"{base}/{name}")
    try:
        await asyncio.gather(upgrade(first), upgrade(second))
        async with first.engine.connect() as conn:
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        assert version is not None and version == sorted(p.name for p in VERSIONS)[-1][:4]
    finally:
        await first.dispose()
        await second.dispose()
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
