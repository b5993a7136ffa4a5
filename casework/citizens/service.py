"""Finding chat identities, checking CURPs and tying identities to citizens."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.mx import curp as stdnum_curp

from casework.citizens.models import ChannelIdentity, Citizen
from foundation.db import insert_ignore


@dataclass(frozen=True)
class CurpCheck:
    curp: str
    problem: str | None  # a key under curp.* in the texts file, None when valid


def check_curp(text: str) -> CurpCheck:
    """Validate a CURP with python-stdnum: length, format, birth date, state and check digit."""
    candidate = stdnum_curp.compact(text)
    try:
        return CurpCheck(stdnum_curp.validate(candidate), None)
    except InvalidLength:
        return CurpCheck(candidate, "length")
    except InvalidChecksum:
        return CurpCheck(candidate, "checksum")
    except InvalidComponent:
        return CurpCheck(candidate, "component")
    except InvalidFormat:
        return CurpCheck(candidate, "format")


def mask_curp(curp: str) -> str:
    return curp[:4] + "*" * 10 + curp[-4:]


async def identity_at(session: AsyncSession, channel: str, address: str) -> ChannelIdentity | None:
    """The identity of a chat on a channel, if it ever wrote; nothing is created."""
    return await session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.address == address
        )
    )


async def identity_for(
    session: AsyncSession, channel: str, address: str, display_name: str | None = None
) -> ChannelIdentity:
    """The identity for a chat on a channel, created on first contact."""
    identity = await identity_at(session, channel, address)
    if identity is None:  # first contact; a concurrent first contact may win the insert
        values = {"channel": channel, "address": address, "display_name": display_name}
        await insert_ignore(session, ChannelIdentity, values)
        identity = await identity_at(session, channel, address)
    assert identity is not None
    return identity


async def citizen_by_curp(session: AsyncSession, curp: str) -> Citizen | None:
    return await session.scalar(select(Citizen).where(Citizen.curp == curp))


async def attach_curp(
    session: AsyncSession, identity: ChannelIdentity, curp: str, consent_at: datetime | None
) -> Citizen:
    """The citizen with this CURP, created if new.

    A new CURP is linked to this identity, which from then on sees that citizen's requests.
    A CURP already known from another identity is *not* linked here: that takes the one-time
    code of casework.citizens.linking. Until then, this identity only sees the requests it
    opened itself.
    """
    citizen = await citizen_by_curp(session, curp)
    if citizen is None:
        citizen = Citizen(curp=curp, consent_at=consent_at)
        session.add(citizen)
        await session.flush()
    linked = await session.scalar(
        select(ChannelIdentity.id).where(ChannelIdentity.citizen_id == citizen.id).limit(1)
    )
    if linked is None:  # nobody else holds this CURP: this chat is its first
        identity.citizen_id = citizen.id
    return citizen
