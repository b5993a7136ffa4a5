"""Agents see only their departments' requests and handoffs; administrators see all."""

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from backoffice.app import create_app
from casework.citizens.service import identity_for
from casework.conversations.service import conversation_for
from casework.handoffs.models import Handoff
from casework.handoffs.service import request_person
from casework.requests.service import NewRequest, open_request
from catalog.models import Procedure
from foundation.audit import AuditEntry
from foundation.db import Database
from foundation.settings import Settings
from tests.support import login


async def _open(db: Database, procedure_id: str, address: str) -> str:
    async with db.transaction() as session:
        procedure = await session.get(Procedure, procedure_id)
        assert procedure is not None
        identity = await identity_for(session, "web", address)
        request = await open_request(session, NewRequest(procedure, identity, None), "SMA")
        return request.folio


async def _handoff(db: Database, department_id: str | None, address: str) -> int:
    async with db.transaction() as session:
        identity = await identity_for(session, "web", address)
        conversation = await conversation_for(session, identity)
        handoff = await request_person(session, conversation, "ayuda", department_id)
        return handoff.id


@pytest.fixture
async def work(loaded_db: Database, staff_of_every_role: dict[str, str]) -> dict[str, object]:
    """A request and a handoff of Obras Públicas (the agent's), one of each of Servicios
    Públicos, and a handoff with no department."""
    return {
        "own_folio": await _open(loaded_db, "reporte-bache", "a"),  # obras-publicas
        "other_folio": await _open(loaded_db, "reporte-luminaria", "b"),  # servicios-publicos
        "own_handoff": await _handoff(loaded_db, "obras-publicas", "c"),
        "other_handoff": await _handoff(loaded_db, "servicios-publicos", "d"),
        "shared_handoff": await _handoff(loaded_db, None, "e"),
    }


@pytest.fixture
async def as_role(
    loaded_db: Database, settings: Settings, staff_of_every_role: dict[str, str]
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    app = create_app(settings, loaded_db, settings.web.secret_key)
    clients = {}
    for role in ("agent", "admin"):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        await login(client, staff_of_every_role[role])
        clients[role] = client
    yield clients
    for client in clients.values():
        await client.aclose()


async def test_the_request_queue_shows_only_the_agents_departments(
    work: dict[str, object], as_role: dict[str, httpx.AsyncClient]
) -> None:
    agent_page = (await as_role["agent"].get("/backoffice/solicitudes")).text
    assert work["own_folio"] in agent_page and work["other_folio"] not in agent_page
    admin_page = (await as_role["admin"].get("/backoffice/solicitudes")).text
    assert work["own_folio"] in admin_page and work["other_folio"] in admin_page


async def test_another_departments_request_answers_404(
    work: dict[str, object], as_role: dict[str, httpx.AsyncClient], loaded_db: Database
) -> None:
    agent = as_role["agent"]
    other = work["other_folio"]
    assert (await agent.get(f"/backoffice/solicitudes/{work['own_folio']}")).status_code == 200
    detail = await agent.get(f"/backoffice/solicitudes/{other}")
    assert detail.status_code == 404 and other not in detail.text
    change = await agent.post(
        f"/backoffice/solicitudes/{other}/estado", data={"status": "resolved"}
    )
    assert change.status_code == 404
    async with loaded_db.transaction() as session:
        assert await session.scalar(select(AuditEntry).where(AuditEntry.entity_id == other)) is None
    assert (await as_role["admin"].get(f"/backoffice/solicitudes/{other}")).status_code == 200


async def test_handoffs_are_filtered_and_guarded_the_same_way(
    work: dict[str, object], as_role: dict[str, httpx.AsyncClient], loaded_db: Database
) -> None:
    agent, admin = as_role["agent"], as_role["admin"]
    listing = (await agent.get("/backoffice/canalizaciones")).text
    assert f"Conversación {work['own_handoff']}<" in listing
    assert f"Conversación {work['shared_handoff']}<" in listing  # the shared front-desk queue
    assert f"Conversación {work['other_handoff']}<" not in listing
    other = work["other_handoff"]
    assert (await agent.get(f"/backoffice/canalizaciones/{other}")).status_code == 404
    reply = await agent.post(f"/backoffice/canalizaciones/{other}/responder", data={"text": "hola"})
    assert reply.status_code == 404
    assert (await agent.post(f"/backoffice/canalizaciones/{other}/cerrar")).status_code == 404
    async with loaded_db.transaction() as session:
        handoff = await session.get(Handoff, other)
        assert handoff is not None and handoff.status == "waiting"
    admin_listing = (await admin.get("/backoffice/canalizaciones")).text
    assert all(
        f"Conversación {work[k]}<" in admin_listing for k in ("own_handoff", "other_handoff")
    )


async def test_handoff_reply_and_close_are_audited_with_before_and_after(
    work: dict[str, object], as_role: dict[str, httpx.AsyncClient], loaded_db: Database
) -> None:
    agent = as_role["agent"]
    own = work["own_handoff"]
    await agent.post(f"/backoffice/canalizaciones/{own}/responder", data={"text": "Buen día"})
    await agent.post(f"/backoffice/canalizaciones/{own}/cerrar")
    async with loaded_db.transaction() as session:
        entries = list(
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity == "handoff", AuditEntry.entity_id == str(own))
                .order_by(AuditEntry.id)
            )
        )
    # The first reply takes the conversation: a claim, then the reply.
    assert [e.action for e in entries] == ["handoff.claim", "handoff.reply", "handoff.close"]
    claim, reply, close = entries
    assert claim.after == {"status": "active", "agent_id": claim.staff_user_id}
    assert reply.before == {"status": "waiting", "agent_id": None}
    assert reply.after is not None and reply.after["status"] == "active"
    assert reply.after["text"] == "Buen día" and reply.after["agent_id"] == reply.staff_user_id
    assert close.before is not None and close.before["status"] == "active"
    assert close.after is not None and close.after["status"] == "closed"
