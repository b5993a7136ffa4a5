"""SQL constructs the indicators need, written once and compiled for each backend.

- `Percentile(q, x)`: the continuous percentile (linear interpolation) of `x` in a group.
  PostgreSQL: `percentile_cont(q) WITHIN GROUP (ORDER BY x)`. SQLite has no such aggregate, so
  every SQLite connection gets a Python aggregate `ventanilla_percentile(x, q)` with the same
  definition (registered from `foundation.db` when the connection opens).
- `days_between(later, earlier)`: the difference of two timestamps in (fractional) days.
- `PeriodIndex(ts, edges)`: which local week or month an instant falls in. The periods'
  boundaries are computed here in Python (`local_periods`: local midnights converted to UTC with
  `zoneinfo`, so daylight-saving and historical rule changes are exact) and the database only
  compares stored UTC instants with them. PostgreSQL: `width_bucket(ts, ARRAY[...])`, a binary
  search per row (converting every row with `AT TIME ZONE` and `date_trunc` costs about three
  times as much on a million ratings). SQLite: `ventanilla_bucket(ts, 'e1|e2|...')`, a Python
  `bisect` over the stored UTC text, which sorts like time. A fixed UTC offset is never used.

- `LocalDay(ts, zone)`: the local day of an instant (building the daily rollups only).
- `SecondsBetween(later, earlier)`, `LogBucket(x)`: a duration in seconds and its coarse
  logarithmic bucket (the median wait: counts per bucket, then one bucket read in order).
- `Instant(dt)`: an instant written as a literal, against PostgreSQL's generic plans.

Constants (the percentile fraction, the boundaries) are rendered as SQL literals, so an
expression used in SELECT and GROUP BY compiles to the same text, as PostgreSQL requires, and
they are part of the statement cache key.
"""

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Float, Integer, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from foundation.db import UTCDateTime

SqlValue = ColumnElement[Any] | QueryableAttribute[Any]  # an expression, or a mapped column

GRAINS = ("week", "month")


class Percentile(FunctionElement[float]):
    """`Percentile(0.9, column)`: NULLs are ignored; NULL for an empty group."""

    type = Float()
    inherit_cache = True
    name = "percentile"

    def __init__(self, q: float, expr: SqlValue) -> None:
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


class LocalDay(FunctionElement[date]):
    """`LocalDay(ts, timezone)`: the local calendar day of a stored UTC instant. Costly per row
    (a time zone conversion each), so only used to build the daily rollups, once per day.
    PostgreSQL: `CAST(ts AT TIME ZONE 'zone' AS DATE)`; SQLite: `ventanilla_local_day(ts,
    'zone')`, a Python `zoneinfo` conversion giving 'YYYY-MM-DD'."""

    type = Date()
    inherit_cache = True
    name = "local_day"

    def __init__(self, ts: SqlValue, timezone: str) -> None:
        ZoneInfo(timezone)  # a known zone name: letters, digits, "/", "_", "+", "-" only
        if not all(c.isalnum() or c in "/_+-" for c in timezone):
            raise ValueError(f"unexpected time zone name: {timezone!r}")
        super().__init__(ts, literal_column(f"'{timezone}'"))


@compiles(LocalDay, "postgresql")
def _local_day_pg(element: LocalDay, compiler: SQLCompiler, **kw: Any) -> str:
    ts, zone = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(({ts} AT TIME ZONE {zone}) AS DATE)"


@compiles(LocalDay, "sqlite")
def _local_day_sqlite(element: LocalDay, compiler: SQLCompiler, **kw: Any) -> str:
    ts, zone = (compiler.process(c, **kw) for c in element.clauses)
    return f"ventanilla_local_day({ts}, {zone})"


def _local_day_sql(stored: str | None, timezone: str) -> str | None:
    if stored is None:
        return None
    instant = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    return instant.astimezone(ZoneInfo(timezone)).date().isoformat()


