"""Password guessing is slowed down per username and per username and address, in the
database, never per address alone; the session cookie carries its flags."""

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from backoffice.app import create_app
from casework.staff import throttle
from casework.staff.models import LoginThrottle
from foundation import texts
from foundation.audit import AuditEntry
from foundation.db import Database, utcnow
from foundation.settings import Settings, WebSettings
from tests.support import STAFF_PASSWORD, post_login

WRONG = STAFF_PASSWORD + "x"
FREE_FROM_ONE_ADDRESS = throttle.PER_USERNAME_AND_ADDRESS.free
FREE_FROM_ANYWHERE = throttle.PER_USERNAME.free


def _client(app: FastAPI, address: str = "10.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def app(loaded_db: Database, settings: Settings) -> FastAPI:
    return create_app(settings, loaded_db, settings.web.secret_key)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app) as c:
        yield c


async def _actions(db: Database) -> list[str]:
    async with db.transaction() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def _time_passes(db: Database) -> None:
    """Every wait in force is over (as if its time had passed)."""
    async with db.transaction() as session:
        await session.execute(
            update(LoginThrottle).values(blocked_until=utcnow() - timedelta(seconds=1))
        )


async def _fail(client: httpx.AsyncClient, username: str = "agente") -> httpx.Response:
    return await post_login(client, username, WRONG)


async def _fail_until_a_long_wait(client: httpx.AsyncClient, db: Database) -> None:
    """Fail from this client until the next attempt must wait at least a minute (a short wait
    could be over before the test's next request on a slow machine)."""
    for _ in range(20):
        response = await _fail(client)
        if response.status_code == 429 and int(response.headers["retry-after"]) >= 60:
            return
        if response.status_code == 429:
            await _time_passes(db)
    raise AssertionError("the wait never grew to a minute")


def test_the_wait_doubles_after_the_free_failures_up_to_fifteen_minutes() -> None:
    waits = [throttle.wait_after(n, 3) for n in range(1, 60)]
    assert waits[:3] == [None, None, None]
    seconds = [w.total_seconds() for w in waits[3:] if w is not None]
    assert seconds[:5] == [1, 2, 4, 8, 16]
    assert max(seconds) == 15 * 60 == seconds[-1]
    assert seconds == sorted(seconds)


