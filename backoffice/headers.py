"""Security headers on every response: pages, APIs, static files and errors alike.

- `Content-Security-Policy`: scripts, styles, images, fonts and connections only from this
  site; no inline script or style (every script and stylesheet is a file under /static), no
  eval, no plugins, no `<base>`, forms only to this site.
- `frame-ancestors 'none'` and `X-Frame-Options: DENY`: no other site may frame a page, so
  none can trick staff into clicks (clickjacking). The citizens' pages (the chat, the privacy
  notice, the public results) may be framed by the origins in `VENTANILLA_FRAME_ANCESTORS`, for
  a municipality that embeds the chat in its own site; staff pages never.
- `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`, and a `Permissions-Policy`
  that turns off the browser features no page here uses (camera, microphone, location...).
- `Strict-Transport-Security` when `VENTANILLA_PUBLIC_URL` is https.

The middleware wraps the whole application, outside Starlette's error handling, so even an
unexpected error's 500 carries the headers.
"""

from collections.abc import Callable

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foundation.settings import WebSettings

# Paths for staff only: never framed, whatever the setting says.
STAFF_PATHS = ("/backoffice", "/api/docs", "/openapi.json")
POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",  # data: for the empty favicon
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
)
FEATURES_OFF = (
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "encrypted-media",
    "fullscreen",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "picture-in-picture",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)
HSTS = "max-age=31536000"

Headers = list[tuple[str, str]]


def security_headers(web: WebSettings, *, staff: bool) -> Headers:
    """The headers of a response on a staff path (`staff`) or a public one."""
    ancestors = [] if staff else web.frame_ancestors
    framers = " ".join(ancestors) or "'none'"
    policy = [*POLICY, f"frame-ancestors {framers}"]
    headers = [
        ("Content-Security-Policy", "; ".join(policy)),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("Permissions-Policy", ", ".join(f"{feature}=()" for feature in FEATURES_OFF)),
    ]
    if not ancestors:  # X-Frame-Options cannot name several origins: only sent for none
        headers.append(("X-Frame-Options", "DENY"))
    if web.public_url.startswith("https://"):
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


def _is_staff(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in STAFF_PATHS)


class SecurityHeaders:
    """ASGI middleware: adds the headers to every HTTP response's start."""

    def __init__(self, app: ASGIApp, web: WebSettings) -> None:
        self.app = app
        self.staff = security_headers(web, staff=True)
        self.public = security_headers(web, staff=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chosen = self.staff if _is_staff(scope["path"]) else self.public

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in chosen:
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI, web: WebSettings) -> None:
    """Wrap the app's whole middleware stack (outside its 500 handler) in `SecurityHeaders`."""
    build: Callable[[], ASGIApp] = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(build(), web)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
