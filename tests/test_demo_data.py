"""`ventanilla demo-data`: a synthetic history the app itself could have written."""

from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from stdnum.mx import curp as stdnum_curp
from typer.testing import CliRunner

from casework.citizens.models import ChannelIdentity, Citizen
from casework.conversations.models import BotSession, Conversation
from casework.handoffs.models import Handoff
from casework.ratings.models import AnswerFeedback, Rating, RatingDimensionScore
from casework.requests.models import Request, RequestEvent
from casework.requests.service import NewRequest, open_request
from catalog.models import Procedure
from foundation.db import Base, Database, utcnow
from foundation.settings import Settings
from ventanilla.cli import app
from ventanilla.demo import DemoOptions, DemoRefused, generate
from ventanilla.setup import prepare


async def _generate(db: Database, settings: Settings, **options: int) -> None:
    await prepare(db, settings, first_user=False)
    await generate(db, settings, DemoOptions(**options))


async def _count(db: Database, model: type) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_it_writes_exactly_the_ratings_requests_and_visits_asked_for(
    db: Database, settings: Settings
) -> None:
    await _generate(db, settings, ratings=300, requests=70, visits=2000)
    assert await _count(db, Rating) == 300
    assert await _count(db, Request) == 70
    assert await _count(db, BotSession) == 2000
    async with db.transaction() as session:
        surveyed_requests = await session.scalar(
            select(func.count()).select_from(Rating).where(Rating.subject == "request")
        )
        closed_handoffs = await session.scalar(
            select(func.count()).select_from(Handoff).where(Handoff.status == "closed")
        )
        handed_off = await session.scalar(
            select(func.count()).select_from(BotSession).where(BotSession.handed_off)
        )
        handoffs = await session.scalar(select(func.count()).select_from(Handoff))
    # The ratings the resolved requests cannot carry are surveys of closed handoffs.
    assert surveyed_requests and surveyed_requests + closed_handoffs == 300
    assert handed_off == handoffs > closed_handoffs  # a few are waiting or being attended now


async def test_every_foreign_key_points_at_a_row_that_exists(
    db: Database, settings: Settings
) -> None:
    await _generate(db, settings, ratings=300)
    checked = 0
    async with db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            for key in table.foreign_keys:
                column, target = key.parent, key.column
                dangling = await session.scalar(
                    text(
                        f"SELECT COUNT(*) FROM {table.name} AS t WHERE t.{column.name} IS NOT "
                        f"NULL AND NOT EXISTS (SELECT 1 FROM {target.table.name} AS r "
                        f"WHERE r.{target.name} = t.{column.name})"
                    )
                )
                assert dangling == 0, f"{table.name}.{column.name} → {target}"
                checked += 1
        # Not a declared key, but a link all the same: a conversation's current visit.
        visits = await session.execute(
            select(Conversation.id, BotSession.conversation_id).join(
                BotSession, BotSession.id == Conversation.bot_session_id
            )
        )
        assert all(conversation == owner for conversation, owner in visits)
    assert checked > 30


async def test_citizens_have_valid_distinct_curps_and_chats_on_every_channel(
    db: Database, settings: Settings
) -> None:
    await _generate(db, settings, ratings=300)
    async with db.transaction() as session:
        curps = list(await session.scalars(select(Citizen.curp)))
        channels = dict(
            (await session.execute(
                select(ChannelIdentity.channel, func.count()).group_by(ChannelIdentity.channel)
            )).all()
        )  # fmt: skip
    assert curps and all(stdnum_curp.is_valid(c) for c in curps)
    assert len(set(curps)) == len(curps)
    assert set(channels) == {"whatsapp", "telegram", "web"}
    assert (
        channels["whatsapp"] > channels["web"] > 0 and channels["whatsapp"] > channels["telegram"]
    )


async def test_the_app_opens_the_next_request_and_survey_without_collisions(
    db: Database, settings: Settings
) -> None:
    await _generate(db, settings, ratings=300)
    async with db.transaction() as session:
        folios = list(await session.scalars(select(Request.folio)))
        assert len(set(folios)) == len(folios)
        assert all(f.startswith(f"{settings.folio_prefix}-") for f in folios)
        largest = {
            table: await session.scalar(text(f"SELECT MAX(id) FROM {table}"))
            for table in ("requests", "request_events", "ratings", "bot_sessions")
        }
        procedure = await session.scalar(select(Procedure).where(Procedure.request_enabled))
        identity = await session.scalar(
            select(ChannelIdentity).where(ChannelIdentity.citizen_id.is_not(None)).limit(1)
        )
        assert procedure is not None and identity is not None
        new = await open_request(
            session, NewRequest(procedure, identity, identity.citizen_id, "Prueba"), "SMA"
        )
        conversation = await session.scalar(
            select(Conversation).where(Conversation.identity_id == identity.id)
        )
        assert conversation is not None
        rating = Rating(subject="request", request_id=new.id, conversation_id=conversation.id,
                        channel=identity.channel)  # fmt: skip
        visit = BotSession(conversation_id=conversation.id, channel=identity.channel)
        session.add_all([rating, visit])
        await session.flush()
        assert new.folio not in folios
        year = utcnow().year
        this_year = [int(f.rsplit("-", 1)[1]) for f in folios if f"-{year}-" in f]
        assert int(new.folio.rsplit("-", 1)[1]) == max(this_year, default=0) + 1
        assert new.id > largest["requests"]
        assert rating.id > largest["ratings"] and visit.id > largest["bot_sessions"]


