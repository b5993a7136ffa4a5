"""What an indicator is measured over: a period of local days and optional filters."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select

from catalog.models import Procedure
from foundation.db import utcnow


@dataclass(frozen=True)
class Scope:
    start: date  # first local day (settings.timezone), inclusive
    end: date  # last local day, inclusive
    procedure_id: str | None = None
    department_id: str | None = None
    channel: str | None = None  # a channel's name (bot/channels/registry.py)

    def bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """UTC [start 00:00 local, (end + 1 day) 00:00 local)."""
        zone = ZoneInfo(timezone)
        low = datetime.combine(self.start, time(), tzinfo=zone)
        high = datetime.combine(self.end + timedelta(days=1), time(), tzinfo=zone)
        return low.astimezone(UTC), high.astimezone(UTC)


def scope_filters(
    scope: Scope,
    *,
    procedure: Any = None,
    department: Any = None,
    channel: Any = None,
    department_via_procedure: bool = False,
) -> list[ColumnElement[bool]]:
    """The scope's procedure, department and channel filters on the given columns; a filter
    whose column is not given is ignored (the period is each caller's own). With
    `department_via_procedure`, rows without a department column of their own belong to the
    department of their procedure (`procedure` is then required)."""
    found: list[ColumnElement[bool]] = []
    if scope.procedure_id is not None and procedure is not None:
        found.append(procedure == scope.procedure_id)
    if scope.department_id is not None:
        if department_via_procedure:
            if procedure is None:
                raise ValueError("department_via_procedure needs the procedure column")
            in_department = select(Procedure.id).where(
                Procedure.department_id == scope.department_id
            )
            found.append(procedure.in_(in_department))
        elif department is not None:
            found.append(department == scope.department_id)
    if scope.channel is not None and channel is not None:
        found.append(channel == scope.channel)
    return found


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
