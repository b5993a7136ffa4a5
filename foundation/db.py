"""Database engine, sessions and the declarative base every table derives from."""

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import CursorResult, DateTime, MetaData, Result, Row, Table, TypeDecorator
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

SQLITE_WAIT_SECONDS = 30
# The largest row id: ids are INTEGER columns, 32 bits on PostgreSQL. A larger number names no
# row, and PostgreSQL would refuse the query with an error.
MAX_ROW_ID = 2**31 - 1

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use foundation.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# A moment every clock reading returns instead of the real time, in this context only (the
# conversation tests run on a fixed Tuesday morning so that office hours and folios repeat).
_fixed_now: ContextVar[datetime | None] = ContextVar("fixed_now", default=None)


def utcnow() -> datetime:
    """The current time in UTC; everything that reads the clock reads it here."""
    return _fixed_now.get() or datetime.now(UTC)


@contextmanager
def fixed_clock(moment: datetime) -> Iterator[None]:
    """Within this block (and the tasks it starts), the clock reads `moment` (aware)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to fixed_clock")
    token = _fixed_now.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _fixed_now.reset(token)


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _sqlite_pragmas(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    """Foreign keys on, WAL, BEGIN IMMEDIATE so that concurrent writers wait for each other
    instead of failing on a stale snapshot (and SAVEPOINTs behave), the indicators' SQL
    functions, and secure_delete: what a row loses (an erased CURP, a purged payload) is
    overwritten with zeros in the file instead of lingering in free space."""
    from sqlalchemy import event

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: object) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" event start transactions
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_WAIT_SECONDS * 1000}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA secure_delete=ON")
        cur.close()
        # What SQLite lacks and the indicators need: a percentile aggregate and local-time
        # periods (see foundation/sql.py).
        from foundation.sql import register_sqlite_functions

        register_sqlite_functions(dbapi_conn)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class _WriterLine:
    """SQLite takes one writer at a time. This process's writers wait for it here, in order,
    which under load is much faster than SQLite's busy handler (it polls with growing sleeps).
    A writer that goes `first` (a webhook storing updates: one short INSERT that a messaging
    app waits on) passes the others waiting, so dialogue turns queued in the same process
    delay an acknowledgement by at most the one under way."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._first_waiting = 0
        self._none_first = asyncio.Event()
        self._none_first.set()

    async def acquire(self, first: bool) -> None:
        if first:
            self._first_waiting += 1
            self._none_first.clear()
            try:
                await self._lock.acquire()
            finally:
                self._first_waiting -= 1
                if not self._first_waiting:
                    self._none_first.set()
            return
        while True:
            await self._none_first.wait()
            await self._lock.acquire()
            if not self._first_waiting:
                return
            self._lock.release()  # one that goes first came meanwhile: it takes the turn

    def release(self) -> None:
        self._lock.release()


class Database:
    """One engine and its session factory; passed around instead of globals."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._line = _WriterLine() if url.startswith("sqlite") else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed on success and rolled back on error. Do not
        open one inside another in the same task."""
        async with self._in_turn(), self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection in a transaction committed on success, for the webhooks' inbox
        writes: no ORM objects, and on SQLite it goes before other writers waiting."""
        async with self._in_turn(first=True), self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def _in_turn(self, first: bool = False) -> AsyncIterator[None]:
        if self._line is None:
            yield
            return
        async with asyncio.timeout(SQLITE_WAIT_SECONDS):  # like SQLite's own busy timeout
            await self._line.acquire(first)
        try:
            yield
        finally:
            self._line.release()

    async def scrub(self) -> None:
        """`scrub` this database (SQLite: the write-ahead log truncated)."""
        async with self._in_turn():
            await scrub(self.engine)

    async def dispose(self) -> None:
        await self.engine.dispose()


async def scrub(engine: AsyncEngine) -> None:
    """On SQLite, copy the write-ahead log into the database file and truncate it: until
    then the log still holds the old versions of changed pages (an erased CURP). Waits for
    readers like any writer. Nothing on PostgreSQL (see the README on VACUUM)."""
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection  # outside a transaction
        assert raw is not None
        await raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


AnyRow = Row[*tuple[Any, ...]]  # a result row of any width


def table_of(model: type[Base]) -> Table:
    """The table a mapped class is mapped to, typed as the Table it is."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to one table")
    return table


@cache
def insert_ignore_statement(dialect: str, table: type[Base]) -> Any:
    """The dialect's INSERT ... ON CONFLICT DO NOTHING for `table`, built once: the values
    travel as parameters, so SQLAlchemy reuses its compiled form instead of building and
    hashing a new statement for every row (the bot's and the webhooks' hot paths)."""
    if dialect == "postgresql":
        return postgresql.insert(table_of(table)).on_conflict_do_nothing()
    return sqlite.insert(table_of(table)).on_conflict_do_nothing()


async def insert_ignore(
    session: AsyncSession, table: type[Base], values: Mapping[str, object]
) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on either backend (safe under concurrent workers).
    True when the row was inserted, False when it already existed."""
    statement = insert_ignore_statement(session.get_bind().dialect.name, table)
    result = await session.execute(statement, values)
    return rows_changed(result) > 0


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE, DELETE or INSERT changed (``session.execute`` types its result
    as a plain ``Result``; for those statements it is a ``CursorResult``)."""
    return int(cast(CursorResult[Any], result).rowcount or 0)
