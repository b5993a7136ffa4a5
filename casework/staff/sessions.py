"""Staff logins kept in the database: started at login, checked on every request, ended at once.

The browser's cookie holds a random token; the table keeps its SHA-256 with the account and
when the login expires. A login is ended by deleting its row, so a copied cookie stops working
the moment its owner logs out, is deactivated, gets a new password or a new role.
"""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.staff.models import StaffSession, StaffUser
from foundation.db import utcnow

MAX_TOKEN = 100  # longer cookies are not ours: refused without a lookup


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(session: AsyncSession, user: StaffUser, lifetime: timedelta) -> str:
    """Log `user` in: a new session with a new random token, returned for the cookie (it is
    never stored). Logins that have expired meanwhile are swept away."""
    now = utcnow()
    await session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=_digest(token),
            staff_user_id=user.id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


async def session_user(session: AsyncSession, token: str | None) -> StaffUser | None:
    """The active staff member logged in with `token`; None when the token is unknown, its
    login has ended or expired, or the account is deactivated."""
    if not token or len(token) > MAX_TOKEN:
        return None
    user: StaffUser | None = await session.scalar(
        select(StaffUser)
        .join(StaffSession, StaffSession.staff_user_id == StaffUser.id)
        .where(
            StaffSession.token_hash == _digest(token),
            StaffSession.expires_at > utcnow(),
            StaffUser.active.is_(True),
        )
    )
    return user


async def end_session(session: AsyncSession, token: str | None) -> None:
    """Log out of one login (the cookie's)."""
    if token and len(token) <= MAX_TOKEN:
        await session.execute(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))


async def end_sessions_of(session: AsyncSession, user: StaffUser) -> None:
    """End every login of `user`, wherever it was opened."""
    await session.execute(delete(StaffSession).where(StaffSession.staff_user_id == user.id))
