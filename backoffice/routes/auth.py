"""Logging staff in and out, and the start page."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backoffice import permissions, staff_cookie
from backoffice.csrf import verify_csrf
from backoffice.deps import RoleRequired, Session
from backoffice.routes.docs import DOCS
from backoffice.templating import templates
from bot.channels.peer import client_address
from casework.staff import throttle
from casework.staff.accounts import authenticate
from casework.staff.models import StaffUser
from casework.staff.sessions import end_session, start_session
from foundation.audit import audit

router = APIRouter(prefix="/backoffice", dependencies=[Depends(verify_csrf)])
# Logging in needs no permission (it is the one public back office route); everything else
# here is open to any logged-in staff member.
ROLES = permissions.ANY_STAFF
Staff = Annotated[StaffUser, Depends(RoleRequired(*ROLES))]
WRONG = "Usuario o contraseña incorrectos."
WAIT = (
    "Demasiados intentos fallidos de inicio de sesión. Por seguridad, espera {wait} antes de "
    "volver a intentarlo. Si olvidaste tu contraseña, pide a la administración que la "
    "restablezca."
)


def _wait(seconds: int) -> str:
    """A wait in words: «8 segundos», «1 minuto», «15 minutos»."""
    if seconds < 60:
        return f"{seconds} segundo" if seconds == 1 else f"{seconds} segundos"
    minutes = -(-seconds // 60)
    return "1 minuto" if minutes == 1 else f"{minutes} minutos"


def _safe_next(next_url: str) -> str:
    """Only a back office path or the API docs (never another site, never `//host`)."""
    staff_page = next_url.startswith("/backoffice") and not next_url.startswith("/backoffice/login")
    return next_url if staff_page or next_url == DOCS else ""


def _login_page(request: Request, next_url: str, error: str = "", status: int = 200) -> Response:
    """The login form. A browser that comes without a staff cookie gets a random one, which
    the form's CSRF token is derived from."""
    fresh = staff_cookie.give_pre_login(request)
    context = {"next": _safe_next(next_url), "error": error}
    response = templates.TemplateResponse(request, "login.html", context, status_code=status)
    if fresh:
        staff_cookie.give(response, request, fresh)
    return response


def _must_wait(request: Request, next_url: str, until: datetime) -> Response:
    seconds = throttle.seconds_until(until)
    response = _login_page(request, next_url, WAIT.format(wait=_wait(seconds)), 429)
    response.headers["Retry-After"] = str(seconds)
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "") -> Response:
    return _login_page(request, next)


@router.post("/login")
async def login(
    request: Request,
    session: Session,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
) -> Response:
    username = username.strip()
    address = client_address(request)
    until = await throttle.blocked_until(session, username, address)
    if until is not None:
        # Refused before the password is even checked: a right guess gains nothing.
        return _must_wait(request, next, until)
    user = await authenticate(session, username, password)
    if user is None:
        until = await throttle.record_failure(session, username, address)
        if until is not None:
            return _must_wait(request, next, until)
        return _login_page(request, next, WRONG, 401)
    await throttle.clear(session, username, address)
    # A new login always gets a new token: whatever the browser held before (an older login,
    # or the value the login form gave it) is dropped, so it cannot be fixed in advance.
    await end_session(session, staff_cookie.session_token(request))
    token = await start_session(session, user, staff_cookie.lifetime(request))
    await audit(session, user, "staff.login", "staff_user", user.id, None, {"address": address})
    response = RedirectResponse(
        _safe_next(next) or permissions.home_for(user.role), status_code=303
    )
    staff_cookie.give(response, request, token)
    return response


@router.post("/logout")
async def logout(request: Request, session: Session, staff: Staff) -> Response:
    """Ends this login on the server: the cookie, even if copied, no longer works."""
    await end_session(session, staff_cookie.session_token(request))
    address = client_address(request)
    await audit(session, staff, "staff.logout", "staff_user", staff.id, None, {"address": address})
    response = RedirectResponse("/backoffice/login", status_code=303)
    staff_cookie.take_back(response, request)
    return response


@router.get("", include_in_schema=False)
async def home(staff: Staff) -> Response:
    return RedirectResponse(permissions.home_for(staff.role), status_code=303)


@router.get("/inicio", response_class=HTMLResponse)
async def start_page(request: Request, staff: Staff) -> Response:
    """For roles with no section yet: says so instead of a bare 403."""
    return templates.TemplateResponse(request, "home.html", {"staff": staff})
