"""The staff request queue: filters, overdue requests, assignment and the timeline."""

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from casework.citizens.service import identity_for
from casework.requests.models import Request
from casework.requests.service import NewRequest, QueueFilter, list_requests, open_request
from casework.staff.accounts import create_user
from casework.staff.models import StaffUser
from catalog.models import Procedure
from foundation.audit import AuditEntry
from foundation.db import Database
from tests.support import STAFF_PASSWORD, login


async def _open(
    db: Database, procedure_id: str, address: str, opened: datetime | None = None
) -> str:
    async with db.transaction() as session:
        procedure = await session.get(Procedure, procedure_id)
        assert procedure is not None
        identity = await identity_for(session, "web", address)
        request = await open_request(session, NewRequest(procedure, identity, None), "SMA")
        if opened is not None:  # back-date it, with its due date in the past
            request.created_at = opened
            request.due_at = opened + timedelta(days=2)
        return request.folio


async def _folios(db: Database, filters: QueueFilter) -> list[str]:
    async with db.transaction() as session:
        return [r.folio for r in await list_requests(session, filters)]


async def test_filters_by_status_procedure_department_dates_and_overdue(
    loaded_db: Database,
) -> None:
    old = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    late = await _open(loaded_db, "reporte-bache", "a", opened=old)
    lamp = await _open(loaded_db, "reporte-luminaria", "b")
    pothole = await _open(loaded_db, "reporte-bache", "c")

    # The overdue one first: the queue is sorted by due date.
    everything = await _folios(loaded_db, QueueFilter())
    assert everything[0] == late and set(everything) == {late, lamp, pothole}
    assert await _folios(loaded_db, QueueFilter(procedure_id="reporte-bache")) == [late, pothole]
    assert await _folios(loaded_db, QueueFilter(department_ids=("servicios-publicos",))) == [lamp]
    assert await _folios(loaded_db, QueueFilter(overdue_only=True)) == [late]
    march = QueueFilter(opened_from=old.date(), opened_to=old.date())
    assert await _folios(loaded_db, march) == [late]
    assert await _folios(loaded_db, QueueFilter(status="resolved")) == []


async def test_the_queue_is_sorted_by_due_date_and_overdue_requests_stand_out(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    recent = await _open(loaded_db, "reporte-bache", "a")
    late = await _open(loaded_db, "reporte-bache", "b", opened=datetime(2026, 3, 2, tzinfo=UTC))
    await login(client)
    page = (await client.get("/backoffice/solicitudes")).text
    assert page.index(late) < page.index(recent)
    late_row = page[page.index(late) : page.index(recent)]
    assert "Vencida" in late_row
    overdue_only = (await client.get("/backoffice/solicitudes?vencidas=true")).text
    assert late in overdue_only and recent not in overdue_only
    garbled = await client.get("/backoffice/solicitudes?desde=ayer&hasta=2026-13-45")
    assert garbled.status_code == 200 and recent in garbled.text  # bad dates filter nothing


async def test_assign_to_me_or_a_colleague_shows_in_the_timeline_and_audit(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    folio = await _open(loaded_db, "reporte-bache", "a")
    async with loaded_db.transaction() as session:
        colleague = await create_user(
            session, "laura", STAFF_PASSWORD, "agent", "Laura Pérez", ["obras-publicas"]
        )
        elsewhere = await create_user(
            session, "beto", STAFF_PASSWORD, "agent", "Beto", ["servicios-publicos"]
        )
        evaluator = await create_user(session, "eva", STAFF_PASSWORD, "evaluator", "Eva")
        me = await session.scalar(select(StaffUser).where(StaffUser.username == "agente"))
    assert me is not None
    await login(client)

    mine = await client.post(f"/backoffice/solicitudes/{folio}/asignar", data={"assignee": me.id})
    assert mine.status_code == 303
    assert folio in (await client.get("/backoffice/solicitudes?mias=true")).text
    given = await client.post(
        f"/backoffice/solicitudes/{folio}/asignar", data={"assignee": colleague.id}
    )
    assert given.status_code == 303
    for cannot in (evaluator, elsewhere):  # not an agent; an agent of another area
        refused = await client.post(
            f"/backoffice/solicitudes/{folio}/asignar", data={"assignee": cannot.id}
        )
        assert refused.status_code == 422
    assert folio not in (await client.get("/backoffice/solicitudes?mias=true")).text

    detail = (await client.get(f"/backoffice/solicitudes/{folio}")).text
    assert "asignó la solicitud a Laura Pérez" in detail
    assert "asignó la solicitud a Agente de prueba" in detail
    async with loaded_db.transaction() as session:
        request = await session.scalar(select(Request).where(Request.folio == folio))
        entries = list(
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "request.assign")
                .order_by(AuditEntry.id)
            )
        )
    assert request is not None and request.assigned_to_id == colleague.id
    assert [(e.before, e.after) for e in entries] == [
        ({"assigned_to": None}, {"assigned_to": "agente"}),
        ({"assigned_to": "agente"}, {"assigned_to": "laura"}),
    ]
