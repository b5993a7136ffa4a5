"""Dialogue behaviour that does not depend on the channel."""

import httpx
from sqlalchemy import func, select

from bot.engine import Engine
from casework.citizens.models import Citizen
from casework.conversations.models import Message
from casework.handoffs.models import Handoff
from catalog.models import Municipality, Procedure
from foundation import texts
from foundation.db import Database
from foundation.messages import Inbound
from tests.support import WebChat, joined, login


async def test_first_contact_greets_with_the_privacy_notice_link(client: httpx.AsyncClient) -> None:
    chat = await WebChat.open(client)
    first = joined(await chat.say("hola"))
    assert "Aviso de privacidad" in first and "https://acacias.example/privacidad" in first
    again = joined(await chat.say("hola"))
    assert "Aviso de privacidad" not in again


async def test_consent_comes_before_any_personal_data(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    chat = await WebChat.open(client)
    asked = await chat.say("quiero reportar un bache")
    assert "¿Aceptas" in joined(asked)
    assert "CURP" not in joined(asked).split("¿Aceptas")[1]
    declined = joined(await chat.say("No acepto"))
    assert texts.t("consent.declined") in declined
    # After declining, the bot keeps answering questions and asks for nothing personal.
    assert "¿Aceptas" in joined(await chat.say("quiero reportar un bache"))
    async with loaded_db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Citizen)) == 0


async def test_follow_up_question_refers_to_the_procedure_just_discussed(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    async with loaded_db.transaction() as session:
        predial = await session.get(Procedure, "pago-predial")
    assert predial is not None
    chat = await WebChat.open(client)
    await chat.say("hola")
    await chat.say("información del predial")
    follow_up = joined(await chat.say("¿y dónde se paga?"))
    assert predial.department.address in follow_up


async def test_a_number_picks_the_offered_choice(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    chat = await WebChat.open(client)
    await chat.say("hola")
    answer = await chat.say("licencia de construcción")
    labels = [c["label"] for c in answer[-1]["choices"]]
    position = labels.index(texts.t("info.aspect.requirements")) + 1
    async with loaded_db.transaction() as session:
        licence = await session.get(Procedure, "licencia-construccion")
    assert licence is not None
    assert licence.requirements[0] in joined(await chat.say(str(position)))


async def test_a_typed_yes_or_no_answers_the_question_to_confirm(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    """The question "¿Te refieres a…?" offers buttons; a citizen who types "si" or "nel"
    instead gets what the button gives, not the main menu."""
    async with loaded_db.transaction() as session:
        licence = await session.get(Procedure, "licencia-funcionamiento")
    assert licence is not None and licence.cost
    chat = await WebChat.open(client)
    await chat.say("hola")
    asked = joined(await chat.say("oye cuanto cuesta la licencia pa cazar venado"))
    assert texts.t("info.confirm", name=licence.name) in asked
    answered = joined(await chat.say("si"))
    assert texts.t("info.cost", name=licence.name, cost=licence.cost) in answered
    asked = joined(await chat.say("oye cuanto cuesta la licencia pa cazar venado"))
    assert texts.t("info.confirm", name=licence.name) in asked
    denied = await chat.say("nel")
    # Not that one: perhaps the catalogue lacks it; the town hall's contact and a person.
    async with loaded_db.transaction() as session:
        municipality = await session.scalar(select(Municipality))
    assert municipality is not None
    assert "no esté en el catálogo" in joined(denied) and municipality.phone in joined(denied)
    assert "menu:person" in [c["value"] for c in denied[-1]["choices"]]


async def test_out_of_scope_procedures_are_not_mapped_to_the_catalogue(
    client: httpx.AsyncClient,
) -> None:
    chat = await WebChat.open(client)
    await chat.say("hola")
    reply = joined(await chat.say("quiero tramitar mi pasaporte"))
    assert "no lo realiza el municipio" in reply and "Relaciones Exteriores" in reply
    assert texts.t("out_of_scope") in joined(await chat.say("cuéntame un chiste"))


async def test_the_bot_is_silent_while_a_person_holds_the_conversation(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    chat = await WebChat.open(client)
    await chat.say("hola")
    assert texts.t("handoff.requested") in joined(await chat.say("quiero hablar con un asesor"))
    assert await chat.say("¿sigue ahí?") == []

    await login(client)
    async with loaded_db.transaction() as session:
        handoff = await session.scalar(select(Handoff))
    assert handoff is not None
    page = await client.get(f"/backoffice/canalizaciones/{handoff.id}")
    assert "¿sigue ahí?" in page.text  # the agent sees what the bot did not answer

    await client.post(
        f"/backoffice/canalizaciones/{handoff.id}/responder",
        data={"text": "Hola, soy Laura. ¿En qué le ayudo?"},
    )
    replies = await chat.inbox()
    assert [(m["sender"], m["text"]) for m in replies] == [
        ("agent", "Hola, soy Laura. ¿En qué le ayudo?")
    ]
    assert await chat.say("Necesito saber de mi reporte") == []

    await client.post(f"/backoffice/canalizaciones/{handoff.id}/cerrar")
    closing = await chat.inbox()
    assert texts.t("handoff.closed") in joined(closing)
    assert closing[-1]["choices"][0]["value"] == "rate:1"
    await chat.say("5")
    assert texts.t("rating.thanks") in joined(await chat.say("Omitir"))

    async with loaded_db.transaction() as session:
        silent = await session.scalar(
            select(func.count()).select_from(Message).where(Message.text == "¿sigue ahí?")
        )
    assert silent == 1


async def test_catalogue_changes_reach_the_bot_and_rebuild_the_model_only_when_needed(
    engine: Engine, loaded_db: Database
) -> None:
    async def ask(text: str, n: int) -> str:
        inbound = Inbound("web", "rebuild", text, external_id=f"r{n}")
        return "\n".join(reply.text for reply in await engine.handle(inbound))

    async def edit(**values: object) -> None:
        async with loaded_db.transaction() as session:
            procedure = await session.get(Procedure, "pago-predial")
            assert procedure is not None
            for name, value in values.items():
                setattr(procedure, name, value)
        engine.forget_catalog()

    await ask("hola", 0)
    built = engine._catalog.nlu if engine._catalog else None
    await edit(cost="Tarifa de prueba: 999 pesos.")
    assert "999 pesos" in await ask("cuanto cuesta el predial", 1)
    assert engine._catalog is not None and engine._catalog.nlu is built  # cost: no rebuild
    await edit(synonyms=["impuesto de la casita"])
    await ask("hola", 2)
    assert engine._catalog.nlu is not built  # what the model reads changed: rebuilt
