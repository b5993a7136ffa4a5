"""The inbox: every update a messaging app delivered, stored before it is acknowledged."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, UTCDateTime, utcnow

PENDING = "processed_at IS NULL"


class InboxItem(Base):
    __tablename__ = "inbox"
    __table_args__ = (
        # A provider's repeated delivery of the same update is refused here, across workers.
        UniqueConstraint("channel", "external_id", name="uq_inbox_channel_external_id"),
        Index("ix_inbox_pending", "processed_at", "id"),
        # Each chat's updates still to handle, in order: a worker claims only the oldest one of
        # a chat (casework/inbox/drain.py), so it asks whether an earlier one is pending.
        Index(
            "ix_inbox_chat_pending",
            "channel",
            "chat",
            "id",
            postgresql_where=text(PENDING),
            sqlite_where=text(PENDING),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    chat: Mapped[str] = mapped_column(String(200))  # updates of one chat are handled in order
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    failed: Mapped[bool] = mapped_column(default=False)
    # The worker that holds the chat, on its oldest pending update, until `claimed_until`;
    # after that a dead worker's claim lapses and another worker takes the chat.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The worker (`ventanilla worker --name`) that handled it, or gave it up.
    handled_by: Mapped[str | None] = mapped_column(String(200))
