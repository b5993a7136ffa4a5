"""Putting a case's chat in the state its `setup:` describes, through the domain's own code:
the real folio service for requests, the staff status change (which asks for the rating when
a request is resolved), the CURP attachment a confirmed request does."""

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rehearsal.script import Case, Setup
from casework.citizens.models import ChannelIdentity
from casework.citizens.service import attach_curp, identity_for
from casework.conversations.service import conversation_at
from casework.requests.models import Request
from casework.requests.service import NewRequest, change_status, open_request
from casework.staff.accounts import create_user, generate_password
from casework.staff.models import StaffUser
from catalog.service import get_procedure
from foundation.db import utcnow
from foundation.settings import Settings

CHAT = "ensayo"  # the address of the case's citizen on the case's channel
OTHER_CHAT = "ensayo-otra-persona"
ELSEWHERE_CHAT = "ensayo-otro-canal"
OTHER_CURP = "PEGL800101MDFRRR08"  # fictional, valid: the other person's
STAFF = "ensayo"  # the agent who changes request statuses in setups
EARLIER = timedelta(days=1)  # when a chat with a setup history last wrote


@dataclass
class Prepared:
    """What the steps need from the setup."""

    folios: list[str] = field(default_factory=list)  # setup.requests, in order
    other_folio: str | None = None
    last_request_id: int = 0  # requests up to this id were opened by the setup


async def add_staff(session: AsyncSession) -> None:
    """The agent setups act as (once, in the template database)."""
    await create_user(session, STAFF, generate_password(), "agent", "Pruebas de conversación")


async def apply(session: AsyncSession, settings: Settings, case: Case) -> Prepared:
    setup, now = case.setup, utcnow()
    prepared = Prepared()
    if setup.linked_elsewhere is not None:
        elsewhere = await identity_for(session, setup.linked_elsewhere.channel, ELSEWHERE_CHAT)
        await attach_curp(session, elsewhere, setup.linked_elsewhere.curp, now)
    if _has_history(setup):
        identity, conversation = await conversation_at(session, case.channel, CHAT)
        conversation.consent_at = now
        conversation.last_inbound_at = now - EARLIER
        if setup.curp is not None:
            await attach_curp(session, identity, setup.curp, now)
        for item in setup.requests:
            request = await _open(session, settings, identity, item.procedure)
            if item.status != "received":
                await change_status(session, request, await _staff(session), item.status)
            prepared.folios.append(request.folio)
        if setup.survey is not None:
            request = await _open(session, settings, identity, setup.survey)
            await change_status(session, request, await _staff(session), "resolved")
    if setup.other_person_request is not None:
        other = await identity_for(session, case.channel, OTHER_CHAT)
        await attach_curp(session, other, OTHER_CURP, now)
        request = await _open(session, settings, other, setup.other_person_request)
        prepared.other_folio = request.folio
    prepared.last_request_id = await session.scalar(select(func.max(Request.id))) or 0
    return prepared


def _has_history(setup: Setup) -> bool:
    """Whether the case's chat wrote before (and gave its consent) in the setup."""
    return bool(setup.consented or setup.curp or setup.requests or setup.survey)


async def _open(
    session: AsyncSession, settings: Settings, identity: ChannelIdentity, procedure_id: str
) -> Request:
    procedure = await get_procedure(session, procedure_id)
    assert procedure is not None  # checked against the catalogue before any case runs
    new = NewRequest(procedure=procedure, identity=identity, citizen_id=identity.citizen_id)
    return await open_request(session, new, settings.folio_prefix)


async def _staff(session: AsyncSession) -> StaffUser:
    staff = await session.scalar(select(StaffUser).where(StaffUser.username == STAFF))
    assert staff is not None
    return staff
