"""Catalogue tables: the municipality, its departments and their procedures."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.db import Base, UTCDateTime, utcnow


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
