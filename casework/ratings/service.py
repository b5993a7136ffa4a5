"""Asking for and recording ratings: once per resolved request or closed handoff; and the
light "¿Te sirvió esta respuesta?" asked after some informational answers."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from casework.citizens.models import ChannelIdentity, Citizen
from casework.conversations.models import Conversation
from casework.conversations.service import set_slots
from casework.handoffs.models import Handoff
from casework.outbox.service import enqueue
from casework.privacy.masking import mask_personal_data
from casework.ratings.models import AnswerFeedback, Rating, RatingDimensionScore
from casework.requests.models import Request
from catalog.models import Procedure
from foundation import texts
from foundation.db import insert_ignore, rows_changed, utcnow
from foundation.messages import Choice, Outbound


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


async def open_survey(
    session: AsyncSession, conversation_id: int, survey_days: int, now: datetime | None = None
) -> Rating | None:
    """The newest unanswered survey of this conversation that has not expired
    (asked less than `survey_days` ago)."""
    now = now or utcnow()
    return await session.scalar(
        select(Rating)
        .where(
            Rating.conversation_id == conversation_id,
            Rating.answered_at.is_(None),
            Rating.asked_at > now - timedelta(days=survey_days),
        )
        .order_by(Rating.id.desc())
        .limit(1)
    )


async def latest_survey(session: AsyncSession, conversation_id: int) -> Rating | None:
    """The newest survey of this conversation, answered, open or expired."""
    return await session.scalar(
        select(Rating)
        .where(Rating.conversation_id == conversation_id)
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


async def record_dimension_score(
    session: AsyncSession, rating: Rating, dimension: str, score: int
) -> bool:
    """The score of one extra dimension; the first answer stays (a repeat changes nothing)."""
    if not 1 <= score <= 5:
        raise ValueError("score must be 1-5")
    values = {"rating_id": rating.id, "dimension": dimension, "score": score}
    return await insert_ignore(session, RatingDimensionScore, values)


async def ask_usefulness(
    session: AsyncSession,
    identity: ChannelIdentity,
    conversation: Conversation,
    procedure: Procedure,
    aspect: str | None,
) -> AnswerFeedback:
    """Record that "¿Te sirvió esta respuesta?" was asked about this answer."""
    feedback = AnswerFeedback(
        conversation_id=conversation.id,
        citizen_id=identity.citizen_id,
        procedure_id=procedure.id,
        department_id=procedure.department_id,
        aspect=aspect,
        channel=identity.channel,
    )
    session.add(feedback)
    await session.flush()
    return feedback


async def record_usefulness(
    session: AsyncSession, feedback_id: int, conversation_id: int, useful: bool
) -> bool:
    """The citizen's Sí/No, once: a second tap (or a tap from another conversation) changes
    nothing. One conditional UPDATE, so two workers cannot both record it."""
    result = await session.execute(
        update(AnswerFeedback)
        .where(
            AnswerFeedback.id == feedback_id,
            AnswerFeedback.conversation_id == conversation_id,
            AnswerFeedback.answered_at.is_(None),
        )
        .values(useful=useful, answered_at=utcnow())
    )
    return rows_changed(result) > 0


@dataclass(frozen=True)
class RatingLine:
    """An answered rating as evaluators see it: no folio, no citizen, the comment masked."""

    answered_at: datetime | None
    subject: str  # "request" | "handoff"
    procedure_name: str | None
    channel: str
    score: int | None
    comment: str  # masked (casework.privacy.masking); "" when there was none


async def answered_ratings(session: AsyncSession, limit: int = 500) -> list[RatingLine]:
    """Answered ratings, newest first, with what they were about."""
    rows = await session.execute(
        select(Rating, Procedure.name, Citizen.name, ChannelIdentity.display_name)
        .outerjoin(Procedure, Procedure.id == Rating.procedure_id)
        .outerjoin(Citizen, Citizen.id == Rating.citizen_id)
        .join(Conversation, Conversation.id == Rating.conversation_id)
        .join(ChannelIdentity, ChannelIdentity.id == Conversation.identity_id)
        .where(Rating.answered_at.is_not(None))
        .order_by(Rating.answered_at.desc())
        .limit(limit)
    )
    return [
        RatingLine(
            rating.answered_at,
            rating.subject,
            procedure_name,
            rating.channel,
            rating.score,
            mask_personal_data(rating.comment or "", (citizen_name, display_name)),
        )
        for rating, procedure_name, citizen_name, display_name in rows
    ]
