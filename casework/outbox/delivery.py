"""Delivering the outbox to push channels (Telegram, WhatsApp) with retries.

Guarantees:
- per-chat order: only the oldest undelivered message of each chat is ever claimed;
- several workers share the outbox: rows are claimed with FOR UPDATE SKIP LOCKED (PostgreSQL;
  SQLite has one writer at a time anyway) and leased while they are sent;
- a worker killed mid-delivery loses nothing: its lease lapses and another worker sends it;
- timeouts and 5xx are retried with exponential backoff, rate limits after the delay the
  provider asks for; after the last try the message is marked failed for staff to see.

Delivery is at least once. Neither Telegram nor WhatsApp lets a sender ask whether a message
went through or send it idempotently, so a send under way when the worker dies is sent again
once its lease lapses: the provider got it if the request had reached it. To keep that to a
few messages, at most `in_flight` sends are under way at any moment (each claimed alone, as a
slot frees, instead of in batches that wait for their slowest), and each is marked sent the
moment its provider answers, ahead of other writers waiting on SQLite. The default, 8, keeps
WhatsApp's default 80 messages a second at 100 ms a send (Telegram allows 30 a second).
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import aliased

from casework.citizens.models import ChannelIdentity
from casework.claims import pump
from casework.outbox.models import OutboxMessage
from foundation.db import Database, utcnow

log = logging.getLogger(__name__)
UNDELIVERED = ("pending", "sending")
IN_FLIGHT = 8  # sends under way at once: what a crash can duplicate, at most


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
        return min(self.base_delay * 2.0 ** (attempts - 1), self.max_delay)


class Deliverer:
    def __init__(
        self,
        db: Database,
        senders: list[Sender],
        policy: RetryPolicy | None = None,
        in_flight: int = IN_FLIGHT,
    ):
        self.db = db
        self.senders = {s.channel: s for s in senders}
        self.policy = policy or RetryPolicy()
        self.in_flight = in_flight

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

    async def _sent(self, item_id: int, provider_id: str | None) -> None:
        """Mark a message sent as soon as its provider said so: one short statement that on
        SQLite goes before the writers waiting (until it commits, a crash means a resend)."""
        async with self.db.connection() as conn:
            await conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == item_id)
                .values(
                    status="sent",
                    sent_at=utcnow(),
                    provider_id=provider_id,
                    lease_until=None,
                    last_error=None,
                )
            )

    async def _failed(self, item_id: int, error: DeliveryError) -> None:
        async with self.db.transaction() as session:
            item = await session.get(OutboxMessage, item_id, with_for_update=True)
            assert item is not None
            if item.status != "sending":
                return  # sent meanwhile by a worker that took over the lapsed lease, or erased
            item.lease_until = None
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
            await self._failed(item.id, exc)
        except Exception as exc:  # a bug or an unexpected answer must not lose the message
            log.exception("outbox %s: unexpected error while sending", item.id)
            await self._failed(item.id, DeliveryError(repr(exc)))
        else:
            await self._sent(item.id, provider_id)

    async def run_once(self, limit: int | None = None) -> int:
        """Claim and send up to `limit` (`in_flight`) messages of different chats at once;
        how many were tried."""
        claimed = await self.claim(limit or self.in_flight)
        await asyncio.gather(*(self._deliver(item, identity) for item, identity in claimed))
        return len(claimed)

    async def run(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        """Keep up to `in_flight` sends under way until `stop` is set: a slot that frees is
        filled at once; with nothing due, look again after `idle` seconds. Sends under way
        when it stops are cut short like a crash: their leases lapse (casework/claims.py)."""

        async def deliver(claimed: tuple[OutboxMessage, ChannelIdentity]) -> None:
            await self._deliver(*claimed)

        await pump(self.claim, deliver, self.in_flight, stop, idle=idle, what="outbox worker")
