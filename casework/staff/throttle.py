"""Login throttling: failed logins make the next attempt wait, longer and longer.

Failures are counted for the username (from anywhere) and for the username and the client's
address together. Each count has a few free failures; past them, every failure makes the next
attempt for that username (or that username from that address) wait: 1 s, 2 s, 4 s ... up to
15 minutes. An attempt made while it must wait is refused before the password is checked, so a
right guess gains nothing, and is not counted. A count is forgotten 24 hours after its last
failure, and both are cleared by a successful login.

Nothing is counted per address alone: a town hall's staff often share one address behind a
proxy, and one person's guesses at other accounts (or a script trying random usernames) must
not lock their colleagues out. The counts live in the database, so every worker applies them.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.staff.models import LoginThrottle
from foundation.audit import audit
from foundation.db import insert_ignore, utcnow


@dataclass(frozen=True)
class Count:
    kind: str  # "user" or "pair"
    free: int  # failures allowed before any wait


PER_USERNAME = Count("user", 10)
PER_USERNAME_AND_ADDRESS = Count("pair", 3)
FIRST_WAIT = timedelta(seconds=1)
LONGEST_WAIT = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)
MAX_KEY_PART = 120


def wait_after(failures: int, free: int) -> timedelta | None:
    """How long the next attempt must wait after `failures` failures in a row, if at all."""
    if failures <= free:
        return None
    doublings = min(failures - free - 1, 20)  # 2^20 s is far past the longest wait already
    return min(LONGEST_WAIT, FIRST_WAIT * (1 << doublings))


def _keys(username: str, address: str | None) -> list[tuple[str, Count]]:
    name = username.strip().lower()[:MAX_KEY_PART]
    keys = [(f"user:{name}", PER_USERNAME)]
    if address:
        keys.append((f"pair:{name}|{address[:MAX_KEY_PART]}", PER_USERNAME_AND_ADDRESS))
    return keys


async def blocked_until(
    session: AsyncSession, username: str, address: str | None
) -> datetime | None:
    """When the next attempt for this username from this address is allowed, if it must wait."""
    now = utcnow()
    keys = [key for key, _ in _keys(username, address)]
    ends = await session.scalars(
        select(LoginThrottle.blocked_until).where(
            LoginThrottle.key.in_(keys), LoginThrottle.blocked_until > now
        )
    )
    return max((end for end in ends if end is not None), default=None)


async def record_failure(
    session: AsyncSession, username: str, address: str | None
) -> datetime | None:
    """Count a failed login and audit it. Returns when the next attempt is allowed if it now
    has to wait."""
    now = utcnow()
    await audit(
        session, None, "staff.login_failed", "staff_user", username[:80], None, {"address": address}
    )
    # Counts nobody has added to for a day are forgotten (the index on last_failure_at keeps
    # this cheap), so random usernames do not pile up.
    await session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.last_failure_at < now - FORGET_AFTER,
            or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until <= now),
        )
    )
    until: datetime | None = None
    for key, count in _keys(username, address):
        await insert_ignore(
            session, LoginThrottle, {"key": key, "failures": 0, "last_failure_at": now}
        )
        row = await session.scalar(
            select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
        )
        assert row is not None
        if now - row.last_failure_at > FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        wait = wait_after(row.failures, count.free)
        if wait is None:
            continue
        row.blocked_until = now + wait
        until = max(until or row.blocked_until, row.blocked_until)
        if row.failures == count.free + 1:  # the first wait: worth a line in the audit log
            await audit(
                session,
                None,
                "staff.login_throttled",
                "login",
                key,
                None,
                {"failures": row.failures, "address": address},
            )
    return until


async def clear(session: AsyncSession, username: str, address: str | None) -> None:
    """A successful login clears the username's counts (from every address) and this
    address's."""
    keys = [key for key, _ in _keys(username, address)]
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))


def seconds_until(moment: datetime) -> int:
    """Whole seconds from now until `moment`, at least 1 (for a Retry-After header)."""
    return max(1, math.ceil((moment - utcnow()).total_seconds()))
