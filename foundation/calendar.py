"""Business days and local time for deadlines (Mexico's official holidays)."""

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LOCAL_TZ = ZoneInfo("America/Mexico_City")


@lru_cache(maxsize=4)
def _mexican_holidays(years: tuple[int, ...]) -> holidays.HolidayBase:
    return holidays.country_holidays("MX", years=years)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _mexican_holidays(
        (day.year - 1, day.year, day.year + 1)
    )


def add_business_days(start: date, days: int) -> date:
    """The date `days` business days after `start` (start itself never counts)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current


def due_at(opened_at: datetime, business_days: int) -> datetime:
    """The end of the local business day on which a response is due, in UTC."""
    local_day = opened_at.astimezone(LOCAL_TZ).date()
    due_day = add_business_days(local_day, business_days)
    return datetime.combine(due_day, time(23, 59, 59), LOCAL_TZ).astimezone(ZoneInfo("UTC"))


def local_midnight(day: date) -> datetime:
    """The start of a local calendar day, in UTC (for date filters)."""
    return datetime.combine(day, time(0, 0), LOCAL_TZ).astimezone(ZoneInfo("UTC"))


def local(dt: datetime) -> datetime:
    return dt.astimezone(LOCAL_TZ)


def format_local(dt: datetime | None, with_time: bool = True) -> str:
    if dt is None:
        return ""
    value = local(dt)
    return value.strftime("%d/%m/%Y %H:%M") if with_time else value.strftime("%d/%m/%Y")
