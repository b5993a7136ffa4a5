"""Dependencies every route uses: the database session and the logged-in staff member."""

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Annotated, Any

import fastapi.routing
from fastapi import Depends, HTTPException, Request
from fastapi.dependencies.models import Dependant
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import BaseRoute

from backoffice.staff_cookie import session_token
from bot.channels.plugin import names
from casework.staff.models import StaffUser
from casework.staff.sessions import session_user
from foundation import texts
from foundation.db import Database


class LoginRequired(Exception):
    """Raised for anonymous visitors; the app turns it into a redirect to the login page (or
    a 401 for the JSON API under /backoffice/api)."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def transaction(db: Annotated[Database, Depends(database)]) -> AsyncIterator[AsyncSession]:
    async with db.transaction() as session:
        yield session


# Committed when the route returns, before the response is sent (FastAPI's default for a
# dependency with yield is after it): a client never hears of a change, such as a new login,
# that is not yet visible to its next request.
Session = Annotated[AsyncSession, Depends(transaction, scope="function")]


async def logged_in(request: Request, session: AsyncSession) -> StaffUser | None:
    """The staff member whose login this request's cookie names, if it is still open (not
    logged out, expired or ended by deactivation, a new password or a new role)."""
    return await session_user(session, session_token(request))


async def current_staff(request: Request, session: Session) -> StaffUser:
    user = await logged_in(request, session)
    if user is None:
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
            raise HTTPException(403, texts.t("errors.role_forbidden"))
        return staff


class RoleRequiredOutsideTransaction(RoleRequired):
    """`RoleRequired` for long responses (event streams): the login is checked in a short
    transaction of its own instead of one held open while the response lasts."""

    async def __call__(
        self, staff: Annotated[StaffUser, Depends(staff_outside_transaction)]
    ) -> StaffUser:
        return await super().__call__(staff)


def walk_routes(routes: Sequence[BaseRoute]) -> Iterator[Any]:
    """Every route of an app, flattened: `app.routes` holds included routers as one entry
    each in recent FastAPI versions; their routes come out with the full path and the
    router-level dependencies. Each item has `path`, and API routes `methods` and `dependant`."""
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if iter_contexts is None:  # older FastAPI: app.routes is already flat
        yield from routes
    else:
        yield from iter_contexts(routes)


def required_roles(route: Any) -> frozenset[str] | None:
    """The roles a route admits, read from the `RoleRequired` dependencies anywhere in its
    dependency tree (router-level ones included); None if it declares none or is not an API
    route."""
    found: frozenset[str] | None = None
    root: Dependant | None = getattr(route, "dependant", None)
    stack: list[Dependant] = [root] if root is not None else []
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, RoleRequired):
            roles = dependant.call.roles
            found = roles if found is None else found & roles
        stack.extend(dependant.dependencies)
    return found


def channel_names(request: Request) -> tuple[str, ...]:
    """The names of the channels the app was built with (the registry's unless a test gave
    others): what the indicators may be filtered by."""
    return names(request.app.state.channels)
