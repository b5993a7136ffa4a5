"""Staff logins live in the database: a new id at every login, and logging out, deactivation, a
new password or a new role end them at once, including the live inbox's event stream."""

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select, update
from starlette.types import Message, Receive, Scope, Send

from backoffice.app import create_app
from backoffice.routes import handoffs
from casework.staff.models import StaffSession, StaffUser
from foundation import texts
from foundation.audit import AuditEntry
from foundation.db import Database, utcnow
from foundation.settings import Settings, amended
from tests.browser_fixtures import free_port
from tests.support import STAFF_PASSWORD, WebChat, csrf_from, login, post_login

COOKIE = "ventanilla_staff"
SOLICITUDES = "/backoffice/solicitudes"


def _client(app: FastAPI, cookie: str | None = None) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    if cookie is not None:
        client.cookies.set(COOKIE, cookie, domain="t.local")  # as the jar files "http://t"
    return client


async def _logged_in(app: FastAPI, cookie: str) -> bool:
    async with _client(app, cookie) as client:
        response = await client.get(SOLICITUDES)
    assert response.status_code in (200, 303)
    return response.status_code == 200


async def _user_id(db: Database, username: str) -> int:
    async with db.transaction() as session:
        user_id = await session.scalar(select(StaffUser.id).where(StaffUser.username == username))
    assert user_id is not None
    return user_id


async def test_logging_in_gives_a_new_session_id_and_the_previous_one_stops_working(
    app: FastAPI,
) -> None:
    async with _client(app) as browser:
        await browser.get("/backoffice/login")
        before_login = browser.cookies[COOKIE]
        await login(browser, "agente")
        first = browser.cookies[COOKIE]
        assert first != before_login
        assert await _logged_in(app, first)
        assert not await _logged_in(app, before_login)
        await login(browser, "agente")  # logging in again, in the same browser
        second = browser.cookies[COOKIE]
    assert second != first
    assert await _logged_in(app, second)
    assert not await _logged_in(app, first)