async def test_timestamps_follow_each_other_as_the_app_writes_them(
    db: Database, settings: Settings
) -> None:
    await _generate(db, settings, ratings=600, months=6)
    now = utcnow()
    days = timedelta(days=settings.evaluation.survey_days)
    async with db.transaction() as session:
        requests = {r.id: r for r in await session.scalars(select(Request))}
        handoffs = {h.id: h for h in await session.scalars(select(Handoff))}
        for request in requests.values():
            assert request.created_at < now
            assert request.due_at is None or request.due_at > request.created_at
            if request.resolved_at is not None:
                assert request.created_at < request.resolved_at < now
                assert request.status in ("resolved", "rejected")
            else:
                assert request.status in ("received", "in_progress")
            moments = [e.at for e in request.events]
            assert moments == sorted(moments) and moments[0] == request.created_at
        for handoff in handoffs.values():
            claimed = handoff.claimed_at or handoff.created_at
            assert handoff.created_at <= claimed < now
            assert handoff.closed_at is None or claimed <= handoff.closed_at < now
            assert (handoff.closed_at is None) == (handoff.status != "closed")
        for rating in await session.scalars(select(Rating)):
            if rating.request_id is not None:
                request = requests[rating.request_id]
                if not request.reopened:  # a reopened request was surveyed the first time
                    assert rating.asked_at >= request.resolved_at
            else:
                assert rating.asked_at >= handoffs[rating.handoff_id].closed_at
            if rating.answered_at is not None:
                assert rating.asked_at < rating.answered_at <= rating.asked_at + days
                assert rating.answered_at < now and rating.score in range(1, 6)
            else:
                assert rating.score is None
            if rating.reminded_at is not None:
                assert rating.asked_at < rating.reminded_at < now
        for visit in await session.scalars(select(BotSession)):
            assert visit.started_at <= visit.last_at < now
        for asked, answered in await session.execute(
            select(AnswerFeedback.asked_at, AnswerFeedback.answered_at)
        ):
            assert answered is None or asked < answered < now


async def test_some_procedures_are_clearly_rated_worse_than_others(
    db: Database, settings: Settings
) -> None:
    await _generate(db, settings, ratings=3000)
    async with db.transaction() as session:
        rows = (await session.execute(
            select(Rating.procedure_id, func.avg(Rating.score), func.count(Rating.score))
            .where(Rating.subject == "request", Rating.score.is_not(None))
            .group_by(Rating.procedure_id)
        )).all()  # fmt: skip
        answered = await session.scalar(select(func.count(Rating.score)))
        dimensions = await session.scalar(select(func.count()).select_from(RatingDimensionScore))
    means = [float(mean) for _, mean, count in rows if count >= 10]
    assert len(means) >= 4
    assert min(means) <= max(means) - 1.0
    assert 0.35 <= answered / 3000 <= 0.7  # the response rate of real surveys
    assert dimensions > 0


async def test_it_refuses_a_database_with_history_unless_appending(
    db: Database, settings: Settings
) -> None:
    await _generate(db, settings, ratings=100)
    with pytest.raises(DemoRefused) as refused:
        await generate(db, settings, DemoOptions(ratings=100))
    assert refused.value.counts["calificaciones"] == 100
    await generate(db, settings, DemoOptions(ratings=100, seed=7, append=True))
    assert await _count(db, Rating) == 200
    async with db.transaction() as session:
        folios = list(await session.scalars(select(Request.folio)))
        curps = list(await session.scalars(select(Citizen.curp)))
        events = defaultdict(int)
        for request_id in await session.scalars(select(RequestEvent.request_id)):
            events[request_id] += 1
    assert len(set(folios)) == len(folios) == 40
    assert len(set(curps)) == len(curps)
    assert len(events) == 40


def test_the_command_shows_progress_and_a_summary_and_then_refuses(database_url: str) -> None:
    runner = CliRunner()
    args = ["demo-data", "--ratings", "200", "--months", "3", "--database", database_url]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "Solicitudes, su historial y sus encuestas" in first.output
    assert "Historial de demostración generado" in first.output
    assert "ratings" in first.output and "200" in first.output
    again = runner.invoke(app, args)
    assert again.exit_code == 1
    assert "ya tiene historial" in again.output and "--append" in again.output
    appended = runner.invoke(app, [*args, "--append", "--seed", "2"])
    assert appended.exit_code == 0, appended.output


def test_the_command_explains_too_few_visits(database_url: str) -> None:
    result = CliRunner().invoke(
        app, ["demo-data", "--ratings", "100", "--conversations", "50", "--database", database_url]
    )
    assert result.exit_code == 2
    assert "--conversations debe ser al menos" in result.output
