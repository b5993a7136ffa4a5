"""Every route of the app is either public on purpose or declares which staff roles may use it.

The checks walk `app.routes`, so a route added later is covered without touching this file: a
back office route without `RoleRequired(...)` makes `test_every_route_is_public_or_declares_roles`
fail, and every declared permission is then exercised over HTTP by an anonymous visitor and by
a logged-in member of each role. Routes of the evaluators' API (under `API_PREFIX`) must
instead declare `BearerRequired(...)`: they take a token, never the session cookie.
"""

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backoffice.app import create_app
from backoffice.deps import RoleRequired, Staff, required_roles, walk_routes
from backoffice.routes.api import PREFIX as API_PREFIX
from backoffice.routes.api import BearerRequired
from casework.staff.models import ROLES, ApiToken, StaffUser
from casework.staff.tokens import TOKEN_PREFIX, create_token, token_digest
from foundation.db import Database
from foundation.settings import Settings
from tests.support import login

# Routes anyone may open, each with the reason. Nothing else is public.
PUBLIC = {
    "/": "the citizens' web chat",
    "/privacidad": "the privacy notice",
    "/resultados": "the public results page: aggregate figures only, small counts hidden",
    "/api/chat/sessions": "the web chat API (a chat session is its own credential)",
    "/api/chat/messages": "the web chat API",
    "/telegram/webhook": "Telegram's webhook, checked by its secret header",
    "/whatsapp/webhook": "WhatsApp's webhook, checked by its signature",
    "/static": "stylesheet and scripts",
    "/backoffice/login": "the login form itself",
}
# Staff routes outside /backoffice, each with the reason: nothing else may be.
STAFF_ELSEWHERE = {
    "/openapi.json": "the API's schema, at the address tools expect",
    "/api/docs": "the API documentation, beside the API",
}

# The decisions, section by section (see backoffice/permissions.py).
EXPECTED = {
    "/backoffice/solicitudes": {"admin", "agent"},
    "/backoffice/canalizaciones": {"admin", "agent"},
    "/backoffice/envios": {"admin", "agent"},
    "/backoffice/calificaciones": {"admin", "evaluator"},
    "/backoffice/evaluacion": {"admin", "evaluator"},
    "/backoffice/indicadores": {"admin", "evaluator"},
    "/backoffice/tokens": {"admin", "evaluator"},
    "/backoffice/encuestas": {"admin", "evaluator"},
    "/backoffice/auditoria": {"admin"},
    "/backoffice/usuarios": {"admin"},
    "/backoffice/catalogo": {"admin", "editor"},
    "/backoffice/logout": set(ROLES),
    "/backoffice/inicio": set(ROLES),
    "/openapi.json": {"admin"},
    "/api/docs": {"admin"},
}
# The evaluators' API: a bearer token of one of these roles, never the session cookie.
BEARER = {API_PREFIX: {"admin", "evaluator"}}


def routes(app: FastAPI) -> list[Any]:
    return list(walk_routes(app.routes))


def takes_bearer(route: Any) -> bool:
    """Whether a `BearerRequired` dependency sits anywhere in the route's dependency tree."""
    root = getattr(route, "dependant", None)
    stack = [root] if root is not None else []
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, BearerRequired):
            return True
        stack.extend(dependant.dependencies)
    return False


