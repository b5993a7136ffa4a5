"""The inbox: webhooks store updates and answer at once; the bot handles them after, in order,
once each, whatever crashes or how many workers."""

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event, func, select, text, update

from backoffice.app import create_app
from casework.failures import Transient
from casework.inbox.drain import CHAT_BATCH, MAX_ATTEMPTS, Drainer
from casework.inbox.models import InboxItem
from casework.inbox.service import Handler, Inbox, Update
from casework.outbox.models import OutboxMessage
from foundation import texts
from foundation.audit import AuditEntry
from foundation.db import Database
from foundation.settings import Settings
from tests.fakes.payloads import TG_CHAT_ID, tg_text, tg_webhook_headers
from tests.fakes.telegram import FakeTelegram
from tests.support import ChannelClient, login, running, with_telegram
from ventanilla.workers import Workers

SECRET = "secreto-del-webhook-de-prueba"


def tg_settings(settings: Settings, fake: FakeTelegram) -> Settings:
    return with_telegram(settings, fake, SECRET)


@pytest.fixture
async def tg(
    fake_telegram: FakeTelegram, loaded_db: Database, settings: Settings
) -> AsyncIterator[ChannelClient]:
    app = create_app(tg_settings(settings, fake_telegram), loaded_db, "k")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        channel = ChannelClient(c, app)
        yield channel
    await channel.close()


async def post(tg: ChannelClient, update: dict) -> httpx.Response:
    return await tg.client.post(
        "/telegram/webhook", json=update, headers=tg_webhook_headers(SECRET)
    )


async def count(db: Database, model: type, *where: object) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def test_the_webhook_answers_once_the_update_is_stored_and_the_bot_answers_after(
    tg: ChannelClient, loaded_db: Database
) -> None:
    assert (
        await post(tg, tg_text(1, TG_CHAT_ID, "quiero hablar con un asesor"))
    ).status_code == 200
    assert await count(loaded_db, InboxItem, InboxItem.processed_at.is_(None)) == 1
    assert await count(loaded_db, OutboxMessage) == 0
    await tg.handle()
    assert await count(loaded_db, InboxItem, InboxItem.processed_at.is_(None)) == 0
    async with loaded_db.transaction() as session:
        replies = list(await session.scalars(select(OutboxMessage.text)))
    assert any(texts.t("handoff.requested") in reply for reply in replies)


async def test_an_update_acknowledged_by_a_worker_that_died_is_answered_after_a_restart(
    fake_telegram: FakeTelegram, loaded_db: Database, settings: Settings
) -> None:
    configured = tg_settings(settings, fake_telegram)
    first = create_app(configured, loaded_db, "k")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=first), base_url="http://t"
    ) as c:
        response = await post(ChannelClient(c, first), tg_text(2, TG_CHAT_ID, "hola"))
    assert response.status_code == 200
    # the process is gone before handling it

    def answered() -> bool:
        return texts.t("menu.prompt") in [m["text"] for m in fake_telegram.sent_messages()]

    async with running(Workers(configured, loaded_db)):  # a new worker
        for _ in range(100):
            if answered():
                break
            await asyncio.sleep(0.1)
    assert answered()
    assert await count(loaded_db, InboxItem, InboxItem.processed_at.is_(None)) == 0


async def test_repeats_arriving_together_are_stored_once_and_answered_once(
    tg: ChannelClient, loaded_db: Database
) -> None:
    update = tg_text(3, TG_CHAT_ID, "hola")
    responses = await asyncio.gather(*(post(tg, update) for _ in range(5)))
    assert [r.status_code for r in responses] == [200] * 5
    assert await count(loaded_db, InboxItem) == 1
    await tg.handle()
    replies = await count(loaded_db, OutboxMessage)
    await post(tg, update)  # and again later, once handled
    await tg.handle()
    assert await count(loaded_db, InboxItem) == 1
    assert await count(loaded_db, OutboxMessage) == replies > 0


async def test_webhooks_arriving_together_share_one_commit(
    tg: ChannelClient, loaded_db: Database
) -> None:
    commits = []

    def committed(connection: object) -> None:
        commits.append(connection)

    event.listen(loaded_db.engine.sync_engine, "commit", committed)
    try:
        responses = await asyncio.gather(
            *(post(tg, tg_text(100 + n, 500 + n, "hola")) for n in range(40))
        )
    finally:
        event.remove(loaded_db.engine.sync_engine, "commit", committed)
    assert [r.status_code for r in responses] == [200] * 40
    assert await count(loaded_db, InboxItem) == 40
    assert len(commits) < 10


