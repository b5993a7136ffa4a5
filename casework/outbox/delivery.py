"""Delivering the outbox to push channels (Telegram, WhatsApp) with retries.

Guarantees:
- per-chat order: only the oldest undelivered message of each chat is ever claimed;
- several workers share the outbox: rows are claimed with FOR UPDATE SKIP LOCKED (PostgreSQL;
  SQLite has one writer at a time anyway) and leased while they are sent;
- a worker killed mid-delivery loses nothing: its lease lapses and another worker sends it;
- timeouts and 5xx are retried with exponential backoff, rate limits after the delay the
  provider asks for; after the last try the message is marked failed for staff to see.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from casework.citizens.models import ChannelIdentity
from casework.db import Database, utcnow
from casework.outbox.models import OutboxMessage

log = logging.getLogger(__name__)
UNDELIVERED = ("pending", "sending")


class DeliveryError(Exception):
    """A send that did not go through. `retry_after` (seconds) when the provider said when;
    `permanent` when trying again cannot help (for example a blocked bot)."""

    def __init__(self, reason: str, retry_after: float | None = None, permanent: bool = False):
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent


class Sender(Protocol):
    channel: str

    async def send(self, item: OutboxMessage, identity: ChannelIdentity) -> str | None:
        """Send one message; return the provider's message id. Raise DeliveryError."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 2.0  # seconds; doubles each attempt
    max_delay: float = 300.0
    lease: float = 60.0  # seconds a claimed message stays with its worker

    def delay(self, attempts: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        return min(self.base_delay * 2 ** (attempts - 1), self.max_delay)


class Deliverer:
    def __init__(self, db: Database, senders: list[Sender], policy: RetryPolicy | None = None):
        self.db = db
        self.senders = {s.channel: s for s in senders}
        self.policy = policy or RetryPolicy()

    async def claim(self, limit: int) -> list[tuple[OutboxMessage, ChannelIdentity]]:
        """Lease the oldest undelivered message of up to `limit` chats that are due."""
        now = utcnow()
        earlier = aliased(OutboxMessage)
        older_undelivered = (
            select(earlier.id)
            .where(
                earlier.identity_id == OutboxMessage.identity_id,
                earlier.id < OutboxMessage.id,
                earlier.status.in_(UNDELIVERED),
            )
            .exists()
        )
        due = or_(
            and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),
        )
        query = (
            select(OutboxMessage, ChannelIdentity)
            .join(ChannelIdentity, ChannelIdentity.id == OutboxMessage.identity_id)
            .where(OutboxMessage.channel.in_(list(self.senders)), due, ~older_undelivered)
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=OutboxMessage)
        )
        async with self.db.transaction() as session:
            rows = [(item, identity) for item, identity in await session.execute(query)]
            for item, _ in rows:
                item.status = "sending"
                item.lease_until = now + timedelta(seconds=self.policy.lease)
                item.attempts += 1
        return rows

    async def _finish(self, item_id: int, provider_id: str | None, error: DeliveryError | None):
        async with self.db.transaction() as session:
            item = await session.get(OutboxMessage, item_id, with_for_update=True)
            assert item is not None
            item.lease_until = None
            if error is None:
                item.status, item.sent_at, item.provider_id = "sent", utcnow(), provider_id
                item.last_error = None
                return
            item.last_error = str(error)[:1000]
            if error.permanent or item.attempts >= self.policy.max_attempts:
                item.status = "failed"
                log.error("outbox %s failed after %s attempts: %s", item.id, item.attempts, error)
                return
            wait = self.policy.delay(item.attempts, error.retry_after)
            item.status, item.next_attempt_at = "pending", utcnow() + timedelta(seconds=wait)
            log.warning("outbox %s retry in %.1fs: %s", item.id, wait, error)

    async def _deliver(self, item: OutboxMessage, identity: ChannelIdentity) -> None:
        try:
            provider_id = await self.senders[item.channel].send(item, identity)
        except DeliveryError as exc:
            await self._finish(item.id, None, exc)
        except Exception as exc:  # a bug or an unexpected answer must not lose the message
            log.exception("outbox %s: unexpected error while sending", item.id)
            await self._finish(item.id, None, DeliveryError(repr(exc)))
        else:
            await self._finish(item.id, provider_id, None)

    async def run_once(self, limit: int = 32) -> int:
        """Claim and send one batch (different chats in parallel); how many were tried."""
        claimed = await self.claim(limit)
        await asyncio.gather(*(self._deliver(item, identity) for item, identity in claimed))
        return len(claimed)

    async def run(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        while not stop.is_set():
            try:
                busy = await self.run_once()
            except Exception:
                log.exception("outbox worker: batch failed; retrying")
                busy = 0
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), idle)
