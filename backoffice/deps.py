"""Dependencies every route uses: the database session and the logged-in staff member."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession

from casework.db import Database
from casework.staff.models import StaffUser


class LoginRequired(Exception):
    """Raised for anonymous visitors; the app turns it into a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def transaction(db: Annotated[Database, Depends(database)]) -> AsyncIterator[AsyncSession]:
    async with db.transaction() as session:
        yield session


Session = Annotated[AsyncSession, Depends(transaction)]


async def current_staff(request: Request, session: Session) -> StaffUser:
    staff_id = request.session.get("staff_id")
    user = await session.get(StaffUser, staff_id) if staff_id else None
    if user is None or not user.active:
        request.session.clear()
        raise LoginRequired(str(request.url.path))
    return user


Staff = Annotated[StaffUser, Depends(current_staff)]


async def staff_outside_transaction(
    request: Request, db: Annotated[Database, Depends(database)]
) -> StaffUser:
    """`current_staff` for long responses (event streams): checks the login in a short
    transaction of its own instead of holding one open while the response lasts."""
    async with db.transaction() as session:
        return await current_staff(request, session)


class RoleRequired:
    """A route's permission: the logged-in staff member must hold one of `roles`, else 403.

    Use as `staff: Annotated[StaffUser, Depends(RoleRequired("admin", "editor"))]`; anonymous
    visitors are sent to the login page first."""

    def __init__(self, *roles: str) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, staff: Staff) -> StaffUser:
        if staff.role not in self.roles:
            raise HTTPException(403, "Tu rol no tiene permiso para esta sección.")
        return staff
