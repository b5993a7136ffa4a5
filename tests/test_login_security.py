"""Password guessing is throttled in the database, and the session cookie carries its flags."""

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from backoffice.app import create_app
from casework.db import Database, utcnow
from casework.staff.models import AuditEntry, LoginThrottle
from tests.conftest import STAFF_PASSWORD, post_login
from ventanilla.settings import Settings

WRONG = STAFF_PASSWORD + "x"


def _client(app: FastAPI, address: str = "10.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def app(loaded_db: Database, settings: Settings) -> FastAPI:
    return create_app(settings, loaded_db, settings.secret_key)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app) as c:
        yield c


async def _actions(db: Database) -> list[str]:
    async with db.transaction() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def test_five_failures_lock_the_username_even_for_the_right_password(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    for _ in range(4):
        assert (await post_login(client, "agente", WRONG)).status_code == 401
    fifth = await post_login(client, "agente", WRONG)
    assert fifth.status_code == 429
    right = await post_login(client, "agente", STAFF_PASSWORD)
    assert right.status_code == 429
    assert "Demasiados intentos fallidos" in right.text and "bloqueado hasta el" in right.text
    assert (await client.get("/backoffice/solicitudes")).status_code == 303  # not logged in
    actions = await _actions(loaded_db)
    assert actions.count("staff.login_failed") == 5
    assert actions.count("staff.login_locked") == 1
    assert "staff.login" not in actions


async def test_the_lock_holds_on_another_worker(
    app: FastAPI, loaded_db: Database, settings: Settings
) -> None:
    async with _client(app) as first:
        for _ in range(5):
            await post_login(first, "agente", WRONG)
    other_worker = create_app(settings, loaded_db, settings.secret_key)
    async with _client(other_worker, "10.0.0.2") as second:
        assert (await post_login(second, "agente", STAFF_PASSWORD)).status_code == 429


async def test_the_lock_ends_after_its_time(client: httpx.AsyncClient, loaded_db: Database) -> None:
    for _ in range(5):
        await post_login(client, "agente", WRONG)
    async with loaded_db.transaction() as session:
        await session.execute(
            update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1))
        )
    assert (await post_login(client, "agente", STAFF_PASSWORD)).status_code == 303


async def test_failures_older_than_the_window_are_forgotten(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    for _ in range(4):
        await post_login(client, "agente", WRONG)
    async with loaded_db.transaction() as session:
        await session.execute(
            update(LoginThrottle).values(window_started_at=utcnow() - timedelta(minutes=16))
        )
    assert (await post_login(client, "agente", WRONG)).status_code == 401
    assert (await post_login(client, "agente", STAFF_PASSWORD)).status_code == 303


async def test_a_successful_login_resets_the_count(client: httpx.AsyncClient) -> None:
    for _ in range(4):
        await post_login(client, "agente", WRONG)
    assert (await post_login(client, "agente", STAFF_PASSWORD)).status_code == 303
    for _ in range(4):
        assert (await post_login(client, "agente", WRONG)).status_code == 401
    assert (await post_login(client, "agente", STAFF_PASSWORD)).status_code == 303


async def test_many_usernames_from_one_address_lock_the_address(app: FastAPI) -> None:
    async with _client(app, "10.9.9.9") as guesser:
        for n in range(19):
            assert (await post_login(guesser, f"nadie{n}", WRONG)).status_code == 401
        assert (await post_login(guesser, "nadie-mas", WRONG)).status_code == 429
        assert (await post_login(guesser, "agente", STAFF_PASSWORD)).status_code == 429
    async with _client(app, "10.0.0.7") as colleague:  # another address is not affected
        assert (await post_login(colleague, "agente", STAFF_PASSWORD)).status_code == 303


@pytest.mark.parametrize("https", [False, True])
async def test_session_cookie_flags(loaded_db: Database, database_url: str, https: bool) -> None:
    scheme = "https" if https else "http"
    settings = Settings(
        database_url=database_url,
        secret_key="test-secret",
        public_url=f"{scheme}://ventanilla.example",
        _env_file=None,
    )
    app = create_app(settings, loaded_db, settings.secret_key)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=f"{scheme}://testserver") as c:
        response = await post_login(c, "agente", STAFF_PASSWORD)
    assert response.status_code == 303
    cookies = [v for v in response.headers.get_list("set-cookie") if "ventanilla_staff=" in v]
    assert len(cookies) == 1
    flags = {part.strip().lower() for part in cookies[0].split(";")[1:]}
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert ("secure" in flags) is https
