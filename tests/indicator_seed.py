"""Hand-built rows for the indicator tests: ratings, requests, visits, handoffs, feedback."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from casework.citizens.models import ChannelIdentity
from casework.conversations.models import BotSession, Conversation
from casework.handoffs.models import Handoff
from casework.indicators.public import last_closed_day
from casework.indicators.scope import last_months, local_today
from casework.ratings.models import AnswerFeedback, Rating
from casework.requests.models import Request
from foundation.db import Database

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


# --- a small recent history for the pages ---------------------------------------------------

TZ = "America/Mexico_City"
SECRET_COMMENT = "Me atendió Juana Pérez, muy amable"


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(TZ)).astimezone(UTC)


def closed_month(settle_days: int = 8) -> date:
    """The first day of the latest month the public page publishes (the default settings:
    surveys answered within 7 days, so a month closes 8 days after it ends)."""
    return last_closed_day(local_today(TZ), settle_days).replace(day=1)


async def seed_history(db: Database, month: date | None = None) -> None:
    """In `month` (by default the current one): pago-predial 6 ratings (5, 5, 5, 4, 2, 1:
    CSAT 4 of 6) and 5 requests resolved with a due date (3 on time); constancia-residencia 3
    ratings of 5; reporte-bache 2 requests resolved late. Five months before, pago-predial had
    5 ratings of 1 and 2: its trend goes up."""
    month = month or local_today(TZ).replace(day=1)
    this_month = local_midnight(month)
    trend_start = local_midnight(last_months(month, 6)[0])
    day = timedelta(days=1)
    async with db.transaction() as s:
        for n, score in enumerate((5, 5, 5, 4, 2, 1)):
            comment = SECRET_COMMENT if n == 0 else None
            await rating(s, this_month, score, "pago-predial", "web", comment)
        for _ in range(3):
            await rating(s, this_month, 5, "constancia-residencia", "telegram")
        for score in (1, 2, 1, 2, 1):
            await rating(s, trend_start, score, "pago-predial")
        opened = this_month - 20 * day
        for late in (False, False, False, True, True):
            await request(
                s,
                opened,
                status="resolved",
                resolved_at=this_month,
                due_at=this_month + (-day if late else day),
            )
        for _ in range(2):
            await request(
                s,
                opened,
                "reporte-bache",
                status="resolved",
                resolved_at=this_month,
                due_at=this_month - day,
            )
