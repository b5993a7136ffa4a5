"""Reaching a person: office hours, place in the queue, claiming, canned answers."""

import asyncio
import json
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from casework.handoffs.canned import canned_answers, expand
from casework.handoffs.models import Handoff
from casework.handoffs.service import HandoffError, claim
from casework.hours import parse_hours
from casework.staff.accounts import create_user
from casework.staff.models import StaffUser
from foundation import texts
from foundation.audit import AuditEntry
from foundation.calendar import LOCAL_TZ
from foundation.db import Database
from foundation.settings import Settings, WebSettings
from tests.support import STAFF_PASSWORD, WebChat, joined, login

DAY_NAMES = ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo")


def at(text: str) -> datetime:
    """A local Mexico City time, e.g. '2026-09-16 10:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ).astimezone(UTC)


def test_office_hours_are_read_from_catalogue_text() -> None:
    hours = parse_hours("Cajas de lunes a viernes de 8:00 a 16:00 h y sábados de 9:00 a 13:00 h")
    assert hours is not None
    assert hours.is_open(at("2026-11-24 08:00"))  # Tuesday, opening minute
    assert not hours.is_open(at("2026-11-24 16:00"))  # closing time is closed
    assert hours.is_open(at("2026-11-28 12:59"))  # Saturday
    assert not hours.is_open(at("2026-11-29 10:00"))  # Sunday
    assert not hours.is_open(at("2026-09-16 10:00"))  # Independence Day, a Wednesday


def test_only_the_office_part_of_the_hours_counts() -> None:
    hours = parse_hours("Lunes a viernes de 8:30 a 15:00 h; emergencias las 24 horas al 911")
    assert hours is not None
    assert not hours.is_open(at("2026-11-24 08:15"))
    assert hours.is_open(at("2026-11-24 14:59"))
    assert not hours.is_open(at("2026-11-24 22:00"))


@pytest.mark.parametrize("text", ["", "Con cita previa", "las 24 horas"])
def test_unreadable_hours_are_unknown_not_closed(text: str) -> None:
    assert parse_hours(text) is None


def test_canned_answers_expand_by_code() -> None:
    answers = {"horario": "Abrimos de 8 a 15 h."}
    assert expand("/horario", answers) == "Abrimos de 8 a 15 h."
    assert expand("/HORARIO y gracias", answers) == "Abrimos de 8 a 15 h. y gracias"
    assert expand("/nada", answers) == "/nada"  # unknown code: sent as typed
    assert expand("sin código", answers) == "sin código"
    assert "horario" in canned_answers()  # the shipped file parses


async def test_each_citizen_is_told_their_place_in_the_queue(client: httpx.AsyncClient) -> None:
    first, second = await WebChat.open(client), await WebChat.open(client)
    assert texts.t("handoff.place", place=1) in joined(await first.say("quiero un asesor"))
    assert texts.t("handoff.place", place=2) in joined(await second.say("quiero un asesor"))


class TestAfterHours:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        """A desk that only works on a day three days from now: closed whenever tests run."""
        day = DAY_NAMES[(datetime.now(LOCAL_TZ).weekday() + 3) % 7]
        return Settings(
            database_url=database_url,
            desk_hours=f"{day}s de 9:00 a 14:00 h",
            web=WebSettings(secret_key="test-secret"),
            _env_file=None,
        )

    async def test_outside_hours_the_citizen_may_leave_a_request_or_wait(
        self, client: httpx.AsyncClient, loaded_db: Database, settings: Settings
    ) -> None:
        chat = await WebChat.open(client)
        replies = await chat.say("quiero hablar con una persona")
        assert texts.t("handoff.after_hours", hours=settings.desk_hours) in joined(replies)
        values = [choice["value"] for choice in replies[-1]["choices"]]
        assert values == ["menu:open", "menu:person_wait"]
        async with loaded_db.transaction() as session:
            assert list(await session.scalars(select(Handoff))) == []  # nobody queued yet

        waiting = joined(await chat.say(texts.t("handoff.wait")))
        assert texts.t("handoff.place", place=1) in waiting
        async with loaded_db.transaction() as session:
            assert [h.status for h in await session.scalars(select(Handoff))] == ["waiting"]

    async def test_leaving_a_request_instead_starts_one(self, client: httpx.AsyncClient) -> None:
        chat = await WebChat.open(client)
        await chat.say("quiero hablar con una persona")
        await chat.say("1")  # "Dejar una solicitud": consent comes first
        assert texts.t("request.which") in joined(await chat.say("sí"))


async def _handoff_for(client: httpx.AsyncClient, db: Database) -> int:
    chat = await WebChat.open(client)
    await chat.say("quiero hablar con un asesor")
    async with db.transaction() as session:
        return max(await session.scalars(select(Handoff.id)))


async def test_a_second_agent_cannot_take_a_claimed_conversation(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    async with loaded_db.transaction() as session:
        await create_user(session, "agente2", STAFF_PASSWORD, "agent", "Otra agente")
    handoff_id = await _handoff_for(client, loaded_db)
    await login(client, "agente")
    taken = await client.post(f"/backoffice/canalizaciones/{handoff_id}/tomar")
    assert taken.status_code == 303
    await login(client, "agente2")
    refused = await client.post(f"/backoffice/canalizaciones/{handoff_id}/tomar")
    assert refused.status_code == 409 and "otra persona ya atiende" in refused.text
    reply = await client.post(
        f"/backoffice/canalizaciones/{handoff_id}/responder", data={"text": "hola"}
    )
    assert reply.status_code == 409
    async with loaded_db.transaction() as session:
        handoff = await session.get(Handoff, handoff_id)
        first = await session.scalar(select(StaffUser).where(StaffUser.username == "agente"))
        claims = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "handoff.claim"))
        )
    assert handoff is not None and first is not None and handoff.agent_id == first.id
    assert [c.staff_user_id for c in claims] == [first.id]


async def test_concurrent_claims_have_exactly_one_winner(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    async with loaded_db.transaction() as session:
        agents = [
            await create_user(session, f"agente{n}", STAFF_PASSWORD, "agent") for n in range(8)
        ]
    handoff_id = await _handoff_for(client, loaded_db)
    start = asyncio.Event()

    async def try_claim(agent: StaffUser) -> bool:
        await start.wait()
        try:
            async with loaded_db.transaction() as session:
                handoff = await session.get(Handoff, handoff_id)
                assert handoff is not None
                await claim(session, handoff, agent)
            return True
        except HandoffError:
            return False

    attempts = [asyncio.create_task(try_claim(agent)) for agent in agents]
    start.set()
    results = await asyncio.gather(*attempts)
    assert results.count(True) == 1
    async with loaded_db.transaction() as session:
        handoff = await session.get(Handoff, handoff_id)
    assert handoff is not None and handoff.status == "active"
    assert handoff.agent_id == agents[results.index(True)].id


async def test_a_canned_code_reaches_the_citizen_as_its_text(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    chat = await WebChat.open(client)
    await chat.say("quiero hablar con un asesor")
    async with loaded_db.transaction() as session:
        handoff_id = max(await session.scalars(select(Handoff.id)))
    await login(client)
    page = await client.get(f"/backoffice/canalizaciones/{handoff_id}")
    assert "/horario" in page.text and "Tomar esta conversación" in page.text
    sent = await client.post(
        f"/backoffice/canalizaciones/{handoff_id}/responder", data={"text": "/horario"}
    )
    assert sent.status_code == 303
    assert canned_answers()["horario"] in joined(await chat.inbox())


async def test_the_inbox_stream_lists_waiting_conversations(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    chat = await WebChat.open(client)
    await chat.say("quiero hablar con un asesor")
    await login(client)
    response = await client.get("/backoffice/canalizaciones/eventos")
    assert response.headers["content-type"].startswith("text/event-stream")
    event = next(block for block in response.text.split("\n\n") if "event: inbox" in block)
    fields = dict(line.split(": ", 1) for line in event.strip().splitlines() if ": " in line)
    data = json.loads(fields["data"])
    assert [(row["status"], row["reason"], row["channel"]) for row in data] == [
        ("waiting", "quiero hablar con un asesor", "web")
    ]
