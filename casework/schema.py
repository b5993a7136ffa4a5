"""Bringing a database's schema up to date with Alembic."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from foundation.db import Base, Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x56_4D_49_47  # PostgreSQL advisory lock key ("VMIG")


def load_models() -> None:
    """Import every module that declares tables so Base.metadata knows them all."""
    from casework.citizens import models as citizens
    from casework.conversations import models as conversations
    from casework.handoffs import models as handoffs
    from casework.inbox import models as inbox
    from casework.indicators import models as indicators
    from casework.indicators import rollups
    from casework.outbox import models as outbox
    from casework.ratelimits import models as ratelimits
    from casework.ratings import models as ratings
    from casework.requests import models as requests
    from casework.staff import models as staff
    from catalog import models as catalog
    from foundation import audit

    del citizens, conversations, handoffs, inbox, indicators, rollups, outbox, ratelimits, ratings
    del requests, staff, catalog, audit


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
        if conn.dialect.name == "postgresql":  # processes starting together migrate in turn
            await conn.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
        await conn.run_sync(_run)


def table_names() -> list[str]:
    load_models()
    return [t.name for t in Base.metadata.sorted_tables]
