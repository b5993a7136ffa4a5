"""What the public results page shows: per procedure satisfaction, how many ratings, deadline
compliance and the recent trend. A figure resting on fewer than `min_count` answers is never
published, only the fact that there were too few. Nothing personal is read: counts only."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from casework.indicators.dashboard import by_procedure
from casework.indicators.scope import Scope, last_months
from casework.indicators.service import share

TREND_MONTHS = 6  # compared as the last three months against the three before
TREND_STEP = 5.0  # CSAT points of difference that count as a change


@dataclass(frozen=True)
class PublicRow:
    procedure_id: str
    name: str
    ratings: int | None  # None: fewer than min_count, not shown
    csat: float | None  # None: suppressed (or nothing to measure)
    on_time_share: float | None  # None: fewer than min_count requests resolved with a due date
    trend: str | None  # "up" | "down" | "flat", None when either half has too few ratings
    earlier: float | None  # CSAT of the earlier three months, when publishable
    later: float | None  # CSAT of the later three months, when publishable


@dataclass(frozen=True)
class PublicResults:
    start: date
    end: date
    trend_start: date
    rows: list[PublicRow]


async def public_results(
    session: AsyncSession, today: date, timezone: str, min_count: int
) -> PublicResults:
    """The last twelve months (the current one included) by procedure, with the last six
    months' trend: one aggregate statement."""
    start, end = last_months(today, 12)
    trend_start, _ = last_months(today, TREND_MONTHS)
    later_start, _ = last_months(today, TREND_MONTHS // 2)
    figures = await by_procedure(session, Scope(start, end), timezone, (trend_start, later_start))
    rows = []
    for row in figures:
        earlier = share(row.earlier_good, row.earlier_answered)
        later = share(row.later_good, row.later_answered)
        earlier = earlier if row.earlier_answered >= min_count else None
        later = later if row.later_answered >= min_count else None
        enough = row.answered >= min_count
        rows.append(
            PublicRow(
                procedure_id=row.procedure_id,
                name=row.name,
                ratings=row.answered if enough else None,
                csat=row.csat if enough else None,
                on_time_share=row.on_time_share if row.with_due >= min_count else None,
                trend=_direction(earlier, later),
                earlier=earlier,
                later=later,
            )
        )
    return PublicResults(start, end, trend_start, rows)


def _direction(earlier: float | None, later: float | None) -> str | None:
    if earlier is None or later is None:
        return None
    if later - earlier >= TREND_STEP:
        return "up"
    if earlier - later >= TREND_STEP:
        return "down"
    return "flat"
