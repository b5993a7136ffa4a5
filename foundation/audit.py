"""The audit log: who changed what, when, with the record before and after.

Every layer that changes something on a staff member's behalf writes here; reading the log
(search, filters) is the staff domain's (`casework/staff/audit.py`).
"""

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, UTCDateTime, utcnow


class Actor(Protocol):
    """Whoever acts: a staff account (only its id is recorded)."""

    @property
    def id(self) -> int: ...


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    entity: Mapped[str] = mapped_column(String(40), index=True)
    entity_id: Mapped[str] = mapped_column(String(80))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


async def audit(
    session: AsyncSession,
    staff: Actor | None,
    action: str,
    entity: str,
    entity_id: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        AuditEntry(
            staff_user_id=staff.id if staff else None,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=before,
            after=after,
        )
    )
