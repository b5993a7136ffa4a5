"""Cross-site request forgery protection for the staff pages.

Each staff session holds a random token. Pages put it in every form (`csrf_input(request)`) and
in a `<meta name="csrf-token">` for scripts; every POST to the back office must send it back, as
the `csrf_token` form field or the `X-CSRF-Token` header, or it is refused with 403.
"""

import hmac
import logging
import secrets

from fastapi import HTTPException, Request
from markupsafe import Markup

log = logging.getLogger(__name__)
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
LOGIN_PATH = "/backoffice/login"
EXPIRED = "El formulario caducó. Recarga la página e inténtalo de nuevo."


def csrf_token(request: Request) -> str:
    """The session's token, created on first use."""
    token = request.session.get(FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[FIELD] = token
    return str(token)


def rotate(request: Request) -> None:
    """A fresh token (after logging in, so a token seen before cannot be replayed)."""
    request.session[FIELD] = secrets.token_urlsafe(32)


def csrf_input(request: Request) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, csrf_token(request))


async def verify_csrf(request: Request) -> None:
    """Router dependency: refuse unsafe requests that do not carry the session's token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if "staff_id" not in request.session and request.url.path != LOGIN_PATH:
        return  # anonymous: the route's login check sends the visitor to the login page
    expected = request.session.get(FIELD)
    sent = request.headers.get(HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get(FIELD)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(expected, sent):
        log.warning("refused %s %s: missing or wrong CSRF token", request.method, request.url.path)
        raise HTTPException(
            403, "La sesión del formulario caducó. Recarga la página e inténtalo de nuevo."
        )
