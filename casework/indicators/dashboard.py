"""The figures behind the evaluators' dashboard and the public results page.

Every function here runs ONE aggregate query (grouped by period or by procedure, never rows
loaded into Python); the lists they return have at most one item per period or procedure.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from casework.indicators.scope import Scope
from casework.indicators.service import rating_filters, request_filters, resolved_filters, share
from casework.indicators.sql import LocalPeriod, periods
from casework.ratings.models import Rating
from casework.requests.models import Request
from catalog.models import Procedure

GOOD = Rating.score >= 4  # what CSAT counts as satisfied


@dataclass(frozen=True)
class RatingPoint:
    period: date  # first local day of the week or month
    answered: int
    good: int  # scores 4 and 5

    @property
    def csat(self) -> float | None:
        return share(self.good, self.answered)


@dataclass(frozen=True)
class RequestPoint:
    period: date
    opened: int
    resolved: int


@dataclass(frozen=True)
class ProcedureFigures:
    procedure_id: str
    name: str
    answered: int = 0  # ratings answered
    good: int = 0  # of which 4 and 5
    with_due: int = 0  # requests resolved in the period that had a due date
    on_time: int = 0  # of which resolved by it

    @property
    def csat(self) -> float | None:
        return share(self.good, self.answered)

    @property
    def on_time_share(self) -> float | None:
        return share(self.on_time, self.with_due)


@dataclass(frozen=True)
class Ranking:
    rows: list[ProcedureFigures]  # the worst first, each resting on enough answers
    left_out: int  # procedures with some answers, but too few to rank


async def rating_trend(
    session: AsyncSession, scope: Scope, timezone: str, grain: str
) -> list[RatingPoint]:
    """Answered ratings and CSAT per local week or month, every period of the scope listed
    (empty ones with zeros). Periods are those of `asked_at`, like the other rating figures."""
    period = LocalPeriod(Rating.asked_at, grain, timezone)
    rows = await session.execute(
        select(
            period.label("period"),
            func.count(Rating.score).label("answered"),
            func.count().filter(GOOD).label("good"),
        )
        .where(*rating_filters(scope, timezone))
        .group_by(period)
    )
    found = {row.period: row for row in rows}
    return [
        RatingPoint(
            start,
            int(found[start].answered) if start in found else 0,
            int(found[start].good) if start in found else 0,
        )
        for start in periods(scope.start, scope.end, grain)
    ]


async def request_trend(
    session: AsyncSession, scope: Scope, timezone: str, grain: str
) -> list[RequestPoint]:
    """Requests opened (by created_at) and resolved (by resolved_at) per local week or month:
    one statement, the two grouped halves joined by UNION ALL."""
    low, high = scope.bounds(timezone)
    opened_period = LocalPeriod(Request.created_at, grain, timezone)
    resolved_period = LocalPeriod(Request.resolved_at, grain, timezone)
    opened = (
        select(
            opened_period.label("period"),
            func.count().label("opened"),
            literal(0).label("resolved"),
        )
        .where(Request.created_at >= low, Request.created_at < high, *request_filters(scope))
        .group_by(opened_period)
    )
    resolved = (
        select(
            resolved_period.label("period"),
            literal(0).label("opened"),
            func.count().label("resolved"),
        )
        .where(*resolved_filters(scope, timezone))
        .group_by(resolved_period)
    )
    both = union_all(opened, resolved).subquery()
    rows = await session.execute(
        select(
            both.c.period, func.sum(both.c.opened).label("opened"), func.sum(both.c.resolved)
        ).group_by(both.c.period)
    )
    found = {_day(row[0]): (int(row[1]), int(row[2])) for row in rows}
    return [
        RequestPoint(start, *found.get(start, (0, 0)))
        for start in periods(scope.start, scope.end, grain)
    ]


def _day(value: object) -> date:
    """A period from a subquery column: a date on PostgreSQL, ISO text on SQLite."""
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


async def score_distribution(session: AsyncSession, scope: Scope, timezone: str) -> dict[int, int]:
    """How many answered ratings gave each score, 1 to 5 (zeros included)."""
    rows = await session.execute(
        select(Rating.score, func.count())
        .where(Rating.score.is_not(None), *rating_filters(scope, timezone))
        .group_by(Rating.score)
    )
    found = {int(score): int(n) for score, n in rows}
    return {score: found.get(score, 0) for score in range(1, 6)}


async def procedure_ratings(
    session: AsyncSession, scope: Scope, timezone: str
) -> list[ProcedureFigures]:
    """Answered ratings and CSAT of every procedure with at least one answer."""
    rows = await session.execute(
        select(
            Procedure.id,
            Procedure.name,
            func.count(Rating.score).label("answered"),
            func.count().filter(GOOD).label("good"),
        )
        .join(Procedure, Procedure.id == Rating.procedure_id)
        .where(Rating.score.is_not(None), *rating_filters(scope, timezone))
        .group_by(Procedure.id, Procedure.name)
    )
    return [
        ProcedureFigures(row.id, row.name, answered=int(row.answered), good=int(row.good))
        for row in rows
    ]


async def procedure_compliance(
    session: AsyncSession, scope: Scope, timezone: str
) -> list[ProcedureFigures]:
    """Of the requests resolved in the period that had a due date, how many were resolved by
    it, per procedure."""
    rows = await session.execute(
        select(
            Procedure.id,
            Procedure.name,
            func.count().label("with_due"),
            func.count().filter(Request.resolved_at <= Request.due_at).label("on_time"),
        )
        .join(Procedure, Procedure.id == Request.procedure_id)
        .where(Request.due_at.is_not(None), *resolved_filters(scope, timezone))
        .group_by(Procedure.id, Procedure.name)
    )
    return [
        ProcedureFigures(row.id, row.name, with_due=int(row.with_due), on_time=int(row.on_time))
        for row in rows
    ]


async def lowest_csat(
    session: AsyncSession, scope: Scope, timezone: str, min_count: int, limit: int = 10
) -> Ranking:
    """The procedures with the lowest CSAT among those with at least `min_count` answers."""
    rows = await procedure_ratings(session, scope, timezone)
    enough = [row for row in rows if row.answered >= min_count]
    enough.sort(key=lambda row: (row.csat or 0.0, -row.answered, row.name))
    return Ranking(enough[:limit], len(rows) - len(enough))


async def worst_compliance(
    session: AsyncSession, scope: Scope, timezone: str, min_count: int, limit: int = 10
) -> Ranking:
    """The procedures with the lowest share of requests resolved on time, among those with at
    least `min_count` requests resolved (with a due date) in the period."""
    rows = await procedure_compliance(session, scope, timezone)
    enough = [row for row in rows if row.with_due >= min_count]
    enough.sort(key=lambda row: (row.on_time_share or 0.0, -row.with_due, row.name))
    return Ranking(enough[:limit], len(rows) - len(enough))


async def by_procedure(
    session: AsyncSession, scope: Scope, timezone: str
) -> list[ProcedureFigures]:
    """Ratings and deadline compliance of every procedure that has either, by name: one
    statement joining two grouped subqueries to the catalogue."""
    ratings = (
        select(
            Rating.procedure_id.label("procedure_id"),
            func.count(Rating.score).label("answered"),
            func.count().filter(GOOD).label("good"),
        )
        .where(Rating.score.is_not(None), *rating_filters(scope, timezone))
        .group_by(Rating.procedure_id)
        .subquery()
    )
    compliance = (
        select(
            Request.procedure_id.label("procedure_id"),
            func.count().label("with_due"),
            func.count().filter(Request.resolved_at <= Request.due_at).label("on_time"),
        )
        .where(Request.due_at.is_not(None), *resolved_filters(scope, timezone))
        .group_by(Request.procedure_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            Procedure.id,
            Procedure.name,
            ratings.c.answered,
            ratings.c.good,
            compliance.c.with_due,
            compliance.c.on_time,
        )
        .outerjoin(ratings, ratings.c.procedure_id == Procedure.id)
        .outerjoin(compliance, compliance.c.procedure_id == Procedure.id)
        .where((ratings.c.answered.is_not(None)) | (compliance.c.with_due.is_not(None)))
        .order_by(Procedure.name)
    )
    return [
        ProcedureFigures(
            row.id,
            row.name,
            int(row.answered or 0),
            int(row.good or 0),
            int(row.with_due or 0),
            int(row.on_time or 0),
        )
        for row in rows
    ]


async def monthly_ratings_by_procedure(
    session: AsyncSession, scope: Scope, timezone: str
) -> dict[str, dict[date, RatingPoint]]:
    """procedure id -> local month -> answered ratings and CSAT (months with answers only)."""
    month = LocalPeriod(Rating.asked_at, "month", timezone)
    rows = await session.execute(
        select(
            Rating.procedure_id,
            month.label("period"),
            func.count(Rating.score).label("answered"),
            func.count().filter(GOOD).label("good"),
        )
        .where(
            Rating.score.is_not(None),
            Rating.procedure_id.is_not(None),
            *rating_filters(scope, timezone),
        )
        .group_by(Rating.procedure_id, month)
    )
    found: dict[str, dict[date, RatingPoint]] = {}
    for row in rows:
        point = RatingPoint(_day(row.period), int(row.answered), int(row.good))
        found.setdefault(row.procedure_id, {})[point.period] = point
    return found