async def test_a_login_is_committed_before_its_answer_is_sent(
    app: FastAPI, database_url: str
) -> None:
    """A browser follows the login's redirect at once: the new login must already be visible
    to that next request, whichever worker or connection serves it."""
    elsewhere = Database(database_url)
    logins_seen: list[int] = []

    async def watched(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_and_look(message: Message) -> None:
            if message["type"] == "http.response.start" and scope["method"] == "POST":
                async with elsewhere.transaction() as session:
                    count = await session.scalar(select(func.count()).select_from(StaffSession))
                logins_seen.append(count or 0)
            await send(message)

        await app(scope, receive, send_and_look)

    transport = httpx.ASGITransport(app=watched)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as browser:
            assert (await post_login(browser, "agente", STAFF_PASSWORD)).status_code == 303
    finally:
        await elsewhere.dispose()
    assert logins_seen == [1]


async def test_a_cookie_planted_before_login_never_becomes_a_login(app: FastAPI) -> None:
    planted = "valor-fijado-por-otro-sitio-0123456789"
    async with _client(app, planted) as victim:
        await login(victim, "agente")
        assert victim.cookies[COOKIE] != planted
    assert not await _logged_in(app, planted)


async def test_a_copied_cookie_stops_working_after_logout(app: FastAPI) -> None:
    async with _client(app) as owner:
        await login(owner, "agente")
        copied = owner.cookies[COOKIE]
        async with _client(app, copied) as thief:
            assert (await thief.get(SOLICITUDES)).status_code == 200
            token = csrf_from((await thief.get(SOLICITUDES)).text)
            logout = await owner.post("/backoffice/logout")
            assert logout.status_code == 303
            assert COOKIE in logout.headers["set-cookie"]  # the browser is told to forget it
            assert (await thief.get(SOLICITUDES)).status_code == 303
            # The thief still holds a matching form token: the login, not the token, is gone.
            retry = await thief.post("/backoffice/envios/1/reintentar", data={"csrf_token": token})
            assert retry.status_code == 303 and "/backoffice/login" in retry.headers["location"]


async def test_logging_out_ends_only_that_login_and_is_audited(
    app: FastAPI, loaded_db: Database
) -> None:
    async with _client(app) as desk, _client(app) as laptop:
        await login(desk, "agente")
        await login(laptop, "agente")
        await desk.post("/backoffice/logout")
        assert (await desk.get(SOLICITUDES)).status_code == 303
        assert (await laptop.get(SOLICITUDES)).status_code == 200
    async with loaded_db.transaction() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert actions.count("staff.logout") == 1
    assert texts.labels("audit_action")["staff.logout"] == "Cierre de sesión"


AccountChange = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]
CHANGES: dict[str, AccountChange] = {
    "deactivation": lambda admin, uid: admin.post(
        f"/backoffice/usuarios/{uid}/activo", data={"active": "false"}
    ),
    "new password": lambda admin, uid: admin.post(
        f"/backoffice/usuarios/{uid}/contrasena", data={"password": "otra-clave-segura"}
    ),
    "new role": lambda admin, uid: admin.post(
        f"/backoffice/usuarios/{uid}", data={"role": "editor", "full_name": "Agente"}
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
async def test_every_login_of_the_account_ends_at_once(
    app: FastAPI, loaded_db: Database, staff_of_every_role: dict[str, str], change: str
) -> None:
    async with _client(app) as admin, _client(app) as desk, _client(app) as laptop:
        await login(admin, staff_of_every_role["admin"])
        await login(desk, "agente")
        await login(laptop, "agente")
        response = await CHANGES[change](admin, await _user_id(loaded_db, "agente"))
        assert response.status_code == 303
        for browser in (desk, laptop):
            assert (await browser.get(SOLICITUDES)).status_code == 303
        assert (await admin.get(SOLICITUDES)).status_code == 200  # other accounts go on
    async with loaded_db.transaction() as session:
        left = await session.scalar(
            select(func.count())
            .select_from(StaffSession)
            .join(StaffUser)
            .where(StaffUser.username == "agente")
        )
    assert left == 0


async def test_changing_only_the_name_keeps_the_login(
    app: FastAPI, loaded_db: Database, staff_of_every_role: dict[str, str]
) -> None:
    async with _client(app) as admin, _client(app) as agent:
        await login(admin, staff_of_every_role["admin"])
        await login(agent, "agente")
        uid = await _user_id(loaded_db, "agente")
        departments = ["sapas", "obras-publicas"]
        response = await admin.post(
            f"/backoffice/usuarios/{uid}",
            data={"role": "agent", "full_name": "Otro nombre", "departments": departments},
        )
        assert response.status_code == 303
        assert (await agent.get(SOLICITUDES)).status_code == 200


async def test_only_a_digest_of_the_cookie_is_kept(app: FastAPI, loaded_db: Database) -> None:
    async with _client(app) as browser:
        await login(browser, "agente")
        cookie = browser.cookies[COOKIE]
    async with loaded_db.transaction() as session:
        kept = list(await session.scalars(select(StaffSession.token_hash)))
    assert kept == [hashlib.sha256(cookie.encode()).hexdigest()]


async def test_a_login_ends_when_it_expires_and_is_swept_at_the_next_login(
    app: FastAPI, loaded_db: Database, settings: Settings
) -> None:
    async with _client(app) as browser:
        response = await post_login(browser, "agente", STAFF_PASSWORD)
        cookie = browser.cookies[COOKIE]
    age = f"max-age={int(settings.web.staff_session_hours * 3600)}"
    assert age in response.headers["set-cookie"].lower()
    async with loaded_db.transaction() as session:
        expires = await session.scalar(select(StaffSession.expires_at))
        assert expires is not None
        lifetime = expires - utcnow()
        assert timedelta(hours=settings.web.staff_session_hours) - lifetime < timedelta(minutes=1)
        await session.execute(update(StaffSession).values(expires_at=utcnow()))
    assert not await _logged_in(app, cookie)
    async with _client(app) as browser:
        await login(browser, "editora")
    async with loaded_db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(StaffSession)) == 1


# --- the live inbox's event stream, over real HTTP ----------------------------------------------


@pytest.fixture
async def live_server(
    loaded_db: Database,
    settings: Settings,
    staff_of_every_role: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[str]:
    """The app served by uvicorn in this process (the test client cannot read a response
    while it streams); streams last long, and the inbox is checked every 0.2 s."""
    monkeypatch.setattr(handoffs, "INBOX_POLL_SECONDS", 0.2)
    streaming = amended(settings, web={"inbox_stream_seconds": 600})
    app = create_app(streaming, loaded_db, "test-secret")
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the server did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def _events(response: httpx.Response) -> AsyncIterator[tuple[str, str]]:
    """(event, data) of a server-sent event stream, as they arrive."""
    event, data = "message", []
    async for line in response.aiter_lines():
        if line == "":
            if data or event != "message":
                yield event, "\n".join(data)
            event, data = "message", []
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)


async def _ask_for_a_person(base: str, text: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as citizen:
        chat = await WebChat.open(citizen)
        await chat.say(text)


@pytest.mark.parametrize("change", ["logout", *CHANGES])
async def test_the_inbox_stream_stops_at_the_next_check_once_the_login_ends(
    live_server: str, loaded_db: Database, staff_of_every_role: dict[str, str], change: str
) -> None:
    await _ask_for_a_person(live_server, "quiero hablar con un asesor")
    async with (
        httpx.AsyncClient(base_url=live_server, timeout=60) as agent,
        httpx.AsyncClient(base_url=live_server, timeout=60) as admin,
    ):
        await login(agent, "agente")
        await login(admin, staff_of_every_role["admin"])
        async with agent.stream("GET", "/backoffice/canalizaciones/eventos") as stream:
            assert stream.status_code == 200
            events = _events(stream)
            first, rows = await anext(events)
            assert first == "inbox" and "quiero hablar con un asesor" in rows
            if change == "logout":
                assert (await agent.post("/backoffice/logout")).status_code == 303
            else:
                uid = await _user_id(loaded_db, "agente")
                assert (await CHANGES[change](admin, uid)).status_code == 303
            await _ask_for_a_person(live_server, "necesito una persona, es otra queja")
            after = []
            async with asyncio.timeout(60):  # a bound for a failing test, not a measured time
                async for event in events:  # until the server closes the stream...
                    after.append(event)
                    if event[0] != "ended":
                        break  # ...or sends what it should not have
    assert after == [("ended", "/backoffice/login")]  # with data: browsers drop empty events
