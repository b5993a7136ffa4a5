"""Citizens (one per CURP) and the chat identities they write from."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, UTCDateTime, utcnow


class Citizen(Base):
    """A person known by CURP: the Cuenta Única Ciudadana behind several channel identities."""

    __tablename__ = "citizens"

    id: Mapped[int] = mapped_column(primary_key=True)
    curp: Mapped[str | None] = mapped_column(String(18), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChannelIdentity(Base):
    """Who writes on one channel: a Telegram chat, a WhatsApp number, a web chat session."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the citizen asked for their data to be erased (casework.citizens.erasure).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class LinkCode(Base):
    """A one-time code proving that a new chat belongs to a citizen already known by CURP."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("channel_identities.id"), index=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
