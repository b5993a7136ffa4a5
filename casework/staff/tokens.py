"""Evaluators' API tokens: created and revoked in the back office, checked on every API call.

A token is `vnt_` followed by 43 random URL-safe characters. It is shown once, when it is
created; the database keeps only its SHA-256 (a lookup key that cannot be turned back into the
token) and its first characters, so staff can tell their tokens apart.
"""

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.staff.models import ApiToken, StaffUser
from foundation.audit import audit
from foundation.db import utcnow

TOKEN_PREFIX = "vnt_"
PREFIX_CHARS = 12  # what is kept in clear: "vnt_" and the first 8 random characters
MAX_NAME = 120
# Who may hold a token: the evaluation API is for evaluators (and administrators).
TOKEN_ROLES = ("admin", "evaluator")
# last_used_at is refreshed at most this often, so a busy client does not write on every call.
USE_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    pass


def token_digest(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def _snapshot(token: ApiToken) -> dict[str, Any]:
    """What the audit log keeps of a token (never the token or its hash)."""
    return {
        "name": token.name,
        "prefix": token.prefix,
        "staff_user_id": token.staff_user_id,
        "revoked": token.revoked_at is not None,
    }


async def create_token(session: AsyncSession, staff: StaffUser, name: str) -> tuple[ApiToken, str]:
    """A new token for `staff`. Returns the row and the token itself, which is never kept and
    cannot be shown again."""
    name = " ".join(name.split())
    if not name:
        raise TokenError("ponle un nombre al token (por ejemplo, para qué sistema es)")
    if len(name) > MAX_NAME:
        raise TokenError(f"el nombre del token admite hasta {MAX_NAME} caracteres")
    if staff.role not in TOKEN_ROLES or not staff.active:
        raise TokenError("solo evaluación y administración pueden tener tokens de la API")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        staff_user_id=staff.id,
        name=name,
        token_hash=token_digest(plain),
        prefix=plain[:PREFIX_CHARS],
    )
    session.add(token)
    await session.flush()
    await audit(session, staff, "api_token.create", "api_token", token.id, None, _snapshot(token))
    return token, plain


async def get_token(session: AsyncSession, actor: StaffUser, token_id: int) -> ApiToken | None:
    """The token if `actor` may manage it: their own, or any for an administrator."""
    token = await session.get(ApiToken, token_id, with_for_update=True)
    if token is None or (actor.role != "admin" and token.staff_user_id != actor.id):
        return None
    return token


async def revoke_token(session: AsyncSession, actor: StaffUser, token: ApiToken) -> None:
    """Stop a token from working, at once and for good. Revoking twice changes nothing."""
    if actor.role != "admin" and token.staff_user_id != actor.id:
        raise TokenError("solo quien lo creó o administración puede revocar este token")
    if token.revoked_at is not None:
        return
    before = _snapshot(token)
    token.revoked_at = utcnow()
    await audit(session, actor, "api_token.revoke", "api_token", token.id, before, _snapshot(token))


async def list_tokens(session: AsyncSession, staff: StaffUser) -> Sequence[tuple[ApiToken, str]]:
    """The tokens `staff` may see, newest first, with their owner's username: their own, or
    every token for an administrator."""
    query = select(ApiToken, StaffUser.username).join(
        StaffUser, StaffUser.id == ApiToken.staff_user_id
    )
    if staff.role != "admin":
        query = query.where(ApiToken.staff_user_id == staff.id)
    result = await session.execute(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    return [(token, username) for token, username in result.all()]


async def verify_token(session: AsyncSession, plain: str) -> StaffUser | None:
    """The staff member a token speaks for, or None when the token is unknown or revoked, or
    its owner is deactivated or no longer an evaluator or administrator."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    row = (
        await session.execute(
            select(ApiToken, StaffUser)
            .join(StaffUser, StaffUser.id == ApiToken.staff_user_id)
            .where(ApiToken.token_hash == token_digest(plain))
        )
    ).first()
    if row is None:
        return None
    token, staff = row
    if token.revoked_at is not None or not staff.active or staff.role not in TOKEN_ROLES:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= USE_RESOLUTION:
        token.last_used_at = now
    return staff
