"""Handing stored updates to the bot: the workers' side of the inbox.

Any number of workers, in any number of processes, drain one inbox. A worker claims chats, not
updates: in one transaction it takes the oldest pending update of chats nobody holds
(`SELECT ... FOR UPDATE SKIP LOCKED`, so two workers never take the same one) and leases it
(`claimed_by`, `claimed_until`). That update is the chat's head: a chat's later update is
never a head while an earlier one is pending, so whoever holds the head holds the chat. The
worker then hands the chat's pending updates (up to CHAT_BATCH) to their channel's handler one
after another, and in one transaction marks them handled (`handled_by`: its name) and lets the
chat go. The claim and the outbox deliverer's are the same pattern (casework/claims.py).

- Per-chat order: updates of one chat are handled in arrival order, one at a time, whichever
  worker takes them; different chats are handled concurrently (PARALLEL_CHATS per worker).
- Nothing is handled twice while a lease is live, and a worker stops starting updates of a
  chat well before its lease ends. A worker that dies keeps its chats until its leases lapse;
  then another worker takes them and handles again what the dead one had not marked handled
  (the engine's deduplication by provider id turns a repeat into nothing). A worker that is
  stopped hands back the chats it holds at once.
- A handler that fails is retried with backoff; the chat's later updates wait for it, so a
  chat's messages are never answered out of order. Only transient failures (the database, the
  network: casework/failures.py) are retried; any other would fail again on every try, so it
  is given up at once and listed for staff (the channels' handlers already answer the citizen
  with an apology for a message the bot fails on: bot/safety.py).
- On PostgreSQL a worker is woken by NOTIFY as soon as another process stores updates; in the
  same process by `Inbox.arrived`; otherwise it looks every POLL_SECONDS.

SQLite runs one process, whose writers take turns (foundation/db.py): the same claims work
there, FOR UPDATE being a no-op.
"""

import asyncio
import logging
import os
import socket
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Boolean, Exists, Update, func, literal_column, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from casework.claims import first_set, pump
from casework.failures import transient
from casework.inbox.models import InboxItem
from casework.inbox.service import NOTIFY_CHANNEL, Handler
from foundation.db import AnyRow, Database, rows_changed, utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
CHAT_BATCH = 20  # a chat's updates handled under one claim
PARALLEL_CHATS = 8  # chats handled at once: one waits on the database while another thinks
LEASE_SECONDS = 60.0  # how long a claimed chat stays with its worker
POLL_SECONDS = 1.0  # how soon updates stored by another process are noticed without NOTIFY
LISTEN_RETRY_SECONDS = 5.0  # how soon a lost LISTEN connection is opened again


