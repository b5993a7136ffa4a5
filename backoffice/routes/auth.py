"""Logging staff in and out."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backoffice.csrf import rotate, verify_csrf
from backoffice.deps import Session
from backoffice.templating import templates
from casework.staff.service import audit, authenticate

router = APIRouter(prefix="/backoffice", dependencies=[Depends(verify_csrf)])


def _safe_next(next_url: str) -> str:
    return next_url if next_url.startswith("/backoffice") else "/backoffice/solicitudes"


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/backoffice/solicitudes") -> Response:
    return templates.TemplateResponse(request, "login.html", {"next": _safe_next(next)})


@router.post("/login")
async def login(
    request: Request,
    session: Session,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/backoffice/solicitudes",
) -> Response:
    user = await authenticate(session, username.strip(), password)
    if user is None:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"next": _safe_next(next), "error": "Usuario o contraseña incorrectos."},
            status_code=401,
        )
    request.session.clear()
    rotate(request)
    request.session["staff_id"] = user.id
    await audit(session, user, "staff.login", "staff_user", user.id, None, None)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/backoffice/login", status_code=303)
