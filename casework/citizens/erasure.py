"""Erasing a citizen's personal data on request (derechos ARCO, LGPDPPSO).

Everything that holds it is cleared, for every chat linked to the citizen and the chat that
asked: the CURP and the citizen's row; the description, location and photo of their requests
and the staff notes about them; rating comments; the transcript (text and media references)
and what the conversation remembered; the replies queued or sent (their text, choices and
delivery receipts); the updates the messaging apps delivered (inbox payloads); link codes;
the chats' display names; the reason given when asking for a person, and the texts of those
notes and replies copied into the audit log.

What stays is anonymous: each request's procedure, status and dates, each rating's score,
the visit counts, so aggregate indicators keep counting. The chat's address (Telegram chat,
WhatsApp number, web session) stays as the routing key of that chat, linked to nothing.

The message that asked for the erasure is still being handled while this runs, so its inbox
payload is cleared by the next retention run (`casework.privacy.retention`), which finds the
chat by `ChannelIdentity.erased_at`. On SQLite (`secure_delete` on) the old values are also
overwritten in the file, and the write-ahead log is truncated once the erasure commits.
"""

import asyncio
import logging
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, event, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from casework.citizens.models import ChannelIdentity, Citizen, LinkCode
from casework.conversations.models import Conversation, Message
from casework.handoffs.models import Handoff
from casework.inbox.models import InboxItem
from casework.outbox.delivery import UNDELIVERED
from casework.outbox.models import OutboxMessage
from casework.ratings.models import AnswerFeedback, Rating
from casework.requests.models import Request, RequestEvent
from foundation.audit import AuditEntry, audit
from foundation.db import rows_changed, scrub, utcnow

ERASED = "[eliminado]"
log = logging.getLogger(__name__)
# The free texts the audit log copies from a request's notes and an agent's replies.
AUDITED_TEXTS = {"request": "note", "handoff": "text"}
_scrubbing: set[asyncio.Task[None]] = set()


async def erase(
    session: AsyncSession, identity: ChannelIdentity, conversation: Conversation
) -> None:
    """Erase the personal data of the citizen behind `identity` (and of that chat), in the
    caller's transaction."""
    citizen_id = identity.citizen_id
    identities = {identity.id}
    if citizen_id is not None:
        linked = select(ChannelIdentity.id).where(ChannelIdentity.citizen_id == citizen_id)
        identities |= set(await session.scalars(linked))
    chats = list(
        await session.execute(
            select(ChannelIdentity.channel, ChannelIdentity.address).where(
                ChannelIdentity.id.in_(identities)
            )
        )
    )
    conversations = list(
        await session.scalars(
            select(Conversation.id).where(Conversation.identity_id.in_(identities))
        )
    )
    await _requests(session, identities, citizen_id)
    await _conversations(session, conversations, citizen_id)
    await _deliveries(session, identities, chats)
    await session.execute(
        update(ChannelIdentity)
        .where(ChannelIdentity.id.in_(identities))
        .values(citizen_id=None, display_name=None, erased_at=utcnow())
    )
    links: list[ColumnElement[bool]] = [LinkCode.identity_id.in_(identities)]
    if citizen_id is not None:
        links.append(LinkCode.citizen_id == citizen_id)
    await session.execute(delete(LinkCode).where(or_(*links)))
    if citizen_id is not None:
        await session.execute(delete(Citizen).where(Citizen.id == citizen_id))
    conversation.slots, conversation.consent_at, conversation.last_procedure_id = {}, None, None
    conversation.state = "idle"
    await audit(session, None, "citizen.erase", "channel_identity", identity.id, None, None)
    _scrub_after_commit(session)


async def _requests(session: AsyncSession, identities: set[int], citizen_id: int | None) -> None:
    """Requests keep procedure, status and dates; their personal content and notes go."""
    mine: list[ColumnElement[bool]] = [Request.identity_id.in_(identities)]
    if citizen_id is not None:
        mine.append(Request.citizen_id == citizen_id)
    rows = list(await session.execute(select(Request.id, Request.folio).where(or_(*mine))))
    if not rows:
        return
    ids = [row.id for row in rows]
    await session.execute(
        update(Request)
        .where(Request.id.in_(ids))
        .values(description=ERASED, location=None, photo=None, citizen_id=None, identity_id=None)
    )
    await session.execute(
        update(RequestEvent)
        .where(RequestEvent.request_id.in_(ids), RequestEvent.note != "")
        .values(note=ERASED)
    )
    await _audited_texts(session, "request", [row.folio for row in rows])


