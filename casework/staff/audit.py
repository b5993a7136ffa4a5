"""Reading the audit log (written by foundation/audit.py): one page of it, filtered, and the
values its filters offer."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.staff.models import StaffUser
from foundation.audit import AuditEntry


@dataclass(frozen=True)
class AuditFilter:
    staff_user_id: int | None = None
    action: str | None = None
    entity: str | None = None
    since: datetime | None = None  # inclusive, UTC
    until: datetime | None = None  # exclusive, UTC


@dataclass(frozen=True)
class AuditPage:
    rows: Sequence[tuple[AuditEntry, str | None]]  # entry and the username who did it
    total: int
    page: int
    pages: int


Filtered = TypeVar("Filtered", bound="Select[*tuple[Any, ...]]")  # any query on the log


def _filtered(query: Filtered, where: AuditFilter) -> Filtered:
    if where.staff_user_id is not None:
        query = query.where(AuditEntry.staff_user_id == where.staff_user_id)
    if where.action:
        query = query.where(AuditEntry.action == where.action)
    if where.entity:
        query = query.where(AuditEntry.entity == where.entity)
    if where.since is not None:
        query = query.where(AuditEntry.at >= where.since)
    if where.until is not None:
        query = query.where(AuditEntry.at < where.until)
    return query


async def search_audit(
    session: AsyncSession, where: AuditFilter, page: int = 1, per_page: int = 50
) -> AuditPage:
    """One page of the audit log, newest first."""
    total = (
        await session.scalar(_filtered(select(func.count()).select_from(AuditEntry), where)) or 0
    )
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    query = _filtered(
        select(AuditEntry, StaffUser.username).outerjoin(
            StaffUser, StaffUser.id == AuditEntry.staff_user_id
        ),
        where,
    )
    result = await session.execute(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    rows = [(entry, username) for entry, username in result.all()]
    return AuditPage(rows=rows, total=total, page=page, pages=pages)


async def audit_choices(session: AsyncSession) -> tuple[list[str], list[str]]:
    """The actions and entities present in the log, for the filter menus."""
    actions = await session.scalars(
        select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    )
    entities = await session.scalars(
        select(AuditEntry.entity).distinct().order_by(AuditEntry.entity)
    )
    return list(actions), list(entities)
