"""Accept updates at once, handle them after: the webhooks' side of the inbox.

A webhook checks and parses what it was sent, stores it here and answers 200; it does not wait
for the dialogue. Many webhooks arriving together are stored with one INSERT in one
transaction (group commit). A repeated delivery is dropped by the table's unique key. On
PostgreSQL the commit also NOTIFYs, which wakes the workers of other processes at once; in the
same process `Inbox.arrived` does.

The workers hand what is stored to the bot: casework/inbox/drain.py.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from casework.inbox.models import InboxItem
from casework.staff.models import StaffUser
from foundation.audit import audit
from foundation.db import Database, insert_ignore_statement, utcnow

Handler = Callable[[dict[str, Any]], Awaitable[None]]  # a channel's: one stored payload
NOTIFY_CHANNEL = "ventanilla_inbox"  # PostgreSQL: "updates were stored"


@dataclass(frozen=True)
class Update:
    """One update to store: `external_id` is the provider's id (update_id, message id)."""

    channel: str
    external_id: str
    chat: str
    payload: dict[str, Any]


class Inbox:
    """Where webhooks (and Telegram's long polling) store updates. `arrived` is set whenever
    some were stored: a drainer in the same process watches it."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.arrived = asyncio.Event()
        self._waiting: list[tuple[list[Update], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
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


async def given_up(session: AsyncSession, limit: int = 200) -> list[InboxItem]:
    """Updates the bot could not handle after every try, newest first: shown to staff."""
    rows = await session.scalars(
        select(InboxItem).where(InboxItem.failed).order_by(InboxItem.id.desc()).limit(limit)
    )
    return list(rows)


async def retry(session: AsyncSession, item_id: int, staff: StaffUser) -> bool:
    """Hand an update the bot gave up on to it again, on a staff member's request; False
    when no given-up update has that id."""
    item = await session.get(InboxItem, item_id, with_for_update=True)
    if item is None or not item.failed:
        return False
    before = {"failed": item.failed, "attempts": item.attempts, "last_error": item.last_error}
    item.failed, item.attempts, item.processed_at, item.retry_at = False, 0, None, None
    item.handled_by = None
    await audit(session, staff, "inbox.retry", "inbox", item.id, before, {"failed": False})
    return True
