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
from casework.indicators.sql import PeriodIndex, local_periods
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
    # by_procedure with `halves`: ratings answered and 4-5 in the earlier and the later part
    earlier_answered: int = 0
    earlier_good: int = 0
    later_answered: int = 0
    later_good: int = 0

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
    spans = local_periods(scope.start, scope.end, grain, timezone)
    period = PeriodIndex(Rating.asked_at, spans.edges)
    rows = await session.execute(
        select(
            period.label("period"),
            func.count(Rating.score).label("answered"),
            func.count().filter(GOOD).label("good"),
        )
        .where(*rating_filters(scope, timezone))
        .group_by(period)
    )
    found = {spans.start_of(row.period): (int(row.answered), int(row.good)) for row in rows}
    return [RatingPoint(start, *found.get(start, (0, 0))) for start in spans.starts]


async def request_trend(
    session: AsyncSession, scope: Scope, timezone: str, grain: str
) -> list[RequestPoint]:
    """Requests opened (by created_at) and resolved (by resolved_at) per local week or month:
    one statement, the two grouped halves joined by UNION ALL."""
    low, high = scope.bounds(timezone)
    spans = local_periods(scope.start, scope.end, grain, timezone)
    opened_period = PeriodIndex(Request.created_at, spans.edges)
    resolved_period = PeriodIndex(Request.resolved_at, spans.edges)
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
    found = {spans.start_of(int(row[0])): (int(row[1]), int(row[2])) for row in rows}
    return [RequestPoint(start, *found.get(start, (0, 0))) for start in spans.starts]


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
    """Answered ratings and CSAT of every procedure with at least one answer (aggregated by
    procedure id first, names joined to the few grouped rows)."""
    grouped = (
        select(
            Rating.procedure_id.label("procedure_id"),
            func.count(Rating.score).label("answered"),
            func.count().filter(GOOD).label("good"),
        )
        .where(Rating.score.is_not(None), *rating_filters(scope, timezone))
        .group_by(Rating.procedure_id)
        .subquery()
    )
    rows = await session.execute(
        select(Procedure.id, Procedure.name, grouped.c.answered, grouped.c.good).join(
            grouped, grouped.c.procedure_id == Procedure.id
        )
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
    grouped = (
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
        select(Procedure.id, Procedure.name, grouped.c.with_due, grouped.c.on_time).join(
            grouped, grouped.c.procedure_id == Procedure.id
        )
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
    session: AsyncSession,
    scope: Scope,
    timezone: str,
    halves: tuple[date, date] | None = None,
) -> list[ProcedureFigures]:
    """Ratings and deadline compliance of every procedure that has either, by name: one
    statement joining two subqueries grouped by procedure to the catalogue. With `halves`
    (earlier_start, later_start), the ratings of [earlier_start, later_start) and of
    [later_start, scope.end] are counted too, in the same scan (for a trend)."""
    rating_columns = [
        Rating.procedure_id.label("procedure_id"),
        func.count(Rating.score).label("answered"),
        func.count().filter(GOOD).label("good"),
    ]
    if halves is not None:
        earlier_low, _ = Scope(halves[0], halves[0]).bounds(timezone)
        later_low, _ = Scope(halves[1], halves[1]).bounds(timezone)
        earlier = (Rating.asked_at >= earlier_low) & (Rating.asked_at < later_low)
        later = Rating.asked_at >= later_low
        rating_columns += [
            func.count().filter(earlier).label("earlier_answered"),
            func.count().filter(earlier & GOOD).label("earlier_good"),
            func.count().filter(later).label("later_answered"),
            func.count().filter(later & GOOD).label("later_good"),
        ]
    ratings = (
        select(*rating_columns)
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
    halves_columns = (
        [
            ratings.c.earlier_answered,
            ratings.c.earlier_good,
            ratings.c.later_answered,
            ratings.c.later_good,
        ]
        if halves is not None
        else []
    )
    rows = await session.execute(
        select(
            Procedure.id,
            Procedure.name,
            ratings.c.answered,
            ratings.c.good,
            compliance.c.with_due,
            compliance.c.on_time,
            *halves_columns,
        )
        .outerjoin(ratings, ratings.c.procedure_id == Procedure.id)
        .outerjoin(compliance, compliance.c.procedure_id == Procedure.id)
        .where((ratings.c.answered.is_not(None)) | (compliance.c.with_due.is_not(None)))
        .order_by(Procedure.name)
    )
    found = []
    for row in rows:
        counts = [int(v or 0) for v in row[2:]]
        found.append(ProcedureFigures(row.id, row.name, *counts))
    return found
