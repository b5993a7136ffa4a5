"""Citizen-facing surveys: dimensions per procedure, the one reminder, expiry, the WhatsApp
survey template with buttons, and «¿Te sirvió esta respuesta?» after answers."""

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from backoffice.app import create_app
from bot.engine import Engine
from casework.citizens.service import identity_for
from casework.conversations.models import Conversation
from casework.outbox.models import OutboxMessage
from casework.ratings.dimensions import DIMENSIONS, DimensionError, set_dimensions
from casework.ratings.models import AnswerFeedback, Rating, RatingDimensionScore
from casework.ratings.reminders import send_reminders
from casework.requests.service import NewRequest, change_status, open_request
from casework.staff.models import StaffUser
from catalog.models import Procedure
from foundation import texts
from foundation.audit import AuditEntry
from foundation.db import Database, utcnow
from foundation.messages import Inbound
from foundation.settings import Settings, amended
from tests.fakes.payloads import WA_ID, _wa_inbound, wa_text
from tests.fakes.payloads import wa_signed as signed
from tests.fakes.whatsapp import FakeWhatsApp
from tests.support import ChannelClient, login, running, with_whatsapp
from ventanilla.workers import Workers

_ids = itertools.count(1)


async def say(engine: Engine, address: str, text: str) -> list[OutboxMessage]:
    """One web-chat message from `address`; the replies the bot queued."""
    return await engine.handle(Inbound("web", address, text, external_id=f"m{next(_ids)}"))


def texts_of(replies: list[OutboxMessage]) -> str:
    return "\n".join(r.text for r in replies)


def values_of(reply: OutboxMessage) -> list[str]:
    return [c["value"] for c in reply.choices]


async def resolved_request(
    db: Database, address: str, channel: str = "web", procedure_id: str = "reporte-bache"
) -> int:
    """A citizen's request, resolved by staff with a public note: the survey is asked.
    Returns the rating id."""
    async with db.transaction() as session:
        procedure = await session.get(Procedure, procedure_id)
        assert procedure is not None
        identity = await identity_for(session, channel, address)
        request = await open_request(session, NewRequest(procedure, identity, None), "SMA")
        staff = await session.scalar(select(StaffUser).where(StaffUser.username == "agente"))
        assert staff is not None
        await change_status(session, request, staff, "resolved", "Listo.")
        rating_id = await session.scalar(select(Rating.id).where(Rating.request_id == request.id))
    assert rating_id is not None
    return rating_id


async def switch_on(db: Database, procedure_id: str, codes: list[str]) -> None:
    async with db.transaction() as session:
        staff = await session.scalar(select(StaffUser).where(StaffUser.username == "agente"))
        assert staff is not None
        await set_dimensions(session, staff, procedure_id, codes)


async def asked_ago(db: Database, rating_id: int, age: timedelta) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Rating).where(Rating.id == rating_id).values(asked_at=utcnow() - age)
        )


async def dimension_scores(db: Database, rating_id: int) -> dict[str, int]:
    async with db.transaction() as session:
        rows = await session.execute(
            select(RatingDimensionScore.dimension, RatingDimensionScore.score).where(
                RatingDimensionScore.rating_id == rating_id
            )
        )
        return {dimension: score for dimension, score in rows}


# --- dimensions ---------------------------------------------------------------------------


async def test_dimension_questions_are_asked_only_when_switched_on_and_stored(
    engine: Engine, loaded_db: Database, settings: Settings
) -> None:
    plain = await resolved_request(loaded_db, "sin-dimensiones")
    replies = await say(engine, "sin-dimensiones", "4")
    assert replies[-1].text == texts.t("rating.comment")  # straight to the comment
    assert await dimension_scores(loaded_db, plain) == {}

    await switch_on(loaded_db, "reporte-bache", ["trato", "tiempo"])
    rating_id = await resolved_request(loaded_db, "con-dimensiones")
    first = await say(engine, "con-dimensiones", "5")
    # Asked in the file's order, whatever order they were switched on in.
    assert first[-1].text == DIMENSIONS["tiempo"].question
    assert values_of(first[-1])[:5] == [f"rate:{n}" for n in range(1, 6)]
    second = await say(engine, "con-dimensiones", "rate:3")  # a button
    assert second[-1].text == DIMENSIONS["trato"].question
    comment = await say(engine, "con-dimensiones", "2")  # a bare digit
    assert comment[-1].text == texts.t("rating.comment")
    thanks = texts_of(await say(engine, "con-dimensiones", "Omitir"))
    assert texts.t("rating.thanks") in thanks
    assert f"{settings.web.public_url}/resultados" in thanks  # the public results page

    assert await dimension_scores(loaded_db, rating_id) == {"tiempo": 3, "trato": 2}
    async with loaded_db.transaction() as session:
        rating = await session.get(Rating, rating_id)
    assert rating is not None and (rating.score, rating.comment) == (5, None)


