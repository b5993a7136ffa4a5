"""What a channel is to the rest of Ventanilla: one small, explicit value per channel.

A channel plugs in with a `ChannelPlugin`: its name (what `channel` columns hold), what its
messages can carry (`Capabilities`), the HTTP routes it needs (a webhook, or the web chat's
API), how a wire body becomes inbox entries (`parse`) and, for the workers, what it runs
there (`start`: its inbox handler, its sender, background tasks such as Telegram's polling).
The registry (registry.py) lists the plugins; the web app mounts their routes and the workers
start them, with no per-channel code in either.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter

from bot import safety
from bot.engine import Engine
from casework.inbox.service import Handler, Inbox, Update
from casework.outbox.delivery import Sender
from foundation.db import Database
from foundation.messages import Inbound
from foundation.settings import Settings

Parse = Callable[[dict[str, Any]], list[Update]]  # a wire body (parsed JSON) → inbox entries
Task = Callable[[asyncio.Event], Coroutine[Any, Any, None]]  # runs until the event is set


@dataclass(frozen=True)
class Capabilities:
    """What one message on the channel can carry; senders keep within it."""

    max_text: int | None  # characters of text per message (None: no limit of the channel's)
    buttons: int | None  # reply buttons per message (None: no limit; 0: numbered options)
    button_title: int | None = None  # characters of a button's label
    choices_text: int | None = None  # characters of text in a message with buttons or a list
    list_rows: int = 0  # rows of a list picker (0: no lists)
    list_row_title: int | None = None  # characters of a row's title
    templates: bool = False  # pre-approved templates, outside the window for free text
    media_in: bool = False  # citizens can send photos and locations


@dataclass(frozen=True)
class WorkerContext:
    """What a channel's worker side may use: one per worker process. `settings` is whole
    because this is where a channel picks its own group (`settings.telegram`) and hands only
    that on to its client and sender."""

    settings: Settings
    db: Database
    engine: Engine
    inbox: Inbox
    polling: bool = False  # fetch updates instead of waiting for a webhook, where it can


@dataclass(frozen=True)
class Started:
    """A channel's worker side, running: `handler` hands its stored updates to the bot,
    `sender` delivers its outbox, `tasks` run beside them (cancelled at once when told to
    stop), `close` lets go of what they hold open."""

    handler: Handler | None = None
    sender: Sender | None = None
    tasks: Sequence[Task] = ()
    close: Callable[[], Awaitable[None]] | None = None


@dataclass(frozen=True)
class ChannelPlugin:
    """One channel. `start` returns None when its settings leave it switched off; pull
    channels (web, terminal), answered in the request, have neither `parse` nor `start`."""

    name: str
    capabilities: Capabilities
    router: APIRouter | None = None
    parse: Parse | None = None
    start: Callable[[WorkerContext], Started | None] | None = None


def names(plugins: Sequence[ChannelPlugin]) -> tuple[str, ...]:
    return tuple(plugin.name for plugin in plugins)


# The one inbox payload format for channels that parse at the door: an Inbound as a dict.


def inbox_entry(message: Inbound) -> Update:
    """An inbox entry for `message`, keyed by the provider's message id (one without an id
    cannot be told apart from a repeat, so it gets a key of its own)."""
    key = message.external_id or f"sin-id-{uuid.uuid4().hex}"
    return Update(message.channel, key, message.address, message.as_dict())


def inbound_handler(engine: Engine) -> Handler:
    """The inbox handler for payloads made by `inbox_entry`."""

    async def handle(payload: dict[str, Any]) -> None:
        await safety.answer(engine, Inbound.from_dict(payload))

    return handle
