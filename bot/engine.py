"""The dialogue engine: one citizen message in, replies out, state kept in the database.

Each message is one transaction: the inbound message, the state change and the replies (in
the outbox) are committed together, so any worker can take the next message and a crash
loses nothing.
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import cues
from bot.flows import privacy
from bot.router import route
from bot.turn import Turn
from casework.conversations import visits
from casework.conversations.models import Conversation
from casework.conversations.service import conversation_at, record_inbound, set_slots
from casework.handoffs.service import open_for
from casework.outbox.models import OutboxMessage
from casework.outbox.service import enqueue_all
from catalog import service as catalog
from catalog.models import Municipality, Procedure
from foundation.calendar import is_business_day, local
from foundation.db import Database, utcnow
from foundation.messages import Inbound
from foundation.settings import Settings
from nlu import factory
from nlu.entries import entries_from_procedures
from nlu.understanding import ProcedureEntry, Understander

log = logging.getLogger(__name__)


@dataclass
class _CatalogView:
    """What every turn needs from the catalogue, kept between messages."""

    version: tuple[int, str, str]
    municipality: Municipality | None
    procedures: dict[str, Procedure]  # by id, with their departments; read by every turn
    entries: list[ProcedureEntry]  # what the model was built from
    nlu: Understander
    checked_at: float


# Builds the understanding model from a catalogue's procedures (seconds).
ModelBuilder = Callable[[Settings, Sequence[ProcedureEntry]], Understander]


class Engine:
    def __init__(
        self, db: Database, settings: Settings, build_model: ModelBuilder = factory.build
    ) -> None:
        """`build_model` is how the understanding model is built; the conversation tests pass
        one that reuses a model across the fresh databases of one catalogue."""
        self.db = db
        self.settings = settings
        self._build_model = build_model
        self._catalog: _CatalogView | None = None

    def forget_catalog(self) -> None:
        """Called after staff change the catalogue in this process: the next turn checks it."""
        if self._catalog is not None:
            self._catalog.checked_at = float("-inf")

    async def warm_up(self) -> None:
        """Build the understanding model and load this year's holidays now (the holidays
        library imports its country data on first use, a quarter of a second), so the first
        citizen does not wait for them."""
        async with self.db.transaction() as session:
            await self._catalog_view(session)
        is_business_day(local(utcnow()).date())

    async def _catalog_view(self, session: AsyncSession) -> _CatalogView:
        """The municipality, the procedures and the understanding model, reloaded when the
        catalogue changes; the model is rebuilt (seconds) only when what it reads changed:
        names, synonyms, descriptions, requirements, not a cost or an office's hours. Another
        process's edits are noticed within `catalog_refresh_seconds`. The procedures are
        kept (detached once their session ends) for turns to read, at no query per turn."""
        view, now = self._catalog, time.monotonic()
        if view is not None and now - view.checked_at < self.settings.catalog_refresh_seconds:
            return view
        current = await catalog.version(session)
        if view is None or view.version != current:
            procedures = await catalog.all_procedures(session)
            entries = entries_from_procedures(procedures)
            if view is not None and view.entries == entries:
                nlu = view.nlu
            else:
                nlu = self._build_model(self.settings, entries)
            municipality = await catalog.municipality(session)
            by_id = {p.id: p for p in procedures}
            view = _CatalogView(current, municipality, by_id, entries, nlu, now)
        view.checked_at = now
        self._catalog = view
        return view

    async def handle(self, inbound: Inbound) -> list[OutboxMessage]:
        """Process one message; returns the replies queued (none for a repeated delivery).

        The hot path of the bot: a turn for a chat seen before costs one query for the chat,
        one insert for the message, what the flow itself reads and writes, one update of
        the visit, one insert per table for the replies and one update of the conversation
        (its changes are written together at the commit)."""
        async with self.db.transaction() as session:
            identity, conversation = await conversation_at(
                session, inbound.channel, inbound.address, inbound.display_name
            )
            previous_at = conversation.last_inbound_at
            first_contact = previous_at is None
            if not await record_inbound(session, conversation, inbound):
                log.info("duplicate delivery %s:%s ignored", inbound.channel, inbound.external_id)
                return []
            now = utcnow()
            if conversation.state == "handoff":
                conversation.last_inbound_at = now
                if await open_for(session, conversation.id) is not None:
                    return []  # a person holds the conversation: the bot stays silent
                conversation.state = "idle"
            view = await self._catalog_view(session)
            turn = Turn(
                session=session,
                settings=self.settings,
                identity=identity,
                conversation=conversation,
                inbound=inbound,
                municipality=view.municipality,
                procedures=view.procedures,
                nlu=view.nlu,
                text=inbound.text.strip(),
                value=_picked(conversation, inbound.text.strip()),
            )
            if first_contact:
                privacy.welcome(turn)
            await route(turn, first_contact)
            conversation.last_inbound_at = now
            last_choices = turn.replies[-1].choices if turn.replies else ()
            set_slots(conversation, choices=[c.as_dict() for c in last_choices] or None)
            await visits.record_turn(
                session,
                conversation,
                identity.channel,
                previous_at,
                now,
                timedelta(minutes=self.settings.evaluation.session_gap_minutes),
                understood=turn.understood,
                handed_off=conversation.state == "handoff",
            )
            return await enqueue_all(session, identity, conversation.id, turn.replies)


def _picked(conversation: Conversation, text: str) -> str | None:
    """The value of an offered choice the citizen picked by number, label or value."""
    offered = conversation.slots.get("choices") or []
    if text.isascii() and text.isdigit() and len(text) < 4 and 1 <= int(text) <= len(offered):
        return str(offered[int(text) - 1]["value"])
    lowered = text.casefold()
    for choice in offered:
        if lowered in (choice["label"].casefold(), choice["value"].casefold()):
            return str(choice["value"])
    # a typed "sí" or "no" to a yes-or-no question ("¿Te refieres a…?"): its button
    answer = cues.plain_answer(text)
    fitting = [
        c for c in offered if answer is not None and cues.label_answers(c["label"]) is answer
    ]
    if len(fitting) == 1:
        return str(fitting[0]["value"])
    if ":" in text and text.split(":", 1)[0] in PICK_PREFIXES:
        return text  # a button from an earlier message
    return None


PICK_PREFIXES = {"menu", "proc", "aspect", "open", "rate", "useful"}
