"""The whole citizen journey on the web chat: ask, open a request, staff resolve, rate."""

import re

import httpx
from sqlalchemy import select

from casework.ratings.models import Rating
from catalog.models import Procedure
from foundation.db import Database
from tests.support import WebChat, folio_in, joined, login, valid_curp


async def test_citizen_journey_on_web_chat(
    client: httpx.AsyncClient, loaded_db: Database, staff_of_every_role: dict[str, str]
) -> None:
    async with loaded_db.transaction() as session:
        acta = await session.get(Procedure, "copia-certificada-acta")
        bache = await session.get(Procedure, "reporte-bache")
    assert acta is not None and bache is not None
    chat = await WebChat.open(client)

    # A question is answered with the catalogue's own cost.
    replies = await chat.say("¿cuánto cuesta una copia certificada del acta de nacimiento?")
    assert acta.cost in joined(replies)

    # A request is opened and a folio given.
    await chat.say("quiero reportar un bache")
    await chat.say("Sí, acepto")
    await chat.say("Hay un bache muy profundo frente al número 45, ya reventó dos llantas.")
    await chat.say("Calle Hidalgo 45, colonia Centro")
    await chat.say("Omitir")
    confirm = await chat.say(valid_curp("GODE561231HDFRRN0"))
    assert bache.name in joined(confirm)
    opened = await chat.say("1")  # the first choice: "Sí, registrar"
    folio = folio_in(joined(opened))
    assert re.fullmatch(r"SMA-\d{4}-\d{6}", folio)

    # Staff resolve it in the back office with a public note.
    await login(client)
    page = await client.get("/backoffice/solicitudes")
    assert folio in page.text
    response = await client.post(
        f"/backoffice/solicitudes/{folio}/estado",
        data={"status": "resolved", "note": "Se bacheó la calle.", "visibility": "public"},
    )
    assert response.status_code == 303

    # The citizen is told, and asked to rate.
    notices = await chat.inbox()
    text = joined(notices)
    assert folio in text and "Resuelta" in text and "Se bacheó la calle." in text
    survey = notices[-1]
    assert [c["value"] for c in survey["choices"]] == [f"rate:{n}" for n in range(1, 6)]

    # The rating is stored and listed for evaluators.
    await chat.say("4")
    await chat.say("Rápido, pero dejaron grava suelta.")
    async with loaded_db.transaction() as session:
        rating = await session.scalar(select(Rating))
    assert rating is not None
    assert (rating.score, rating.comment, rating.procedure_id) == (
        4,
        "Rápido, pero dejaron grava suelta.",
        "reporte-bache",
    )
    await login(client, staff_of_every_role["evaluator"])  # ratings are the evaluators' section
    listing = await client.get("/backoffice/calificaciones")
    assert "Rápido, pero dejaron grava suelta." in listing.text
    assert folio not in listing.text  # evaluators see pseudonymised ratings
