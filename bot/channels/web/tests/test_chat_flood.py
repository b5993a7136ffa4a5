"""The web chat under flooding: per-session and per-address limits (429, Retry-After, a
polite Spanish message), counted in the database so every web process counts together, and
no identity row for a chat that never wrote."""

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select, update

from backoffice.app import create_app
from casework.citizens.models import ChannelIdentity
from casework.ratelimits import service as ratelimits_service
from casework.ratelimits.models import RateCounter
from foundation import texts
from foundation.db import Database
from foundation.settings import Settings, amended
from tests.support import WebChat

RANDOM_SESSION = "Zx9" * 15
MID_MINUTE = 1_800_000_030.0  # 30 s into a one-minute window


class StoppedClock:
    """`time.time()` for the rate limiter: the counts are per minute, and a test whose first
    message builds the understanding model (tens of seconds on a busy machine) must not see
    the minute change between the sends it counts."""

    @staticmethod
    def time() -> float:
        return MID_MINUTE


@pytest.fixture(autouse=True)
def stopped_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimits_service, "time", StoppedClock)


async def app_client(db: Database, settings: Settings, **limits: int) -> httpx.AsyncClient:
    app = create_app(amended(settings, limits=limits), db, "k")
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


@pytest.fixture
async def strict(loaded_db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with await app_client(
        loaded_db,
        settings,
        chat_messages_per_session=3,
        chat_messages_per_address=100,
        chat_polls_per_address=100,
    ) as client:
        yield client


async def send(client: httpx.AsyncClient, session: str, text: str = "hola") -> httpx.Response:
    return await client.post("/api/chat/messages", json={"session": session, "text": text})


def assert_polite_429(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 60
    assert response.json()["detail"] == texts.t("input.too_many", seconds=wait)


async def test_one_chat_session_sending_too_fast_is_told_to_wait(
    strict: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    chat = await WebChat.open(strict)
    for _ in range(3):
        assert (await send(strict, chat.session)).status_code == 200
    assert_polite_429(await send(strict, chat.session))
    assert any("rate limit reached" in r.getMessage() for r in caplog.records)
    other = await WebChat.open(strict)  # another visitor is not held back
    assert (await send(strict, other.session)).status_code == 200


async def test_one_address_is_limited_across_its_sessions(
    loaded_db: Database, settings: Settings
) -> None:
    async with await app_client(
        loaded_db, settings, chat_messages_per_session=100, chat_messages_per_address=4
    ) as client:
        first, second = await WebChat.open(client), await WebChat.open(client)
        assert (await send(client, first.session)).status_code == 200
        assert (await send(client, second.session)).status_code == 200
        assert_polite_429(await send(client, second.session))
        assert_polite_429(await client.post("/api/chat/sessions"))


async def test_polls_from_one_address_are_limited(loaded_db: Database, settings: Settings) -> None:
    async with await app_client(loaded_db, settings, chat_polls_per_address=3) as client:
        params = {"session": RANDOM_SESSION}
        for _ in range(3):
            assert (await client.get("/api/chat/messages", params=params)).status_code == 200
        assert_polite_429(await client.get("/api/chat/messages", params=params))


async def test_every_web_process_counts_against_the_same_limit(
    loaded_db: Database, settings: Settings
) -> None:
    limits = {"chat_messages_per_session": 2, "chat_messages_per_address": 100}
    async with (
        await app_client(loaded_db, settings, **limits) as one,
        await app_client(loaded_db, settings, **limits) as other,
    ):
        chat = await WebChat.open(one)
        assert (await send(one, chat.session)).status_code == 200
        assert (await send(other, chat.session)).status_code == 200
        assert_polite_429(await send(one, chat.session))
        assert_polite_429(await send(other, chat.session))


async def test_the_count_starts_over_the_next_minute(
    strict: httpx.AsyncClient, loaded_db: Database
) -> None:
    chat = await WebChat.open(strict)
    for _ in range(3):
        await send(strict, chat.session)
    assert_polite_429(await send(strict, chat.session))
    async with loaded_db.transaction() as session:  # as if the minute had passed
        await session.execute(update(RateCounter).values(period=RateCounter.period - 1))
    assert (await send(strict, chat.session)).status_code == 200


async def test_counters_keep_no_address_or_session(
    strict: httpx.AsyncClient, loaded_db: Database
) -> None:
    chat = await WebChat.open(strict)
    await send(strict, chat.session)
    async with loaded_db.transaction() as session:
        keys = list(await session.scalars(select(RateCounter.key)))
    assert keys and all(len(k) == 64 for k in keys)
    assert not any(chat.session in k or "127.0.0.1" in k for k in keys)


async def count_identities(db: Database) -> int:
    async with db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(ChannelIdentity)) or 0


async def test_polling_with_a_session_nobody_wrote_from_creates_nothing(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    for n in range(5):
        session = f"{RANDOM_SESSION}{n}"
        polled = await client.get("/api/chat/messages", params={"session": session})
        assert polled.status_code == 200 and polled.json() == {"messages": []}
    assert (await client.post("/api/chat/sessions")).status_code == 200
    assert await count_identities(loaded_db) == 0
    chat = await WebChat.open(client)
    await chat.say("hola")
    assert await count_identities(loaded_db) == 1
    assert await chat.inbox() == []  # polling after writing still works


async def test_the_web_chat_answers_503_when_its_database_is_unreachable(
    database_url: str, settings: Settings, tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    """A failure that may pass is "try again in a moment" (503, Retry-After), not a 500."""
    if database_url.startswith("sqlite"):
        unreachable = "sqlite+aiosqlite:////nonexistent-folder/ventanilla.db"
    else:
        unreachable = "postgresql+asyncpg://postgres@127.0.0.1:9/ventanilla"
    db = Database(unreachable)
    app = create_app(amended(settings, database_url=unreachable), db, "k")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        caplog.set_level(logging.WARNING)
        response = await send(client, RANDOM_SESSION)
    await db.dispose()
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.json()["detail"] == texts.t("input.unavailable")
