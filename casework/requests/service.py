"""Opening requests, giving folios, changing status and telling the citizen."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from casework.citizens.models import ChannelIdentity
from casework.conversations.service import conversation_for
from casework.outbox.service import enqueue
from casework.ratings.service import ask_about_request
from casework.requests.models import CLOSED_STATUSES, STATUSES, FolioCounter, Request, RequestEvent
from casework.staff.models import StaffUser
from catalog.models import Procedure
from foundation import texts
from foundation.audit import audit
from foundation.calendar import due_at, format_local, local_midnight
from foundation.db import insert_ignore, utcnow
from foundation.messages import Outbound


class RequestError(ValueError):
    pass


async def next_folio(session: AsyncSession, prefix: str, year: int) -> str:
    """`PREFIX-YEAR-NNNNNN`, numbered per year; the counter row serialises concurrent openers."""
    await insert_ignore(session, FolioCounter, {"year": year, "last": 0})
    number = await session.scalar(
        update(FolioCounter)
        .where(FolioCounter.year == year)
        .values(last=FolioCounter.last + 1)
        .returning(FolioCounter.last)
    )
    return f"{prefix}-{year}-{number:06d}"


@dataclass(frozen=True)
class NewRequest:
    procedure: Procedure
    identity: ChannelIdentity
    citizen_id: int | None
    description: str = ""
    location: dict[str, Any] | None = None
    photo: str | None = None


async def open_request(session: AsyncSession, new: NewRequest, folio_prefix: str) -> Request:
    if not new.procedure.request_enabled:
        raise RequestError(f"procedure {new.procedure.id} does not take requests")
    now = utcnow()
    request = Request(
        folio=await next_folio(session, folio_prefix, now.year),
        procedure_id=new.procedure.id,
        department_id=new.procedure.department_id,
        citizen_id=new.citizen_id,
        identity_id=new.identity.id,
        description=new.description,
        location=new.location,
        photo=new.photo,
        channel=new.identity.channel,
        created_at=now,
        due_at=due_at(now, new.procedure.response_days)
        if new.procedure.response_days is not None
        else None,
    )
    session.add(request)
    await session.flush()
    session.add(RequestEvent(request_id=request.id, to_status="received", public=True))
    await session.flush()
    return request


def _visible_to(identity: ChannelIdentity) -> Any:
    """Only the citizen sees their own requests: those opened from this identity, or those of
    the citizen this identity is linked to."""
    clauses = [Request.identity_id == identity.id]
    if identity.citizen_id is not None:
        clauses.append(Request.citizen_id == identity.citizen_id)
    return or_(*clauses)


async def visible_requests(
    session: AsyncSession, identity: ChannelIdentity, limit: int = 10
) -> list[Request]:
    rows = await session.scalars(
        select(Request).where(_visible_to(identity)).order_by(Request.id.desc()).limit(limit)
    )
    return list(rows)


async def find_visible(
    session: AsyncSession, identity: ChannelIdentity, folio: str
) -> Request | None:
    return await session.scalar(
        select(Request).where(Request.folio == folio.upper(), _visible_to(identity))
    )


async def get_by_folio(
    session: AsyncSession, folio: str, departments: Collection[str] | None = None
) -> Request | None:
    """The request with this folio; with `departments` (a staff member's scope, None for
    all), only if it belongs to one of them, so another department's folio looks unknown."""
    query = select(Request).where(Request.folio == folio)
    if departments is not None:
        query = query.where(Request.department_id.in_(departments))
    return await session.scalar(query)


@dataclass(frozen=True)
class QueueFilter:
    """What the request queue shows; every field left empty means no filter."""

    status: str | None = None
    procedure_id: str | None = None
    department_ids: tuple[str, ...] | None = None  # None: every department
    overdue_only: bool = False
    assigned_to_id: int | None = None
    opened_from: date | None = None  # local dates, inclusive
    opened_to: date | None = None


