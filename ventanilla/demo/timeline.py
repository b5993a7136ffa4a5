"""When things happen: hour-by-hour activity weights over the demo history, sorted random
times that follow them, and the office hours in which staff act.

Times are integers: microseconds since 2000-01-01 00:00 UTC, PostgreSQL's own epoch, so
millions of them stay in numpy arrays and reach the database without a datetime object each.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from foundation.calendar import LOCAL_TZ, due_at, is_business_day

PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
HOUR = 3_600_000_000  # microseconds
MINUTE = 60_000_000
DAY = 24 * HOUR

# Chat activity by local hour (people write in the evening too) and by weekday (Mon..Sun).
HOUR_WEIGHTS = (
    0.15, 0.08, 0.05, 0.04, 0.05, 0.12, 0.35, 0.75, 1.25, 1.65, 1.8, 1.8,
    1.7, 1.6, 1.5, 1.4, 1.3, 1.3, 1.35, 1.45, 1.45, 1.2, 0.8, 0.4,
)  # fmt: skip
WEEKDAY_WEIGHTS = (1.25, 1.15, 1.1, 1.05, 0.95, 0.6, 0.45)
OFFICE_HOURS = range(8, 16)  # local hours in which staff claim, resolve and close
FUTURE_DAYS = 450  # office hours are known this far past today (late resolutions, due dates)


def to_micros(moment: datetime) -> int:
    return (moment - PG_EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    return PG_EPOCH + timedelta(microseconds=value)


@dataclass
class Timeline:
    start: int  # microseconds, the first hour of the history
    now: int
    probability: np.ndarray  # share of activity in each past hour (sums to 1)
    cdf: np.ndarray  # len(probability) + 1 cumulative shares, from 0 to 1
    office: np.ndarray  # per hour, past and future: staff at work
    next_office: np.ndarray  # per hour: the first office hour at or after it

    @classmethod
    def build(cls, now: datetime, months: int) -> "Timeline":
        first = (now - timedelta(days=months * 30.4375)).replace(minute=0, second=0, microsecond=0)
        start, end = to_micros(first), to_micros(now)
        past = -(-(end - start) // HOUR)
        total = past + FUTURE_DAYS * 24
        weights = np.zeros(past)
        office = np.zeros(total, dtype=bool)
        business: dict[date, bool] = {}
        for index in range(total):
            local = (first + timedelta(hours=index)).astimezone(LOCAL_TZ)
            day = local.date()
            if day not in business:
                business[day] = is_business_day(day)
            office[index] = business[day] and local.hour in OFFICE_HOURS
            if index < past:
                trend = 0.55 + 0.9 * index / past  # the service grows as people learn of it
                season = 1.25 if local.month in (1, 2) else 1.0  # property tax season
                holiday = 1.0 if business[day] or local.weekday() >= 5 else 0.5
                weights[index] = (
                    HOUR_WEIGHTS[local.hour]
                    * WEEKDAY_WEIGHTS[local.weekday()]
                    * trend
                    * season
                    * holiday
                )
        weights[-1] *= ((end - start) % HOUR or HOUR) / HOUR  # the hour now running
        probability = weights / weights.sum()
        cdf = np.concatenate(([0.0], np.cumsum(probability)))
        cdf[-1] = 1.0
        next_office = np.full(total, total - 1, dtype=np.int64)
        upcoming = total - 1
        for index in range(total - 1, -1, -1):
            if office[index]:
                upcoming = index
            next_office[index] = upcoming
        return cls(start, end, probability, cdf, office, next_office)

    @property
    def hours(self) -> int:
        return len(self.probability)

    def sorted_times(
        self, rng: np.random.Generator, count: int, chunk: int, before: int | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """`count` random moments following the activity weights, oldest first, in pieces of
        about `chunk`: (microseconds, position 0-1 in the cumulative activity). `before`
        keeps them earlier than that moment."""
        probability = self.probability
        if before is not None:
            last = max(1, min(self.hours, -(-(before - self.start) // HOUR)))
            probability = probability[:last] / probability[:last].sum()
        per_hour = rng.multinomial(count, probability)
        limit = self.now if before is None else min(before, self.now)
        hour = 0
        while hour < len(per_hour):
            upto = min(len(per_hour), hour + 1 + int(np.searchsorted(
                np.cumsum(per_hour[hour:]), chunk)))  # fmt: skip
            hours = np.repeat(np.arange(hour, upto), per_hour[hour:upto])
            offsets = np.sort(hours + rng.random(len(hours)))
            moments = self.start + (offsets * HOUR).astype(np.int64)
            moments = np.minimum(moments, limit - 1)
            whole = offsets.astype(np.int64)
            position = self.cdf[whole] + (offsets - whole) * self.probability[whole]
            hour = upto
            if len(moments):
                yield moments, position

    def at_position(self, position: np.ndarray) -> np.ndarray:
        """The moment at which this share of all activity had happened (inverse of cdf)."""
        hour = np.clip(np.searchsorted(self.cdf, position, side="right") - 1, 0, self.hours - 1)
        within = (position - self.cdf[hour]) / self.probability[hour]
        return self.start + ((hour + np.clip(within, 0, 1)) * HOUR).astype(np.int64)

    def in_office(self, rng: np.random.Generator, moments: np.ndarray) -> np.ndarray:
        """Each moment, or if staff are not at work then, a moment early in the next office
        hour (what a person does on Monday morning with what arrived on Saturday)."""
        hour = np.clip((moments - self.start) // HOUR, 0, len(self.office) - 1)
        shifted = self.start + self.next_office[hour] * HOUR + (rng.random(len(moments)) * HOUR)
        return np.where(self.office[hour], moments, shifted.astype(np.int64))


_due_cache: dict[tuple[date, int], int] = {}


def due_micros(opened: int, business_days: int) -> int:
    """foundation.calendar.due_at, cached per local day (all requests of a day share it)."""
    moment = from_micros(opened)
    key = (moment.astimezone(LOCAL_TZ).date(), business_days)
    if key not in _due_cache:
        _due_cache[key] = to_micros(due_at(moment, business_days))
    return _due_cache[key]
