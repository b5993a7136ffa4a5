"""Writing replies to the outbox and handing them to pull channels (web, terminal)."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from casework.citizens.models import ChannelIdentity
from casework.conversations.models import Message
from casework.outbox.models import OutboxMessage
from casework.staff.models import StaffUser
from foundation.audit import audit
from foundation.db import table_of, utcnow
from foundation.messages import Outbound


async def enqueue(
    session: AsyncSession,
    identity: ChannelIdentity,
    conversation_id: int,
    outbound: Outbound,
    staff_user_id: int | None = None,
    purpose: str = "reply",
) -> OutboxMessage:
    """Record the message in the transcript and queue it for delivery, in the caller's
    transaction: it is sent only if the change that produced it is committed."""
    [item] = await enqueue_all(
        session, identity, conversation_id, [outbound], staff_user_id, purpose
    )
    return item


async def enqueue_all(
    session: AsyncSession,
    identity: ChannelIdentity,
    conversation_id: int,
    outbounds: Sequence[Outbound],
    staff_user_id: int | None = None,
    purpose: str = "reply",
) -> list[OutboxMessage]:
    """`enqueue` for several replies in order, with one insert per table (Core statements:
    every bot turn ends here, and the ORM's unit of work costs more than the inserts)."""
    if not outbounds:
        return []
    now = utcnow()
    lines = [
        {
            "conversation_id": conversation_id,
            "direction": "out",
            "sender": outbound.sender,
            "kind": "text",
            "text": outbound.text,
            "payload": {"choices": [c.as_dict() for c in outbound.choices]}
            if outbound.choices
            else {},
            "staff_user_id": staff_user_id,
            "created_at": now,
        }
        for outbound in outbounds
    ]
    message_ids = await _insert_returning_ids(session, Message, lines)
    rows = [
        {
            "identity_id": identity.id,
            "message_id": message_id,
            "channel": identity.channel,
            "text": outbound.text,
            "choices": [c.as_dict() for c in outbound.choices],
            "sender": outbound.sender,
            "purpose": purpose,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for outbound, message_id in zip(outbounds, message_ids, strict=True)
    ]
    ids = await _insert_returning_ids(session, OutboxMessage, rows)
    # Plain objects for the caller to read, not attached to the session.
    return [OutboxMessage(id=item_id, **row) for item_id, row in zip(ids, rows, strict=True)]


async def _insert_returning_ids(
    session: AsyncSession, table: type[Message] | type[OutboxMessage], rows: list[dict[str, Any]]
) -> list[int]:
    """Insert `rows` in one statement; their new ids, in the rows' order.

    One multi-row INSERT gives its rows increasing ids in the order of its VALUES (SQLite's
    rowids and PostgreSQL's sequence both count up as the rows are inserted), so sorting the
    returned ids puts them in the rows' order. SQLAlchemy's `sort_by_parameter_order` would
    do the same on PostgreSQL but falls back to one INSERT per row on SQLite."""
    statement = insert(table_of(table)).returning(table.id)
    return sorted((await session.execute(statement, rows)).scalars())


async def pull(
    session: AsyncSession, identity_id: int, after_id: int | None = None
) -> list[OutboxMessage]:
    """Messages for a pull channel (web, terminal): those newer than `after_id`, or only the
    undelivered ones when `after_id` is None. They count as delivered once pulled."""
    query = select(OutboxMessage).where(OutboxMessage.identity_id == identity_id)
    if after_id is None:
        query = query.where(OutboxMessage.status == "pending")
    else:
        query = query.where(OutboxMessage.id > after_id)
    items = list(await session.scalars(query.order_by(OutboxMessage.id)))
    pending = [i.id for i in items if i.status == "pending"]
    if pending:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(pending))
            .values(status="sent", sent_at=utcnow(), attempts=OutboxMessage.attempts + 1)
        )
    return items


async def failed(session: AsyncSession, limit: int = 200) -> list[OutboxMessage]:
    """Messages that could not be delivered after every try, newest first."""
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == "failed")
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(rows)


async def retry(session: AsyncSession, item_id: int, staff: StaffUser) -> bool:
    """Send a failed message again from the first try, on a staff member's request; False
    when no failed message has that id."""
    item = await session.get(OutboxMessage, item_id, with_for_update=True)
    if item is None or item.status != "failed":
        return False
    before = {"status": item.status, "attempts": item.attempts, "last_error": item.last_error}
    item.status, item.attempts, item.next_attempt_at = "pending", 0, utcnow()
    item.lease_until = None
    after = {"status": item.status, "attempts": item.attempts}
    await audit(session, staff, "outbox.retry", "outbox", item.id, before, after)
    return True


async def record_receipt(
    session: AsyncSession, provider_id: str, status: str, error: str | None = None
) -> bool:
    """Store a provider's delivery receipt against the message it sent; False if unknown."""
    item = await session.scalar(
        select(OutboxMessage).where(OutboxMessage.provider_id == provider_id).with_for_update()
    )
    if item is None:
        return False
    item.receipt, item.receipt_at = status, utcnow()
    if status == "failed":
        item.status, item.last_error = "failed", error or "failed"
    return True
