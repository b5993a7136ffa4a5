"""The FastAPI application: back office pages, public pages and the web chat API."""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from threadpoolctl import threadpool_limits

from backoffice import headers
from backoffice.deps import LoginRequired
from backoffice.door import Door
from backoffice.routes import (
    api,
    audit_log,
    auth,
    catalog,
    deliveries,
    docs,
    evaluation,
    handoffs,
    indicator_cards,
    public,
    ratings,
    requests,
    results,
    surveys,
    tokens,
    users,
)
from backoffice.templating import templates
from bot.channels.plugin import ChannelPlugin
from bot.channels.registry import CHANNELS
from bot.engine import Engine
from casework.inbox.service import Inbox
from casework.indicators import rollups
from casework.ratelimits.service import RateLimiter
from foundation.db import Database
from foundation.settings import Settings

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"


Background = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def create_app(
    settings: Settings,
    db: Database,
    secret_key: str,
    *,
    engine: Engine | None = None,
    inbox: Inbox | None = None,
    background: Background | None = None,
    channels: Sequence[ChannelPlugin] = CHANNELS,
) -> FastAPI:
    """The web application, HTTP only: pages, the web chat, the APIs and the webhooks, which
    store what they receive in the inbox. The bot's turns for the messaging apps, the
    deliveries and the periodic jobs run apart (ventanilla/workers.py). `engine` and `inbox`
    are given when workers in the same process share them; `background(stop)` runs for the
    app's lifetime once the engine is warm (`ventanilla serve` gives it the workers).
    `channels` are the channel plugins whose routes are mounted (the registry's)."""
    # One thread for numpy's BLAS: the model's small products gain nothing from more, and
    # OpenBLAS's idle threads spin, taking the CPU that requests and the database need
    # (measured: 11.6 ms of CPU per message on PostgreSQL with them, 3.4 ms without).
    threadpool_limits(1)
    engine = engine or Engine(db, settings)
    # When the indicator rollups may take a day as settled depends on these two settings.
    rollups.configure(settings.evaluation.survey_days, settings.evaluation.session_gap_minutes)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await engine.warm_up()
        # What exists now (the understanding model, the imported libraries) lives as long as
        # the process: the collector need not walk it again. Its full collections would
        # otherwise pause every request for tens of milliseconds.
        gc.freeze()
        stop = asyncio.Event()
        running = asyncio.create_task(background(stop)) if background is not None else None
        try:
            yield
        finally:
            stop.set()
            if running is not None:
                await running

    # The API's schema and docs are routes of their own, for administrators (routes/docs.py).
    app = FastAPI(
        title="Ventanilla", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.db = db
    app.state.settings = settings
    app.state.engine = engine
    app.state.channels = tuple(channels)  # their names are the indicators' channel filter
    app.state.inbox = inbox or Inbox(db)
    app.state.rate_limiter = RateLimiter(db)  # the web chat's flood limits
    app.state.secret_key = secret_key  # CSRF tokens are derived with it (backoffice/csrf.py)
    app.add_middleware(Door, limits=settings.limits)  # body size, type and depth as it streams
    headers.install(app, settings.web)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for channel in channels:  # first: the webhooks are the busiest routes, matched soonest
        if channel.router is not None:
            app.include_router(channel.router)
    for module in (
        public,
        auth,
        requests,
        handoffs,
        ratings,
        evaluation,
        results,
        surveys,
        deliveries,
        users,
        audit_log,
        catalog,
        tokens,
        indicator_cards,
        api,
        docs,
    ):
        app.include_router(module.router)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # What was wrong and where, not the input itself: it can be large, or text that
        # cannot even be encoded in the answer (a lone surrogate).
        errors = [{"type": e["type"], "loc": e["loc"], "msg": e["msg"]} for e in exc.errors()]
        log.warning("rejected %s %s: %s", request.method, request.url.path, errors[:3])
        return JSONResponse(
            {"detail": "Solicitud inválida.", "errors": jsonable_encoder(errors)},
            status_code=422,
        )

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.startswith("/backoffice/api/"):
            return JSONResponse({"detail": "Inicia sesión."}, status_code=401)
        if request.method != "GET":  # coming back to a form's target would be a GET: useless
            return RedirectResponse("/backoffice/login", status_code=303)
        return RedirectResponse(f"/backoffice/login?next={quote(exc.next_url)}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _error_page(request: Request, exc: StarletteHTTPException) -> Response:
        """Back office pages answer errors with a page in Spanish; the APIs keep JSON."""
        path = request.url.path
        if not path.startswith("/backoffice") or path.startswith("/backoffice/api/"):
            return await http_exception_handler(request, exc)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": exc.status_code, "detail": exc.detail},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    return app
