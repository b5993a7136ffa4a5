"""Linking a second chat to a citizen: a one-time code sent to a chat already linked.

Until the code is typed back, the new chat sees none of that citizen's requests.

Typing a CURP must not tell anyone whether it is known: the chat that typed it gets the same
sentence whether the CURP is new, known, or linked to another chat (`ask_code`), and the code
goes only to the chat already linked, which is told that another chat asked. That chat gets at
most one live code per asking chat, and a few codes an hour whoever asks.
"""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.citizens.models import ChannelIdentity, Citizen, LinkCode
from casework.citizens.service import citizen_by_curp
from casework.conversations.service import conversation_for
from casework.outbox.service import enqueue
from foundation import texts
from foundation.db import utcnow
from foundation.messages import Outbound

VALID_FOR = timedelta(minutes=10)
MAX_ATTEMPTS = 5
CODE_DIGITS = 6
RATE_WINDOW = timedelta(hours=1)


def _hash(link_id: int, code: str) -> str:
    return hashlib.sha256(f"{link_id}:{code}".encode()).hexdigest()


def looks_like_code(text: str) -> bool:
    """Six ASCII digits ("²".isdigit() is true too)."""
    return len(text) == CODE_DIGITS and text.isascii() and text.isdigit()


async def _linked_elsewhere(
    session: AsyncSession, identity: ChannelIdentity, citizen: Citizen
) -> ChannelIdentity | None:
    """A chat already linked to the citizen, other than this one (the newest)."""
    return await session.scalar(
        select(ChannelIdentity)
        .where(ChannelIdentity.citizen_id == citizen.id, ChannelIdentity.id != identity.id)
        .order_by(ChannelIdentity.id.desc())
        .limit(1)
    )


def _live(identity: ChannelIdentity, citizen_id: int) -> Select[LinkCode]:
    """The codes of `identity` for the citizen that can still be typed, newest first."""
    return (
        select(LinkCode)
        .where(
            LinkCode.identity_id == identity.id,
            LinkCode.citizen_id == citizen_id,
            LinkCode.used_at.is_(None),
            LinkCode.expires_at > utcnow(),
            LinkCode.attempts < MAX_ATTEMPTS,
        )
        .order_by(LinkCode.id.desc())
    )


async def ask_code(
    session: AsyncSession, identity: ChannelIdentity, curp: str, per_hour: int
) -> str:
    """What to tell the chat `identity`, which typed `curp` and is linked to nobody.

    When another chat is linked to that CURP, a code is sent there, unless `identity` already
    has a live one for it (the same code stands) or the citizen got `per_hour` codes in the last
    hour. The answer is the same in every case, so it says nothing about the CURP.
    """
    citizen = await citizen_by_curp(session, curp)
    if citizen is not None:
        await _send_code(session, identity, citizen, per_hour)
    return texts.t("link.asked")


async def _send_code(
    session: AsyncSession, identity: ChannelIdentity, citizen: Citizen, per_hour: int
) -> None:
    # One asker at a time per citizen (PostgreSQL), so two at once cannot both pass the limits.
    await session.scalar(select(Citizen.id).where(Citizen.id == citizen.id).with_for_update())
    to = await _linked_elsewhere(session, identity, citizen)
    if to is None or await session.scalar(_live(identity, citizen.id).limit(1)) is not None:
        return
    # A code is issued VALID_FOR before it expires: codes expiring after this were issued
    # within the last RATE_WINDOW (no column of its own needed).
    issued_since = utcnow() - RATE_WINDOW + VALID_FOR
    recent = await session.scalar(
        select(func.count())
        .select_from(LinkCode)
        .where(LinkCode.citizen_id == citizen.id, LinkCode.expires_at > issued_since)
    )
    if (recent or 0) >= per_hour:
        return
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
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


async def confirm(session: AsyncSession, identity: ChannelIdentity, curp: str, code: str) -> bool:
    """Whether `code` is the live code `identity` got for `curp`; if so the chat is linked.

    Wrong, expired, used up and never sent all answer False: the asker learns nothing more.
    """
    citizen = await citizen_by_curp(session, curp)
    if citizen is None:
        return False
    link = await session.scalar(_live(identity, citizen.id).limit(1).with_for_update())
    if link is None:
        return False
    link.attempts += 1
    if not secrets.compare_digest(link.code_hash, _hash(link.id, code)):
        return False
    link.used_at = utcnow()
    identity.citizen_id = link.citizen_id
    return True