async def test_failures_from_one_address_make_each_next_attempt_wait_longer(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    for _ in range(FREE_FROM_ONE_ADDRESS):
        assert (await _fail(client)).status_code == 401
    retry_after = []
    for _ in range(4):
        refused = await _fail(client)
        assert refused.status_code == 429
        retry_after.append(int(refused.headers["retry-after"]))
        assert "Demasiados intentos fallidos" in refused.text and "espera" in refused.text
        await _time_passes(loaded_db)
    assert retry_after == [1, 2, 4, 8]


async def test_while_it_must_wait_even_the_right_password_is_refused_and_not_counted(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    await _fail_until_a_long_wait(client, loaded_db)
    failed = (await _actions(loaded_db)).count("staff.login_failed")
    for password in (STAFF_PASSWORD, WRONG, WRONG):
        assert (await post_login(client, "agente", password)).status_code == 429
    assert (await client.get("/backoffice/solicitudes")).status_code == 303  # not logged in
    actions = await _actions(loaded_db)
    assert actions.count("staff.login_failed") == failed
    assert actions.count("staff.login_throttled") == 1  # when the waiting began
    assert texts.labels("audit_action")["staff.login_throttled"].startswith("Espera impuesta")
    assert "staff.login" not in actions
    await _time_passes(loaded_db)
    assert (await post_login(client, "agente", STAFF_PASSWORD)).status_code == 303


async def test_random_usernames_from_one_address_never_lock_out_a_colleague_there(
    app: FastAPI,
) -> None:
    """20 bad passwords for random usernames from the town hall's one address: the real user
    behind the same address still logs in at once."""
    async with _client(app, "10.9.9.9") as guesser:
        for n in range(20):
            assert (await _fail(guesser, f"nadie{n}")).status_code == 401
    async with _client(app, "10.9.9.9") as colleague:
        assert (await post_login(colleague, "agente", STAFF_PASSWORD)).status_code == 303


async def test_guesses_from_one_address_do_not_slow_the_same_user_elsewhere(
    app: FastAPI, loaded_db: Database
) -> None:
    async with _client(app, "10.0.0.1") as guesser:
        await _fail_until_a_long_wait(guesser, loaded_db)
        assert (await post_login(guesser, "agente", STAFF_PASSWORD)).status_code == 429
    async with _client(app, "10.0.0.2") as owner:
        assert (await post_login(owner, "agente", STAFF_PASSWORD)).status_code == 303


async def test_guesses_at_one_username_from_many_addresses_slow_it_everywhere(
    app: FastAPI, loaded_db: Database
) -> None:
    for n in range(FREE_FROM_ANYWHERE):
        async with _client(app, f"10.1.0.{n}") as guesser:
            assert (await _fail(guesser)).status_code == 401
    async with _client(app, "10.1.1.1") as one_more:  # its own first failure at this address
        assert (await _fail(one_more)).status_code == 429
    async with _client(app, "10.2.0.1") as elsewhere:
        await _fail_until_a_long_wait(elsewhere, loaded_db)
        assert (await post_login(elsewhere, "agente", STAFF_PASSWORD)).status_code == 429
        # Other accounts are not touched.
        assert (await post_login(elsewhere, "editora", STAFF_PASSWORD)).status_code == 303


async def test_the_wait_holds_on_another_worker(
    app: FastAPI, loaded_db: Database, settings: Settings
) -> None:
    async with _client(app) as first:
        await _fail_until_a_long_wait(first, loaded_db)
    other_worker = create_app(settings, loaded_db, settings.web.secret_key)
    async with _client(other_worker) as second:
        assert (await post_login(second, "agente", STAFF_PASSWORD)).status_code == 429


async def test_counts_are_forgotten_a_day_after_the_last_failure(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    for _ in range(FREE_FROM_ONE_ADDRESS):
        await _fail(client)
    async with loaded_db.transaction() as session:
        await session.execute(
            update(LoginThrottle).values(last_failure_at=utcnow() - timedelta(hours=25))
        )
    for _ in range(FREE_FROM_ONE_ADDRESS):
        assert (await _fail(client)).status_code == 401
    assert (await _fail(client)).status_code == 429


async def test_a_successful_login_clears_the_counts(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    for _ in range(FREE_FROM_ONE_ADDRESS):
        await _fail(client)
    assert (await post_login(client, "agente", STAFF_PASSWORD)).status_code == 303
    for _ in range(FREE_FROM_ONE_ADDRESS):
        assert (await _fail(client)).status_code == 401
    async with loaded_db.transaction() as session:
        failures = await session.scalar(
            select(LoginThrottle.failures).where(LoginThrottle.key == "user:agente")
        )
    assert failures == FREE_FROM_ONE_ADDRESS


@pytest.mark.parametrize("https", [False, True])
async def test_session_cookie_flags(loaded_db: Database, database_url: str, https: bool) -> None:
    scheme = "https" if https else "http"
    settings = Settings(
        database_url=database_url,
        web=WebSettings(
            secret_key="test-secret",
            public_url=f"{scheme}://ventanilla.example",
            staff_session_hours=8,
        ),
        _env_file=None,
    )
    app = create_app(settings, loaded_db, settings.web.secret_key)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=f"{scheme}://testserver") as c:
        response = await post_login(c, "agente", STAFF_PASSWORD)
    assert response.status_code == 303
    cookies = [v for v in response.headers.get_list("set-cookie") if "ventanilla_staff=" in v]
    assert len(cookies) == 1
    name = cookies[0].split("=", 1)[0]
    assert name == ("__Host-ventanilla_staff" if https else "ventanilla_staff")
    flags = {part.strip().lower() for part in cookies[0].split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/", "max-age=28800"} <= flags
    assert ("secure" in flags) is https
