"""The staff login cookie: a random token naming a row of `staff_sessions`, nothing else.

It is `HttpOnly`, `SameSite=Lax`, and over https `Secure` with the `__Host-` prefix (so no
other site, not even a subdomain, can set it). Before logging in, the login form gives the
browser a random value under the same name, which its CSRF token is derived from (see
`csrf.py`); logging in always replaces it with a new token, so a value planted before the
login never becomes a login.
"""

import secrets
from datetime import timedelta

from fastapi import Request, Response

NAME = "ventanilla_staff"


def _https(request: Request) -> bool:
    return bool(request.app.state.settings.web.public_url.startswith("https://"))


def cookie_name(request: Request) -> str:
    return f"__Host-{NAME}" if _https(request) else NAME


def lifetime(request: Request) -> timedelta:
    return timedelta(hours=request.app.state.settings.web.staff_session_hours)


def session_token(request: Request) -> str | None:
    """The token the browser sent, or the one this response is about to give it."""
    given: str | None = getattr(request.state, "staff_cookie", None)
    return given or request.cookies.get(cookie_name(request))


def give(response: Response, request: Request, token: str) -> None:
    """Set the cookie to `token` on `response` (and for the rest of this request)."""
    request.state.staff_cookie = token
    response.set_cookie(
        cookie_name(request),
        token,
        max_age=int(lifetime(request).total_seconds()),
        path="/",
        secure=_https(request),
        httponly=True,
        samesite="lax",
    )


def give_pre_login(request: Request) -> str | None:
    """A random value for a browser that has no cookie yet (the login form needs one to
    carry a CSRF token); None when it already has one. Set it with `give`."""
    if session_token(request):
        return None
    token = secrets.token_urlsafe(32)
    request.state.staff_cookie = token
    return token


def take_back(response: Response, request: Request) -> None:
    response.delete_cookie(
        cookie_name(request), path="/", secure=_https(request), httponly=True, samesite="lax"
    )
