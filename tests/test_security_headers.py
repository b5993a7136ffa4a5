"""Every response carries the security headers: pages, APIs, static files, redirects and errors;
no template holds an inline script or style; the API schema and docs are for administrators."""

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backoffice.app import create_app
from foundation.db import Database
from foundation.settings import Settings, WebSettings
from tests.support import STAFF_PASSWORD, login, post_login

TEMPLATES = Path(__file__).resolve().parent.parent / "backoffice" / "templates"
EMBEDDER = "https://www.municipio.gob.mx"
# (method, path, expected status): every kind of response the app gives.
RESPONSES = [
    ("GET", "/", 200),
    ("GET", "/privacidad", 200),
    ("GET", "/resultados", 200),
    ("POST", "/api/chat/sessions", 200),
    ("GET", "/api/chat/messages?session=x", 422),
    ("GET", "/static/style.css", 200),
    ("GET", "/static/no-existe.js", 404),
    ("GET", "/no-existe", 404),
    ("GET", "/backoffice/login", 200),
    ("GET", "/backoffice/solicitudes", 303),
    ("GET", "/backoffice/canalizaciones/eventos", 303),
    ("POST", "/backoffice/login", 403),
    ("GET", "/api/v1/evaluacion/indicadores", 401),
    ("GET", "/openapi.json", 303),
    ("GET", "/boom", 500),
]
STAFF_PATHS = ("/backoffice", "/openapi.json", "/api/docs")


def _app(db: Database, database_url: str, **web: Any) -> FastAPI:
    config = Settings(
        database_url=database_url,
        web=WebSettings(secret_key="test-secret", **web),
        _env_file=None,
    )
    app = create_app(config, db, config.web.secret_key)

    @app.get("/boom")
    async def boom() -> None:  # an unexpected error, to see what a 500 carries
        raise RuntimeError("unexpected")

    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


def _directives(policy: str) -> dict[str, list[str]]:
    found = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        found[name] = values
    return found


async def _responses(app: FastAPI) -> AsyncIterator[tuple[str, httpx.Response]]:
    async with _client(app) as client:
        for method, path, status in RESPONSES:
            response = await client.request(method, path)
            assert response.status_code == status, f"{method} {path}"
            yield path, response


async def test_every_response_carries_the_security_headers(
    loaded_db: Database, database_url: str
) -> None:
    app = _app(loaded_db, database_url)
    async for path, response in _responses(app):
        headers = response.headers
        policy = _directives(headers["content-security-policy"])
        assert policy["script-src"] == ["'self'"], path
        assert policy["style-src"] == ["'self'"], path
        assert policy["default-src"] == ["'self'"], path
        assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"], path
        assert policy["frame-ancestors"] == ["'none'"], path
        assert "unsafe" not in headers["content-security-policy"], path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
        features = dict(
            item.strip().split("=") for item in headers["permissions-policy"].split(",")
        )
        assert {"camera", "microphone", "geolocation", "payment", "usb"} <= set(features), path
        assert set(features.values()) == {"()"}, path
        assert "strict-transport-security" not in headers, path


async def test_hsts_when_the_public_address_is_https(
    loaded_db: Database, database_url: str
) -> None:
    app = _app(loaded_db, database_url, public_url="https://ventanilla.municipio.gob.mx")
    async for path, response in _responses(app):
        assert response.headers["strict-transport-security"] == "max-age=31536000", path


async def test_only_the_citizens_pages_may_be_framed_by_the_allowed_origins(
    loaded_db: Database, database_url: str
) -> None:
    app = _app(loaded_db, database_url, frame_ancestors=[EMBEDDER])
    async for path, response in _responses(app):
        policy = _directives(response.headers["content-security-policy"])
        if path.startswith(STAFF_PATHS):
            assert policy["frame-ancestors"] == ["'none'"], path
            assert response.headers["x-frame-options"] == "DENY", path
        else:
            assert policy["frame-ancestors"] == [EMBEDDER], path
            assert "x-frame-options" not in response.headers, path


def test_a_frame_origin_must_be_only_an_origin() -> None:
    for bad in ("*", "https://a.example/ruta", "https://a.example; script-src *", "a.example"):
        with pytest.raises(ValueError, match="not an origin"):
            WebSettings(frame_ancestors=[bad], _env_file=None)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
INLINE_STYLE = re.compile(r"<style\b|\sstyle=")
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_template_has_an_inline_script_or_style(template: str) -> None:
    """The CSP refuses them; the browser tests see only the pages they open, this sees all."""
    html = (TEMPLATES / template).read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(html), "inline <script>: move it to a file under /static"
    assert not INLINE_STYLE.search(html), "inline style: move it to a stylesheet under /static"
    assert not INLINE_HANDLER.search(html), "inline event handler: use addEventListener"
    assert "javascript:" not in html


# --- the API's schema and docs -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "agent", "editor", "evaluator", None])
async def test_the_api_schema_and_docs_are_for_administrators(
    app: FastAPI, staff_of_every_role: dict[str, str], role: str | None
) -> None:
    async with _client(app) as client:
        if role is not None:
            await login(client, staff_of_every_role[role])
        schema = await client.get("/openapi.json")
        docs = await client.get("/api/docs")
        script = await client.get("/api/docs/swagger-ui-bundle.js")
    if role is None:
        for response in (schema, docs, script):
            assert response.status_code == 303
            assert response.headers["location"].startswith("/backoffice/login")
    elif role != "admin":
        assert {schema.status_code, docs.status_code, script.status_code} == {403}
    else:
        assert schema.status_code == 200 and "/api/chat/messages" in schema.json()["paths"]
        assert docs.status_code == 200 and 'src="/static/api-docs.js"' in docs.text
        assert script.status_code == 200 and "SwaggerUIBundle" in script.text


async def test_an_administrator_returns_to_the_docs_after_logging_in(
    app: FastAPI, staff_of_every_role: dict[str, str]
) -> None:
    async with _client(app) as client:
        first = await client.get("/api/docs")
        assert first.headers["location"] == "/backoffice/login?next=/api/docs"
        admin = staff_of_every_role["admin"]
        back = await post_login(client, admin, STAFF_PASSWORD, next="/api/docs")
        assert back.headers["location"] == "/api/docs"
        elsewhere = await post_login(client, admin, STAFF_PASSWORD, next="/api/docsx")
        assert elsewhere.headers["location"] == "/backoffice/solicitudes"


async def test_the_docs_can_be_switched_off(
    loaded_db: Database, database_url: str, staff_of_every_role: dict[str, str]
) -> None:
    app = _app(loaded_db, database_url, api_docs=False)
    async with _client(app) as client:
        await login(client, staff_of_every_role["admin"])
        for path in ("/openapi.json", "/api/docs", "/api/docs/swagger-ui-bundle.js"):
            assert (await client.get(path)).status_code == 404, path
