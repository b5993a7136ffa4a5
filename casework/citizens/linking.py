"""Linking a second chat to a citizen: a one-time code sent to a chat already linked.

Until the code is typed back, the new chat sees none of that citizen's requests.
"""

import hashlib
import secrets
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casework import texts
from casework.citizens.models import ChannelIdentity, Citizen, LinkCode
from casework.conversations.service import conversation_for
from casework.db import utcnow
from casework.messages import Outbound
from casework.outbox.service import enqueue

VALID_FOR = timedelta(minutes=10)
MAX_ATTEMPTS = 5


class LinkResult(StrEnum):
    linked = "linked"
    wrong = "wrong"
    expired = "expired"  # also: too many attempts, or no code asked


def _hash(link_id: int, code: str) -> str:
    return hashlib.sha256(f"{link_id}:{code}".encode()).hexdigest()


async def linked_elsewhere(
    session: AsyncSession, identity: ChannelIdentity, citizen: Citizen
) -> ChannelIdentity | None:
    """A chat already linked to the citizen, other than this one (the newest)."""
    return await session.scalar(
        select(ChannelIdentity)
        .where(ChannelIdentity.citizen_id == citizen.id, ChannelIdentity.id != identity.id)
        .order_by(ChannelIdentity.id.desc())
        .limit(1)
    )


async def send_code(
    session: AsyncSession, identity: ChannelIdentity, citizen: Citizen, to: ChannelIdentity
) -> None:
    """Create a code for `identity` and send it to the citizen's chat `to`."""
    code = f"{secrets.randbelow(10**6):06d}"
    link = LinkCode(
        identity_id=identity.id,
        citizen_id=citizen.id,
        code_hash="-",
        expires_at=utcnow() + VALID_FOR,
    )
    session.add(link)
    await session.flush()
    link.code_hash = _hash(link.id, code)
    conversation = await conversation_for(session, to)
    text = texts.t("link.code", code=code, channel=texts.label("channel", identity.channel))
    await enqueue(session, to, conversation.id, Outbound(text))


async def confirm(session: AsyncSession, identity: ChannelIdentity, code: str) -> LinkResult:
    link = await session.scalar(
        select(LinkCode)
        .where(LinkCode.identity_id == identity.id, LinkCode.used_at.is_(None))
        .order_by(LinkCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    if link is None or link.expires_at < utcnow() or link.attempts >= MAX_ATTEMPTS:
        return LinkResult.expired
    link.attempts += 1
    if not secrets.compare_digest(link.code_hash, _hash(link.id, code.strip())):
        return LinkResult.wrong if link.attempts < MAX_ATTEMPTS else LinkResult.expired
    link.used_at = utcnow()
    identity.citizen_id = link.citizen_id
    return LinkResult.linked
