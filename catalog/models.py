"""Catalogue tables: the municipality, its departments and their procedures (the published
catalogue the bot reads), and every edited version of a department or procedure."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.db import Base, UTCDateTime, utcnow


class Municipality(Base):
    """A single row (id 1) describing who runs this instance."""

    __tablename__ = "municipality"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(50))
    website: Mapped[str] = mapped_column(String(500))
    privacy_notice_url: Mapped[str | None] = mapped_column(String(500))


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text)
    hours: Mapped[str] = mapped_column(String(300))
    phone: Mapped[str] = mapped_column(String(50))
    email: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    procedures: Mapped[list["Procedure"]] = relationship(back_populates="department")


class Procedure(Base):
    """A trámite or servicio as published in the catalogue."""

    __tablename__ = "procedures"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "tramite" | "servicio"
    name: Mapped[str] = mapped_column(String(300))
    synonyms: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"), index=True)
    requirements: Mapped[list[str]] = mapped_column(JSON, default=list)
    cost: Mapped[str] = mapped_column(Text)
    cost_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    response_time: Mapped[str] = mapped_column(String(300))
    response_days: Mapped[int | None] = mapped_column(Integer)
    validity: Mapped[str] = mapped_column(String(300))
    legal_basis: Mapped[list[str]] = mapped_column(JSON, default=list)
    modality: Mapped[list[str]] = mapped_column(JSON, default=list)
    online_url: Mapped[str | None] = mapped_column(String(500))
    request_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    request_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    department: Mapped[Department] = relationship(back_populates="procedures", lazy="joined")


class CatalogVersion(Base):
    """One version of a department or procedure, as a catalogue-format entry (``data``).

    ``state`` is ``draft`` (being edited; at most one per entry), ``published`` (what the
    ``departments``/``procedures`` rows hold now; at most one per entry), ``superseded`` (was
    published once) or ``discarded`` (a draft thrown away). Numbers count up per entry and are
    never reused. ``based_on`` is the published number a draft started from."""

    __tablename__ = "catalog_versions"
    __table_args__ = (
        UniqueConstraint("entity", "entity_id", "number", name="uq_catalog_versions_entry_number"),
        Index("ix_catalog_versions_entry", "entity", "entity_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))  # "department" | "procedure"
    entity_id: Mapped[str] = mapped_column(String(80))
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
    based_on: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
