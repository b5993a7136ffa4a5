"""Rate limit counters: how often one subject (a chat session, a client address) came lately."""

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base


class RateCounter(Base):
    """Hits of one subject in one fixed window. The key is a hash of what is counted and of
    whom (an address is personal data: it is not stored), so a row says nothing by itself."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[int] = mapped_column(BigInteger)  # seconds since the epoch // window length
    hits: Mapped[int] = mapped_column(Integer)