async def test_a_dimension_can_be_skipped_and_other_text_ends_the_questions(
    engine: Engine, loaded_db: Database
) -> None:
    await switch_on(loaded_db, "reporte-bache", ["tiempo", "trato", "claridad"])
    rating_id = await resolved_request(loaded_db, "ana")
    await say(engine, "ana", "rate:4")
    skipped = await say(engine, "ana", "Omitir")  # no score for tiempo
    assert skipped[-1].text == DIMENSIONS["trato"].question
    await say(engine, "ana", "5")
    # A question instead of a score: the survey ends there and the question is answered.
    async with loaded_db.transaction() as session:
        predial = await session.get(Procedure, "pago-predial")
    assert predial is not None
    answer = texts_of(await say(engine, "ana", "¿cuánto cuesta el predial?"))
    assert predial.cost in answer
    assert await dimension_scores(loaded_db, rating_id) == {"trato": 5}
    async with loaded_db.transaction() as session:
        conversation = await session.scalar(select(Conversation))
    assert conversation is not None and conversation.state == "idle"


async def test_handoff_surveys_ask_only_the_overall_score_and_the_comment(
    engine: Engine, loaded_db: Database
) -> None:
    from casework.handoffs.service import close, request_person

    await switch_on(loaded_db, "reporte-bache", list(DIMENSIONS))
    await say(engine, "luis", "hola")
    async with loaded_db.transaction() as session:
        identity = await identity_for(session, "web", "luis")
        conversation = await session.scalar(
            select(Conversation).where(Conversation.identity_id == identity.id)
        )
        assert conversation is not None
        handoff = await request_person(session, conversation, "ayuda", "obras-publicas")
        staff = await session.scalar(select(StaffUser).where(StaffUser.username == "agente"))
        assert staff is not None
        await close(session, handoff, staff)
    assert (await say(engine, "luis", "5"))[-1].text == texts.t("rating.comment")


async def test_switching_dimensions_in_the_back_office_is_audited(
    client: httpx.AsyncClient, loaded_db: Database, staff_of_every_role: dict[str, str]
) -> None:
    await login(client, staff_of_every_role["evaluator"])
    page = await client.get("/backoffice/encuestas", params={"area": "obras-publicas"})
    assert page.status_code == 200
    async with loaded_db.transaction() as session:
        bache = await session.get(Procedure, "reporte-bache")
        others = list(
            await session.scalars(
                select(Procedure.name).where(Procedure.department_id != "obras-publicas")
            )
        )
    assert bache is not None and bache.name in page.text
    assert not any(f">{name}<" in page.text for name in others)  # filtered by department
    for dimension in DIMENSIONS.values():
        assert dimension.label in page.text

    saved = await client.post(
        "/backoffice/encuestas/reporte-bache",
        data={"dimensiones": ["tiempo", "claridad"], "area": "obras-publicas"},
    )
    assert saved.status_code == 303
    assert saved.headers["location"].startswith("/backoffice/encuestas?area=obras-publicas")
    shown = await client.get(saved.headers["location"])
    assert "Cambios guardados." in shown.text
    assert 'value="tiempo"\n        aria-label="Tiempo de atención: ' in shown.text
    # An unknown dimension is refused and nothing changes.
    refused = await client.post(
        "/backoffice/encuestas/reporte-bache", data={"dimensiones": ["tiempo", "sabor"]}
    )
    assert refused.status_code == 422 and "sabor" in refused.text
    # Saving the same again is not a change.
    await client.post(
        "/backoffice/encuestas/reporte-bache", data={"dimensiones": ["claridad", "tiempo"]}
    )
    # Without the form's token, nothing is saved.
    token = client.headers.pop("X-CSRF-Token")
    forged = await client.post("/backoffice/encuestas/reporte-bache", data={})
    client.headers["X-CSRF-Token"] = token
    assert forged.status_code == 403

    async with loaded_db.transaction() as session:
        entries = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "survey.dimensions")
            )
        )
        evaluator = await session.scalar(
            select(StaffUser).where(StaffUser.username == staff_of_every_role["evaluator"])
        )
    assert evaluator is not None
    assert [(e.entity, e.entity_id, e.before, e.after, e.staff_user_id) for e in entries] == [
        (
            "procedure",
            "reporte-bache",
            {"dimensions": []},
            {"dimensions": ["tiempo", "claridad"]},
            evaluator.id,
        )
    ]
    unknown = await client.post("/backoffice/encuestas/no-existe", data={"dimensiones": []})
    assert unknown.status_code == 404


