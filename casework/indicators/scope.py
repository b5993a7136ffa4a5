"""What an indicator is measured over: a period of local days and optional filters."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from casework.db import utcnow

CHANNELS = ("telegram", "whatsapp", "web", "terminal")


@dataclass(frozen=True)
class Scope:
    start: date  # first local day (settings.timezone), inclusive
    end: date  # last local day, inclusive
    procedure_id: str | None = None
    department_id: str | None = None
    channel: str | None = None  # "telegram" | "whatsapp" | "web" | "terminal"

    def bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """UTC [start 00:00 local, (end + 1 day) 00:00 local)."""
        zone = ZoneInfo(timezone)
        low = datetime.combine(self.start, time(), tzinfo=zone)
        high = datetime.combine(self.end + timedelta(days=1), time(), tzinfo=zone)
        return low.astimezone(UTC), high.astimezone(UTC)


def local_today(timezone: str, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(timezone)).date()


def last_months(today: date, months: int = 12) -> tuple[date, date]:
    """From the first day of the month `months - 1` months before `today`'s, to `today`:
    `months` calendar months, the current one included."""
    year, month = today.year, today.month - (months - 1)
    while month < 1:
        month += 12
        year -= 1
    return date(year, month, 1), today