def default_name() -> str:
    """A worker's name when none is given: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2**attempts, 300))


@dataclass
class Claim:
    """A chat held by this worker: its head (the oldest pending update) and what follows."""

    head: int
    items: list[AnyRow]
    expires: float  # the event loop's clock: no update of the chat is started after this
    done: list[int] = field(default_factory=list)


class Drainer:
    def __init__(
        self,
        db: Database,
        handlers: dict[str, Handler],
        name: str | None = None,
        *,
        lease: float = LEASE_SECONDS,
        parallel: int = PARALLEL_CHATS,
        arrived: asyncio.Event | None = None,
    ) -> None:
        """`arrived`: set when updates were stored in this process (`Inbox.arrived`)."""
        self.db = db
        self.handlers = handlers
        self.name = name or default_name()
        self.lease = lease
        self.parallel = parallel
        self.arrived = arrived or asyncio.Event()
        self.stopping = asyncio.Event()
        self._postgres = db.engine.dialect.name == "postgresql"

    async def claim(self, chats: int) -> list[Claim]:
        """Hold up to `chats` chats that nobody holds and whose oldest pending update is due;
        with each, its first CHAT_BATCH pending updates.

        One statement leases the heads and returns them, with whether more of their chat's
        updates wait; only those chats' further updates are read then (a chat with one message
        waiting, the usual case, costs that one statement)."""
        now = utcnow()
        heads = (
            select(InboxItem.id)
            .where(
                InboxItem.processed_at.is_(None),
                (InboxItem.retry_at.is_(None)) | (InboxItem.retry_at <= now),
                (InboxItem.claimed_until.is_(None)) | (InboxItem.claimed_until < now),
                ~_earlier_pending(),
            )
            .order_by(InboxItem.id)
            .limit(chats)
            .with_for_update(skip_locked=True)
        )
        lease = (
            update(InboxItem)
            .where(InboxItem.id.in_(heads))
            .values(claimed_by=self.name, claimed_until=now + timedelta(seconds=self.lease))
            .returning(*_CLAIMED, _LATER_PENDING)
        )
        async with self.db.transaction() as session:
            leased = sorted((await session.execute(lease)).all(), key=lambda row: row.id)
            busy = [(h.channel, h.chat) for h in leased if h.more]
            rows = await self._batches(session, busy) if busy else []
        expires = asyncio.get_running_loop().time() + self.lease / 2
        chats_: dict[tuple[str, str], list[AnyRow]] = {}
        for row in rows:
            chats_.setdefault((row.channel, row.chat), []).append(row)
        return [Claim(h.id, chats_.get((h.channel, h.chat), [h]), expires) for h in leased]

    @staticmethod
    async def _batches(session: AsyncSession, chats: list[tuple[str, str]]) -> list[AnyRow]:
        """The first CHAT_BATCH pending updates of each of `chats`, in order."""
        place = (
            func.row_number()
            .over(partition_by=(InboxItem.channel, InboxItem.chat), order_by=InboxItem.id)
            .label("place")
        )
        pending = (
            select(*_CLAIMED, place)
            .where(
                InboxItem.processed_at.is_(None),
                tuple_(InboxItem.channel, InboxItem.chat).in_(chats),
            )
            .subquery()
        )
        query = select(pending).where(pending.c.place <= CHAT_BATCH).order_by(pending.c.id)
        return list((await session.execute(query)).all())

    async def handle(self, claim: Claim) -> int:
        """Hand a held chat's updates to their handlers in order, record what happened and let
        the chat go; how many updates were tried. A failure holds the rest back."""
        failure: tuple[AnyRow, str, bool] | None = None
        loop = asyncio.get_running_loop()
        for item in claim.items:
            if self.stopping.is_set() or loop.time() > claim.expires:
                break  # the rest go back with the chat, to whoever takes it next
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
                failure = (item, f"{type(exc).__name__}: {exc}", again)
                break
            claim.done.append(item.id)
        await self._record(claim, failure)
        return len(claim.done) + (failure is not None)

    async def _record(self, claim: Claim, failure: tuple[AnyRow, str, bool] | None) -> None:
        """Mark what was handled and let the chat go, if this worker still holds it: when its
        lease lapsed and another worker took the chat, that one handles (again) and records."""
        now = utcnow()
        try:
            async with self.db.transaction() as session:
                await self._release(session, claim, now)
                if failure is not None:
                    await session.execute(self._failed(*failure, now))
        except _LostClaim:
            log.warning("inbox: lost the claim on update %s; not recorded", claim.head)

    async def _release(self, session: AsyncSession, claim: Claim, now: datetime) -> None:
        """Let the chat go and mark `claim.done` handled, in one statement when any was (the
        head is the first of them); `_LostClaim` (the transaction rolls back) when another
        worker holds the chat by now."""
        head_held = (InboxItem.id != claim.head) | (InboxItem.claimed_by == self.name)
        statement = (
            update(InboxItem)
            .where(InboxItem.id.in_(claim.done or [claim.head]), head_held)
            .values(claimed_by=None, claimed_until=None)
        )
        if claim.done:
            statement = statement.values(processed_at=now, handled_by=self.name)
        if rows_changed(await session.execute(statement)) != max(len(claim.done), 1):
            raise _LostClaim

    def _failed(self, item: AnyRow, error: str, again: bool, now: datetime) -> Update:
        """The update that records a failed try: retried later, or given up for staff."""
        attempts = item.attempts + 1
        last = attempts >= MAX_ATTEMPTS or not again
        if last:
            log.error("inbox update %s given up after %s attempts", item.id, attempts)
        return (
            update(InboxItem)
            .where(InboxItem.id == item.id)
            .values(
                attempts=attempts,
                last_error=error[:2000],
                retry_at=now + backoff(attempts),
                processed_at=now if last else None,
                handled_by=self.name if last else None,
                failed=last,
            )
        )

    async def drain(self) -> int:
        """Claim up to `parallel` chats and handle them concurrently; how many updates were
        tried (0 when nothing is due or other workers hold every chat with updates)."""
        claims = await self.claim(self.parallel)
        return sum(await asyncio.gather(*(self.handle(claim) for claim in claims)))

    async def run(self, stop: asyncio.Event) -> None:
        """Handle stored updates until `stop` is set, keeping up to `parallel` chats under way;
        then finish the updates under way and hand the chats back."""

        async def handle(claim: Claim) -> None:
            await self.handle(claim)

        self.stopping = stop  # the chats under way end after their update under way
        listening = asyncio.create_task(self._listen(stop)) if self._postgres else None
        try:
            await pump(
                self.claim,
                handle,
                self.parallel,
                stop,
                idle=POLL_SECONDS,
                what=f"inbox worker {self.name}",
                woken=self.arrived,
                finish=True,
            )
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
            if raw is None:  # never for a live asyncpg connection
                raise ConnectionError("no driver connection to listen on")
            raw.add_termination_listener(lambda _: lost.set())
            await raw.add_listener(NOTIFY_CHANNEL, self._notified)
            self.arrived.set()  # what was stored while nobody listened
            await first_set(stop, lost)
            if lost.is_set():
                await conn.invalidate()
            else:
                await raw.remove_listener(NOTIFY_CHANNEL, self._notified)

    def _notified(self, *_: object) -> None:
        self.arrived.set()


class _LostClaim(Exception):
    """Another worker took the chat after this one's lease lapsed."""


# What a worker reads of each update it claims.
_CLAIMED = (InboxItem.id, InboxItem.channel, InboxItem.chat, InboxItem.payload, InboxItem.attempts)


def _earlier_pending() -> Exists:
    """Whether an earlier update of the same chat is still pending."""
    earlier = aliased(InboxItem)
    return (
        select(earlier.id)
        .where(
            earlier.channel == InboxItem.channel,
            earlier.chat == InboxItem.chat,
            earlier.processed_at.is_(None),
            earlier.id < InboxItem.id,
        )
        .exists()
    )


# Whether a later update of the same chat is pending, returned with each claimed head. Written
# out because SQLAlchemy renders SQLite's RETURNING without table names, which would turn a
# subquery's `later.chat = inbox.chat` into `chat = chat`.
_LATER_PENDING = literal_column(
    "EXISTS (SELECT 1 FROM inbox AS later WHERE later.channel = inbox.channel"
    " AND later.chat = inbox.chat AND later.processed_at IS NULL AND later.id > inbox.id)",
    Boolean,
).label("more")
