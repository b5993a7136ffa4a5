"""Conversations (the dialogue state of one channel identity) and their transcript."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, UTCDateTime, utcnow


class Conversation(Base):
    """Everything the dialogue engine remembers between two messages lives in this row."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("channel_identities.id"), unique=True)
    state: Mapped[str] = mapped_column(String(40), default="idle")
    slots: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_procedure_id: Mapped[str | None] = mapped_column(String(80))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The visit (BotSession) the citizen's last message belonged to.
    bot_session_id: Mapped[int | None] = mapped_column(Integer)


class Message(Base):
    """One line of the transcript, in either direction."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" | "out"
    sender: Mapped[str] = mapped_column(String(10))  # "citizen" | "bot" | "agent"
    kind: Mapped[str] = mapped_column(String(20), default="text")
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # "<channel>:<provider message id>": a repeated delivery of the same message is refused here.
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BotSession(Base):
    """One visit: a citizen's messages with no pause longer than the session gap. What the bot
    indicators count (conversations, containment, handoff and not-understood rates)."""

    __tablename__ = "bot_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    not_understood: Mapped[int] = mapped_column(Integer, default=0)
    handed_off: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last procedure the visit was about, if any.
    procedure_id: Mapped[str | None] = mapped_column(String(80), index=True)
