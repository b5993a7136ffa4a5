"""Asking for and recording ratings: once per resolved request or closed handoff."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework import texts
from casework.citizens.models import ChannelIdentity
from casework.conversations.models import Conversation
from casework.conversations.service import set_slots
from casework.db import utcnow
from casework.handoffs.models import Handoff
from casework.messages import Choice, Outbound
from casework.outbox.service import enqueue
from casework.ratings.models import Rating
from casework.requests.models import Request
from catalog.models import Procedure

SURVEY_DAYS = 7  # a survey older than this is no longer answered


def score_choices() -> tuple[Choice, ...]:
    return tuple(Choice(texts.label("score", str(n)), f"rate:{n}") for n in range(1, 6))


async def ask_about_request(
    session: AsyncSession, identity: ChannelIdentity, conversation: Conversation, request: Request
) -> Rating | None:
    """Survey a resolved request, unless it was already surveyed."""
    return await _ask(
        session,
        identity,
        conversation,
        Rating.request_id == request.id,
        texts.t("rating.about_request", folio=request.folio),
        subject="request",
        request_id=request.id,
        procedure_id=request.procedure_id,
        department_id=request.department_id,
        citizen_id=request.citizen_id,
    )


async def ask_about_handoff(
    session: AsyncSession, identity: ChannelIdentity, conversation: Conversation, handoff: Handoff
) -> Rating | None:
    """Survey a closed conversation with a person, unless it was already surveyed."""
    return await _ask(
        session,
        identity,
        conversation,
        Rating.handoff_id == handoff.id,
        texts.t("rating.about_handoff"),
        subject="handoff",
        handoff_id=handoff.id,
        department_id=handoff.department_id,
        citizen_id=identity.citizen_id,
    )


async def _ask(
    session: AsyncSession,
    identity: ChannelIdentity,
    conversation: Conversation,
    already: ColumnElement[bool],
    about: str,
    **values: object,
) -> Rating | None:
    if await session.scalar(select(Rating.id).where(already)) is not None:
        return None
    rating = Rating(conversation_id=conversation.id, channel=identity.channel, **values)
    session.add(rating)
    await session.flush()
    choices = score_choices()
    question = Outbound(texts.t("rating.ask", about=about), choices)
    await enqueue(session, identity, conversation.id, question, purpose="survey")
    if conversation.state == "idle":
        set_slots(conversation, choices=[c.as_dict() for c in choices])
    return rating


async def open_survey(session: AsyncSession, conversation_id: int) -> Rating | None:
    """The newest unanswered survey of this conversation that has not expired."""
    return await session.scalar(
        select(Rating)
        .where(
            Rating.conversation_id == conversation_id,
            Rating.answered_at.is_(None),
            Rating.asked_at >= utcnow() - timedelta(days=SURVEY_DAYS),
        )
        .order_by(Rating.id.desc())
        .limit(1)
    )


async def survey_subject(session: AsyncSession, rating: Rating) -> str:
    """What the survey asks about, in the citizen's words."""
    if rating.request_id is not None:
        request = await session.get(Request, rating.request_id)
        assert request is not None
        return texts.t("rating.about_request", folio=request.folio)
    return texts.t("rating.about_handoff")


def record_score(rating: Rating, score: int) -> None:
    if not 1 <= score <= 5:
        raise ValueError("score must be 1-5")
    rating.score = score
    rating.answered_at = utcnow()


@dataclass(frozen=True)
class RatingRow:
    rating: Rating
    procedure_name: str | None
    folio: str | None


async def list_ratings(session: AsyncSession, limit: int = 500) -> list[RatingRow]:
    """Answered ratings, newest first, with what they were about."""
    rows = await session.execute(
        select(Rating, Procedure.name, Request.folio)
        .outerjoin(Procedure, Procedure.id == Rating.procedure_id)
        .outerjoin(Request, Request.id == Rating.request_id)
        .where(Rating.answered_at.is_not(None))
        .order_by(Rating.answered_at.desc())
        .limit(limit)
    )
    return [RatingRow(rating, name, folio) for rating, name, folio in rows]