async def test_unknown_dimensions_are_refused_by_the_domain_too(loaded_db: Database) -> None:
    with pytest.raises(DimensionError):
        await switch_on(loaded_db, "reporte-bache", ["tiempo", "sabor"])
    with pytest.raises(DimensionError):
        await switch_on(loaded_db, "no-existe", ["tiempo"])


# --- reminders ----------------------------------------------------------------------------


async def reminders_queued(db: Database) -> list[OutboxMessage]:
    async with db.transaction() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.text.startswith("Recordatorio"))
            .order_by(OutboxMessage.id)
        )
        return list(rows)


async def remind(db: Database, settings: Settings, later: timedelta) -> int:
    async with db.transaction() as session:
        return await send_reminders(session, settings.evaluation, utcnow() + later)


async def test_an_unanswered_survey_gets_one_reminder_and_never_a_second(
    loaded_db: Database, settings: Settings
) -> None:
    rating_id = await resolved_request(loaded_db, "ana")
    hours = settings.evaluation.survey_reminder_hours
    assert await remind(loaded_db, settings, timedelta(hours=hours - 1)) == 0  # too soon
    assert await remind(loaded_db, settings, timedelta(hours=hours + 1)) == 1
    assert await remind(loaded_db, settings, timedelta(hours=hours + 2)) == 0
    assert (
        await remind(loaded_db, settings, timedelta(days=settings.evaluation.survey_days - 1)) == 0
    )
    [reminder] = await reminders_queued(loaded_db)
    assert reminder.purpose == "survey"  # WhatsApp sends it as the survey template
    assert [c["value"] for c in reminder.choices] == [f"rate:{n}" for n in range(1, 6)]
    async with loaded_db.transaction() as session:
        rating = await session.get(Rating, rating_id)
    assert rating is not None and rating.reminded_at is not None


async def test_answered_expired_and_fresh_surveys_are_not_reminded(
    engine: Engine, loaded_db: Database, settings: Settings
) -> None:
    answered = await resolved_request(loaded_db, "respondio")
    await say(engine, "respondio", "5")
    expired = await resolved_request(loaded_db, "vencida")
    await asked_ago(loaded_db, expired, timedelta(days=settings.evaluation.survey_days, hours=1))
    await resolved_request(loaded_db, "reciente")  # asked just now
    due = await resolved_request(loaded_db, "pendiente")
    for rating_id in (answered, due):
        await asked_ago(
            loaded_db, rating_id, timedelta(hours=settings.evaluation.survey_reminder_hours + 1)
        )
    assert await remind(loaded_db, settings, timedelta(0)) == 1
    async with loaded_db.transaction() as session:
        reminded = list(
            await session.scalars(select(Rating.id).where(Rating.reminded_at.is_not(None)))
        )
    assert reminded == [due]


