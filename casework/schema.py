"""Bringing a database's schema up to date with Alembic."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from casework.db import Base, Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def load_models() -> None:
    """Import every module that declares tables so Base.metadata knows them all."""
    import catalog.models  # noqa: F401


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    """Apply every pending migration (idempotent)."""

    def _run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(_run)


def table_names() -> list[str]:
    load_models()
    return [t.name for t in Base.metadata.sorted_tables]