async def list_requests(
    session: AsyncSession,
    filters: QueueFilter = QueueFilter(),
    limit: int = 200,
    scope: Collection[str] | None = None,
) -> list[Request]:
    """The queue, the nearest due date first (requests without one last), within a staff
    member's department `scope` (None: every department)."""
    query = select(Request).order_by(Request.due_at.is_(None), Request.due_at, Request.id)
    if scope is not None:
        query = query.where(Request.department_id.in_(scope))
    if filters.status:
        query = query.where(Request.status == filters.status)
    if filters.procedure_id:
        query = query.where(Request.procedure_id == filters.procedure_id)
    if filters.department_ids is not None:
        query = query.where(Request.department_id.in_(filters.department_ids))
    if filters.assigned_to_id is not None:
        query = query.where(Request.assigned_to_id == filters.assigned_to_id)
    if filters.overdue_only:
        query = query.where(Request.status.not_in(CLOSED_STATUSES), Request.due_at < utcnow())
    if filters.opened_from:
        query = query.where(Request.created_at >= local_midnight(filters.opened_from))
    if filters.opened_to:
        query = query.where(
            Request.created_at < local_midnight(filters.opened_to + timedelta(days=1))
        )
    return list(await session.scalars(query.limit(limit)))


async def assign(
    session: AsyncSession, request: Request, staff: StaffUser, assignee: StaffUser | None
) -> None:
    """Give the request to a staff member (or to nobody); recorded in its timeline."""
    before = {"assigned_to": request.assigned_to.username if request.assigned_to else None}
    request.assigned_to_id = assignee.id if assignee else None
    request.assigned_to = assignee
    session.add(
        RequestEvent(
            request_id=request.id,
            public=False,
            staff_user_id=staff.id,
            assigned_to_id=assignee.id if assignee else None,
            note="" if assignee else "Sin asignar",
        )
    )
    await audit(
        session,
        staff,
        "request.assign",
        "request",
        request.folio,
        before,
        {"assigned_to": assignee.username if assignee else None},
    )
    await session.flush()


def describe(request: Request) -> str:
    """The citizen-facing one-paragraph status of a request."""
    return texts.t(
        "status.item",
        folio=request.folio,
        procedure=request.procedure.name,
        status=texts.label("status", request.status),
        opened=format_local(request.created_at, with_time=False),
        due=format_local(request.due_at, with_time=False) or texts.t("status.no_due"),
    )


async def change_status(
    session: AsyncSession,
    request: Request,
    staff: StaffUser,
    to_status: str,
    note: str = "",
    public: bool = True,
) -> RequestEvent:
    """Move a request to a new status. A public change is sent to the citizen through the
    outbox in this same transaction; resolving it also asks the citizen for a rating."""
    if to_status not in STATUSES:
        raise RequestError(f"estado desconocido '{to_status}'")
    before = {"status": request.status}
    from_status = request.status
    request.status = to_status
    request.updated_at = utcnow()
    if to_status in CLOSED_STATUSES and request.resolved_at is None:
        request.resolved_at = utcnow()
    elif from_status in CLOSED_STATUSES and to_status not in CLOSED_STATUSES:
        request.reopened += 1  # an indicator: resolved too soon
        request.resolved_at = None
    event = RequestEvent(
        request_id=request.id,
        from_status=from_status,
        to_status=to_status,
        note=note.strip(),
        public=public,
        staff_user_id=staff.id,
    )
    session.add(event)
    await audit(
        session,
        staff,
        "request.status",
        "request",
        request.folio,
        before,
        {"status": to_status, "note": note.strip(), "public": public},
    )
    if public and request.identity_id is not None:
        identity = await session.get(ChannelIdentity, request.identity_id)
        assert identity is not None
        conversation = await conversation_for(session, identity)
        text = texts.t(
            "status.changed",
            folio=request.folio,
            status=texts.label("status", to_status),
            note=texts.t("status.note", note=note.strip()) if note.strip() else "",
        )
        await enqueue(session, identity, conversation.id, Outbound(text), staff.id, "status")
        if to_status == "resolved":
            await ask_about_request(session, identity, conversation, request)
    await session.flush()
    return event
