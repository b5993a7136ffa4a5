"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is reached at 127.0.0.1:5432 as user postgres (trust auth). A fresh database is
created for the test run and dropped afterwards. Set VENTANILLA_TEST_BACKENDS=sqlite to run
against SQLite only while developing; CI always runs both.
"""

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text, update

from backoffice.app import create_app
from bot.engine import Engine
from casework.citizens.models import ChannelIdentity
from casework.conversations.models import Conversation
from casework.inbox.drain import Drainer
from casework.outbox.delivery import Deliverer
from casework.schema import table_names, upgrade
from casework.staff.accounts import create_user
from catalog.models import Department
from catalog.transfer import load_catalog_file
from foundation.db import Database
from foundation.settings import SAMPLE_CATALOG, EvaluationSettings, Settings, WebSettings, amended
from tests.fakes.telegram import FakeTelegram
from tests.fakes.whatsapp import FakeWhatsApp
from ventanilla.workers import Workers

PG_ADMIN_DSN = os.environ.get("VENTANILLA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = os.environ.get("VENTANILLA_TEST_BACKENDS", "sqlite,postgresql").split(",")


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL database created for this test run, schema applied once."""
    name = f"ventanilla_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"

    async def _prepare() -> None:
        db = Database(url)
        await upgrade(db)
        await db.dispose()

    asyncio.run(_prepare())
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database on each backend."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'ventanilla.db'}"
    url: str = request.getfixturevalue("pg_url")

    async def _truncate() -> None:
        db = Database(url)
        async with db.engine.begin() as conn:
            names = ", ".join(f'"{t}"' for t in table_names())
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await db.dispose()

    asyncio.run(_truncate())
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await upgrade(database)
    yield database
    await database.dispose()


# --- the application on top of a database -------------------------------------------------


STAFF_PASSWORD = "contraseña-de-prueba-1"


@pytest.fixture
def settings(database_url: str) -> Settings:
    # No desk hours: a citizen asking for a person is always queued, whatever the clock says
    # (tests/test_handoffs.py sets hours where they matter). A live-inbox stream sends its
    # first list and ends, since the test client reads whole responses. No "¿Te sirvió esta
    # respuesta?" after answers unless a test asks for it (tests/test_surveys.py), so the
    # dialogue tests see the replies they expect.
    return Settings(
        database_url=database_url,
        desk_hours="",
        web=WebSettings(secret_key="test-secret", inbox_stream_seconds=0),
        evaluation=EvaluationSettings(usefulness_rate=0.0),
        _env_file=None,
    )


@pytest.fixture
async def loaded_db(db: Database) -> Database:
    """A database with the sample catalogue and two staff members: `agente`, an agent of
    every department, and `editora`, a catalogue editor."""
    await load_catalog_file(db, SAMPLE_CATALOG)
    async with db.transaction() as session:
        everyone = await session.scalars(select(Department.id))
        await create_user(
            session, "agente", STAFF_PASSWORD, "agent", "Agente de prueba", list(everyone)
        )
        await create_user(session, "editora", STAFF_PASSWORD, "editor", "Editora de prueba")
    return db


# One account of each other role, and an agent of one department only (Obras Públicas).
ROLE_USERS = {
    "admin": "administradora",
    "editor": "editora",
    "agent": "agente-obras",
    "evaluator": "evaluadora",
}


@pytest.fixture
async def staff_of_every_role(loaded_db: Database) -> dict[str, str]:
    """Adds the ROLE_USERS accounts (password STAFF_PASSWORD); returns role -> username."""
    async with loaded_db.transaction() as session:
        for role, username in ROLE_USERS.items():
            if username == "editora":
                continue  # loaded_db made her already
            departments = ["obras-publicas"] if role == "agent" else []
            await create_user(session, username, STAFF_PASSWORD, role, username, departments)
    return dict(ROLE_USERS)


@pytest.fixture
async def app(
    loaded_db: Database, settings: Settings, staff_of_every_role: dict[str, str]
) -> FastAPI:
    """The app on the loaded database, with a staff account of every role."""
    return create_app(settings, loaded_db, settings.web.secret_key)


@pytest.fixture
def engine(loaded_db: Database, settings: Settings) -> Engine:
    return Engine(loaded_db, settings)


