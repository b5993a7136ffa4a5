"""Cross-site request forgery protection for the staff pages.

The token is an HMAC of the browser's staff cookie (`staff_cookie.py`) with the instance's
secret key: another site can neither read the cookie nor compute the token, and a new login,
which always gets a new cookie, gets a new token. Pages put it in every form
(`csrf_input(request)`) and in a `<meta name="csrf-token">` for scripts; every POST to the back
office must send it back, as the `csrf_token` form field or the `X-CSRF-Token` header, or it is
refused with 403.
"""

import hashlib
import hmac
import logging

from fastapi import HTTPException, Request
from markupsafe import Markup

from backoffice.staff_cookie import session_token

log = logging.getLogger(__name__)
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
LOGIN_PATH = "/backoffice/login"


def _token_for(request: Request, cookie: str) -> str:
    key: str = request.app.state.secret_key
    return hmac.new(key.encode(), b"csrf:" + cookie.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token of this browser's cookie; empty for a visitor without one (public pages)."""
    cookie = session_token(request)
    return _token_for(request, cookie) if cookie else ""


def csrf_input(request: Request) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, csrf_token(request))


async def verify_csrf(request: Request) -> None:
    """Router dependency: refuse unsafe requests that do not carry the cookie's token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    cookie = session_token(request)
    if cookie is None and request.url.path != LOGIN_PATH:
        return  # anonymous: the route's login check sends the visitor to the login page
    sent = request.headers.get(HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        field = (await request.form()).get(FIELD)
        sent = field if isinstance(field, str) else None  # a file is no token
    expected = _token_for(request, cookie) if cookie else None
    if (
        not expected
        or not isinstance(sent, str)
        or not hmac.compare_digest(expected.encode(), sent.encode())  # bytes: any text compares
    ):
        log.warning("refused %s %s: missing or wrong CSRF token", request.method, request.url.path)
        raise HTTPException(
            403, "La sesión del formulario caducó. Recarga la página e inténtalo de nuevo."
        )
