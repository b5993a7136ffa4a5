"""Every route of the app is either public on purpose or declares which staff roles may use it.

The checks walk `app.routes`, so a route added later is covered without touching this file: a
back office route without `RoleRequired(...)` makes `test_every_route_is_public_or_declares_roles`
fail, and every declared permission is then exercised over HTTP by an anonymous visitor and by
a logged-in member of each role.
"""

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backoffice.app import create_app
from backoffice.deps import RoleRequired, Staff, required_roles, walk_routes
from casework.db import Database
from casework.staff.models import ROLES
from tests.conftest import login
from ventanilla.settings import Settings

# Routes anyone may open, each with the reason. Nothing else is public.
PUBLIC = {
    "/": "the citizens' web chat",
    "/privacidad": "the privacy notice",
    "/api/chat/sessions": "the web chat API (a chat session is its own credential)",
    "/api/chat/messages": "the web chat API",
    "/telegram/webhook": "Telegram's webhook, checked by its secret header",
    "/whatsapp/webhook": "WhatsApp's webhook, checked by its signature",
    "/static": "stylesheet and scripts",
    "/api/docs": "API documentation",
    "/docs/oauth2-redirect": "API documentation",
    "/openapi.json": "API documentation",
    "/backoffice/login": "the login form itself",
}

# The decisions, section by section (see backoffice/permissions.py).
EXPECTED = {
    "/backoffice/solicitudes": {"admin", "agent"},
    "/backoffice/canalizaciones": {"admin", "agent"},
    "/backoffice/envios": {"admin", "agent"},
    "/backoffice/calificaciones": {"admin", "evaluator"},
    "/backoffice/encuestas": {"admin", "evaluator"},
    "/backoffice/auditoria": {"admin"},
    "/backoffice/usuarios": {"admin"},
    "/backoffice/catalogo": {"admin", "editor"},
    "/backoffice/logout": set(ROLES),
    "/backoffice/inicio": set(ROLES),
}


def routes(app: FastAPI) -> list[Any]:
    return list(walk_routes(app.routes))


def unprotected(app: FastAPI) -> list[str]:
    """Routes neither listed as public nor declaring a non-empty set of known roles."""
    problems = []
    for route in routes(app):
        path = route.path
        if path in PUBLIC:
            continue
        roles = required_roles(route)
        if not roles or not roles <= set(ROLES):
            methods = sorted(getattr(route, "methods", None) or [])
            problems.append(f"{path} {methods}: no RoleRequired permission")
        elif not path.startswith("/backoffice"):
            problems.append(f"{path}: staff route outside /backoffice")
    return problems


def protected(app: FastAPI) -> list[tuple[str, str, frozenset[str]]]:
    """(method, concrete path, allowed roles) for every protected route, path parameters
    filled with a dummy value."""
    found = []
    for route in routes(app):
        if route.path not in PUBLIC:
            roles = required_roles(route)
            assert roles is not None
            url = re.sub(r"\{[^}]+\}", "1", route.path)
            found.extend((method, url, roles) for method in sorted(route.methods))
    return found


@pytest.fixture
async def app(loaded_db: Database, settings: Settings) -> FastAPI:
    return create_app(settings, loaded_db, settings.secret_key)