class SecondsBetween(FunctionElement[float]):
    """`SecondsBetween(later, earlier)` in seconds, a double. PostgreSQL:
    `date_part('epoch', later - earlier)`, written exactly as the expression index
    `ix_handoffs_wait_seconds` (migration 0009) so that index serves it."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(SecondsBetween, "postgresql")
def _seconds_pg(element: SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"date_part('epoch', {later} - {earlier})"


@compiles(SecondsBetween, "sqlite")
def _seconds_sqlite(element: SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def days_between(later: SqlValue, earlier: SqlValue) -> ColumnElement[float]:
    """`later - earlier` in days, fractional (a double on both backends)."""
    return SecondsBetween(later, earlier) / 86400.0


LOG_BUCKETS_PER_E = 20  # a bucket spans a factor e^(1/20), about 5 %


class LogBucket(FunctionElement[int]):
    """`LogBucket(x)`: floor(ln(1 + max(x, 0)) × 20), a coarse, monotone bucket of a
    non-negative duration (0 s -> 0, 1 min -> 82, 1 h -> 163, 1 day -> 227). PostgreSQL
    computes it with `ln`, SQLite with `ventanilla_log_bucket` (Python's math.log1p); a
    bucket is only ever compared with buckets computed by the same database."""

    type = Integer()
    inherit_cache = True
    name = "log_bucket"


@compiles(LogBucket, "postgresql")
def _log_bucket_pg(element: LogBucket, compiler: SQLCompiler, **kw: Any) -> str:
    (x,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(floor(ln(1.0 + greatest({x}, 0.0)) * {LOG_BUCKETS_PER_E}) AS INTEGER)"


@compiles(LogBucket, "sqlite")
def _log_bucket_sqlite(element: LogBucket, compiler: SQLCompiler, **kw: Any) -> str:
    (x,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"ventanilla_log_bucket({x})"


def _log_bucket_sql(x: float | None) -> int | None:
    return None if x is None else math.floor(math.log1p(max(float(x), 0.0)) * LOG_BUCKETS_PER_E)


def log_bucket_range(bucket: int) -> tuple[float, float]:
    """A range of durations surely holding every value of `bucket` (a little wider than the
    bucket, so rounding never leaves one out; the bucket itself is compared too)."""
    low = math.expm1(bucket / LOG_BUCKETS_PER_E)
    high = math.expm1((bucket + 1) / LOG_BUCKETS_PER_E)
    return low * (1 - 1e-9) - 1e-6, high * (1 + 1e-9) + 1e-6


def percentile_ranks(total: int, q: float) -> tuple[int, int, float]:
    """The two 0-based ranks percentile_cont(q) interpolates between, and the fraction."""
    position = q * (total - 1)
    low = int(position)
    return low, min(low + 1, total - 1), position - low


SQLITE_STORED = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores datetimes in SQLite


class Instant(FunctionElement[datetime]):
    """`Instant(dt)`: a timezone-aware instant written into the statement as a literal, for a
    comparison whose best plan depends on the value. PostgreSQL switches a prepared statement
    run more than five times to a generic plan that ignores the values bound: for
    `last_at > $1` that is a sequential scan of every visit instead of an index probe for the
    last hour. A literal makes each value a statement of its own (planned for that value);
    use it only for values that change rarely (asyncpg caches each statement text)."""

    type = UTCDateTime()
    inherit_cache = True
    name = "instant"

    def __init__(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("naive datetime given")
        utc = instant.astimezone(UTC)
        # Made here from a datetime (digits and separators only), so safe to quote.
        pg = f"TIMESTAMPTZ '{utc.isoformat()}'"
        lite = f"'{utc.replace(tzinfo=None).strftime(SQLITE_STORED)}'"
        super().__init__(literal_column(pg), literal_column(lite))


@compiles(Instant, "postgresql")
def _instant_pg(element: Instant, compiler: SQLCompiler, **kw: Any) -> str:
    pg, _lite = (compiler.process(c, **kw) for c in element.clauses)
    return pg


@compiles(Instant, "sqlite")
def _instant_sqlite(element: Instant, compiler: SQLCompiler, **kw: Any) -> str:
    _pg, lite = (compiler.process(c, **kw) for c in element.clauses)
    return lite


class PeriodIndex(FunctionElement[int]):
    """`PeriodIndex(ts, edges)`, `edges` ascending UTC instants: 0 before edges[0], i when
    edges[i-1] <= ts < edges[i], len(edges) from the last one on (PostgreSQL's width_bucket)."""

    type = Integer()
    inherit_cache = True
    name = "period_index"

    def __init__(self, ts: SqlValue, edges: Sequence[datetime]) -> None:
        if not edges or any(e.tzinfo is None for e in edges) or list(edges) != sorted(edges):
            raise ValueError("edges must be ascending, timezone-aware instants")
        utc = [e.astimezone(UTC) for e in edges]
        # Made here from datetimes (digits and separators only), so safe to quote as literals.
        pg = ", ".join(f"TIMESTAMPTZ '{e.isoformat()}'" for e in utc)
        lite = "|".join(e.replace(tzinfo=None).strftime(SQLITE_STORED) for e in utc)
        super().__init__(ts, literal_column(f"ARRAY[{pg}]"), literal_column(f"'{lite}'"))


@compiles(PeriodIndex, "postgresql")
def _index_pg(element: PeriodIndex, compiler: SQLCompiler, **kw: Any) -> str:
    ts, pg, _lite = (compiler.process(c, **kw) for c in element.clauses)
    return f"width_bucket({ts}, {pg})"


@compiles(PeriodIndex, "sqlite")
def _index_sqlite(element: PeriodIndex, compiler: SQLCompiler, **kw: Any) -> str:
    ts, _pg, lite = (compiler.process(c, **kw) for c in element.clauses)
    return f"ventanilla_bucket({ts}, {lite})"


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
    low, high, fraction = percentile_ranks(len(ordered), q)
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


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


@dataclass(frozen=True)
class LocalPeriods:
    starts: list[date]  # first local day of each period
    edges: list[datetime]  # UTC instants: starts' local midnights, then the end of the last

    def start_of(self, index: int) -> date | None:
        """The period a PeriodIndex value stands for (None: outside every period)."""
        return self.starts[index - 1] if 1 <= index <= len(self.starts) else None


def local_periods(first: date, last: date, grain: str, timezone: str) -> LocalPeriods:
    """The local weeks or months from the one holding `first` to the one holding `last`, and
    their boundaries as UTC instants (one more boundary than periods)."""
    starts = periods(first, last, grain)
    zone = ZoneInfo(timezone)
    days = [*starts, next_period(starts[-1], grain)]
    edges = [datetime.combine(d, time(), tzinfo=zone).astimezone(UTC) for d in days]
    return LocalPeriods(starts, edges)


@lru_cache(maxsize=64)
def _edges(joined: str) -> list[str]:
    return joined.split("|")


def _bucket_sql(stored: str | None, joined: str) -> int | None:
    if stored is None:
        return None
    return bisect_right(_edges(joined), stored)


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Add `ventanilla_percentile`, `ventanilla_bucket`, `ventanilla_local_day` and
    `ventanilla_log_bucket` to a SQLite connection: a plain sqlite3 connection, or
    SQLAlchemy's adapter around an aiosqlite one (whose sqlite3 connection may only be used
    from aiosqlite's own thread)."""

    def _register(conn: Any) -> None:
        conn.create_aggregate("ventanilla_percentile", 2, _PercentileAggregate)
        conn.create_function("ventanilla_bucket", 2, _bucket_sql, deterministic=True)
        conn.create_function("ventanilla_local_day", 2, _local_day_sql, deterministic=True)
        conn.create_function("ventanilla_log_bucket", 1, _log_bucket_sql, deterministic=True)

    if hasattr(dbapi_connection, "create_aggregate"):  # sqlite3.Connection
        _register(dbapi_connection)
        return
    from sqlalchemy.util import await_

    driver = dbapi_connection.driver_connection  # aiosqlite.Connection
    await_(driver._execute(_register, driver._conn))
