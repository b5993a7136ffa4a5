"""The FastAPI application: back office pages, public pages and the web chat API."""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from aiogram import Bot, Dispatcher
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
from backoffice.routes import telegram as telegram_routes
from backoffice.routes import whatsapp as whatsapp_routes
from backoffice.templating import templates
from bot.channels import telegram, web, whatsapp
from bot.engine import Engine
from casework.db import Database
from casework.inbox.service import Inbox
from casework.indicators import rollups
from casework.outbox.delivery import Deliverer, Sender
from casework.privacy import retention
from casework.ratelimits.service import RateLimiter
from casework.ratings import reminders
from ventanilla.settings import Settings

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"


@dataclass
class TelegramChannel:
    bot: Bot
    dispatcher: Dispatcher
    secret: str | None = None  # the webhook's secret token, once known


def create_app(
    settings: Settings,
    db: Database,
    secret_key: str,
    *,
    deliver: bool = True,
    process_inbox: bool = True,
    telegram_polling: bool = False,
    remind_surveys: bool = True,
) -> FastAPI:
    """The whole web application. With `deliver`, an outbox worker runs beside it for the push
    channels configured (Telegram); with `process_inbox`, the updates that the messaging apps'
    webhooks stored are handled beside it (casework/inbox); with `telegram_polling`, updates
    are fetched by long polling instead of arriving on the webhook; with `remind_surveys`,
    unanswered surveys get their one reminder (checked every
    `reminders.REMINDER_INTERVAL_SECONDS`)."""
    # One thread for numpy's BLAS: the model's small products gain nothing from more, and
    # OpenBLAS's idle threads spin, taking the CPU that requests and the database need
    # (measured: 11.6 ms of CPU per message on PostgreSQL with them, 3.4 ms without).
    threadpool_limits(1)
    engine = Engine(db, settings)
    # When the indicator rollups may take a day as settled depends on these two settings.
    rollups.configure(settings.survey_days, settings.session_gap_minutes)
    senders: list[Sender] = []
    telegram_channel = None
    if settings.telegram_token:
        bot = telegram.make_bot(settings)
        telegram_channel = TelegramChannel(bot, telegram.build_dispatcher(engine))
        senders.append(telegram.TelegramSender(bot))
    if settings.whatsapp_token and settings.whatsapp_phone_number_id:
        senders.append(whatsapp.WhatsAppSender(settings, db))
    deliverer = Deliverer(db, senders, in_flight=settings.outbox_in_flight) if senders else None
    handlers = {whatsapp.CHANNEL: whatsapp.inbox_handler(engine)}
    if telegram_channel is not None:
        handlers[telegram.CHANNEL] = telegram.inbox_handler(
            telegram_channel.dispatcher, telegram_channel.bot
        )
    box = Inbox(db, handlers)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await engine.warm_up()
        # What exists now (the understanding model, the imported libraries) lives as long as
        # the process: the collector need not walk it again. Its full collections would
        # otherwise pause every request for tens of milliseconds.
        gc.freeze()
        stop = asyncio.Event()
        tasks = []
        if deliver and deliverer is not None:
            tasks.append(asyncio.create_task(deliverer.run(stop)))
        if process_inbox:
            tasks.append(asyncio.create_task(box.run(stop)))
        if remind_surveys:
            tasks.append(asyncio.create_task(reminders.run(db, settings, stop)))
            tasks.append(asyncio.create_task(retention.run(db, settings, stop)))
        if telegram_polling and telegram_channel is not None:
            tasks.append(asyncio.create_task(telegram.poll(box, telegram_channel.bot, stop)))
        try:
            yield
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if telegram_channel is not None:
                await telegram_channel.bot.session.close()

    # The API's schema and docs are routes of their own, for administrators (routes/docs.py).
    app = FastAPI(
        title="Ventanilla", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.db = db
    app.state.settings = settings
    app.state.engine = engine
    app.state.telegram = telegram_channel
    app.state.deliverer = deliverer
    app.state.inbox = box
    app.state.rate_limiter = RateLimiter(db)  # the web chat's flood limits
    app.state.secret_key = secret_key  # CSRF tokens are derived with it (backoffice/csrf.py)
    app.add_middleware(Door, settings=settings)  # body size, type and depth as it streams
    headers.install(app, settings)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (
        telegram_routes,  # first: the busiest routes are matched soonest
        whatsapp_routes,
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
    app.include_router(web.router)

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
