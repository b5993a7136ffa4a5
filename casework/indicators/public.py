"""What the public results page shows: per procedure satisfaction, how many ratings, deadline
compliance and the recent trend. Nothing personal is read: counts only.

Published figures cannot be differenced to learn what one person answered:

- Only closed months are published: a month once it has ended and no answer to its surveys
  can still arrive (`settle_days` later). A new rating never moves a published number; the
  figures change once a month, when the next month closes.
- A procedure's month counts only if it gathered at least `min_count` answers (ratings) or
  `min_count` requests resolved with a due date (compliance). Two publications a month apart
  differ by whole months of at least `min_count` people, never by a few.
- A figure resting on fewer than `min_count` answers is never published, only the fact that
  there were too few.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from casework.indicators.dashboard import ProcedureFigures, by_procedure
from casework.indicators.scope import Scope, last_months
from casework.indicators.service import share
from foundation.sql import next_period, periods

WINDOW_MONTHS = 12  # published: the last twelve closed months
TREND_MONTHS = 6  # compared as the last three closed months against the three before
TREND_STEP = 5.0  # CSAT points of difference that count as a change


def last_closed_day(today: date, settle_days: int) -> date:
    """The last day of the latest closed month: it has ended, and `settle_days` more have
    passed so that no late answer can still change it."""
    settled = today - timedelta(days=settle_days)
    return (settled + timedelta(days=1)).replace(day=1) - timedelta(days=1)


def next_closing(through: date, settle_days: int) -> date:
    """When the month after `through` (a month's last day) closes."""
    end = next_period(through + timedelta(days=1), "month") - timedelta(days=1)
    return end + timedelta(days=settle_days)


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
    start: date  # the first day of the first closed month published
    end: date  # the last day of the last closed month published
    trend_start: date
    next_update: date  # when the next month closes and the figures change
    rows: list[PublicRow]


async def public_results(
    session: AsyncSession, today: date, timezone: str, min_count: int, settle_days: int
) -> PublicResults:
    """The last twelve closed months by procedure, with the last six months' trend: one
    aggregate statement for the ratings and one for the requests, counted per month."""
    end = last_closed_day(today, settle_days)
    start, _ = last_months(end, WINDOW_MONTHS)
    months = periods(start, end, "month")
    figures = await by_procedure(session, Scope(start, end), timezone, months[1:])
    trend_from = len(months) - TREND_MONTHS
    later_from = len(months) - TREND_MONTHS // 2
    rows = []
    for figure in figures:
        rated = [p if p.answered >= min_count else None for p in figure.parts]
        whole = _ratings(rated)
        earlier = _ratings(rated[trend_from:later_from])
        later = _ratings(rated[later_from:])
        with_due = sum(p.with_due for p in figure.parts if p.with_due >= min_count)
        on_time = sum(p.on_time for p in figure.parts if p.with_due >= min_count)
        rows.append(
            PublicRow(
                procedure_id=figure.procedure_id,
                name=figure.name,
                ratings=whole.answered or None,
                csat=whole.csat,
                on_time_share=share(on_time, with_due) if with_due else None,
                trend=_direction(earlier.csat, later.csat),
                earlier=earlier.csat,
                later=later.csat,
            )
        )
    return PublicResults(start, end, months[trend_from], next_closing(end, settle_days), rows)


def _ratings(parts: list[ProcedureFigures | None]) -> ProcedureFigures:
    """The published months' ratings added up (a month with too few is None: left out)."""
    kept = [p for p in parts if p is not None]
    answered, good = sum(p.answered for p in kept), sum(p.good for p in kept)
    return ProcedureFigures("", "", answered, good)


def _direction(earlier: float | None, later: float | None) -> str | None:
    if earlier is None or later is None:
        return None
    if later - earlier >= TREND_STEP:
        return "up"
    if earlier - later >= TREND_STEP:
        return "down"
    return "flat"
