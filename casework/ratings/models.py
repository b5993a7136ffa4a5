"""Ratings (calificaciones): a survey sent once per resolved request or closed handoff, its
extra dimensions, and the light "¿Te sirvió esta respuesta?" asked after some answers."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, UTCDateTime, utcnow


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
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The one reminder a survey may get, when it was sent.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RatingDimensionScore(Base):
    """A score 1-5 on one extra dimension (tiempo, trato, claridad...) of a rating."""

    __tablename__ = "rating_dimension_scores"

    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id"), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(30), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)


class SurveyDimension(Base):
    """An extra dimension evaluators switched on for one procedure's surveys."""

    __tablename__ = "survey_dimensions"

    procedure_id: Mapped[str] = mapped_column(ForeignKey("procedures.id"), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(30), primary_key=True)


class AnswerFeedback(Base):
    """ "¿Te sirvió esta respuesta?" after an informational answer: asked, and maybe answered."""

    __tablename__ = "answer_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"))
    procedure_id: Mapped[str] = mapped_column(ForeignKey("procedures.id"), index=True)
    department_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"))
    aspect: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    useful: Mapped[bool | None] = mapped_column(Boolean)
