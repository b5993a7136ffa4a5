"""The FastAPI application: back office pages, public pages and the web chat API."""

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from backoffice.deps import LoginRequired
from backoffice.routes import auth, handoffs, public, ratings, requests
from bot.channels import web
from bot.engine import Engine
from casework.db import Database
from ventanilla.settings import Settings

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings, db: Database, secret_key: str) -> FastAPI:
    app = FastAPI(title="Ventanilla", docs_url="/api/docs", redoc_url=None)
    app.state.db = db
    app.state.settings = settings
    app.state.engine = Engine(db, settings)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie="ventanilla_staff",
        same_site="lax",
        https_only=settings.public_url.startswith("https://"),
        max_age=12 * 3600,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (public, auth, requests, handoffs, ratings):
        app.include_router(module.router)
    app.include_router(web.router)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        log.warning("rejected %s %s: %s", request.method, request.url.path, exc.errors()[:3])
        return JSONResponse(
            {"detail": "Solicitud inválida.", "errors": jsonable_encoder(exc.errors())},
            status_code=422,
        )

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/backoffice/login?next={exc.next_url}", status_code=303)

    @app.get("/backoffice", include_in_schema=False)
    async def _home() -> Response:
        return RedirectResponse("/backoffice/solicitudes", status_code=303)

    return app
