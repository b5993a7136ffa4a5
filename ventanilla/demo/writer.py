"""Writing generated rows fast: PostgreSQL's COPY protocol through asyncpg, SQLite's
executemany, both inside the one transaction of the whole generation."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from ventanilla.demo.timeline import PG_EPOCH

SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # what SQLAlchemy's DateTime stores on SQLite


@dataclass
class Rows:
    """Rows of one table, column by column. `times` names the columns that hold
    microseconds since 2000-01-01 UTC (or None)."""

    table: str
    columns: dict[str, list[Any]]
    times: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), []))


def sqlite_time(value: int | None) -> str | None:
    if value is None:
        return None
    return (PG_EPOCH + timedelta(microseconds=value)).strftime(SQLITE_TIME)


@dataclass
class Writer:
    conn: AsyncConnection
    counts: dict[str, int] = field(default_factory=dict)
    _raw: Any = None

    @property
    def postgresql(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    async def start(self) -> None:
        if self.postgresql:
            await self.conn.execute(text("SELECT 1"))  # the transaction is open from here
            await self._skip_foreign_key_triggers()
            raw = await self.conn.get_raw_connection()
            self._raw = raw.driver_connection
            # Times go out as plain integers (microseconds since 2000-01-01 UTC, the wire
            # format itself): no datetime object per value.
            await self._raw.set_type_codec(
                "timestamptz",
                schema="pg_catalog",
                encoder=lambda value: (value,),
                decoder=lambda value: value[0],
                format="tuple",
            )

    async def _skip_foreign_key_triggers(self) -> None:
        """Every id written here is given by construction (and the tests check every foreign
        key), so PostgreSQL need not look each one up again: as pg_restore does, run as a
        replica, where foreign-key triggers do not fire. This takes a superuser; for anyone
        else the checks stay on and loading is slower (about 1.6 times here)."""
        try:
            async with self.conn.begin_nested():
                await self.conn.execute(text("SET LOCAL session_replication_role = replica"))
        except DBAPIError:
            pass

    async def finish(self) -> None:
        if self._raw is not None:
            await self._raw.reset_type_codec("timestamptz", schema="pg_catalog")
            self._raw = None

    async def write(self, rows: Rows) -> None:
        if not len(rows):
            return
        names = list(rows.columns)
        if self.postgresql:
            records = list(zip(*rows.columns.values(), strict=True))
            await self._raw.copy_records_to_table(rows.table, records=records, columns=names)
        else:
            values = [
                [sqlite_time(v) for v in column] if name in rows.times else column
                for name, column in rows.columns.items()
            ]
            marks = ", ".join("?" for _ in names)
            await self.conn.exec_driver_sql(
                f"INSERT INTO {rows.table} ({', '.join(names)}) VALUES ({marks})",
                list(zip(*values, strict=True)),
            )
        self.counts[rows.table] = self.counts.get(rows.table, 0) + len(rows)

    async def max_id(self, table: str, column: str = "id") -> int:
        return int(await self.conn.scalar(text(f"SELECT COALESCE(MAX({column}), 0) FROM {table}")))

    async def reset_sequences(self, tables: list[str]) -> None:
        """On PostgreSQL, make each serial id continue after the largest one written, so the
        app's own inserts do not collide with the explicit ids given here."""
        if not self.postgresql:
            return  # SQLite's INTEGER PRIMARY KEY already continues after the largest
        for table in tables:
            await self.conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table})) WHERE EXISTS (SELECT 1 FROM {table})"
                )
            )
