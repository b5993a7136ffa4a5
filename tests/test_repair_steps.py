"""Conversation repair at the survey and link-code steps, straight through the engine on both
databases: a score in words, "no quiero calificar", a comment that starts like a question,
and words about the link code that are no answer to registering the request."""

import itertools

import pytest
from sqlalchemy import func, select

from bot.engine import Engine
from casework.citizens.service import identity_for
from casework.ratings.models import Rating
from casework.requests.models import Request
from casework.requests.service import NewRequest, change_status, open_request
from casework.staff.models import StaffUser
from catalog.models import Procedure
from foundation import texts
from foundation.db import Database
from foundation.messages import Inbound
from tests.support import folio_in, valid_curp

_ids = itertools.count(1)
ADDRESS = "repair-steps"


async def say(engine: Engine, text: str, channel: str = "web", address: str = ADDRESS) -> str:
    replies = await engine.handle(Inbound(channel, address, text, external_id=f"r{next(_ids)}"))
    return "\n".join(r.text for r in replies)


async def surveyed(db: Database) -> int:
    """This chat's request, resolved by staff: the survey question has been sent."""
    async with db.transaction() as session:
        procedure = await session.get(Procedure, "reporte-bache")
        staff = await session.scalar(select(StaffUser).where(StaffUser.username == "agente"))
        assert procedure is not None and staff is not None
        identity = await identity_for(session, "web", ADDRESS)
        request = await open_request(session, NewRequest(procedure, identity, None), "SMA")
        await change_status(session, request, staff, "resolved", "Listo.")
        rating_id = await session.scalar(select(Rating.id).where(Rating.request_id == request.id))
    assert rating_id is not None
    return rating_id


async def score_of(db: Database, rating_id: int) -> int | None:
    async with db.transaction() as session:
        rating = await session.get(Rating, rating_id)
        assert rating is not None
        return rating.score


@pytest.mark.parametrize(("words", "score"), [("excelente servicio", 5), ("mal, muy mal", 1)])
async def test_a_score_in_words_answers_the_survey_question(
    engine: Engine, loaded_db: Database, words: str, score: int
) -> None:
    rating_id = await surveyed(loaded_db)
    assert texts.t("rating.comment") in await say(engine, words)
    assert await score_of(loaded_db, rating_id) == score


async def test_words_of_a_score_are_no_score_when_none_was_asked(
    engine: Engine, loaded_db: Database
) -> None:
    """ "Excelente" in a chat that was asked nothing is not read as a survey answer."""
    assert texts.t("rating.comment") not in await say(engine, "excelente")
    async with loaded_db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Rating)) == 0


async def test_declining_the_survey_gets_an_answer_and_no_score(
    engine: Engine, loaded_db: Database
) -> None:
    rating_id = await surveyed(loaded_db)
    reply = await say(engine, "no gracias, no quiero calificar")
    assert texts.t("rating.declined") in reply
    assert await score_of(loaded_db, rating_id) is None
    # the survey is still open: a score later is taken (a bare "4" now picks from the menu)
    await say(engine, "le doy un 4")
    assert await score_of(loaded_db, rating_id) == 4


async def test_a_comment_that_starts_like_a_question_is_the_comment(
    engine: Engine, loaded_db: Database
) -> None:
    rating_id = await surveyed(loaded_db)
    await say(engine, "3")
    assert texts.t("rating.thanks") in await say(engine, "que tardaron mucho en venir")
    async with loaded_db.transaction() as session:
        rating = await session.get(Rating, rating_id)
        assert rating is not None and rating.comment == "que tardaron mucho en venir"


async def test_words_about_the_link_code_do_not_cancel_the_request(
    engine: Engine, loaded_db: Database
) -> None:
    """A CURP already linked to another chat sends that chat a code; "no me llegó ningún
    código" is no "no" to registering: the step's help, and the request can still be sent."""
    curp = valid_curp("LOMP800101MJCPRR0")
    owner = ("telegram", "700200")
    report = (
        "la lampara de mi calle no prende",
        "Sí, acepto",
        "Lleva una semana apagada",
        "Calle Allende 12, colonia La Loma",
        curp,
    )
    for text in (*report, "Sí, registrar"):  # the chat the CURP is linked to
        await say(engine, text, *owner)
    for text in report:
        await say(engine, text)
    for text in ("no me llego ningun codigo", "que codigo?"):
        reply = await say(engine, text)
        assert texts.t("repair.help.request_link") in reply
        assert texts.t("request.cancelled") not in reply
    assert folio_in(await say(engine, "si"))
    async with loaded_db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Request)) == 2
