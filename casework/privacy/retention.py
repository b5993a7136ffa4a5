"""What is kept, and for how long.

- Updates from the messaging apps (`inbox`) are kept as they arrived until they are handled
  and `inbox_retention_days` (30) more; then the rows are deleted. Long enough for staff to
  look into a failure and for a provider's late repeat to be recognised (Telegram and
  WhatsApp stop repeating within days).
- The transcript (`messages`) and the replies sent (`outbox`) are kept
  `transcript_retention_months` (24), then deleted. Requests, ratings and visit counts stay.
- After an erasure (casework.citizens.erasure), the payload of the update that asked for it,
  still being handled then, is emptied here once it has been.
- On SQLite the write-ahead log is truncated at the end, so what was deleted is gone from the
  files too (`secure_delete` overwrote it in the database file).

`run_retention` is run periodically by the app's background worker (backoffice/app.py, every
RETENTION_INTERVAL_SECONDS) and by `ventanilla retention run` for cron. Rows go in short
batches, each in its own transaction, so the bot never waits long; several workers may run
it at once (deleting a row twice deletes nothing).
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.sql.selectable import ScalarSelect

from casework.citizens.erasure import clear_inbox
from casework.citizens.models import ChannelIdentity
from casework.conversations.models import Message
from casework.inbox.models import InboxItem
from casework.outbox.delivery import UNDELIVERED
from casework.outbox.models import OutboxMessage
from casework.periodic import repeat
from foundation.db import Database, rows_changed, utcnow
from foundation.settings import RetentionSettings

RETENTION_INTERVAL_SECONDS = 600  # how often the app applies the retention periods
BATCH = 1000  # rows deleted per transaction
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionReport:
    inbox_deleted: int  # handled updates older than the inbox period
    erased_cleared: int  # payloads of chats that asked for erasure, emptied
    replies_deleted: int  # outbox rows older than the transcript period
    messages_deleted: int  # transcript lines older than the transcript period


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the last day of a shorter
    month when the day does not exist there)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=moment.tzinfo)
    last_day = (following - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


async def run_retention(
    db: Database, settings: RetentionSettings, now: datetime
) -> RetentionReport:
    inbox_cutoff = now - timedelta(days=settings.inbox_retention_days)
    transcript_cutoff = months_before(now, settings.transcript_retention_months)
    report = RetentionReport(
        inbox_deleted=await _delete_handled_updates(db, inbox_cutoff),
        erased_cleared=await _clear_erased_chats(db, inbox_cutoff),
        replies_deleted=await _delete_old_replies(db, transcript_cutoff),
        messages_deleted=await _delete_old_messages(db, transcript_cutoff),
    )
    await db.scrub()
    if any(vars(report).values()):
        log.info("retention: %s", report)
    return report


async def _delete_handled_updates(db: Database, cutoff: datetime) -> int:
    """Handled inbox updates (answered or given up) older than `cutoff`."""
    deleted = 0
    while True:
        async with db.transaction() as session:
            ids = list(
                await session.scalars(
                    select(InboxItem.id)
                    .where(InboxItem.processed_at < cutoff)
                    .order_by(InboxItem.processed_at)
                    .limit(BATCH)
                )
            )
            if ids:
                await session.execute(delete(InboxItem).where(InboxItem.id.in_(ids)))
        deleted += len(ids)
        if len(ids) < BATCH:
            return deleted


async def _clear_erased_chats(db: Database, since: datetime) -> int:
    """Empty the payloads of chats erased since `since` that were handled after the erasure
    (the message that asked for it, and any sent meanwhile). Older ones were deleted above."""
    cleared = 0
    async with db.transaction() as session:
        chats = list(
            await session.execute(
                select(
                    ChannelIdentity.channel, ChannelIdentity.address, ChannelIdentity.erased_at
                ).where(ChannelIdentity.erased_at >= since)
            )
        )
        for channel, address, erased_at in chats:
            cleared += await clear_inbox(session, channel, address, received_by=erased_at)
    return cleared


def _oldest(table: type[Message] | type[OutboxMessage]) -> ScalarSelect[int]:
    """The ids of the table's oldest rows (by id, which follows time): read from the primary
    key, so a run with nothing old to delete costs one short index scan."""
    return select(table.id).order_by(table.id).limit(BATCH).scalar_subquery()


async def _delete_old_replies(db: Database, cutoff: datetime) -> int:
    """Replies delivered, failed or cancelled before `cutoff` (a reply still waiting stays)."""
    deleted = 0
    while True:
        async with db.transaction() as session:
            result = await session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.id.in_(_oldest(OutboxMessage)),
                    OutboxMessage.created_at < cutoff,
                    OutboxMessage.status.not_in(UNDELIVERED),
                )
            )
        count = rows_changed(result)
        deleted += count
        if not count:
            return deleted


async def _delete_old_messages(db: Database, cutoff: datetime) -> int:
    """Transcript lines written before `cutoff`; a reply still waiting to go keeps its own
    text and loses only its link to the line."""
    deleted = 0
    while True:
        async with db.transaction() as session:
            ids = list(
                await session.scalars(
                    select(Message.id).where(
                        Message.id.in_(_oldest(Message)), Message.created_at < cutoff
                    )
                )
            )
            if ids:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.message_id.in_(ids))
                    .values(message_id=None)
                )
                await session.execute(delete(Message).where(Message.id.in_(ids)))
        deleted += len(ids)
        if not ids:
            return deleted


async def run(
    db: Database,
    settings: RetentionSettings,
    stop: asyncio.Event,
    interval: float = RETENTION_INTERVAL_SECONDS,
) -> None:
    """Apply the retention periods every `interval` seconds until `stop` is set."""
    await repeat(lambda: run_retention(db, settings, utcnow()), interval, stop, "retention")