@pytest.fixture
async def clients(
    app: FastAPI, staff_of_every_role: dict[str, str]
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """One logged-in client per role."""
    made = {
        role: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        for role in ROLES
    }
    try:
        for role, client in made.items():
            await login(client, staff_of_every_role[role])
        yield made
    finally:
        for client in made.values():
            await client.aclose()


async def test_every_route_is_public_or_declares_roles(app: FastAPI) -> None:
    assert unprotected(app) == []
    paths = {route.path for route in routes(app)}
    assert set(PUBLIC) <= paths, f"public entries with no route: {set(PUBLIC) - paths}"
    assert [p for p in PUBLIC if p.startswith("/backoffice")] == ["/backoffice/login"]
    assert len(protected(app)) > 15  # the included routers were walked into


async def test_the_walk_catches_a_route_without_permission(app: FastAPI) -> None:
    async def forgotten(staff: Staff) -> dict[str, str]:  # logged in, but no role checked
        return {}

    app.get("/backoffice/nueva-seccion")(forgotten)
    app.get("/otra-cosa")(forgotten)
    problems = unprotected(app)
    assert len(problems) == 2
    assert "/backoffice/nueva-seccion" in problems[0] and "/otra-cosa" in problems[1]


async def test_router_level_permissions_count_too(app: FastAPI) -> None:
    from fastapi import APIRouter, Depends

    router = APIRouter(prefix="/backoffice/x", dependencies=[Depends(RoleRequired("editor"))])
    router.get("")(lambda: {})
    app.include_router(router)
    route = next(r for r in routes(app) if r.path == "/backoffice/x")
    assert required_roles(route) == {"editor"}
    assert unprotected(app) == []


async def test_each_section_admits_the_roles_decided(app: FastAPI) -> None:
    seen = set()
    for method, url, roles in protected(app):
        section = next((p for p in EXPECTED if url == p or url.startswith(p + "/")), None)
        if url == "/backoffice":
            assert roles == set(ROLES), "the start redirect is for every role"
            continue
        assert section is not None, f"{method} {url}: add its section to EXPECTED"
        assert roles == EXPECTED[section], f"{method} {url}"
        seen.add(section)
    assert seen == set(EXPECTED)


async def test_anonymous_visitors_are_sent_to_login_everywhere(app: FastAPI) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as anonymous:
        for method, url, _roles in protected(app):
            response = await anonymous.request(method, url)
            if url.startswith("/backoffice/api/"):
                assert response.status_code == 401, f"{method} {url}"
            else:
                assert response.status_code == 303, f"{method} {url}: {response.status_code}"
                assert response.headers["location"].startswith("/backoffice/login"), url


async def test_each_role_is_refused_outside_its_sections(
    app: FastAPI, clients: dict[str, httpx.AsyncClient]
) -> None:
    checked = 0
    for method, url, roles in protected(app):
        for role, client in clients.items():
            if role in roles:
                if method == "GET":  # reading is harmless: the permission must let them in
                    response = await client.get(url)
                    assert response.status_code in (200, 303, 404), f"{role} GET {url}"
                    assert "/backoffice/login" not in response.headers.get("location", "")
                continue
            response = await client.request(method, url)
            assert response.status_code == 403, f"{role} {method} {url}: {response.status_code}"
            assert "Tu rol no tiene permiso" in response.text
            checked += 1
    assert checked > 10


async def test_nav_shows_only_the_sections_of_the_role(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    pages = {
        "admin": "/backoffice/usuarios",
        "agent": "/backoffice/solicitudes",
        "evaluator": "/backoffice/calificaciones",
        "editor": "/backoffice/catalogo",
    }
    for role, page in pages.items():
        html = (await clients[role].get(page)).text
        nav = html[html.index("<nav") : html.index("</nav>")]
        links = set(re.findall(r'href="(/backoffice/[a-z]+)"', nav))
        wanted = {p for p, allowed in EXPECTED.items() if role in allowed}
        assert links == wanted - {"/backoffice/logout", "/backoffice/inicio"}, role


async def test_login_lands_on_the_first_section_of_the_role(
    app: FastAPI, staff_of_every_role: dict[str, str]
) -> None:
    from tests.conftest import STAFF_PASSWORD, post_login

    landing = {
        "admin": "/backoffice/solicitudes",
        "agent": "/backoffice/solicitudes",
        "evaluator": "/backoffice/calificaciones",
        "editor": "/backoffice/catalogo",
    }
    for role, username in staff_of_every_role.items():
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            response = await post_login(client, username, STAFF_PASSWORD)
            assert response.headers["location"] == landing[role], role
