"""The outbox: every reply, written in the same transaction as the change that caused it."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, UTCDateTime, utcnow


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("channel_identities.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    choices: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    sender: Mapped[str] = mapped_column(String(10), default="bot")
    # reply | status | survey | agent: what a channel with rules (WhatsApp's 24-hour window)
    # may do with it; status updates and surveys can go as approved templates.
    purpose: Mapped[str] = mapped_column(String(10), default="reply", server_default="reply")
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # While a worker sends it (status "sending"); after this a crashed worker's claim lapses.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Delivery receipts from the provider (WhatsApp: sent, delivered, read, failed).
    receipt: Mapped[str | None] = mapped_column(String(20))
    receipt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
