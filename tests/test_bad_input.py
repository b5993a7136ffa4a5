"""Odd and wrong input gets a polite Spanish answer, and nothing is lost or duplicated."""

import httpx
import pytest
from sqlalchemy import func, select

from bot.engine import Engine
from casework.conversations.models import Message
from casework.requests.models import Request
from foundation import texts
from foundation.db import Database
from foundation.messages import Inbound
from tests.support import WebChat, break_conversation, folio_in, joined, valid_curp

GOOD_CURP = valid_curp("HEGA900415HGTRRN0")


async def _at_curp_step(chat: WebChat) -> None:
    await chat.say("quiero reportar una luminaria apagada")
    await chat.say("Sí, acepto")
    await chat.say("La lámpara del poste lleva una semana sin prender.")
    replies = await chat.say("Calle Allende 12, colonia La Loma")
    assert "CURP" in joined(replies)


def _with_check_digit(first17: str, wrong: bool = False) -> str:
    curp = valid_curp(first17)
    return curp[:-1] + str((int(curp[-1]) + 1) % 10) if wrong else curp


@pytest.mark.parametrize(
    ("bad_curp", "explanation"),
    [
        (_with_check_digit("HEGA900415HGTRRN0", wrong=True), "dígito verificador"),
        (_with_check_digit("HEGA901315HGTRRN0"), "fecha de nacimiento"),  # month 13
        (_with_check_digit("HEGA900230HGTRRN0"), "fecha de nacimiento"),  # 30 February
        ("HEGA900415", "18 caracteres"),
        ("1234567890ABCDEFGH", "formato"),
    ],
)
async def test_invalid_curp_is_explained_and_the_flow_continues(
    client: httpx.AsyncClient, bad_curp: str, explanation: str
) -> None:
    chat = await WebChat.open(client)
    await _at_curp_step(chat)
    refused = joined(await chat.say(bad_curp))
    assert explanation in refused
    assert "escríbela de nuevo" in refused
    confirm = joined(await chat.say(GOOD_CURP))
    assert "¿La registro?" in confirm
    folio_in(joined(await chat.say("Sí, registrar")))


async def test_empty_message_gets_a_hint_and_keeps_the_flow(client: httpx.AsyncClient) -> None:
    chat = await WebChat.open(client)
    await _at_curp_step(chat)
    assert joined(await chat.say("   ")) == texts.t("input.empty")
    assert "¿La registro?" in joined(await chat.say(GOOD_CURP))


async def test_a_5000_character_message_is_answered_and_kept_whole(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    chat = await WebChat.open(client)
    await chat.say("hola")
    long_text = ("Quiero saber sobre el predial " * 200)[:5000]
    reply = joined(await chat.say(long_text))
    assert "5000 caracteres" in reply
    async with loaded_db.transaction() as session:
        stored = await session.scalar(select(Message.text).where(func.length(Message.text) == 5000))
    assert stored == long_text


async def test_a_5000_character_description_is_asked_to_be_shorter(
    client: httpx.AsyncClient,
) -> None:
    chat = await WebChat.open(client)
    await chat.say("quiero reportar una luminaria apagada")
    await chat.say("Sí, acepto")
    assert "máximo 2000 caracteres" in joined(await chat.say("x" * 5000))
    assert "¿Dónde está?" in joined(await chat.say("La lámpara de la esquina no prende."))


async def test_emoji_and_gibberish_get_the_menu(client: httpx.AsyncClient) -> None:
    chat = await WebChat.open(client)
    await chat.say("hola")
    for odd in ("👍🙏😀", "asdkjh qwe zzz"):
        replies = await chat.say(odd)
        assert replies[-1]["choices"], f"no menu after {odd!r}"
        assert texts.t("menu.person") in [c["label"] for c in replies[-1]["choices"]]


async def test_stickers_and_voice_notes_get_a_polite_answer(engine: Engine) -> None:
    for kind in ("sticker", "voice"):
        replies = await engine.handle(Inbound("telegram", "555", kind=kind, external_id=kind))
        assert texts.t("input.not_text") in [r.text for r in replies]


async def test_unknown_folio_is_refused(client: httpx.AsyncClient) -> None:
    chat = await WebChat.open(client)
    reply = joined(await chat.say("estado SMA-2026-999999"))
    assert "No encontré una solicitud con el folio SMA-2026-999999" in reply


async def test_another_citizens_folio_is_refused_without_details(
    client: httpx.AsyncClient,
) -> None:
    owner = await WebChat.open(client)
    await _at_curp_step(owner)
    await owner.say(GOOD_CURP)
    folio = folio_in(joined(await owner.say("Sí, registrar")))
    assert "luminaria" in joined(await owner.say(f"estado {folio}"))

    stranger = await WebChat.open(client)
    reply = joined(await stranger.say(f"estado {folio}"))
    assert f"No encontré una solicitud con el folio {folio}" in reply
    assert "lumin" not in reply.lower() and "Allende" not in reply
    assert "No tienes solicitudes" in joined(await stranger.say("mis solicitudes"))


async def test_the_same_curp_from_another_chat_does_not_reveal_requests(
    client: httpx.AsyncClient,
) -> None:
    owner = await WebChat.open(client)
    await _at_curp_step(owner)
    await owner.say(GOOD_CURP)
    folio = folio_in(joined(await owner.say("Sí, registrar")))

    other = await WebChat.open(client)
    await _at_curp_step(other)
    # Someone who knows the CURP, on another chat: a code goes to the owner's chat instead.
    assert "código" in joined(await other.say(GOOD_CURP))
    await other.say("Omitir")
    second = folio_in(joined(await other.say("Sí, registrar")))
    listing = joined(await other.say("mis solicitudes"))
    assert second in listing and folio not in listing


async def test_a_repeated_delivery_changes_nothing(engine: Engine, loaded_db: Database) -> None:
    message = Inbound("telegram", "777", text="hola", external_id="update-42")
    first = await engine.handle(message)
    assert first
    async with loaded_db.transaction() as session:
        before = await session.scalar(select(func.count()).select_from(Message))
    assert await engine.handle(message) == []
    async with loaded_db.transaction() as session:
        after = await session.scalar(select(func.count()).select_from(Message))
        requests = await session.scalar(select(func.count()).select_from(Request))
    assert after == before and requests == 0


async def test_a_message_the_bot_fails_on_gets_an_apology_and_the_chat_starts_over(
    client: httpx.AsyncClient, loaded_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    chat = await WebChat.open(client)
    await chat.say("hola")
    await break_conversation(loaded_db, "web", chat.session)
    replies = await chat.say("requisitos del acta de nacimiento")
    assert joined(replies) == texts.t("input.failed")
    assert texts.t("menu.person") in [c["label"] for c in replies[-1]["choices"]]
    assert any("made the bot fail" in r.getMessage() for r in caplog.records)
    async with loaded_db.transaction() as session:  # the message itself is kept
        kept = await session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.text == "requisitos del acta de nacimiento")
        )
    assert kept == 1
    answered = joined(await chat.say("requisitos del acta de nacimiento"))
    assert "acta" in answered.lower() and texts.t("input.failed") not in answered