def is_api(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def unprotected(app: FastAPI) -> list[str]:
    """Routes neither listed as public nor declaring a non-empty set of known roles (with a
    bearer token under the API prefix, with the session elsewhere)."""
    problems = []
    for route in routes(app):
        path = route.path
        if path in PUBLIC:
            continue
        roles = required_roles(route)
        methods = sorted(getattr(route, "methods", None) or [])
        if not roles or not roles <= set(ROLES):
            problems.append(f"{path} {methods}: no RoleRequired permission")
        elif is_api(path):
            if not takes_bearer(route):
                problems.append(f"{path} {methods}: API route without BearerRequired")
            elif methods != ["GET"]:
                problems.append(f"{path} {methods}: the evaluators' API is read-only")
        elif takes_bearer(route):
            problems.append(f"{path}: bearer token outside the API")
        elif not path.startswith("/backoffice") and not any(
            path == p or path.startswith(p + "/") for p in STAFF_ELSEWHERE
        ):
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
    return create_app(settings, loaded_db, settings.web.secret_key)


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


async def test_the_walk_catches_an_api_route_without_a_bearer_token(app: FastAPI) -> None:
    from fastapi import Depends

    async def with_session(staff: Staff) -> dict[str, str]:
        return {}

    app.get(API_PREFIX + "/sin-token")(lambda: {})  # nothing at all
    app.get(API_PREFIX + "/con-sesion", dependencies=[Depends(RoleRequired("evaluator"))])(
        with_session
    )  # the session's permission is not the API's
    problems = unprotected(app)
    assert len(problems) == 2
    assert "/sin-token" in problems[0] and "no RoleRequired" in problems[0]
    assert "/con-sesion" in problems[1] and "without BearerRequired" in problems[1]


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
        decided = {**EXPECTED, **BEARER}
        section = next((p for p in decided if url == p or url.startswith(p + "/")), None)
        if url == "/backoffice":
            assert roles == set(ROLES), "the start redirect is for every role"
            continue
        assert section is not None, f"{method} {url}: add its section to EXPECTED"
        assert roles == decided[section], f"{method} {url}"
        seen.add(section)
    assert seen == set(EXPECTED) | set(BEARER)


async def test_anonymous_visitors_are_sent_to_login_everywhere(app: FastAPI) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as anonymous:
        for method, url, _roles in protected(app):
            response = await anonymous.request(method, url)
            if is_api(url):
                assert response.status_code == 401, f"{method} {url}"
                assert response.headers["www-authenticate"].startswith("Bearer"), url
                assert "token" in response.json()["detail"], url
            elif url.startswith("/backoffice/api/"):
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
            if is_api(url):  # a logged-in session is no API credential, whatever the role
                response = await client.request(method, url)
                assert response.status_code == 401, f"{role} {method} {url}"
                continue
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
        wanted = {
            p for p, allowed in EXPECTED.items() if role in allowed and p not in STAFF_ELSEWHERE
        }
        assert links == wanted - {"/backoffice/logout", "/backoffice/inicio"}, role


async def test_login_lands_on_the_first_section_of_the_role(
    app: FastAPI, staff_of_every_role: dict[str, str]
) -> None:
    from tests.support import STAFF_PASSWORD, post_login

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


async def test_the_api_admits_the_tokens_of_the_roles_decided(
    app: FastAPI, loaded_db: Database, staff_of_every_role: dict[str, str]
) -> None:
    """Every API route, with a token of each role. Agents and editors cannot be given a token
    in the back office; one written straight into the database is refused all the same."""
    from sqlalchemy import select

    tokens = {}
    async with loaded_db.transaction() as session:
        for role, username in staff_of_every_role.items():
            staff = await session.scalar(select(StaffUser).where(StaffUser.username == username))
            assert staff is not None
            if role in BEARER[API_PREFIX]:
                _token, tokens[role] = await create_token(session, staff, f"token {role}")
            else:
                plain = f"{TOKEN_PREFIX}planted-{role}-0123456789abcdef"
                session.add(
                    ApiToken(
                        staff_user_id=staff.id,
                        name="plantado",
                        token_hash=token_digest(plain),
                        prefix=plain[:12],
                    )
                )
                tokens[role] = plain
    checked = 0
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        for method, url, roles in protected(app):
            if not is_api(url):
                continue
            for role, plain in tokens.items():
                response = await client.request(
                    method, url, headers={"Authorization": f"Bearer {plain}"}
                )
                wanted = 200 if role in roles else 401
                assert response.status_code == wanted, f"{role} {method} {url}"
                checked += 1
    assert checked >= 4 * 4
