"""Accept updates at once, handle them after: the webhooks' side of the inbox.

A webhook checks and parses what it was sent, stores it here and answers 200; it does not wait
for the dialogue. Many webhooks arriving together are stored with one INSERT in one
transaction (group commit). A repeated delivery is dropped by the table's unique key.

`Inbox.run` then hands every stored update, in arrival order, to its channel's handler (the
adapter that calls the dialogue engine) and marks it processed. A crash between the two only
means the update is handled again, and the engine's own deduplication by provider id turns that
into nothing. Different chats are handled concurrently, each chat's updates one after another.
A handler that fails is retried with backoff; later updates of the same chat wait for it, so a
chat's messages are never answered out of order. Only transient failures (the database, the
network: casework/failures.py) are retried; any other would fail again on every try, so it is
given up at once and listed for staff (the channels' handlers already answer the citizen with
an apology for a message the bot fails on: bot/safety.py). On PostgreSQL one worker at a time
drains the inbox (an advisory lock), which keeps that order across workers too, and a worker
in another process than the webhooks is woken by NOTIFY as soon as updates are stored.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, exists, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from casework.db import Database, insert_ignore_statement, utcnow
from casework.failures import transient
from casework.inbox.models import InboxItem
from casework.staff.models import StaffUser
from casework.staff.service import audit

log = logging.getLogger(__name__)
Handler = Callable[[dict[str, Any]], Awaitable[None]]
MAX_ATTEMPTS = 5
BATCH = 200
PARALLEL_CHATS = 8  # chats handled at once: one waits on the database while another thinks
POLL_SECONDS = 1.0  # how soon updates stored by another worker are noticed
DRAIN_LOCK = 0x56_45_4E_54  # the PostgreSQL advisory lock key of the drainer ("VENT")
NOTIFY_CHANNEL = "ventanilla_inbox"  # PostgreSQL: "updates were stored"
LISTEN_RETRY_SECONDS = 5.0  # how soon a lost LISTEN connection is opened again


@dataclass(frozen=True)
class Update:
    """One update to store: `external_id` is the provider's id (update_id, message id)."""

    channel: str
    external_id: str
    chat: str
    payload: dict[str, Any]


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2**attempts, 300))


