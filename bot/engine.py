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

from bot.flows import handoff, info, privacy, rating, request, status
from bot.turn import Turn, menu_choices
from casework import texts
from casework.calendar import is_business_day, local
from casework.conversations import visits
from casework.conversations.models import Conversation
from casework.conversations.service import conversation_at, record_inbound, set_slots
from casework.db import Database, utcnow
from casework.handoffs.service import open_for
from casework.messages import Inbound
from casework.outbox.models import OutboxMessage
from casework.outbox.service import enqueue_all
from catalog import service as catalog
from catalog.models import Municipality
from nlu import factory
from nlu.external import who_handles
from nlu.understanding import ProcedureEntry, Understander
from ventanilla.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class _CatalogView:
    """What every turn needs from the catalogue, kept between messages."""

    version: tuple[int, str]
    municipality: Municipality | None
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
        """The municipality and the understanding model, reloaded when the catalogue changes;
        the model is rebuilt (seconds) only when what it reads changed: names, synonyms,
        descriptions, requirements, not a cost or an office's hours. Another process's edits
        are noticed within `catalog_refresh_seconds`."""
        view, now = self._catalog, time.monotonic()
        if view is not None and now - view.checked_at < self.settings.catalog_refresh_seconds:
            return view
        current = await catalog.version(session)
        if view is None or view.version != current:
            entries = await catalog.entries(session)
            if view is not None and view.entries == entries:
                nlu = view.nlu
            else:
                nlu = self._build_model(self.settings, entries)
            municipality = await catalog.municipality(session)
            view = _CatalogView(current, municipality, entries, nlu, now)
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
                timedelta(minutes=self.settings.session_gap_minutes),
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
    if ":" in text and text.split(":", 1)[0] in PICK_PREFIXES:
        return text  # a button from an earlier message
    return None


PICK_PREFIXES = {"menu", "proc", "aspect", "open", "rate", "useful"}


async def route(turn: Turn, first_contact: bool = False) -> None:
    state = turn.conversation.state
    if turn.inbound.kind not in ("text", "location", "photo") or (
        turn.inbound.kind != "text" and not state.startswith("request_")
    ):
        turn.say(texts.t("input.not_text"), menu_choices())
        return
    if turn.inbound.kind == "text" and not turn.text:
        turn.say(texts.t("input.empty"), menu_choices())
        return
    if turn.value is None and turn.words in texts.t("labels.cancel_words").split():
        if state != "idle":
            turn.say(texts.t("input.cancelled"))
        turn.reset()
        privacy.menu(turn)
        return
    score = rating.score_in(turn)
    if state == "rate_dimension":
        if await rating.take_dimension(turn, score):
            return
        state = turn.conversation.state  # not an answer: the questions end, the text is read
    if (
        score is not None
        and state in ("idle", "rate_comment")
        and await rating.take_score(turn, score)
    ):
        return
    if state == "consent":
        then = privacy.answer_consent(turn)
        if then and then.startswith("request:"):
            await request.start(turn, then.removeprefix("request:") or None)
        return
    if state == "erase_confirm":
        await privacy.answer_erase(turn)
        return
    if state in request.STEPS:
        await request.STEPS[state](turn)
        return
    if state == "rate_comment" and await rating.take_comment(turn):
        return
    await idle(turn, first_contact)


async def idle(turn: Turn, first_contact: bool) -> None:
    value = turn.value or ""
    if value.startswith("menu:"):
        await _menu_pick(turn, value.removeprefix("menu:"))
        return
    if value.startswith(("proc:", "aspect:")):
        await info.picked(turn, value)
        return
    if value.startswith("open:"):
        await request.start(turn, value.removeprefix("open:"))
        return
    if value.startswith("useful:"):
        await info.useful(turn, value)
        return
    if len(turn.text) > turn.settings.max_message_chars:
        turn.say(texts.t("input.too_long", length=len(turn.text)))
        return
    understanding = await turn.understand()
    match understanding.intent:
        case "ask_procedure":
            await info.ask(turn, understanding)
        case "open_request":
            await request.start(turn, understanding.procedure_id)
        case "request_status":
            folio = understanding.entities.get("folio")
            await (status.by_folio(turn, folio) if folio else status.mine(turn))
        case "human_agent":
            await handoff.to_person(turn)
        case "rate_service":
            await rating.start(turn)
        case "my_data":
            await privacy.my_data(turn)
        case "thanks":
            turn.say(texts.t("thanks"))
        case "goodbye":
            turn.say(texts.t("goodbye", municipality=turn.municipality_name))
        case "greet" | "help" | "affirm" | "deny":
            privacy.menu(turn)
        case "out_of_scope" if "external" in understanding.entities:
            who = who_handles(understanding.entities["external"]) or texts.t("another_agency")
            turn.say(texts.t("out_of_scope_external", who=who), menu_choices())
        case "out_of_scope" if not first_contact:
            turn.not_understood(texts.t("out_of_scope"))
        case _:
            turn.not_understood(texts.t("fallback"))


async def _menu_pick(turn: Turn, option: str) -> None:
    match option:
        case "ask":
            turn.say(texts.t("info.ask_which"))
        case "open":
            await request.start(turn, None)
        case "status":
            await status.mine(turn)
        case "person":
            await handoff.to_person(turn)
        case "person_wait":
            await handoff.to_person(turn, even_if_closed=True)
        case _:
            privacy.menu(turn)
