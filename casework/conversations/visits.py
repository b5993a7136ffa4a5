"""Visits (bot sessions): what the bot indicators count. A citizen's messages belong to one
visit until they pause for longer than the session gap; each handled turn is one write."""

from datetime import datetime, timedelta

from sqlalchemy import Boolean, Integer, String, bindparam, func, insert, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from casework.conversations.models import BotSession, Conversation
from foundation.db import UTCDateTime, table_of


async def record_turn(
    session: AsyncSession,
    conversation: Conversation,
    channel: str,
    previous_at: datetime | None,
    now: datetime,
    gap: timedelta,
    *,
    understood: bool,
    handed_off: bool,
) -> None:
    """Count one message the bot handled in the citizen's current visit, starting a new visit
    after a pause longer than `gap`. `previous_at` is when the citizen wrote before this."""
    not_understood = 0 if understood else 1
    procedure_id = conversation.last_procedure_id
    if conversation.bot_session_id is None or previous_at is None or now - previous_at > gap:
        visit = {
            "conversation_id": conversation.id,
            "channel": channel,
            "started_at": now,
            "last_at": now,
            "messages": 1,
            "not_understood": not_understood,
            "handed_off": handed_off,
            "procedure_id": procedure_id,
        }
        # The conversation's changes are written once, with the new visit's id, at the commit.
        with session.no_autoflush:
            conversation.bot_session_id = await session.scalar(_START_VISIT, visit)
        return
    values = {
        "visit": conversation.bot_session_id,
        "not_understood": not_understood,
        "handed_off": handed_off,
        "now": now,
        "procedure_id": procedure_id,
    }
    await session.execute(_COUNT_TURN, values)


# Built once with named parameters: this runs on nearly every message.
_visits = table_of(BotSession).c
_START_VISIT = insert(table_of(BotSession)).returning(_visits.id)
_COUNT_TURN = (
    update(table_of(BotSession))
    .where(_visits.id == bindparam("visit"))
    .values(
        messages=_visits.messages + 1,
        not_understood=_visits.not_understood + bindparam("not_understood", type_=Integer),
        handed_off=or_(_visits.handed_off, bindparam("handed_off", type_=Boolean)),
        last_at=bindparam("now", type_=UTCDateTime),
        procedure_id=func.coalesce(bindparam("procedure_id", type_=String), _visits.procedure_id),
    )
)
