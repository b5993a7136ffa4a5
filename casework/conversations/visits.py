"""Visits (bot sessions): what the bot indicators count. A citizen's messages belong to one
visit until they pause for longer than the session gap; each handled turn is one write."""

from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from casework.conversations.models import BotSession, Conversation


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
        visit = BotSession(
            conversation_id=conversation.id,
            channel=channel,
            started_at=now,
            last_at=now,
            messages=1,
            not_understood=not_understood,
            handed_off=handed_off,
            procedure_id=procedure_id,
        )
        session.add(visit)
        await session.flush()
        conversation.bot_session_id = visit.id
        return
    await session.execute(
        update(BotSession)
        .where(BotSession.id == conversation.bot_session_id)
        .values(
            messages=BotSession.messages + 1,
            not_understood=BotSession.not_understood + not_understood,
            handed_off=BotSession.handed_off | handed_off,
            last_at=now,
            procedure_id=func.coalesce(procedure_id, BotSession.procedure_id),
        )
    )
