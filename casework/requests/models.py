"""Requests and reports (solicitudes, reportes) and their history."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.staff.models import StaffUser
from catalog.models import Procedure
from foundation.db import Base, UTCDateTime, utcnow

STATUSES = ("received", "in_progress", "resolved", "rejected")
CLOSED_STATUSES = ("resolved", "rejected")


class Request(Base):
    __tablename__ = "requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    folio: Mapped[str] = mapped_column(String(30), unique=True)
    procedure_id: Mapped[str] = mapped_column(ForeignKey("procedures.id"), index=True)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"), index=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"), index=True)
    # The chat identity that opened it: where notices about it are sent.
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("channel_identities.id"))
    status: Mapped[str] = mapped_column(String(20), default="received", index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    photo: Mapped[str | None] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When it was last resolved or rejected; cleared when staff reopen it.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # How many times it went from resolved or rejected back to an open status.
    reopened: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)

    procedure: Mapped[Procedure] = relationship(lazy="joined")
    assigned_to: Mapped[StaffUser | None] = relationship(lazy="joined")
    events: Mapped[list["RequestEvent"]] = relationship(
        back_populates="request", order_by="RequestEvent.id", lazy="selectin"
    )

    def overdue(self, now: datetime) -> bool:
        """Past its due date and not yet resolved or rejected."""
        return self.status not in CLOSED_STATUSES and self.due_at is not None and self.due_at < now


class RequestEvent(Base):
    """Status history: one row per change or note."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Set on assignment events: who the request was given to.
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

    request: Mapped[Request] = relationship(back_populates="events")
    staff: Mapped[StaffUser | None] = relationship(foreign_keys=[staff_user_id], lazy="joined")
    assigned_to: Mapped[StaffUser | None] = relationship(
        foreign_keys=[assigned_to_id], lazy="joined"
    )


class FolioCounter(Base):
    """The last folio number handed out in each year."""

    __tablename__ = "folio_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)
