"""The figures behind the evaluators' dashboard and the public results page.

Every figure is aggregated in the database (grouped by period, day or procedure, never rows
loaded into Python). Rating figures read the daily rollup `rating_days` for settled days and
`ratings` for the last ones (casework.indicators.rollups), then fold the per-day or
per-procedure counts here; request figures are one grouped query each.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from casework.indicators.rollups import RatingTally, midnight, rating_tallies
from casework.indicators.scope import Scope
from casework.indicators.service import request_filters, resolved_filters, share
from casework.requests.models import Request
from catalog.models import Procedure
from foundation.sql import (
    PeriodIndex,
    SqlValue,
    local_periods,
    period_start,
    periods,
)


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
    # by_procedure with `spans`: the same four counts in each part of the scope
    parts: tuple["ProcedureFigures", ...] = ()

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
    (empty ones with zeros). Periods are those of `asked_at`, like the other rating figures.
    Counted per local day (settled days from the rollup, the last ones from `ratings`) and
    folded into periods here."""
    starts = periods(scope.start, scope.end, grain)
    found = {start: [0, 0] for start in starts}
    for (day,), tally in (await rating_tallies(session, scope, timezone, ("day",))).items():
        point = found[period_start(day, grain)]
        point[0] += tally.answered
        point[1] += tally.good
    return [RatingPoint(start, *found[start]) for start in starts]


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
    tally = (await rating_tallies(session, scope, timezone)).get((), RatingTally())
    return dict(tally.scores)


def _figures(procedure_id: str, name: str, counts: list[int]) -> ProcedureFigures:
    """A procedure's figures from its four counts: answered, good, with_due, on_time."""
    answered, good, with_due, on_time = counts
    return ProcedureFigures(procedure_id, name, answered, good, with_due, on_time)


async def _procedure_names(session: AsyncSession) -> list[tuple[str, str]]:
    """Every procedure's id and name, ordered by name as the database sorts them."""
    rows = await session.execute(select(Procedure.id, Procedure.name).order_by(Procedure.name))
    return [(row.id, row.name) for row in rows]


async def procedure_ratings(
    session: AsyncSession, scope: Scope, timezone: str
) -> list[ProcedureFigures]:
    """Answered ratings and CSAT of every procedure (of the catalogue) with at least one
    answer, by name (counted per procedure: settled days from the rollup)."""
    tallies = await rating_tallies(session, scope, timezone, ("procedure_id",))
    found = []
    for procedure_id, name in await _procedure_names(session):
        tally = tallies.get((procedure_id,))
        if tally is not None and tally.answered:
            found.append(
                ProcedureFigures(procedure_id, name, answered=tally.answered, good=tally.good)
            )
    return found


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
    session: AsyncSession, scope: Scope, timezone: str, spans: Sequence[date] = ()
) -> list[ProcedureFigures]:
    """Ratings and deadline compliance of every procedure that has either, by name: one query
    for the ratings (settled days from the rollup), one for the requests. With `spans`
    (ascending local days inside the scope), the counts of each part of the scope they cut it
    in are in `parts` too: [scope.start, spans[0]), [spans[0], spans[1]), ... [spans[-1], end].
    """
    width = len(spans) + 1
    counts: dict[str, list[list[int]]] = {}  # procedure -> part -> the four counts

    def cell(procedure_id: str, part: int) -> list[int]:
        return counts.setdefault(procedure_id, [[0] * 4 for _ in range(width)])[part]

    by = ("procedure_id", "span") if spans else ("procedure_id",)
    for key, tally in (await rating_tallies(session, scope, timezone, by, spans)).items():
        if key[0] is not None and tally.answered:
            found = cell(key[0], key[1] if spans else 0)
            found[0] += tally.answered
            found[1] += tally.good
    keys: list[SqlValue] = [Request.procedure_id]
    if spans:
        keys.append(PeriodIndex(Request.resolved_at, [midnight(d, timezone) for d in spans]))
    resolved = await session.execute(
        select(
            func.count(),
            func.count().filter(Request.resolved_at <= Request.due_at),
            *keys,
        )
        .where(Request.due_at.is_not(None), *resolved_filters(scope, timezone))
        .group_by(*keys)
    )
    for with_due, on_time, procedure_id, *index in resolved:
        found = cell(procedure_id, int(index[0]) if spans else 0)
        found[2] += int(with_due)
        found[3] += int(on_time)
    figures = []
    for procedure_id, name in await _procedure_names(session):
        if procedure_id not in counts:
            continue
        parts = tuple(_figures(procedure_id, name, c) for c in counts[procedure_id])
        totals = [sum(c) for c in zip(*counts[procedure_id], strict=True)]
        whole = _figures(procedure_id, name, totals)
        figures.append(replace(whole, parts=parts) if spans else whole)
    return figures
