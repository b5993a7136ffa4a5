"""SQL constructs the indicators need, written once and compiled for each backend.

- `Percentile(q, x)`: the continuous percentile (linear interpolation) of `x` in a group.
  PostgreSQL: `percentile_cont(q) WITHIN GROUP (ORDER BY x)`. SQLite has no such aggregate, so
  every SQLite connection gets a Python aggregate `ventanilla_percentile(x, q)` with the same
  definition (registered from `casework.db` when the connection opens).
- `DaysBetween(later, earlier)`: the difference of two timestamps in (fractional) days.
- `LocalPeriod(ts, grain, tz)`: the first local day (a date) of the week (Monday) or month
  that contains the UTC instant `ts`, in the IANA time zone `tz`. PostgreSQL:
  `date_trunc(grain, ts AT TIME ZONE tz)`. SQLite stores UTC text and knows no time zones; a
  fixed offset would be wrong across daylight-saving changes and historical rule changes, so
  each connection gets `ventanilla_local_period(ts, grain, tz)`, a Python function that converts
  with `zoneinfo` (the same IANA database PostgreSQL uses) and truncates. It costs one Python
  call per row, which only matters for large SQLite databases; PostgreSQL is the backend for
  those.

Grain and time zone are rendered as SQL literals (both validated), so an expression used in
SELECT and GROUP BY compiles to the same text, as PostgreSQL requires.
"""

import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Float, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

GRAINS = ("week", "month")


class Percentile(FunctionElement[float]):
    """`Percentile(0.9, column)`: NULLs are ignored; NULL for an empty group."""

    type = Float()
    inherit_cache = True
    name = "percentile"

    def __init__(self, q: float, expr: ColumnElement[Any]) -> None:
        if not 0 <= q <= 1:
            raise ValueError(f"percentile out of range: {q}")
        # The fraction travels as a literal clause, so it is part of the statement cache key.
        super().__init__(expr, literal_column(repr(float(q))))


@compiles(Percentile, "postgresql")
def _percentile_pg(element: Percentile, compiler: SQLCompiler, **kw: Any) -> str:
    expr, q = (compiler.process(c, **kw) for c in element.clauses)
    return f"percentile_cont({q}) WITHIN GROUP (ORDER BY {expr})"


@compiles(Percentile, "sqlite")
def _percentile_sqlite(element: Percentile, compiler: SQLCompiler, **kw: Any) -> str:
    expr, q = (compiler.process(c, **kw) for c in element.clauses)
    return f"ventanilla_percentile({expr}, {q})"


class DaysBetween(FunctionElement[float]):
    """`DaysBetween(later, earlier)` in days, fractional."""

    type = Float()
    inherit_cache = True
    name = "days_between"


@compiles(DaysBetween, "postgresql")
def _days_pg(element: DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)"


@compiles(DaysBetween, "sqlite")
def _days_sqlite(element: DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({later}) - julianday({earlier}))"


_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-/]+$")


class LocalPeriod(FunctionElement[date]):
    """`LocalPeriod(ts, "week" | "month", "America/Mexico_City")`: a date, the local first day
    of the period holding the instant."""

    type = Date()
    inherit_cache = True
    name = "local_period"

    def __init__(self, ts: ColumnElement[Any], grain: str, tz: str) -> None:
        if grain not in GRAINS:
            raise ValueError(f"unknown grain: {grain}")
        if not _ZONE_NAME.match(tz):
            raise ValueError(f"bad time zone name: {tz!r}")
        ZoneInfo(tz)  # raises for an unknown zone
        # Validated above, so quoting them as literals is safe; as literal clauses they are
        # part of the cache key and render the same text in SELECT and GROUP BY.
        super().__init__(ts, literal_column(f"'{grain}'"), literal_column(f"'{tz}'"))


@compiles(LocalPeriod, "postgresql")
def _period_pg(element: LocalPeriod, compiler: SQLCompiler, **kw: Any) -> str:
    ts, grain, tz = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(date_trunc({grain}, {ts} AT TIME ZONE {tz}) AS DATE)"


@compiles(LocalPeriod, "sqlite")
def _period_sqlite(element: LocalPeriod, compiler: SQLCompiler, **kw: Any) -> str:
    ts, grain, tz = (compiler.process(c, **kw) for c in element.clauses)
    return f"ventanilla_local_period({ts}, {grain}, {tz})"


# --- Python-side definitions (also what SQLite runs) ----------------------------------------


def period_start(day: date, grain: str) -> date:
    """The first day of the week (Monday) or month holding `day`."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown grain: {grain}")


def next_period(start: date, grain: str) -> date:
    if grain == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def periods(first: date, last: date, grain: str) -> list[date]:
    """The starts of every period from the one holding `first` to the one holding `last`."""
    out = []
    current = period_start(first, grain)
    while current <= last:
        out.append(current)
        current = next_period(current, grain)
    return out


def percentile_cont(values: list[float], q: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class _PercentileAggregate:
    def __init__(self) -> None:
        self.values: list[float] = []
        self.q = 0.5

    def step(self, value: float | None, q: float) -> None:
        if value is not None:
            self.values.append(float(value))
            self.q = float(q)

    def finalize(self) -> float | None:
        return percentile_cont(self.values, self.q)


@lru_cache(maxsize=8192)
def _local_period(stored: str, grain: str, tz: str) -> str:
    instant = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    local_day = instant.astimezone(ZoneInfo(tz)).date()
    return period_start(local_day, grain).isoformat()


def _local_period_sql(stored: str | None, grain: str, tz: str) -> str | None:
    if stored is None:
        return None
    # Instants within one minute share their local day in every zone: cache per minute.
    return _local_period(stored[:16], grain, tz)


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Add `ventanilla_percentile` and `ventanilla_local_period` to a SQLite connection: a
    plain sqlite3 connection, or SQLAlchemy's adapter around an aiosqlite one (whose sqlite3
    connection may only be used from aiosqlite's own thread)."""

    def _register(conn: Any) -> None:
        conn.create_aggregate("ventanilla_percentile", 2, _PercentileAggregate)
        conn.create_function("ventanilla_local_period", 3, _local_period_sql, deterministic=True)

    if hasattr(dbapi_connection, "create_aggregate"):  # sqlite3.Connection
        _register(dbapi_connection)
        return
    from sqlalchemy.util import await_

    driver = dbapi_connection.driver_connection  # aiosqlite.Connection
    await_(driver._execute(_register, driver._conn))