async def _conversations(
    session: AsyncSession, conversations: list[int], citizen_id: int | None
) -> None:
    """The transcript, what the conversations remember, ratings' comments, handoff reasons."""
    await session.execute(
        update(Conversation)
        .where(Conversation.id.in_(conversations))
        .values(slots={}, consent_at=None, last_procedure_id=None, state="idle")
    )
    await session.execute(
        update(Message)
        .where(Message.conversation_id.in_(conversations))
        .values(text=ERASED, payload={})
    )
    owner: list[ColumnElement[bool]] = [Rating.conversation_id.in_(conversations)]
    feedback_owner: list[ColumnElement[bool]] = [AnswerFeedback.conversation_id.in_(conversations)]
    if citizen_id is not None:
        owner.append(Rating.citizen_id == citizen_id)
        feedback_owner.append(AnswerFeedback.citizen_id == citizen_id)
    await session.execute(update(Rating).where(or_(*owner)).values(comment=None, citizen_id=None))
    await session.execute(
        update(AnswerFeedback).where(or_(*feedback_owner)).values(citizen_id=None)
    )
    handoffs = list(
        await session.scalars(select(Handoff.id).where(Handoff.conversation_id.in_(conversations)))
    )
    if handoffs:
        await session.execute(
            update(Handoff)
            .where(Handoff.id.in_(handoffs), Handoff.reason != "")
            .values(reason=ERASED)
        )
        await _audited_texts(session, "handoff", [str(h) for h in handoffs])


async def _deliveries(session: AsyncSession, identities: set[int], chats: list[Any]) -> None:
    """Replies to the chats (sent or not: one still queued is not sent any more) and the
    updates the messaging apps delivered for them, once handled."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.identity_id.in_(identities))
        .values(text=ERASED, choices=[], last_error=None, receipt=None, receipt_at=None)
    )
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.identity_id.in_(identities), OutboxMessage.status.in_(UNDELIVERED))
        .values(status="cancelled", lease_until=None)
    )
    for channel, address in chats:
        await clear_inbox(session, channel, address)


async def clear_inbox(
    session: AsyncSession, channel: str, address: str, received_by: Any = None
) -> int:
    """Empty the payloads of a chat's handled inbox updates (received up to `received_by`,
    when given); how many. Updates not handled yet keep theirs until they are."""
    found = [
        InboxItem.channel == channel,
        InboxItem.chat == address,
        InboxItem.processed_at.is_not(None),
    ]
    if received_by is not None:
        found.append(InboxItem.received_at <= received_by)
    result = await session.execute(
        update(InboxItem).where(and_(*found)).values(payload={}, last_error=None)
    )
    return rows_changed(result)


async def _audited_texts(session: AsyncSession, entity: str, entity_ids: list[str]) -> None:
    """Replace the free text the audit log copied (a note, a reply) in these entities'
    entries; the entry itself (who did what, when) stays."""
    field = AUDITED_TEXTS[entity]
    entries = await session.scalars(
        select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_id.in_(entity_ids))
    )
    for entry in entries:
        for side in ("before", "after"):
            values = getattr(entry, side)
            if values and values.get(field):
                setattr(entry, side, {**values, field: ERASED})


def _scrub_after_commit(session: AsyncSession) -> None:
    """Once the erasure commits, have SQLite truncate its write-ahead log, which still holds
    the erased values (foundation.db.scrub); PostgreSQL needs nothing here."""
    engine = session.bind
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "sqlite":
        return
    loop = asyncio.get_running_loop()

    @event.listens_for(session.sync_session, "after_commit", once=True)
    def _committed(_session: Any) -> None:
        task = loop.create_task(_scrub(engine))
        _scrubbing.add(task)  # kept until done: the loop holds tasks only weakly
        task.add_done_callback(_scrubbing.discard)


async def _scrub(engine: AsyncEngine) -> None:
    try:
        await scrub(engine)
    except Exception:  # the next retention run truncates it
        log.warning("could not truncate SQLite's write-ahead log after an erasure", exc_info=True)
