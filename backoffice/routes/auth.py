"""Logging staff in and out, and the start page."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backoffice import permissions
from backoffice.csrf import rotate, verify_csrf
from backoffice.deps import STAMP, RoleRequired, Session
from backoffice.templating import templates
from casework.calendar import local
from casework.staff.models import StaffUser
from casework.staff.service import (
    audit,
    authenticate,
    clear_failed_logins,
    locked_until,
    record_failed_login,
    session_stamp,
)

router = APIRouter(prefix="/backoffice", dependencies=[Depends(verify_csrf)])
# Logging in needs no permission (it is the one public back office route); everything else
# here is open to any logged-in staff member.
ROLES = permissions.ANY_STAFF
Staff = Annotated[StaffUser, Depends(RoleRequired(*ROLES))]
WRONG = "Usuario o contraseña incorrectos."
LOCKED = (
    "Demasiados intentos fallidos de inicio de sesión. Por seguridad, el acceso está bloqueado "
    "hasta el {until}. Si olvidaste tu contraseña, pide a la administración que la restablezca."
)


def _locked(until: datetime) -> str:
    return LOCKED.format(until=local(until).strftime("%d/%m/%Y a las %H:%M"))


def _safe_next(next_url: str) -> str:
    """Only a back office path (never another site, never `//host`)."""
    ok = next_url.startswith("/backoffice") and not next_url.startswith("/backoffice/login")
    return next_url if ok else ""


def _login_page(request: Request, next_url: str, error: str, status: int) -> Response:
    context = {"next": _safe_next(next_url), "error": error}
    return templates.TemplateResponse(request, "login.html", context, status_code=status)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "") -> Response:
    return templates.TemplateResponse(request, "login.html", {"next": _safe_next(next)})


@router.post("/login")
async def login(
    request: Request,
    session: Session,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
) -> Response:
    username = username.strip()
    address = request.client.host if request.client else None
    until = await locked_until(session, username, address)
    if until is not None:
        # Refused before the password is even checked: a right guess gains nothing.
        return _login_page(request, next, _locked(until), 429)
    user = await authenticate(session, username, password)
    if user is None:
        until = await record_failed_login(session, username, address)
        if until is not None:
            return _login_page(request, next, _locked(until), 429)
        return _login_page(request, next, WRONG, 401)
    await clear_failed_logins(session, username)
    request.session.clear()
    rotate(request)
    request.session["staff_id"] = user.id
    request.session[STAMP] = session_stamp(user)
    await audit(session, user, "staff.login", "staff_user", user.id, None, {"address": address})
    return RedirectResponse(_safe_next(next) or permissions.home_for(user.role), status_code=303)


@router.post("/logout")
async def logout(request: Request, staff: Staff) -> Response:
    request.session.clear()
    return RedirectResponse("/backoffice/login", status_code=303)


@router.get("", include_in_schema=False)
async def home(staff: Staff) -> Response:
    return RedirectResponse(permissions.home_for(staff.role), status_code=303)


@router.get("/inicio", response_class=HTMLResponse)
async def start_page(request: Request, staff: Staff) -> Response:
    """For roles with no section yet: says so instead of a bare 403."""
    return templates.TemplateResponse(request, "home.html", {"staff": staff})
