"""Indicator cards (fichas de indicador) as in the municipal development plan."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, UTCDateTime, utcnow


class IndicatorCard(Base):
    """What an indicator measures, how, and the targets it is held to. `metric` names one of
    the indicators Ventanilla computes; the optional procedure, department and channel narrow
    it. The traffic light compares the current value with this year's target."""

    __tablename__ = "indicator_cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    formula: Mapped[str] = mapped_column(Text, default="")
    metric: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(40), default="")
    frequency: Mapped[str] = mapped_column(String(20), default="mensual")
    source: Mapped[str] = mapped_column(Text, default="")
    baseline: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    baseline_year: Mapped[int | None] = mapped_column()
    # {"2026": 85.0, "2027": 88.0}: the target for each year.
    targets: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # ["16.6", "16.7"]: Sustainable Development Goal targets it is aligned with.
    ods: Mapped[list[str]] = mapped_column(JSON, default=list)
    higher_is_better: Mapped[bool] = mapped_column(Boolean, default=True)
    # Within this share of the target (0.10 = 10 %) the light is yellow instead of red.
    tolerance: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0.10"))
    procedure_id: Mapped[str | None] = mapped_column(ForeignKey("procedures.id"))
    department_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"))
    channel: Mapped[str | None] = mapped_column(String(20))
    # Shown on the public results page.
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
