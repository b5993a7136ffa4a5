"""Erasing a citizen's personal data on request (derechos ARCO, LGPDPPSO).

Personal data goes: the CURP, descriptions, locations and photos of their requests, rating
comments, the transcript of the conversation and the link between chats and citizen. What
stays is anonymous: each request's procedure, status and dates, and each rating's score, so
aggregate indicators keep counting.
"""

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from casework.citizens.models import ChannelIdentity, Citizen, LinkCode
from casework.conversations.models import Conversation, Message
from casework.ratings.models import Rating
from casework.requests.models import Request
from casework.staff.service import audit

ERASED = "[eliminado]"


async def erase(
    session: AsyncSession, identity: ChannelIdentity, conversation: Conversation
) -> None:
    citizen_id = identity.citizen_id
    identities = [identity.id]
    if citizen_id is not None:
        identities = list(
            await session.scalars(
                select(ChannelIdentity.id).where(ChannelIdentity.citizen_id == citizen_id)
            )
        ) or [identity.id]
        identities = sorted({*identities, identity.id})
    mine = [Request.identity_id.in_(identities)]
    if citizen_id is not None:
        mine.append(Request.citizen_id == citizen_id)
    await session.execute(
        update(Request)
        .where(or_(*mine))
        .values(description=ERASED, location=None, photo=None, citizen_id=None, identity_id=None)
    )
    conversations = select(Conversation.id).where(Conversation.identity_id.in_(identities))
    rating_owner = [Rating.conversation_id.in_(conversations)]
    if citizen_id is not None:
        rating_owner.append(Rating.citizen_id == citizen_id)
    await session.execute(
        update(Rating).where(or_(*rating_owner)).values(comment=None, citizen_id=None)
    )
    await session.execute(
        update(Message)
        .where(Message.conversation_id.in_(conversations))
        .values(text=ERASED, payload={})
    )
    await session.execute(
        update(ChannelIdentity)
        .where(ChannelIdentity.id.in_(identities))
        .values(citizen_id=None, display_name=None)
    )
    if citizen_id is not None:
        await session.execute(
            update(LinkCode).where(LinkCode.citizen_id == citizen_id).values(code_hash=ERASED)
        )
        await session.execute(
            update(Citizen)
            .where(Citizen.id == citizen_id)
            .values(curp=None, name=None, consent_at=None)
        )
    conversation.slots, conversation.consent_at, conversation.last_procedure_id = {}, None, None
    conversation.state = "idle"
    await audit(session, None, "citizen.erase", "channel_identity", identity.id, None, None)
