"""Hand-built rows for the indicator tests: ratings, requests, visits, handoffs, feedback."""

from datetime import datetime, timedelta
from itertools import count

from sqlalchemy.ext.asyncio import AsyncSession

from casework.citizens.models import ChannelIdentity
from casework.conversations.models import BotSession, Conversation
from casework.handoffs.models import Handoff
from casework.ratings.models import AnswerFeedback, Rating
from casework.requests.models import Request

_serial = count(1)

# The sample catalogue's departments of the procedures used in the tests.
DEPARTMENT = {
    "pago-predial": "catastro",
    "avaluo-catastral": "catastro",
    "constancia-residencia": "secretaria-ayuntamiento",
    "constancia-identidad": "secretaria-ayuntamiento",
    "reporte-bache": "obras-publicas",
    "reporte-luminaria": "servicios-publicos",
}


async def conversation(session: AsyncSession, channel: str = "web") -> int:
    identity = ChannelIdentity(channel=channel, address=f"seed-{next(_serial)}")
    session.add(identity)
    await session.flush()
    conv = Conversation(identity_id=identity.id)
    session.add(conv)
    await session.flush()
    return conv.id


async def rating(
    session: AsyncSession,
    asked_at: datetime,
    score: int | None,
    procedure_id: str = "pago-predial",
    channel: str = "web",
    comment: str | None = None,
) -> Rating:
    row = Rating(
        subject="request",
        conversation_id=await conversation(session, channel),
        procedure_id=procedure_id,
        department_id=DEPARTMENT[procedure_id],
        channel=channel,
        score=score,
        comment=comment,
        asked_at=asked_at,
        answered_at=asked_at + timedelta(hours=1) if score is not None else None,
    )
    session.add(row)
    await session.flush()
    return row


async def request(
    session: AsyncSession,
    created_at: datetime,
    procedure_id: str = "pago-predial",
    channel: str = "web",
    status: str = "received",
    resolved_at: datetime | None = None,
    due_at: datetime | None = None,
    reopened: int = 0,
) -> Request:
    n = next(_serial)
    row = Request(
        folio=f"SEED-2026-{n:06d}",
        procedure_id=procedure_id,
        department_id=DEPARTMENT[procedure_id],
        channel=channel,
        status=status,
        created_at=created_at,
        resolved_at=resolved_at,
        due_at=due_at,
        reopened=reopened,
    )
    session.add(row)
    await session.flush()
    return row


async def visit(
    session: AsyncSession,
    started_at: datetime,
    channel: str = "web",
    messages: int = 1,
    not_understood: int = 0,
    handed_off: bool = False,
    procedure_id: str | None = None,
) -> None:
    session.add(
        BotSession(
            conversation_id=await conversation(session, channel),
            channel=channel,
            started_at=started_at,
            last_at=started_at,
            messages=messages,
            not_understood=not_understood,
            handed_off=handed_off,
            procedure_id=procedure_id,
        )
    )
    await session.flush()


async def handoff(
    session: AsyncSession,
    created_at: datetime,
    wait_minutes: float | None,
    channel: str = "web",
    department_id: str | None = None,
) -> None:
    session.add(
        Handoff(
            conversation_id=await conversation(session, channel),
            status="active" if wait_minutes is not None else "waiting",
            department_id=department_id,
            created_at=created_at,
            claimed_at=(
                created_at + timedelta(minutes=wait_minutes) if wait_minutes is not None else None
            ),
        )
    )
    await session.flush()


async def feedback(
    session: AsyncSession,
    asked_at: datetime,
    useful: bool | None,
    procedure_id: str = "pago-predial",
    channel: str = "web",
) -> None:
    session.add(
        AnswerFeedback(
            conversation_id=await conversation(session, channel),
            procedure_id=procedure_id,
            department_id=DEPARTMENT[procedure_id],
            channel=channel,
            asked_at=asked_at,
            answered_at=asked_at if useful is not None else None,
            useful=useful,
        )
    )
    await session.flush()
