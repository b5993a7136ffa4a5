"""Loading a conversation for one turn and recording what the citizen said."""

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.citizens.models import ChannelIdentity
from casework.citizens.service import identity_at
from casework.conversations.models import Conversation, Message
from foundation.db import insert_ignore
from foundation.messages import Inbound


async def conversation_for(session: AsyncSession, identity: ChannelIdentity) -> Conversation:
    """The identity's conversation, locked for this turn so two workers never interleave."""
    conversation = await session.scalar(_locked(identity.id))
    return conversation if conversation is not None else await _created(session, identity.id)


def _locked(identity_id: int) -> Select[Conversation]:
    return select(Conversation).where(Conversation.identity_id == identity_id).with_for_update()


async def _created(session: AsyncSession, identity_id: int) -> Conversation:
    """A new conversation for the identity, locked (or the one a concurrent turn created)."""
    await insert_ignore(session, Conversation, {"identity_id": identity_id, "slots": {}})
    conversation = await session.scalar(_locked(identity_id))
    assert conversation is not None
    return conversation


async def conversation_at(
    session: AsyncSession, channel: str, address: str, display_name: str | None = None
) -> tuple[ChannelIdentity, Conversation]:
    """The chat's identity and its conversation, locked for this turn; one query for a chat
    seen before, created on first contact."""
    query = (
        select(ChannelIdentity, Conversation)
        .join(Conversation, Conversation.identity_id == ChannelIdentity.id)
        .where(ChannelIdentity.channel == channel, ChannelIdentity.address == address)
        .with_for_update(of=Conversation)
    )
    row = (await session.execute(query)).first()
    if row is not None:
        identity, conversation = row
        return identity, conversation
    # First contact (or a chat whose conversation was erased): create what is missing; a
    # concurrent first contact may win either insert.
    values = {"channel": channel, "address": address, "display_name": display_name}
    await insert_ignore(session, ChannelIdentity, values)
    created = await identity_at(session, channel, address)
    assert created is not None
    return created, await _created(session, created.id)


async def record_inbound(
    session: AsyncSession, conversation: Conversation, inbound: Inbound
) -> bool:
    """Store the citizen's message; False when this exact delivery was already stored (the
    unique dedup key decides, so it holds across workers and restarts). The caller sets
    `conversation.last_inbound_at`."""
    payload: dict[str, Any] = {}
    if inbound.location:
        payload["location"] = {
            "latitude": inbound.location.latitude,
            "longitude": inbound.location.longitude,
            "address": inbound.location.address,
        }
    if inbound.media:
        payload["media"] = inbound.media
    values = {
        "conversation_id": conversation.id,
        "direction": "in",
        "sender": "citizen",
        "kind": inbound.kind,
        "text": inbound.text,
        "payload": payload,
        "dedup_key": f"{inbound.channel}:{inbound.external_id}" if inbound.external_id else None,
    }
    return await insert_ignore(session, Message, values)


async def transcript(
    session: AsyncSession, conversation_id: int, limit: int = 200
) -> list[Message]:
    rows = await session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


def set_slots(conversation: Conversation, **changes: Any) -> None:
    """Update dialogue slots (JSON columns need a new object to be saved)."""
    slots = dict(conversation.slots or {})
    for key, value in changes.items():
        if value is None:
            slots.pop(key, None)
        else:
            slots[key] = value
    conversation.slots = slots


async def last_heard_from(session: AsyncSession, identity: ChannelIdentity) -> datetime | None:
    """When the chat last wrote (None: never), e.g. for a channel's reply window."""
    query = select(Conversation.last_inbound_at).where(Conversation.identity_id == identity.id)
    last: datetime | None = await session.scalar(query)
    return last
