"""The one reminder an unanswered survey may get.

`send_reminders` is run periodically by the app (backoffice/app.py, every
REMINDER_INTERVAL_SECONDS) and by `ventanilla encuestas recordar` for cron. Several workers may
run it at once: each survey is claimed with one conditional UPDATE (`reminded_at IS NULL`), and
only the worker whose UPDATE changed the row queues the reminder, so it is never sent twice.
"""

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from casework.citizens.models import ChannelIdentity
from casework.conversations.models import Conversation
from casework.conversations.service import set_slots
from casework.outbox.service import enqueue
from casework.periodic import repeat
from casework.ratings.models import Rating
from casework.ratings.service import score_choices, survey_subject
from foundation import texts
from foundation.calendar import format_local
from foundation.db import Database, rows_changed, utcnow
from foundation.messages import Outbound
from foundation.settings import EvaluationSettings

REMINDER_INTERVAL_SECONDS = 300  # how often the app looks for surveys to remind
BATCH = 500  # surveys claimed per call at most; the next call takes the rest
log = logging.getLogger(__name__)


async def send_reminders(session: AsyncSession, settings: EvaluationSettings, now: datetime) -> int:
    """Queue one reminder (outbox purpose "survey") for each unanswered, unexpired survey asked
    more than `survey_reminder_hours` ago and not reminded yet (not while a person holds the
    conversation); returns how many were queued.
    The reminders are sent only if the caller's transaction commits."""
    due = now - timedelta(hours=settings.survey_reminder_hours)
    expired = now - timedelta(days=settings.survey_days)
    candidates = await session.scalars(
        select(Rating.id)
        .join(Conversation, Conversation.id == Rating.conversation_id)
        .where(
            Rating.answered_at.is_(None),
            Rating.reminded_at.is_(None),
            Rating.asked_at <= due,
            Rating.asked_at > expired,
            Conversation.state != "handoff",  # a person holds the chat: remind later
        )
        .order_by(Rating.id)
        .limit(BATCH)
    )
    sent = 0
    for rating_id in list(candidates):
        claimed = await session.execute(
            update(Rating)
            .where(
                Rating.id == rating_id,
                Rating.reminded_at.is_(None),
                Rating.answered_at.is_(None),
            )
            .values(reminded_at=now)
        )
        if not rows_changed(claimed):
            continue  # another worker reminded it, or the citizen just answered
        if await _remind(session, settings, rating_id):
            sent += 1
    if sent:
        log.info("%d survey reminder(s) queued", sent)
    return sent


async def _remind(session: AsyncSession, settings: EvaluationSettings, rating_id: int) -> bool:
    rating = await session.get(Rating, rating_id)
    assert rating is not None
    conversation = await session.get(Conversation, rating.conversation_id)
    identity = (
        await session.get(ChannelIdentity, conversation.identity_id) if conversation else None
    )
    if conversation is None or identity is None:
        return False  # nobody left to remind (claimed anyway: it is not tried again)
    choices = score_choices()
    text = texts.t(
        "rating.reminder",
        about=await survey_subject(session, rating),
        closes=format_local(rating.asked_at + timedelta(days=settings.survey_days)),
    )
    await enqueue(session, identity, conversation.id, Outbound(text, choices), purpose="survey")
    if conversation.state == "idle":  # a number typed next picks a score
        set_slots(conversation, choices=[c.as_dict() for c in choices])
    return True


async def run(
    db: Database,
    settings: EvaluationSettings,
    stop: asyncio.Event,
    interval: float = REMINDER_INTERVAL_SECONDS,
) -> None:
    """Send due reminders every `interval` seconds until `stop` is set (the app's lifespan)."""

    async def remind() -> None:
        async with db.transaction() as session:
            await send_reminders(session, settings, utcnow())

    await repeat(remind, interval, stop, "survey reminders")
