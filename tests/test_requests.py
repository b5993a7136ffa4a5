"""Folios, deadlines in business days, and status changes reaching the citizen."""

import asyncio
from datetime import UTC, date, datetime

from sqlalchemy import select

from casework.citizens.service import identity_for
from casework.outbox.models import OutboxMessage
from casework.requests.service import NewRequest, change_status, open_request
from casework.staff.models import StaffUser
from catalog.models import Procedure
from foundation.calendar import add_business_days, due_at, local
from foundation.db import Database


async def _open(db: Database, prefix: str = "SMA", address: str = "a") -> str:
    async with db.transaction() as session:
        procedure = await session.get(Procedure, "reporte-bache")
        identity = await identity_for(session, "web", address)
        assert procedure is not None
        request = await open_request(session, NewRequest(procedure, identity, None), prefix)
        return request.folio


async def test_folios_count_up_per_year_with_the_configured_prefix(loaded_db: Database) -> None:
    year = datetime.now(UTC).year
    assert await _open(loaded_db) == f"SMA-{year}-000001"
    assert await _open(loaded_db, prefix="TLQ") == f"TLQ-{year}-000002"


async def test_concurrent_requests_never_share_a_folio(loaded_db: Database) -> None:
    folios = await asyncio.gather(*(_open(loaded_db, address=f"c{i}") for i in range(12)))
    assert len(set(folios)) == 12


def test_business_days_skip_weekends_and_mexican_holidays() -> None:
    # Friday 13 Nov 2026 + 1 business day: Monday 16 Nov is the Revolution holiday.
    assert add_business_days(date(2026, 11, 13), 1) == date(2026, 11, 17)
    # 24 Dec 2026 (Thursday) + 1: 25 Dec is a holiday, then the weekend.
    assert add_business_days(date(2026, 12, 24), 1) == date(2026, 12, 28)
    # 1 Jan 2027 holiday, Constitution day Monday 1 Feb 2027.
    assert add_business_days(date(2027, 1, 29), 1) == date(2027, 2, 2)


def test_due_date_is_the_end_of_the_local_business_day() -> None:
    # 20:30 on Friday in Mexico City is already Saturday in UTC; the count starts from Friday.
    opened = datetime(2026, 11, 21, 2, 30, tzinfo=UTC)  # Fri 20 Nov 20:30 local
    due = local(due_at(opened, 2))
    assert (due.date(), due.hour, due.minute) == (date(2026, 11, 24), 23, 59)


async def test_internal_notes_are_never_sent_to_the_citizen(loaded_db: Database) -> None:
    folio = await _open(loaded_db)
    async with loaded_db.transaction() as session:
        from casework.requests.service import get_by_folio

        request = await get_by_folio(session, folio)
        staff = StaffUser(username="x", role="agent", password_hash="-")
        session.add(staff)
        await session.flush()
        assert request is not None
        await change_status(session, request, staff, "in_progress", "Falta cuadrilla", public=False)
        texts_sent = list(await session.scalars(select(OutboxMessage.text)))
    assert not any("Falta cuadrilla" in t for t in texts_sent)
    assert texts_sent == []


async def test_reopening_a_resolved_request_counts_it_and_restarts_the_clock(
    loaded_db: Database,
) -> None:
    folio = await _open(loaded_db)
    async with loaded_db.transaction() as session:
        from casework.requests.service import get_by_folio

        request = await get_by_folio(session, folio)
        staff = StaffUser(username="y", role="agent", password_hash="-")
        session.add(staff)
        await session.flush()
        assert request is not None
        await change_status(session, request, staff, "resolved", public=False)
        assert request.resolved_at is not None and request.reopened == 0
        await change_status(session, request, staff, "in_progress", "Sigue el bache", public=False)
        assert request.resolved_at is None and request.reopened == 1
        await change_status(session, request, staff, "resolved", public=False)
        assert request.resolved_at is not None and request.reopened == 1
