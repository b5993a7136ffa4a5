"""One turn of the dialogue: the citizen's message, the conversation row, and the replies."""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot import cues
from casework.citizens.models import ChannelIdentity
from casework.conversations.models import Conversation
from casework.conversations.service import set_slots
from catalog.models import Municipality, Procedure
from foundation import texts
from foundation.messages import Choice, Inbound, Outbound
from foundation.settings import Settings
from nlu.normalize import normalize
from nlu.understanding import Context, Understander, Understanding


@dataclass
class Turn:
    session: AsyncSession
    settings: Settings
    identity: ChannelIdentity
    conversation: Conversation
    inbound: Inbound
    municipality: Municipality | None
    procedures: Mapping[str, Procedure]  # the catalogue's, by id: read them, never change them
    nlu: Understander
    text: str  # what the citizen wrote, stripped
    value: str | None = None  # the value of the choice they picked, if they picked one
    replies: list[Outbound] = field(default_factory=list)
    # False when the bot could not make out what the citizen wanted (the fallback answer, a
    # procedure not in the catalogue): the bot's not-understood rate counts these.
    understood: bool = True
    _understanding: Understanding | None = field(default=None, repr=False)

    async def understand(self) -> Understanding:
        """What the message says, read once per turn (the repair layer and the step it
        reaches both ask), in the context the conversation had when it arrived."""
        if self._understanding is None:
            context = Context(self.conversation.last_procedure_id, self.conversation.state)
            if getattr(self.nlu, "blocking", False):  # a network backend must not stall the loop
                found = await asyncio.to_thread(self.nlu.understand, self.text, context)
            else:
                found = self.nlu.understand(self.text, context)
            self._understanding = found
        return self._understanding

    def procedure(self, procedure_id: str | None) -> Procedure | None:
        return self.procedures.get(procedure_id) if procedure_id else None

    def report_types(self) -> dict[str, Procedure]:
        """The procedures that take requests, by id, in the order of their names."""
        takes = sorted((p for p in self.procedures.values() if p.request_enabled), key=_name)
        return {p.id: p for p in takes}

    @property
    def words(self) -> str:
        return normalize(self.text)

    @property
    def municipality_name(self) -> str:
        return self.municipality.name if self.municipality else "tu municipio"

    @property
    def privacy_url(self) -> str:
        if self.municipality and self.municipality.privacy_notice_url:
            return self.municipality.privacy_notice_url
        return f"{self.settings.web.public_url.rstrip('/')}/privacidad"

    def say(self, text: str, choices: tuple[Choice, ...] = ()) -> None:
        self.replies.append(Outbound(text, choices))

    def not_understood(self, text: str) -> None:
        """Say `text` and count this turn as one the bot did not understand."""
        self.understood = False
        self.say(text, menu_choices())

    def go(self, state: str, **slots: object) -> None:
        self.conversation.state = state
        if slots:
            set_slots(self.conversation, **slots)

    def reset(self) -> None:
        self.conversation.state = "idle"
        set_slots(self.conversation, request=None, after_consent=None, rating=None)

    def yes_or_no(self) -> bool | None:
        """The answer to a yes-or-no question in any natural wording ("si acepto", "va",
        "nel, ya no"), or None when the message is neither."""
        if self.value in ("yes", "no"):
            return self.value == "yes"
        if self.value is not None:
            return None
        head = cues.first_words(cues.strip_fillers(self.words), 5)
        no, yes = cues.position("deny", head), cues.position("affirm", head)
        if cues.cancels(self.text):
            return False
        if no is None and yes is None:
            return None
        return yes is not None and (no is None or yes < no)  # the first one said counts

    def is_yes(self) -> bool:
        return self.yes_or_no() is True

    def is_no(self) -> bool:
        return self.yes_or_no() is False


def menu_choices() -> tuple[Choice, ...]:
    return (
        Choice(texts.t("menu.ask"), "menu:ask"),
        Choice(texts.t("menu.open"), "menu:open"),
        Choice(texts.t("menu.status"), "menu:status"),
        Choice(texts.t("menu.person"), "menu:person"),
    )


def yes_no(yes_key: str, no_key: str) -> tuple[Choice, ...]:
    return (Choice(texts.t(yes_key), "yes"), Choice(texts.t(no_key), "no"))


def _name(procedure: Procedure) -> str:
    return procedure.name