@pytest.fixture
async def client(loaded_db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, loaded_db, settings.web.secret_key)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def csrf_from(page: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found, "page without a CSRF token"
    return found.group(1)


async def post_login(
    client: httpx.AsyncClient, username: str, password: str, **fields: str
) -> httpx.Response:
    """Post the login form as a browser would: with the token from the login page."""
    client.headers.pop("X-CSRF-Token", None)
    form = await client.get("/backoffice/login")
    data = {"username": username, "password": password, "csrf_token": csrf_from(form.text)}
    return await client.post("/backoffice/login", data={**data, **fields})


async def login(client: httpx.AsyncClient, username: str = "agente") -> None:
    """Log in through the form, then send the session's CSRF token on every later request."""
    response = await post_login(client, username, STAFF_PASSWORD)
    assert response.status_code == 303, response.text
    page = await client.get(response.headers["location"])
    client.headers["X-CSRF-Token"] = csrf_from(page.text)


class WebChat:
    """A citizen on the web chat, through its JSON API."""

    def __init__(self, client: httpx.AsyncClient, session: str) -> None:
        self.client = client
        self.session = session
        self.after = 0

    @classmethod
    async def open(cls, client: httpx.AsyncClient) -> "WebChat":
        response = await client.post("/api/chat/sessions")
        return cls(client, response.json()["session"])

    def _take(self, messages: list[dict]) -> list[dict]:
        if messages:
            self.after = messages[-1]["id"]
        return messages

    async def say(self, text: str) -> list[dict]:
        response = await self.client.post(
            "/api/chat/messages", json={"session": self.session, "text": text, "after": self.after}
        )
        assert response.status_code == 200, response.text
        return self._take(response.json()["messages"])

    async def inbox(self) -> list[dict]:
        response = await self.client.get(
            "/api/chat/messages", params={"session": self.session, "after": self.after}
        )
        assert response.status_code == 200, response.text
        return self._take(response.json()["messages"])


def joined(messages: list[dict]) -> str:
    return "\n".join(m["text"] for m in messages)


def folio_in(text: str) -> str:
    match = re.search(r"\b[A-Z0-9]{2,8}-\d{4}-\d{6}\b", text)
    assert match, f"no folio in {text!r}"
    return match.group(0)


def valid_curp(first17: str) -> str:
    from stdnum.mx import curp

    return first17 + curp.calc_check_digit(first17)


class ChannelClient:
    """A messaging app posting to our webhook, and the workers that answer it, as in one
    `ventanilla serve` process (sharing the app's engine and inbox): the inbox's drainer
    (which hands what the webhook stored to the bot) and the outbox's deliverer."""

    def __init__(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        self.client = client
        self.workers = Workers(
            app.state.settings,
            app.state.db,
            name="trabajador-de-prueba",
            engine=app.state.engine,
            inbox=app.state.inbox,
        )
        self.inbox: Drainer = self.workers.drainer
        self.deliverer: Deliverer = self.workers.deliverer  # type: ignore[assignment]

    async def close(self) -> None:
        await self.workers.close()

    async def handle(self) -> None:
        """What the inbox worker does: handle every stored update."""
        while await self.inbox.drain():
            pass

    async def deliver(self) -> None:
        await self.handle()
        while await self.deliverer.run_once():
            pass


@asynccontextmanager
async def running(workers: Workers) -> AsyncIterator[Workers]:
    """`workers` running in the background for the block (as `ventanilla worker` runs them),
    then stopped as by Ctrl+C."""
    stop = asyncio.Event()
    task = asyncio.create_task(workers.run(stop))
    try:
        yield workers
    finally:
        stop.set()
        await task


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def fake_whatsapp() -> Iterator[FakeWhatsApp]:
    with FakeWhatsApp() as fake:
        yield fake


def with_telegram(settings: Settings, fake: FakeTelegram, webhook_secret: str = "") -> Settings:
    """`settings` with Telegram switched on against the fake Bot API ("" for the secret: the
    one generated and kept in the database)."""
    return amended(
        settings,
        telegram={"token": fake.token, "api_base": fake.base_url, "webhook_secret": webhook_secret},
    )


def with_whatsapp(settings: Settings, fake: FakeWhatsApp, app_secret: str) -> Settings:
    """`settings` with WhatsApp switched on against the fake Graph API."""
    return amended(
        settings,
        whatsapp={
            "token": fake.token,
            "phone_number_id": fake.phone_number_id,
            "app_secret": app_secret,
            "verify_token": "v",
            "api_base": fake.base_url,
            "api_version": fake.version,
        },
    )


async def break_conversation(db: Database, channel: str, address: str) -> None:
    """Leave the chat's stored dialogue state unreadable (as a bug or a bad migration could):
    the bot fails on whatever the citizen writes next."""
    async with db.transaction() as session:
        identity = select(ChannelIdentity.id).where(
            ChannelIdentity.channel == channel, ChannelIdentity.address == address
        )
        await session.execute(
            update(Conversation)
            .where(Conversation.identity_id == identity.scalar_subquery())
            .values(slots={"choices": 5})
        )
