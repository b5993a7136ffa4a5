"""Staff accounts: creating and editing them, passwords, logging in, and who may work what."""

import secrets
from collections.abc import Collection
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.staff.models import ROLES, StaffUser
from casework.staff.sessions import end_sessions_of
from catalog.models import Department
from foundation.audit import audit
from foundation.db import utcnow

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters

MIN_PASSWORD = 10


class StaffError(ValueError):
    pass


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def department_scope(staff: StaffUser) -> frozenset[str] | None:
    """The departments whose work `staff` may see: None (all) for admins, else their own."""
    return None if staff.role == "admin" else staff.department_ids


def _snapshot(user: StaffUser) -> dict[str, Any]:
    """What the audit log keeps of an account (never the password hash)."""
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "departments": sorted(user.department_ids),
        "active": user.active,
    }


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"la contraseña debe tener al menos {MIN_PASSWORD} caracteres")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise StaffError(f"rol desconocido '{role}'; use uno de: {', '.join(ROLES)}")


async def _departments(session: AsyncSession, ids: Collection[str]) -> list[Department]:
    wanted = set(ids)
    if not wanted:
        return []
    found = list(await session.scalars(select(Department).where(Department.id.in_(wanted))))
    missing = wanted - {department.id for department in found}
    if missing:
        raise StaffError(f"dependencia desconocida: {', '.join(sorted(missing))}")
    return found


async def create_user(
    session: AsyncSession,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    departments: Collection[str] = (),
    actor: StaffUser | None = None,
) -> StaffUser:
    username = username.strip()
    if not username:
        raise StaffError("el nombre de usuario está vacío")
    _check_role(role)
    _check_password(password)
    if await session.scalar(select(StaffUser).where(StaffUser.username == username)):
        raise StaffError(f"ya existe un usuario '{username}'")
    user = StaffUser(
        username=username,
        full_name=full_name.strip(),
        role=role,
        password_hash=_hasher.hash(password),
        departments=await _departments(session, departments),
    )
    session.add(user)
    await session.flush()
    await audit(session, actor, "staff.create", "staff_user", user.id, None, _snapshot(user))
    return user


async def list_users(session: AsyncSession) -> list[StaffUser]:
    return list(await session.scalars(select(StaffUser).order_by(StaffUser.username)))


async def get_user(
    session: AsyncSession, user_id: int, *, for_update: bool = False
) -> StaffUser | None:
    return await session.get(StaffUser, user_id, with_for_update=for_update)


async def active_staff(session: AsyncSession, roles: Collection[str]) -> list[StaffUser]:
    """Active accounts with one of `roles`, by full name and then username."""
    rows = await session.scalars(
        select(StaffUser)
        .where(StaffUser.active.is_(True), StaffUser.role.in_(roles))
        .order_by(StaffUser.full_name, StaffUser.username)
    )
    return list(rows)


async def staff_names(session: AsyncSession, user_ids: Collection[int]) -> dict[int, str]:
    """The shown name (full name, else username) of each of these accounts."""
    if not user_ids:
        return {}
    users = await session.scalars(select(StaffUser).where(StaffUser.id.in_(set(user_ids))))
    return {user.id: user.full_name or user.username for user in users}


async def _other_active_admins(session: AsyncSession, user: StaffUser) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(StaffUser)
            .where(StaffUser.role == "admin", StaffUser.active.is_(True), StaffUser.id != user.id)
        )
        or 0
    )


async def update_user(
    session: AsyncSession,
    actor: StaffUser,
    user: StaffUser,
    *,
    role: str,
    full_name: str,
    departments: Collection[str],
) -> None:
    """Change an account's role, name and departments. A new role ends the account's logins
    (it logs in again into what the new role may see). The last active administrator cannot
    stop being one, so the instance never locks itself out."""
    _check_role(role)
    demoted = user.role == "admin" and role != "admin" and user.active
    if demoted and not await _other_active_admins(session, user):
        raise StaffError("no se puede quitar el rol de administración a la última cuenta")
    chosen = await _departments(session, departments)
    before = _snapshot(user)
    user.role, user.full_name, user.departments = role, full_name.strip(), chosen
    after = _snapshot(user)
    if after["role"] != before["role"]:
        await end_sessions_of(session, user)
    if after != before:
        await audit(session, actor, "staff.update", "staff_user", user.id, before, after)


async def set_active(
    session: AsyncSession, actor: StaffUser, user: StaffUser, active: bool
) -> None:
    """Deactivate (the account's logins end at once) or reactivate."""
    if user.active == active:
        return
    if not active and user.role == "admin" and not await _other_active_admins(session, user):
        raise StaffError("no se puede desactivar la última cuenta de administración")
    before = _snapshot(user)
    user.active = active
    if not active:
        await end_sessions_of(session, user)
    action = "staff.activate" if active else "staff.deactivate"
    await audit(session, actor, action, "staff_user", user.id, before, _snapshot(user))


async def reset_password(
    session: AsyncSession, actor: StaffUser, user: StaffUser, password: str
) -> None:
    """Set a new password; the account's logins end at once. The log records only that it
    changed, never the password."""
    _check_password(password)
    user.password_hash = _hasher.hash(password)
    await end_sessions_of(session, user)
    await audit(
        session, actor, "staff.password_reset", "staff_user", user.id, None, {"password": "nueva"}
    )


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
