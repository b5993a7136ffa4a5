"""An engine no text can crash: a message the bot fails on gets an apology, not a retry.

`answer` is how the channels hand a message to the engine. When handling fails for a reason
that may pass (the database or the network, see casework/failures.py) the error is raised, so
the inbox tries again later and the web chat says "try again in a moment". Any other failure
would fail the same way every time: it is logged with its traceback, the citizen's message is
kept, the conversation starts over from the menu, and the citizen is told, politely, in the
same chat.
"""

import logging

from bot.engine import Engine
from bot.turn import menu_choices
from casework.conversations.service import conversation_at, record_inbound, set_slots
from casework.failures import transient
from casework.outbox.models import OutboxMessage
from casework.outbox.service import enqueue_all
from foundation import texts
from foundation.db import Database, utcnow
from foundation.messages import Inbound, Outbound

log = logging.getLogger(__name__)


async def answer(engine: Engine, inbound: Inbound) -> list[OutboxMessage]:
    """`engine.handle(inbound)`, with an apology instead of an error the message would
    raise again on every try. Transient failures are raised."""
    try:
        return await engine.handle(inbound)
    except Exception as exc:
        if transient(exc):
            raise
        log.exception(
            "message %s from %s:%s made the bot fail; the citizen is asked to rephrase",
            inbound.external_id,
            inbound.channel,
            inbound.address,
        )
    return await apologise(engine.db, inbound)


async def apologise(db: Database, inbound: Inbound) -> list[OutboxMessage]:
    """Keep the message, start the conversation over (unless a person holds it) and queue the
    apology with the menu; nothing for a message already handled."""
    async with db.transaction() as session:
        identity, conversation = await conversation_at(
            session, inbound.channel, inbound.address, inbound.display_name
        )
        if not await record_inbound(session, conversation, inbound):
            return []
        conversation.last_inbound_at = utcnow()
        if conversation.state != "handoff":
            conversation.state = "idle"
            conversation.slots = {}
        choices = menu_choices()
        set_slots(conversation, choices=[c.as_dict() for c in choices])
        reply = Outbound(texts.t("input.failed"), choices)
        return await enqueue_all(session, identity, conversation.id, [reply])
