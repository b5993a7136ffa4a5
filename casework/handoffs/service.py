"""Handing a conversation to a person, their replies, and handing it back to the bot."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from casework.citizens.models import ChannelIdentity
from casework.conversations.models import Conversation
from casework.handoffs.models import OPEN_STATUSES, Handoff
from casework.outbox.service import enqueue
from casework.ratings.service import ask_about_handoff
from casework.staff.models import StaffUser
from catalog.models import Department
from foundation import texts
from foundation.audit import audit
from foundation.db import rows_changed, utcnow
from foundation.messages import Outbound, reply_window_open


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


async def place_in_queue(session: AsyncSession, handoff: Handoff) -> int:
    """1 for the next to be attended among those waiting for the same department."""
    same_queue = (
        Handoff.department_id.is_(None)
        if handoff.department_id is None
        else Handoff.department_id == handoff.department_id
    )
    ahead = await session.scalar(
        select(func.count())
        .select_from(Handoff)
        .where(Handoff.status == "waiting", same_queue, Handoff.id < handoff.id)
    )
    return int(ahead or 0) + 1


async def claim(session: AsyncSession, handoff: Handoff, staff: StaffUser) -> None:
    """Take a waiting conversation. One conditional UPDATE decides, so of two agents claiming
    at once exactly one wins, on any number of workers."""
    if handoff.agent_id == staff.id and handoff.status == "active":
        return
    now = utcnow()
    taken = await session.execute(
        update(Handoff)
        .where(Handoff.id == handoff.id, Handoff.status == "waiting", Handoff.agent_id.is_(None))
        .values(status="active", agent_id=staff.id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if not rows_changed(taken):
        await session.refresh(handoff)
        if handoff.status not in OPEN_STATUSES:
            raise HandoffError("esta conversación ya se cerró")
        raise HandoffError("otra persona ya atiende esta conversación")
    handoff.status, handoff.agent_id, handoff.claimed_at = "active", staff.id, now
    await audit(
        session,
        staff,
        "handoff.claim",
        "handoff",
        handoff.id,
        {"status": "waiting", "agent_id": None},
        {"status": "active", "agent_id": staff.id},
    )


def _in_scope(departments: Collection[str] | None) -> Any:
    """Handoffs a staff member with this department scope may see (None: all). A handoff with
    no department (the citizen asked for a person before naming any procedure) is the shared
    front-desk queue: every agent sees it."""
    if departments is None:
        return true()
    return or_(Handoff.department_id.is_(None), Handoff.department_id.in_(departments))


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
    before = {"status": handoff.status, "agent_id": handoff.agent_id}
    await claim(session, handoff, staff)  # the first reply takes the conversation
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


@dataclass(frozen=True)
class InboxRow:
    """One open conversation as the escalation inbox shows it."""

    id: int
    status: str
    reason: str
    waiting_since: datetime
    channel: str
    department: str | None
    agent: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "status": self.status,
            "reason": self.reason,
            "waiting_since": self.waiting_since.isoformat(),
            "channel": self.channel,
            "department": self.department,
            "agent": self.agent,
        }


async def inbox(
    session: AsyncSession, departments: Collection[str] | None = None
) -> list[InboxRow]:
    """Open conversations within a department scope (None: all), the longest waiting first."""
    rows = await session.execute(
        select(Handoff, ChannelIdentity.channel, Department.name, StaffUser)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .join(ChannelIdentity, ChannelIdentity.id == Conversation.identity_id)
        .outerjoin(Department, Department.id == Handoff.department_id)
        .outerjoin(StaffUser, StaffUser.id == Handoff.agent_id)
        .where(Handoff.status.in_(OPEN_STATUSES), _in_scope(departments))
        .order_by(Handoff.created_at, Handoff.id)
    )
    return [
        InboxRow(
            id=handoff.id,
            status=handoff.status,
            reason=handoff.reason[:160],
            waiting_since=handoff.created_at,
            channel=channel,
            department=department,
            agent=(agent.full_name or agent.username) if agent else None,
        )
        for handoff, channel, department, agent in rows
    ]