async def test_two_workers_reminding_at_once_send_each_reminder_once(
    loaded_db: Database, database_url: str, settings: Settings
) -> None:
    surveys = [await resolved_request(loaded_db, f"c{n}") for n in range(6)]
    later = timedelta(hours=settings.evaluation.survey_reminder_hours + 1)
    workers = [Database(database_url), Database(database_url)]  # as two processes would
    try:
        sent = await asyncio.gather(*(remind(w, settings, later) for w in workers * 2))
    finally:
        for worker in workers:
            await worker.dispose()
    assert sum(sent) == len(surveys)
    queued = await reminders_queued(loaded_db)
    assert len(queued) == len(surveys)
    assert len({item.identity_id for item in queued}) == len(surveys)


async def test_the_app_sends_due_reminders_in_the_background(
    loaded_db: Database, settings: Settings
) -> None:
    rating_id = await resolved_request(loaded_db, "ana")
    await asked_ago(
        loaded_db, rating_id, timedelta(hours=settings.evaluation.survey_reminder_hours + 1)
    )
    async with running(Workers(settings, loaded_db)):
        for _ in range(600):  # the first round runs at start; wait for its commit
            if await reminders_queued(loaded_db):
                break
            await asyncio.sleep(0.05)
    assert len(await reminders_queued(loaded_db)) == 1


async def test_reminders_from_the_command_line(loaded_db: Database, database_url: str) -> None:
    from tests.test_cli import ventanilla

    rating_id = await resolved_request(loaded_db, "ana")
    await asked_ago(loaded_db, rating_id, timedelta(days=2))
    first = ventanilla("encuestas", "recordar", "--database", database_url)
    assert first.returncode == 0, first.stderr
    assert "Recordatorios de encuesta en cola: 1." in first.stdout
    again = ventanilla("encuestas", "recordar", "--database", database_url)
    assert "Recordatorios de encuesta en cola: 0." in again.stdout
    assert len(await reminders_queued(loaded_db)) == 1


# --- expiry and repeated answers ----------------------------------------------------------


async def test_a_score_after_the_survey_expired_is_declined_politely(
    engine: Engine, loaded_db: Database, settings: Settings
) -> None:
    rating_id = await resolved_request(loaded_db, "ana")
    await asked_ago(
        loaded_db, rating_id, timedelta(days=settings.evaluation.survey_days, minutes=1)
    )
    replies = await say(engine, "ana", "5")
    assert texts.t("rating.closed", days=settings.evaluation.survey_days) in texts_of(replies)
    assert texts.t("rating.closed", days=settings.evaluation.survey_days).startswith(
        "Esta encuesta ya cerró"
    )
    late_button = await say(engine, "ana", "rate:4")
    assert texts.t("rating.closed", days=settings.evaluation.survey_days) in texts_of(late_button)
    async with loaded_db.transaction() as session:
        rating = await session.get(Rating, rating_id)
    assert rating is not None and rating.score is None and rating.answered_at is None


async def test_a_second_score_for_an_answered_survey_is_declined(
    engine: Engine, loaded_db: Database
) -> None:
    rating_id = await resolved_request(loaded_db, "ana")
    await say(engine, "ana", "4")
    await say(engine, "ana", "Muy bien")
    again = await say(engine, "ana", "rate:1")  # a tap on the old survey's buttons
    assert texts.t("rating.already_answered") in texts_of(again)
    async with loaded_db.transaction() as session:
        rating = await session.get(Rating, rating_id)
    assert rating is not None and (rating.score, rating.comment) == (4, "Muy bien")


# --- WhatsApp: the survey as a template with buttons -----------------------------------------

APP_SECRET = "secreto-de-la-app-de-meta"


@pytest.fixture
async def wa(
    loaded_db: Database, settings: Settings, fake_whatsapp: FakeWhatsApp
) -> AsyncIterator[ChannelClient]:
    wa_settings = with_whatsapp(settings, fake_whatsapp, APP_SECRET)
    app = create_app(wa_settings, loaded_db, "k")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield ChannelClient(client, app)


async def post(wa: ChannelClient, payload: dict) -> None:
    body, headers = signed(payload, APP_SECRET)
    response = await wa.client.post("/whatsapp/webhook", content=body, headers=headers)
    assert response.status_code == 200, response.text


