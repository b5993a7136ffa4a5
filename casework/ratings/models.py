"""Ratings (calificaciones): a survey sent once per resolved request or closed handoff."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casework.db import Base, UTCDateTime, utcnow


class Rating(Base):
    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(10))  # "request" | "handoff"
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), unique=True)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id"), unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"))
    procedure_id: Mapped[str | None] = mapped_column(ForeignKey("procedures.id"), index=True)
    department_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"))
    channel: Mapped[str] = mapped_column(String(20))
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