class Inbox:
    def __init__(self, db: Database, handlers: dict[str, Handler]) -> None:
        self.db = db
        self.handlers = handlers
        self.arrived = asyncio.Event()
        self._waiting: list[tuple[list[Update], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._draining = asyncio.Lock()
        dialect = db.engine.dialect.name
        self._postgres = dialect == "postgresql"
        self._insert = insert_ignore_statement(dialect, InboxItem)

    async def accept(self, updates: list[Update]) -> None:
        """Store `updates` durably (committed when this returns); duplicates are ignored."""
        if not updates:
            return
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((updates, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        await done

    async def _write(self) -> None:
        """Store everything waiting, one transaction per round, until nothing waits."""
        while self._waiting:
            batch, self._waiting = self._waiting, []
            rows = [
                {
                    "channel": u.channel,
                    "external_id": u.external_id,
                    "chat": u.chat,
                    "payload": u.payload,
                    "received_at": utcnow(),
                    "attempts": 0,
                    "failed": False,
                }
                for updates, _ in batch
                for u in updates
            ]
            try:
                async with self.db.connection() as conn:
                    await conn.execute(self._insert, rows)
                    if self._postgres:  # wakes the workers of other processes at the commit
                        await conn.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
            except Exception as exc:  # every waiting webhook answers 5xx: the provider retries
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)
            self.arrived.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Handle stored updates until `stop` is set."""
        listening = asyncio.create_task(self._listen(stop)) if self._postgres else None
        try:
            while not stop.is_set():
                self.arrived.clear()
                try:
                    handled = await self.drain()
                except Exception:
                    log.exception("the inbox could not be drained; trying again")
                    handled = 0
                if handled:
                    continue
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.arrived.wait(), POLL_SECONDS)
        finally:
            if listening is not None:
                listening.cancel()
                await asyncio.gather(listening, return_exceptions=True)

    async def _listen(self, stop: asyncio.Event) -> None:
        """On PostgreSQL, updates that a web process stores wake this worker at once (LISTEN /
        NOTIFY) instead of at its next poll. A lost connection (a database restart) is opened
        again; meanwhile the worker still notices updates within POLL_SECONDS."""
        while not stop.is_set():
            try:
                await self._listen_until_lost(stop)
            except Exception:
                log.warning("cannot LISTEN for new updates", exc_info=True)
            if not stop.is_set():
                log.warning("not listening for new updates; trying again, polling meanwhile")
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), LISTEN_RETRY_SECONDS)

    async def _listen_until_lost(self, stop: asyncio.Event) -> None:
        lost = asyncio.Event()
        async with self.db.engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            raw.add_termination_listener(lambda _: lost.set())
            await raw.add_listener(NOTIFY_CHANNEL, self._notified)
            self.arrived.set()  # what was stored while nobody listened
            await _first_set(stop, lost)
            if lost.is_set():
                await conn.invalidate()
            else:
                await raw.remove_listener(NOTIFY_CHANNEL, self._notified)

    def _notified(self, *_: object) -> None:
        self.arrived.set()

    async def drain(self) -> int:
        """Handle one batch of pending updates in arrival order; returns how many were tried
        (0 when nothing is due or another worker is draining)."""
        async with self._draining, self._exclusive() as mine:
            if not mine:
                return 0
            # A chat whose failed update waits for its retry is passed over whole, so however
            # many of its updates queue behind it, the other chats' are read.
            waiting = aliased(InboxItem)
            held_back = exists().where(
                waiting.processed_at.is_(None),
                waiting.retry_at.is_not(None),
                waiting.retry_at > utcnow(),
                waiting.channel == InboxItem.channel,
                waiting.chat == InboxItem.chat,
            )
            async with self.db.transaction() as session:
                pending = (
                    await session.execute(
                        select(
                            InboxItem.id,
                            InboxItem.channel,
                            InboxItem.chat,
                            InboxItem.payload,
                            InboxItem.attempts,
                        )
                        .where(InboxItem.processed_at.is_(None), ~held_back)
                        .order_by(InboxItem.id)
                        .limit(BATCH)
                    )
                ).all()
            chats: dict[tuple[str, str], list[Row[Any]]] = {}
            for item in pending:
                chats.setdefault((item.channel, item.chat), []).append(item)
            done: list[int] = []
            failed: list[tuple[int, int, str, bool]] = []
            turns = asyncio.Semaphore(PARALLEL_CHATS)

            async def handle_chat(items: list[Row[Any]]) -> None:
                """One chat's updates in order; a failure holds the rest back."""
                async with turns:
                    for item in items:
                        try:
                            await self.handlers[item.channel](item.payload)
                        except Exception as exc:
                            again = transient(exc)
                            log.exception(
                                "inbox update %s (%s) failed%s",
                                item.id,
                                item.channel,
                                "; will retry" if again else "; not retried: it would fail again",
                            )
                            error = f"{type(exc).__name__}: {exc}"
                            failed.append((item.id, item.attempts + 1, error, again))
                            return
                        done.append(item.id)

            await asyncio.gather(*(handle_chat(items) for items in chats.values()))
            await self._record(done, failed)
            return len(done) + len(failed)

    async def _record(self, done: list[int], failed: list[tuple[int, int, str, bool]]) -> None:
        now = utcnow()
        async with self.db.transaction() as session:
            if done:
                await session.execute(
                    update(InboxItem).where(InboxItem.id.in_(done)).values(processed_at=now)
                )
            for item_id, attempts, error, again in failed:
                last = attempts >= MAX_ATTEMPTS or not again
                if last:
                    log.error("inbox update %s given up after %s attempts", item_id, attempts)
                await session.execute(
                    update(InboxItem)
                    .where(InboxItem.id == item_id)
                    .values(
                        attempts=attempts,
                        last_error=error[:2000],
                        retry_at=now + backoff(attempts),
                        processed_at=now if last else None,
                        failed=last,
                    )
                )

    @asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[bool]:
        """On PostgreSQL, whether this worker holds the drainer's lock (held for the block)."""
        if not self._postgres:
            yield True
            return
        async with self.db.engine.connect() as conn:
            mine = bool(await conn.scalar(text(f"SELECT pg_try_advisory_lock({DRAIN_LOCK})")))
            await conn.commit()
            try:
                yield mine
            finally:
                if mine:
                    await conn.execute(text(f"SELECT pg_advisory_unlock({DRAIN_LOCK})"))
                    await conn.commit()


async def _first_set(*events: asyncio.Event) -> None:
    """Wait until one of `events` is set."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


async def given_up(session: AsyncSession, limit: int = 200) -> list[InboxItem]:
    """Updates the bot could not handle after every try, newest first: shown to staff."""
    rows = await session.scalars(
        select(InboxItem).where(InboxItem.failed).order_by(InboxItem.id.desc()).limit(limit)
    )
    return list(rows)


async def retry(session: AsyncSession, item: InboxItem, staff: StaffUser) -> None:
    """Hand an update the bot gave up on to it again, on a staff member's request."""
    before = {"failed": item.failed, "attempts": item.attempts, "last_error": item.last_error}
    item.failed, item.attempts, item.processed_at, item.retry_at = False, 0, None, None
    await audit(session, staff, "inbox.retry", "inbox", item.id, before, {"failed": False})