def entries(chat: str, n: int, start: int = 0) -> list[Update]:
    return [Update("web", f"{chat}-{k}", chat, {"chat": chat, "k": k}) for k in range(start, n)]


async def make_due(db: Database) -> None:
    """Skip the backoff: every update waiting for a retry is due now."""
    async with db.transaction() as session:
        await session.execute(update(InboxItem).values(retry_at=None))


async def drain_every_try(inbox: Drainer, db: Database) -> None:
    """Drain as often as an update may be tried, without waiting for the backoff."""
    for _ in range(MAX_ATTEMPTS):
        await make_due(db)
        await inbox.drain()


async def test_a_transient_failure_is_retried_and_holds_back_only_its_own_chat(
    db: Database,
) -> None:
    handled: list[tuple[str, int]] = []
    broken = {"a": 1}  # chat "a" fails on its second update until repaired

    async def handler(payload: dict) -> None:
        if broken.get(payload["chat"]) == payload["k"]:
            raise Transient("base de datos ocupada")
        handled.append((payload["chat"], payload["k"]))

    inbox = Drainer(db, {"web": handler}, "uno")
    await Inbox(db).accept(entries("a", 3) + entries("b", 3))
    await inbox.drain()
    assert sorted(handled) == [("a", 0), ("b", 0), ("b", 1), ("b", 2)]
    async with db.transaction() as session:
        item = await session.scalar(select(InboxItem).where(InboxItem.external_id == "a-1"))
    assert item is not None and item.attempts == 1 and "ocupada" in (item.last_error or "")
    assert item.retry_at is not None and item.processed_at is None

    await inbox.drain()  # not due yet: chat "a" keeps waiting, in order
    assert len(handled) == 4
    await make_due(db)
    broken.clear()
    await inbox.drain()
    assert handled[4:] == [("a", 1), ("a", 2)]


async def test_a_chat_waiting_for_a_retry_does_not_hold_back_chats_queued_behind_it(
    db: Database,
) -> None:
    handled: list[str] = []

    async def handler(payload: dict) -> None:
        if payload["chat"] == "a" and payload["k"] == 0:
            raise Transient("red caída")
        handled.append(payload["chat"])

    inbox = Drainer(db, {"web": handler}, "uno")
    await Inbox(db).accept(entries("a", CHAT_BATCH + 20))  # more than one claim behind it
    await Inbox(db).accept(entries("b", 1))
    assert await inbox.drain() == 2  # a-0 failed; its chat now waits for the retry
    assert await inbox.drain() == 0
    assert handled == ["b"]


async def test_an_update_that_always_fails_transiently_is_given_up_and_kept(
    db: Database,
) -> None:
    async def handler(payload: dict) -> None:
        raise ConnectionRefusedError("sin red")

    inbox = Drainer(db, {"web": handler}, "uno")
    await Inbox(db).accept(entries("c", 1))
    await drain_every_try(inbox, db)
    async with db.transaction() as session:
        item = await session.scalar(select(InboxItem))
    assert item is not None and item.failed and item.processed_at is not None
    assert item.attempts == MAX_ATTEMPTS
    assert await inbox.drain() == 0


async def test_a_failure_that_would_repeat_is_given_up_at_once_and_the_chat_goes_on(
    db: Database,
) -> None:
    """A poison update (a bug, input the code cannot read) is not retried: every try would
    fail the same way while its chat waited."""
    handled: list[int] = []

    async def handler(payload: dict) -> None:
        if payload["k"] == 0:
            raise ValueError("sin arreglo")
        handled.append(payload["k"])

    inbox = Drainer(db, {"web": handler}, "uno")
    await Inbox(db).accept(entries("c", 3))
    await inbox.drain()
    await inbox.drain()
    assert handled == [1, 2]
    async with db.transaction() as session:
        item = await session.scalar(select(InboxItem).where(InboxItem.external_id == "c-0"))
    assert item is not None and item.failed and item.processed_at is not None
    assert item.attempts == 1 and "sin arreglo" in (item.last_error or "")