async def test_outside_the_window_the_survey_is_a_template_whose_buttons_score(
    wa: ChannelClient, fake_whatsapp: FakeWhatsApp, loaded_db: Database, settings: Settings
) -> None:
    await post(wa, wa_text(WA_ID, "hola"))
    await wa.deliver()
    async with loaded_db.transaction() as session:
        await session.execute(
            update(Conversation).values(last_inbound_at=utcnow() - timedelta(hours=25))
        )
    rating_id = await resolved_request(loaded_db, WA_ID, channel="whatsapp")
    before = len(fake_whatsapp.sent())
    await wa.deliver()
    survey = fake_whatsapp.sent()[before:][-1]
    assert survey["type"] == "template"
    assert survey["template"]["name"] == settings.whatsapp.template_survey
    buttons = [c for c in survey["template"]["components"] if c["type"] == "button"]
    assert buttons == [
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": str(n - 1),
            "parameters": [{"type": "payload", "payload": f"rate:{n}"}],
        }
        for n in range(1, 6)
    ]
    assert all(call.status == 200 for call in fake_whatsapp.calls if call.method == "messages")

    # The citizen taps "4": a quick reply on a template arrives as a `button` message.
    tap = _wa_inbound("button", {"payload": "rate:4", "text": "4 - Buena"}, context_id="wamid.X")
    await post(wa, tap)
    await wa.deliver()
    async with loaded_db.transaction() as session:
        rating = await session.get(Rating, rating_id)
    assert rating is not None and rating.score == 4
    last = fake_whatsapp.sent()[-1]
    assert last["type"] == "interactive"  # the window is open again: a normal reply
    assert last["interactive"]["body"]["text"] == texts.t("rating.comment")


# --- «¿Te sirvió esta respuesta?» -----------------------------------------------------------


async def test_usefulness_is_asked_at_rate_one_and_recorded_once(
    loaded_db: Database, settings: Settings
) -> None:
    engine = Engine(loaded_db, amended(settings, evaluation={"usefulness_rate": 1.0}))
    async with loaded_db.transaction() as session:
        predial = await session.get(Procedure, "pago-predial")
    assert predial is not None
    await say(engine, "ana", "hola")
    replies = await say(engine, "ana", "¿cuánto cuesta el predial?")
    answer, question = replies[-2], replies[-1]
    assert predial.cost in answer.text
    assert "aspect:requirements" in values_of(answer)  # the answer keeps its own buttons
    assert question.text == texts.t("usefulness.ask")
    async with loaded_db.transaction() as session:
        feedback = await session.scalar(select(AnswerFeedback))
    assert feedback is not None
    assert values_of(question) == [f"useful:yes:{feedback.id}", f"useful:no:{feedback.id}"]
    assert (feedback.procedure_id, feedback.department_id, feedback.aspect, feedback.channel) == (
        "pago-predial",
        predial.department_id,
        "cost",
        "web",
    )
    assert feedback.answered_at is None and feedback.useful is None

    thanks = await say(engine, "ana", f"useful:no:{feedback.id}")
    assert thanks[-1].text == texts.t("usefulness.thanks_no")
    again = await say(engine, "ana", f"useful:yes:{feedback.id}")  # a second tap
    assert again[-1].text == texts.t("usefulness.already")
    stranger = await say(engine, "otra", f"useful:yes:{feedback.id}")  # not their answer
    assert stranger[-1].text == texts.t("usefulness.already")
    async with loaded_db.transaction() as session:
        stored = await session.get(AnswerFeedback, feedback.id)
    assert stored is not None and stored.useful is False and stored.answered_at is not None

    # "Sí" typed instead of tapped picks the offered choice.
    await say(engine, "ana", "requisitos del predial")
    typed = await say(engine, "ana", "Sí")
    assert typed[-1].text == texts.t("usefulness.thanks_yes")


async def test_usefulness_is_never_asked_at_rate_zero(
    loaded_db: Database, settings: Settings
) -> None:
    engine = Engine(loaded_db, amended(settings, evaluation={"usefulness_rate": 0.0}))
    await say(engine, "ana", "hola")
    for question in ("¿cuánto cuesta el predial?", "requisitos del predial", "aspect:location"):
        replies = await say(engine, "ana", question)
        assert texts.t("usefulness.ask") not in texts_of(replies)
    async with loaded_db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(AnswerFeedback)) == 0
