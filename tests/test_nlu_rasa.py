"""VENTANILLA_NLU_BACKEND=rasa: a Rasa server's /model/parse answers drive the bot."""

from collections.abc import Iterator

import httpx
import pytest

from backoffice.app import create_app
from catalog import answers
from catalog.models import Procedure
from foundation.db import Database
from foundation.settings import Settings, amended
from nlu.rasa import RasaUnderstander
from nlu.understanding import Context
from tests.fakes.rasa import FakeRasa
from tests.support import WebChat, joined


@pytest.fixture
def rasa() -> Iterator[FakeRasa]:
    with FakeRasa() as server:
        yield server


def test_rasa_answers_are_mapped_to_understanding(rasa: FakeRasa) -> None:
    rasa.answer(
        "cuanto cuesta el predial",
        "ask_procedure",
        procedure="pago-predial",
        aspect="cost",
        colonia="Centro",
    )
    nlu = RasaUnderstander(rasa.url, known_procedures={"pago-predial"})
    result = nlu.understand("cuanto cuesta el predial", Context())
    assert (result.intent, result.procedure_id, result.aspect) == (
        "ask_procedure",
        "pago-predial",
        "cost",
    )
    assert result.confidence == pytest.approx(0.9)
    assert result.entities["colonia"] == "Centro"
    assert rasa.calls == [{"path": "/model/parse", "body": {"text": "cuanto cuesta el predial"}}]


def test_unknown_intents_and_procedures_from_rasa_are_out_of_scope(rasa: FakeRasa) -> None:
    rasa.answer("hola robot", "chitchat")
    rasa.answer("info del tramite x", "ask_procedure", procedure="no-existe")
    nlu = RasaUnderstander(rasa.url, known_procedures={"pago-predial"})
    assert nlu.understand("hola robot", Context()).intent == "out_of_scope"
    assert nlu.understand("info del tramite x", Context()).intent == "out_of_scope"


def test_an_unreachable_rasa_server_is_a_polite_fallback_not_a_crash() -> None:
    nlu = RasaUnderstander("http://127.0.0.1:9", timeout=0.5)
    result = nlu.understand("estado SMA-2026-000001", Context())
    assert result.intent == "out_of_scope"
    assert result.entities["folio"] == "SMA-2026-000001"


async def test_the_bot_answers_from_rasa_understanding(
    rasa: FakeRasa, loaded_db: Database, settings: Settings
) -> None:
    rasa.answer("hola", "greet")
    rasa.answer(
        "el impuesto de mi casita", "ask_procedure", procedure="pago-predial", aspect="cost"
    )
    app = create_app(
        amended(settings, nlu={"backend": "rasa"}, rasa={"url": rasa.url}),
        loaded_db,
        "k",
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        chat = await WebChat.open(client)
        await chat.say("hola")
        reply = joined(await chat.say("el impuesto de mi casita"))
    async with loaded_db.transaction() as session:
        predial = await session.get(Procedure, "pago-predial")
    assert predial is not None
    assert answers.aspect(predial, "cost") in reply
    assert [c["body"]["text"] for c in rasa.calls] == ["hola", "el impuesto de mi casita"]
