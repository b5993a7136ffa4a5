"""Staff accounts, passwords, the audit log and per-installation secrets."""

import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.db import insert_ignore, utcnow
from casework.staff.models import ROLES, AuditEntry, InstanceSetting, StaffUser

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters


class StaffError(ValueError):
    pass


def generate_password() -> str:
    return secrets.token_urlsafe(12)


async def create_user(
    session: AsyncSession, username: str, password: str, role: str, full_name: str = ""
) -> StaffUser:
    if role not in ROLES:
        raise StaffError(f"rol desconocido '{role}'; use uno de: {', '.join(ROLES)}")
    if len(password) < 10:
        raise StaffError("la contraseña debe tener al menos 10 caracteres")
    if await session.scalar(select(StaffUser).where(StaffUser.username == username)):
        raise StaffError(f"ya existe un usuario '{username}'")
    user = StaffUser(
        username=username, full_name=full_name, role=role, password_hash=_hasher.hash(password)
    )
    session.add(user)
    await session.flush()
    await audit(session, None, "staff.create", "staff_user", user.id, None, {"role": role})
    return user


async def count_users(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(StaffUser)) or 0


async def authenticate(session: AsyncSession, username: str, password: str) -> StaffUser | None:
    user = await session.scalar(
        select(StaffUser).where(StaffUser.username == username, StaffUser.active.is_(True))
    )
    if user is None:
        _hasher.hash(password)  # spend the same time as a real check
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    user.last_login_at = utcnow()
    return user


async def audit(
    session: AsyncSession,
    staff: StaffUser | None,
    action: str,
    entity: str,
    entity_id: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        AuditEntry(
            staff_user_id=staff.id if staff else None,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=before,
            after=after,
        )
    )


async def instance_secret(session: AsyncSession, key: str) -> str:
    """A random secret generated on first use and kept in the database."""
    await insert_ignore(session, InstanceSetting, {"key": key, "value": secrets.token_hex(32)})
    value = await session.scalar(select(InstanceSetting.value).where(InstanceSetting.key == key))
    assert value is not None
    return value
