"""Staff accounts, passwords, login throttling, the audit log and per-installation secrets."""

import hashlib
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.db import insert_ignore, utcnow
from casework.staff.models import ROLES, AuditEntry, InstanceSetting, LoginThrottle, StaffUser
from catalog.models import Department

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters

MIN_PASSWORD = 10
# Failed logins allowed within THROTTLE_WINDOW before further attempts are refused for
# THROTTLE_LOCK. Per address the limit is higher: a town hall's staff often share one address.
USER_FAILURES = 5
ADDRESS_FAILURES = 20
THROTTLE_WINDOW = timedelta(minutes=15)
THROTTLE_LOCK = timedelta(minutes=15)


class StaffError(ValueError):
    pass


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def department_scope(staff: StaffUser) -> frozenset[str] | None:
    """The departments whose work `staff` may see: None (all) for admins, else their own."""
    return None if staff.role == "admin" else staff.department_ids


def session_stamp(user: StaffUser) -> str:
    """Changes whenever the password does: a session carrying an old stamp is ended."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


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


async def list_departments(session: AsyncSession) -> list[Department]:
    return list(await session.scalars(select(Department).order_by(Department.name)))


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
    """Change an account's role, name and departments. The last active administrator cannot
    stop being one, so the instance never locks itself out."""
    _check_role(role)
    demoted = user.role == "admin" and role != "admin" and user.active
    if demoted and not await _other_active_admins(session, user):
        raise StaffError("no se puede quitar el rol de administración a la última cuenta")
    chosen = await _departments(session, departments)
    before = _snapshot(user)
    user.role, user.full_name, user.departments = role, full_name.strip(), chosen
    after = _snapshot(user)
    if after != before:
        await audit(session, actor, "staff.update", "staff_user", user.id, before, after)


async def set_active(
    session: AsyncSession, actor: StaffUser, user: StaffUser, active: bool
) -> None:
    """Deactivate (the account's sessions end at their next request) or reactivate."""
    if user.active == active:
        return
    if not active and user.role == "admin" and not await _other_active_admins(session, user):
        raise StaffError("no se puede desactivar la última cuenta de administración")
    before = _snapshot(user)
    user.active = active
    action = "staff.activate" if active else "staff.deactivate"
    await audit(session, actor, action, "staff_user", user.id, before, _snapshot(user))


async def reset_password(
    session: AsyncSession, actor: StaffUser, user: StaffUser, password: str
) -> None:
    """Set a new password; the account's open sessions end. The log records only that it
    changed, never the password."""
    _check_password(password)
    user.password_hash = _hasher.hash(password)
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


# --- login throttling -------------------------------------------------------------------------


def _throttle_keys(username: str, address: str | None) -> list[tuple[str, int]]:
    keys = [(f"user:{username.strip().lower()[:150]}", USER_FAILURES)]
    if address:
        keys.append((f"ip:{address[:150]}", ADDRESS_FAILURES))
    return keys


async def locked_until(
    session: AsyncSession, username: str, address: str | None
) -> datetime | None:
    """When the lock on this username or address ends, if one is in force."""
    now = utcnow()
    keys = [key for key, _ in _throttle_keys(username, address)]
    ends = [
        end
        for end in await session.scalars(
            select(LoginThrottle.locked_until).where(LoginThrottle.key.in_(keys))
        )
        if end is not None and end > now
    ]
    return max(ends, default=None)


async def record_failed_login(
    session: AsyncSession, username: str, address: str | None
) -> datetime | None:
    """Count a failed login against the username and the address and audit it. Returns when
    the lock ends if this failure started one."""
    now = utcnow()
    await audit(
        session,
        None,
        "staff.login_failed",
        "staff_user",
        username[:80],
        None,
        {"address": address},
    )
    locked: datetime | None = None
    for key, limit in _throttle_keys(username, address):
        await insert_ignore(
            session, LoginThrottle, {"key": key, "failures": 0, "window_started_at": now}
        )
        row = await session.scalar(
            select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
        )
        assert row is not None
        lock_over = row.locked_until is not None and row.locked_until <= now
        if lock_over or now - row.window_started_at > THROTTLE_WINDOW:
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= limit:
            row.locked_until = now + THROTTLE_LOCK
            locked = max(locked or row.locked_until, row.locked_until)
            await audit(
                session,
                None,
                "staff.login_locked",
                "login",
                key,
                None,
                {"locked_until": row.locked_until.isoformat(), "failures": limit},
            )
    return locked


async def clear_failed_logins(session: AsyncSession, username: str) -> None:
    """A successful login resets the username's count (an address's count stays: one right
    password must not wipe out guesses at other accounts)."""
    key = _throttle_keys(username, None)[0][0]
    row = await session.get(LoginThrottle, key)
    if row is not None:
        await session.delete(row)


# --- audit log --------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class AuditFilter:
    staff_user_id: int | None = None
    action: str | None = None
    entity: str | None = None
    since: datetime | None = None  # inclusive, UTC
    until: datetime | None = None  # exclusive, UTC


@dataclass(frozen=True)
class AuditPage:
    rows: Sequence[tuple[AuditEntry, str | None]]  # entry and the username who did it
    total: int
    page: int
    pages: int


def _filtered(query: Select[Any], where: AuditFilter) -> Select[Any]:
    if where.staff_user_id is not None:
        query = query.where(AuditEntry.staff_user_id == where.staff_user_id)
    if where.action:
        query = query.where(AuditEntry.action == where.action)
    if where.entity:
        query = query.where(AuditEntry.entity == where.entity)
    if where.since is not None:
        query = query.where(AuditEntry.at >= where.since)
    if where.until is not None:
        query = query.where(AuditEntry.at < where.until)
    return query


async def search_audit(
    session: AsyncSession, where: AuditFilter, page: int = 1, per_page: int = 50
) -> AuditPage:
    """One page of the audit log, newest first."""
    total = (
        await session.scalar(_filtered(select(func.count()).select_from(AuditEntry), where)) or 0
    )
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    query = _filtered(
        select(AuditEntry, StaffUser.username).outerjoin(
            StaffUser, StaffUser.id == AuditEntry.staff_user_id
        ),
        where,
    )
    result = await session.execute(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    rows = [(entry, username) for entry, username in result.all()]
    return AuditPage(rows=rows, total=total, page=page, pages=pages)


async def audit_choices(session: AsyncSession) -> tuple[list[str], list[str]]:
    """The actions and entities present in the log, for the filter menus."""
    actions = await session.scalars(
        select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    )
    entities = await session.scalars(
        select(AuditEntry.entity).distinct().order_by(AuditEntry.entity)
    )
    return list(actions), list(entities)


async def instance_secret(session: AsyncSession, key: str) -> str:
    """A random secret generated on first use and kept in the database."""
    await insert_ignore(session, InstanceSetting, {"key": key, "value": secrets.token_hex(32)})
    value = await session.scalar(select(InstanceSetting.value).where(InstanceSetting.key == key))
    assert value is not None
    return value
