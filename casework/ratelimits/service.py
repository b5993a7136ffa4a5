"""Fixed-window rate limits kept in the database, so every web process counts together.

`hit` counts one request against several limits at once (one upsert each, in one short
transaction) and says how long to wait when one of them is over. Counters of past windows are
deleted at most once a window by each process.
"""

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from casework.ratelimits.models import RateCounter
from foundation.db import Database, table_of

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Limit:
    """At most `per_window` hits of `subject` (a chat session, an address) for `what`."""

    what: str
    subject: str
    per_window: int

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.what}\x00{self.subject}".encode()).hexdigest()


def _upsert(dialect: str, key: str, period: int) -> Any:
    table = table_of(RateCounter)
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = dialect_insert(table).values(key=key, period=period, hits=1)
    same_window = table.c.period == statement.excluded.period
    return statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "hits": case((same_window, table.c.hits + 1), else_=1),
            "period": statement.excluded.period,
        },
    ).returning(table.c.hits)


class RateLimiter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._purged = 0  # the period this process last deleted older counters in

    async def hit(self, *limits: Limit) -> int | None:
        """Count one request against every limit; the seconds to wait if any is exceeded
        (None: go ahead)."""
        now = time.time()
        period = int(now // WINDOW_SECONDS)
        dialect = self.db.engine.dialect.name
        over = False
        async with self.db.transaction() as session:
            if self._purged != period:
                self._purged = period
                await _purge(session, period)
            for limit in limits:
                hits = await session.scalar(_upsert(dialect, limit.key, period))
                over = over or (hits or 0) > limit.per_window
        if not over:
            return None
        return max(1, int((period + 1) * WINDOW_SECONDS - now + 0.999))


async def _purge(session: AsyncSession, period: int) -> None:
    await session.execute(delete(RateCounter).where(RateCounter.period < period))