async def test_three_workers_share_one_backlog_each_update_once_and_in_order(
    db: Database,
) -> None:
    if not db.url.startswith("postgresql"):
        pytest.skip("several workers share an inbox on PostgreSQL; SQLite runs one worker")
    handled: list[tuple[str, int]] = []
    under_way: dict[str, str] = {}  # chat -> the worker handling one of its updates now

    def handler_of(name: str) -> Handler:
        async def handler(payload: dict) -> None:
            chat = payload["chat"]
            assert under_way.setdefault(chat, name) == name, f"{chat} handled by two at once"
            await asyncio.sleep(0.001)  # let the other workers try to run meanwhile
            handled.append((chat, payload["k"]))
            del under_way[chat]

        return handler

    chats = [f"chat{n}" for n in range(12)]
    for k in range(0, 40, 10):  # interleaved arrivals, as from a live webhook
        for chat in chats:
            await Inbox(db).accept(entries(chat, k + 10, k))
    names = ["uno", "dos", "tres"]
    engines = [Database(db.url) for _ in names]  # each worker with its own connections

    async def drain(inbox: Drainer) -> None:
        while await count(db, InboxItem, InboxItem.processed_at.is_(None)):
            await inbox.drain()
            await asyncio.sleep(0)

    workers = [
        Drainer(engine, {"web": handler_of(name)}, name, parallel=3)
        for engine, name in zip(engines, names, strict=True)
    ]
    try:
        await asyncio.wait_for(asyncio.gather(*(drain(w) for w in workers)), timeout=60)
    finally:
        for engine in engines:
            await engine.dispose()
    assert sorted(handled) == sorted((chat, k) for chat in chats for k in range(40))
    for chat in chats:
        assert [k for c, k in handled if c == chat] == list(range(40))
    async with db.transaction() as session:
        by = set(await session.scalars(select(InboxItem.handled_by)))
        held = await session.scalar(select(func.count()).where(InboxItem.claimed_by.is_not(None)))
    assert by == set(names)  # every one took a share, and none is left held
    assert held == 0


@pytest.mark.parametrize("connection_cut", [False, True], ids=["listening", "after-a-cut"])
async def test_a_worker_in_another_process_is_woken_at_once_on_postgresql(
    db: Database, monkeypatch: pytest.MonkeyPatch, connection_cut: bool
) -> None:
    if not db.url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; a SQLite worker polls")
    monkeypatch.setattr("casework.inbox.drain.POLL_SECONDS", 60.0)  # polling would be late
    monkeypatch.setattr("casework.inbox.drain.LISTEN_RETRY_SECONDS", 0.2)
    handled = asyncio.Event()

    async def handler(payload: dict) -> None:
        handled.set()

    worker_db = Database(db.url)  # the worker's own connections, as in another process
    worker, stop = Drainer(worker_db, {"web": handler}), asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.sleep(0.5)  # the worker has found the inbox empty and waits
        if connection_cut:  # as by a database restart: the worker listens again
            async with db.transaction() as session:
                cut = await session.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
                    )
                )
            assert cut == 1
            await asyncio.sleep(1.0)
        await Inbox(db).accept(entries("despierta", 1))  # the web process stores one
        await asyncio.wait_for(handled.wait(), timeout=5)
    finally:
        stop.set()
        worker.arrived.set()
        await running
        await worker_db.dispose()


async def test_on_sqlite_a_webhook_storing_updates_goes_before_the_turns_waiting(
    db: Database,
) -> None:
    if not db.url.startswith("sqlite"):
        pytest.skip("PostgreSQL has no one-writer line")
    order: list[str] = []

    async def turn(n: int) -> None:
        async with db.transaction():
            order.append(f"turno {n}")

    async def store() -> None:
        async with db.connection():
            order.append("webhook")

    async with db.transaction():  # a turn under way holds SQLite's writer
        waiting = [asyncio.create_task(turn(n)) for n in range(3)]
        await asyncio.sleep(0.05)
        waiting.append(asyncio.create_task(store()))
        await asyncio.sleep(0.05)
    await asyncio.wait_for(asyncio.gather(*waiting), timeout=10)
    assert order == ["webhook", "turno 0", "turno 1", "turno 2"]


async def test_a_slow_chat_does_not_hold_up_the_others(db: Database) -> None:
    other_chat_handled = asyncio.Event()

    async def handler(payload: dict) -> None:
        if payload["chat"] == "lento":  # waits for a person's reply, a slow backend...
            await asyncio.wait_for(other_chat_handled.wait(), 5)
        else:
            other_chat_handled.set()

    inbox = Drainer(db, {"web": handler}, "uno")
    await Inbox(db).accept(entries("lento", 1) + entries("rapido", 1))
    assert await inbox.drain() == 2
    assert await count(db, InboxItem, InboxItem.processed_at.is_(None)) == 0
    assert await count(db, InboxItem, InboxItem.failed) == 0


