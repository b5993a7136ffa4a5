"""One citizen across channels (linking by one-time code) and erasing personal data."""

import re

import httpx
from sqlalchemy import select

from bot.engine import Engine
from casework.citizens.models import Citizen
from casework.conversations.models import Message
from casework.ratings.models import Rating
from casework.requests.models import Request
from foundation import texts
from foundation.db import Database
from foundation.messages import Inbound
from tests.support import WebChat, folio_in, joined, login, valid_curp

CURP = valid_curp("LOMP800101MJCPRR0")


async def open_report(chat: WebChat, curp: str = CURP) -> str:
    await chat.say("la lampara de mi calle no prende")
    await chat.say("Sí, acepto")
    await chat.say("Lleva una semana apagada, la calle queda muy oscura.")
    await chat.say("Calle Allende 12, colonia La Loma")
    await chat.say(curp)
    return folio_in(joined(await chat.say("Sí, registrar")))


class TelegramChat:
    """A second chat of the same person, on another channel, straight through the engine."""

    def __init__(self, engine: Engine, db: Database) -> None:
        self.engine, self.db, self.n = engine, db, 0

    async def say(self, text: str) -> str:
        self.n += 1
        replies = await self.engine.handle(
            Inbound("telegram", "555001", text=text, external_id=f"u{self.n}")
        )
        return "\n".join(r.text for r in replies)


async def test_a_second_channel_sees_nothing_until_the_code_sent_to_the_first_is_typed(
    client: httpx.AsyncClient, engine: Engine, loaded_db: Database
) -> None:
    web = await WebChat.open(client)
    folio = await open_report(web)
    telegram = TelegramChat(engine, loaded_db)
    assert texts.t("status.none") in await telegram.say("mis solicitudes")

    await telegram.say("la lampara de la esquina no prende")
    await telegram.say("Sí, acepto")
    await telegram.say("Parpadea toda la noche y luego se apaga.")
    await telegram.say("Calle Allende esquina con Juárez")
    asked = await telegram.say(CURP)
    assert texts.t("link.asked") in asked and "chat web" not in asked
    assert texts.t("link.wrong") in await telegram.say("123456")  # a wrong code links nothing
    code = re.search(r"\b(\d{6})\b", joined(await web.inbox()))
    assert code, "the code reaches the chat already linked"
    assert texts.t("link.done") in await telegram.say(code.group(1))
    await telegram.say("Sí, registrar")
    listing = await telegram.say("mis solicitudes")
    assert folio in listing  # now the whole account is visible


async def test_registering_without_the_code_keeps_the_other_chats_requests_hidden(
    client: httpx.AsyncClient, engine: Engine, loaded_db: Database
) -> None:
    folio = await open_report(await WebChat.open(client))
    telegram = TelegramChat(engine, loaded_db)
    await telegram.say("la lampara de la esquina no prende")
    await telegram.say("Sí, acepto")
    await telegram.say("Parpadea toda la noche y luego se apaga.")
    await telegram.say("Calle Allende esquina con Juárez")
    await telegram.say(CURP)
    second = folio_in(await telegram.say("Sí, registrar"))  # no code typed
    listing = await telegram.say("mis solicitudes")
    assert second in listing and folio not in listing


async def test_erasing_my_data_removes_personal_data_and_keeps_the_score(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    chat = await WebChat.open(client)
    folio = await open_report(chat)
    await login(client)
    await client.post(f"/backoffice/solicitudes/{folio}/estado", data={"status": "resolved"})
    await chat.inbox()
    await chat.say("4")
    await chat.say("Me atendió Juan Pérez, muy amable")

    assert "¿Quieres que borremos" in joined(await chat.say("borra mis datos"))
    assert texts.t("erase.done") in joined(await chat.say("Sí, borrar mis datos"))

    async with loaded_db.transaction() as session:
        assert await session.scalar(select(Citizen).where(Citizen.curp == CURP)) is None
        request = await session.scalar(select(Request).where(Request.folio == folio))
        rating = await session.scalar(select(Rating))
        texts_kept = list(await session.scalars(select(Message.text)))
    assert request is not None and request.status == "resolved"  # the aggregate stays
    assert (request.description, request.location, request.citizen_id) == (
        "[eliminado]",
        None,
        None,
    )
    assert rating is not None and (rating.score, rating.comment) == (4, None)
    assert not any("Allende" in t or "Juan Pérez" in t for t in texts_kept)
    assert texts.t("status.none") in joined(await chat.say("mis solicitudes"))
    assert texts.t("data.none") in joined(await chat.say("mis datos"))
