"""Handing a conversation to a person, their replies, and handing it back to the bot."""

from collections.abc import Collection
from typing import Any

from sqlalchemy import or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from casework import texts
from casework.citizens.models import ChannelIdentity
from casework.conversations.models import Conversation
from casework.db import utcnow
from casework.handoffs.models import OPEN_STATUSES, Handoff
from casework.messages import Outbound, reply_window_open
from casework.outbox.service import enqueue
from casework.ratings.service import ask_about_handoff
from casework.staff.models import StaffUser
from casework.staff.service import audit


class HandoffError(ValueError):
    pass


async def open_for(session: AsyncSession, conversation_id: int) -> Handoff | None:
    return await session.scalar(
        select(Handoff).where(
            Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN_STATUSES)
        )
    )


async def request_person(
    session: AsyncSession, conversation: Conversation, reason: str, department_id: str | None
) -> Handoff:
    """Open a handoff (or return the one already open); the bot goes quiet meanwhile."""
    handoff = await open_for(session, conversation.id)
    if handoff is None:
        handoff = Handoff(
            conversation_id=conversation.id, reason=reason[:1000], department_id=department_id
        )
        session.add(handoff)
        await session.flush()
    conversation.state = "handoff"
    return handoff


def _in_scope(departments: Collection[str] | None) -> Any:
    """Handoffs a staff member with this department scope may see (None: all). A handoff with
    no department (the citizen asked for a person before naming any procedure) is the shared
    front-desk queue: every agent sees it."""
    if departments is None:
        return true()
    return or_(Handoff.department_id.is_(None), Handoff.department_id.in_(departments))


async def list_open(
    session: AsyncSession, departments: Collection[str] | None = None
) -> list[Handoff]:
    rows = await session.scalars(
        select(Handoff)
        .where(Handoff.status.in_(OPEN_STATUSES), _in_scope(departments))
        .order_by(Handoff.created_at)
    )
    return list(rows)


async def get_for_staff(
    session: AsyncSession, handoff_id: int, departments: Collection[str] | None = None
) -> Handoff | None:
    """The handoff, locked for change, if it exists and is within the department scope."""
    return await session.scalar(
        select(Handoff).where(Handoff.id == handoff_id, _in_scope(departments)).with_for_update()
    )


async def _parties(session: AsyncSession, handoff: Handoff) -> tuple[Conversation, ChannelIdentity]:
    conversation = await session.get(Conversation, handoff.conversation_id, with_for_update=True)
    assert conversation is not None
    identity = await session.get(ChannelIdentity, conversation.identity_id)
    assert identity is not None
    return conversation, identity


async def reply(session: AsyncSession, handoff: Handoff, staff: StaffUser, text: str) -> None:
    """An agent's message to the citizen; the first reply takes the conversation."""
    text = text.strip()
    if not text:
        raise HandoffError("el mensaje está vacío")
    if handoff.status not in OPEN_STATUSES:
        raise HandoffError("esta conversación ya se cerró")
    if handoff.agent_id not in (None, staff.id):
        raise HandoffError("otra persona atiende esta conversación")
    before = {"status": handoff.status, "agent_id": handoff.agent_id}
    if handoff.status == "waiting":
        handoff.status, handoff.agent_id, handoff.claimed_at = "active", staff.id, utcnow()
    conversation, identity = await _parties(session, handoff)
    reply_ = Outbound(text, sender="agent")
    await enqueue(session, identity, conversation.id, reply_, staff.id, "agent")
    after = {"status": handoff.status, "agent_id": handoff.agent_id, "text": text}
    await audit(session, staff, "handoff.reply", "handoff", handoff.id, before, after)


async def close(session: AsyncSession, handoff: Handoff, staff: StaffUser) -> None:
    """Hand the conversation back to the bot, which then asks for a rating."""
    if handoff.status not in OPEN_STATUSES:
        raise HandoffError("esta conversación ya se cerró")
    before = {"status": handoff.status, "agent_id": handoff.agent_id}
    handoff.status, handoff.closed_at = "closed", utcnow()
    handoff.agent_id = handoff.agent_id or staff.id
    conversation, identity = await _parties(session, handoff)
    conversation.state = "idle"
    await enqueue(session, identity, conversation.id, Outbound(texts.t("handoff.closed")))
    await ask_about_handoff(session, identity, conversation, handoff)
    after = {"status": "closed", "agent_id": handoff.agent_id}
    await audit(session, staff, "handoff.close", "handoff", handoff.id, before, after)


async def reply_window_closed(session: AsyncSession, handoff: Handoff) -> bool:
    """Whether the citizen's channel no longer accepts free-form replies (WhatsApp, 24 h)."""
    conversation = await session.get(Conversation, handoff.conversation_id)
    assert conversation is not None
    identity = await session.get(ChannelIdentity, conversation.identity_id)
    assert identity is not None
    return not reply_window_open(identity.channel, conversation.last_inbound_at, utcnow())
