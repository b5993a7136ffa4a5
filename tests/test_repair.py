"""Conversation repair in the middle of a request (bot/repair.py, bot/steps.py), through the
web chat on both databases: a cancel said anywhere in the message, a cancel that looks like
a correction, an address correction that is not a change of type, waiting, a question about
the step itself, and consent given with more in the same message."""

import httpx
from sqlalchemy import func, select

from casework.requests.models import Request
from catalog.models import Municipality, Procedure
from foundation import texts
from foundation.db import Database
from tests.support import WebChat, folio_in, joined

CURP = "MARL900315MGTRZS08"


async def _requests(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Request)) or 0)


async def _consented(client: httpx.AsyncClient, first: str) -> tuple[WebChat, str]:
    """A chat that accepted the privacy notice on its first report; the reply to that yes."""
    chat = await WebChat.open(client)
    assert "¿Aceptas" in joined(await chat.say(first))
    return chat, joined(await chat.say("si acepto"))


async def test_a_cancel_said_after_a_bare_no_drops_the_report_instead_of_skipping_the_photo(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    chat, _ = await _consented(client, "quiero reportar un bache")
    await chat.say("hay un bache enorme enfrente de mi casa")
    assert texts.t("request.ask_photo") in joined(await chat.say("calle hidalgo 20, zona centro"))
    dropped = joined(await chat.say("nel, mejor ahi muere, ya no lo quiero reportar"))
    assert texts.t("request.cancelled") in dropped
    assert texts.t("request.ask_curp") not in dropped
    # the same bare "nel" alone still answers the photo question: no photo, go on
    chat, _ = await _consented(client, "quiero reportar un bache")
    await chat.say("hay un bache enorme enfrente de mi casa")
    await chat.say("calle hidalgo 20, zona centro")
    assert texts.t("request.ask_curp") in joined(await chat.say("nel"))
    assert await _requests(loaded_db) == 0


async def test_a_cancel_at_the_end_of_a_message_that_begins_otherwise(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    chat, _ = await _consented(client, "quiero reportar un bache")
    await chat.say("hay un bache enorme enfrente de mi casa")
    await chat.say("calle hidalgo 20, zona centro")
    await chat.say("no tengo foto")
    dropped = joined(await chat.say("no pues no, mi curp no se la doy a nadie, cancela"))
    assert texts.t("request.cancelled") in dropped
    assert "CURP" not in dropped
    assert await _requests(loaded_db) == 0


async def test_a_cancel_that_opens_like_a_correction_is_a_cancel(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    """ "ah no" opens corrections too; "ya no hace falta" says the report is dropped, and no
    report type the rest of the message brushes against replaces the one under way."""
    chat, _ = await _consented(client, "quiero reportar una lampara")
    await chat.say("la lampara de afuera de mi casa lleva 3 noches apagada")
    dropped = joined(await chat.say("ah no ya no hace falta, ya volvio a prender"))
    assert texts.t("request.cancelled") in dropped
    assert "lo cambio" not in dropped
    assert await _requests(loaded_db) == 0


async def test_an_address_correction_is_not_taken_for_another_report_type(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    chat, _ = await _consented(client, "quiero reportar una lampara")
    await chat.say("la lampara de afuera de mi casa lleva 3 noches apagada")
    await chat.say("calle guadalupe victoria 86, col san juan")
    fixed = joined(await chat.say("me equivoque, la direccion es guadalupe victoria 68"))
    assert texts.t("request.address_changed") in fixed
    assert "lo cambio" not in fixed
    summary = joined(await chat.say(CURP))
    assert "guadalupe victoria 68" in summary and "luminaria" in summary.casefold()
    assert folio_in(joined(await chat.say("si")))
    async with loaded_db.transaction() as session:
        request = await session.scalar(select(Request))
    assert request is not None and request.procedure_id == "reporte-luminaria"
    assert request.location is not None and "68" in request.location["address"]


async def test_asking_the_bot_to_wait_keeps_the_step_without_asking_again(
    client: httpx.AsyncClient,
) -> None:
    chat, _ = await _consented(client, "quiero reportar un bache")
    await chat.say("hay un bache enorme enfrente de mi casa")
    await chat.say("calle hidalgo 20, zona centro")
    waiting = await chat.say("ahorita se la mando")
    assert joined(waiting) == texts.t("repair.wait")
    assert texts.t("request.ask_curp") in joined(await chat.say("mejor no tengo foto"))


async def test_a_question_about_what_the_step_said_gets_the_step_help(
    client: httpx.AsyncClient,
) -> None:
    """ "¿Cómo que aviso?" asks about the consent question, not about another topic: its help
    and the question again, not "eso no lo atiende el municipio"."""
    chat = await WebChat.open(client)
    await chat.say("quiero reportar una lampara")
    reply = joined(await chat.say("como que aviso?"))
    assert texts.t("repair.help.consent") in reply
    assert texts.t("out_of_scope").strip() not in reply
    assert "¿Aceptas" in reply


async def test_consent_with_a_description_or_an_address_keeps_them(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    async with loaded_db.transaction() as session:
        light = await session.get(Procedure, "reporte-luminaria")
    assert light is not None
    ask_description = texts.t("request.ask_description", name=light.name)
    chat = await WebChat.open(client)
    await chat.say("quiero reportar una lampara")
    described = joined(await chat.say("si, la lampara de la esquina no prende desde el sabado"))
    assert texts.t("request.ask_location") in described  # the description is not asked for
    chat = await WebChat.open(client)
    await chat.say("quiero reportar una lampara")
    placed = joined(await chat.say("si acepto, es en la calle hidalgo 20 col centro"))
    assert ask_description in placed  # the description is still to say; the place is not asked
    await chat.say("esta fundida desde hace una semana")
    summary = joined(await chat.say(CURP))
    assert "calle hidalgo 20 col centro" in summary
    assert "es en la calle" not in summary  # the address was not taken for the description
    # a plain yes in other words asks for the description, keeping nothing of the answer
    chat = await WebChat.open(client)
    await chat.say("quiero reportar una lampara")
    plain = joined(await chat.say("si, autorizo el uso de mis datos"))
    assert ask_description in plain
    assert await _requests(loaded_db) == 0


async def test_a_digression_that_needs_confirming_asks_one_question_at_a_time(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    """A question mid-form that the bot must confirm ("¿Te refieres a…?") is not followed by
    "¿Seguimos con…?" in the same turn; the answer to the confirmation is, and then the step."""
    async with loaded_db.transaction() as session:
        licence = await session.get(Procedure, "licencia-funcionamiento")
    assert licence is not None and licence.cost
    chat, _ = await _consented(client, "quiero reportar un bache")
    await chat.say("hay un bache enorme enfrente de mi casa")
    await chat.say("calle hidalgo 20, zona centro")
    assert texts.t("request.ask_curp") in joined(await chat.say("no tengo foto"))
    asked = joined(await chat.say("oye cuanto cuesta la licencia pa cazar venado"))
    assert texts.t("info.confirm", name=licence.name) in asked
    resume = texts.t("repair.resume", subject="\x00").split("\x00")[0]  # "¿Seguimos con "
    assert resume not in asked
    answered = joined(await chat.say("si"))
    assert texts.t("info.cost", name=licence.name, cost=licence.cost) in answered
    assert resume in answered
    assert texts.t("request.ask_curp") in joined(await chat.say("si"))


async def test_small_talk_and_an_emoji_mid_form_keep_the_step(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    async with loaded_db.transaction() as session:
        pothole = await session.get(Procedure, "reporte-bache")
        municipality = await session.scalar(select(Municipality.name))
    assert pothole is not None and municipality
    ask = texts.t("request.ask_description", name=pothole.name)
    chat, _ = await _consented(client, "quiero reportar un bache")
    robot = joined(await chat.say("eres un robot?"))
    assert texts.t("repair.chitchat", municipality=municipality) in robot and ask in robot
    assert texts.t("out_of_scope").strip() not in robot
    emoji = joined(await chat.say("👍"))
    assert texts.t("repair.courtesy") in emoji and ask in emoji
    assert texts.t("request.cancelled") in joined(await chat.say("mejor ya no"))
    # in idle, the same small talk gets the same word and the menu, not "no lo atiende"
    idle = joined(await chat.say("eres un robot?"))
    assert texts.t("repair.chitchat", municipality=municipality) in idle
    assert await _requests(loaded_db) == 0


async def test_what_the_citizen_forgot_to_say_is_added_to_the_description(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    chat, _ = await _consented(client, "quiero reportar una lampara")
    await chat.say("la lampara de mi calle no prende desde el lunes")
    added = joined(await chat.say("se me olvido decir que son dos lamparas las que estan apagadas"))
    assert texts.t("request.description_added") in added
    assert texts.t("request.ask_location") in added  # the step under way is asked again
    await chat.say("calle hidalgo 20, zona centro")
    await chat.say(CURP)
    more = joined(await chat.say("ah y tambien agrega que el poste esta chueco"))
    assert texts.t("request.description_added") in more and "lo cambio" not in more
    assert folio_in(joined(await chat.say("si")))
    async with loaded_db.transaction() as session:
        request = await session.scalar(select(Request))
    assert request is not None and request.procedure_id == "reporte-luminaria"
    assert "dos lamparas" in request.description and "chueco" in request.description