async def test_serve_web_only_stores_and_ventanilla_worker_answers(
    fake_telegram: FakeTelegram,
    loaded_db: Database,
    settings: Settings,
    database_url: str,
    tmp_path: Path,
) -> None:
    """The split deployment: web processes that only store (`serve --web-only`) and a
    `ventanilla worker` process that answers."""
    web = create_app(tg_settings(settings, fake_telegram), loaded_db, "k")
    async with web.router.lifespan_context(web):
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            response = await post(ChannelClient(c, web), tg_text(7, TG_CHAT_ID, "hola"))
        assert response.status_code == 200
        await asyncio.sleep(0.5)
        assert await count(loaded_db, InboxItem, InboxItem.processed_at.is_(None)) == 1

    env = {
        **os.environ,
        "VENTANILLA_TELEGRAM_TOKEN": fake_telegram.token,
        "VENTANILLA_TELEGRAM_API_BASE": fake_telegram.base_url,
        "VENTANILLA_TELEGRAM_WEBHOOK_SECRET": SECRET,
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "ventanilla", "worker", "--database", database_url),
            *("--name", "trabajador-7"),
            env=env,
            stdout=output,
            stderr=output,
        )
    try:
        for _ in range(600):
            if any(m["text"] == texts.t("menu.prompt") for m in fake_telegram.sent_messages()):
                break
            assert worker.returncode is None, log.read_text()[-2000:]
            await asyncio.sleep(0.1)
    finally:
        worker.terminate()
        await worker.wait()
    assert any(m["text"] == texts.t("menu.prompt") for m in fake_telegram.sent_messages())
    assert await count(loaded_db, InboxItem, InboxItem.processed_at.is_(None)) == 0
    assert await count(loaded_db, InboxItem, InboxItem.handled_by == "trabajador-7") == 1


async def test_updates_given_up_are_shown_to_staff_and_can_be_handed_back(
    loaded_db: Database, settings: Settings
) -> None:
    attempts = []

    async def handler(payload: dict) -> None:
        attempts.append(payload["k"])
        if len(attempts) <= MAX_ATTEMPTS:
            raise Transient("catálogo ilegible")

    inbox = Drainer(loaded_db, {"web": handler}, "uno")
    await Inbox(loaded_db).accept(entries("d", 1))
    await drain_every_try(inbox, loaded_db)
    async with loaded_db.transaction() as session:
        item_id = await session.scalar(select(InboxItem.id).where(InboxItem.failed))
    assert item_id is not None

    app = create_app(settings, loaded_db, "k")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        await login(c)
        page = await c.get("/backoffice/envios")
        assert "catálogo ilegible" in page.text
        retried = await c.post(f"/backoffice/envios/recibidos/{item_id}/reintentar")
        assert retried.status_code == 303
        again = await c.post(f"/backoffice/envios/recibidos/{item_id}/reintentar")
        assert again.status_code == 404  # no longer given up
    async with loaded_db.transaction() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "inbox.retry"))
    assert entry is not None and entry.entity_id == str(item_id)
    await inbox.drain()
    assert len(attempts) == MAX_ATTEMPTS + 1
    assert await count(loaded_db, InboxItem, InboxItem.processed_at.is_(None)) == 0
    assert await count(loaded_db, InboxItem, InboxItem.failed) == 0


async def test_an_update_aiogram_would_reject_is_refused_at_the_door(
    tg: ChannelClient, loaded_db: Database
) -> None:
    """What the bot could not read when handling it is refused by the webhook (400), not
    stored to fail on every retry."""
    update = tg_text(9, TG_CHAT_ID, "hola")
    del update["message"]["date"]
    assert (await post(tg, update)).status_code == 400
    assert await count(loaded_db, InboxItem) == 0
    assert await count(loaded_db, OutboxMessage) == 0


async def test_a_worker_told_to_stop_ends_the_turn_under_way_and_hands_its_chats_back(
    db: Database,
) -> None:
    started, handled = asyncio.Event(), []
    stop = asyncio.Event()

    async def handler(payload: dict) -> None:
        started.set()
        await stop.wait()  # the turn under way when the worker is told to stop
        handled.append(payload["k"])

    await Inbox(db).accept(entries("a", 3))
    worker = Drainer(db, {"web": handler}, "uno")
    working = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(started.wait(), 30)
    async with db.transaction() as session:
        held = await session.scalar(
            select(InboxItem.claimed_by).where(InboxItem.claimed_by.is_not(None))
        )
    assert held == "uno"
    stop.set()
    await asyncio.wait_for(working, 30)
    assert handled == [0]  # the rest of the chat was not started
    async with db.transaction() as session:
        rows = list(await session.scalars(select(InboxItem).order_by(InboxItem.id)))
    assert [(r.processed_at is not None, r.handled_by) for r in rows] == [
        (True, "uno"),
        (False, None),
        (False, None),
    ]
    assert all(r.claimed_by is None for r in rows)  # another worker may take the chat at once
    other: list[int] = []

    async def record(payload: dict) -> None:
        other.append(payload["k"])

    await Drainer(db, {"web": record}, "dos").drain()
    assert other == [1, 2]
