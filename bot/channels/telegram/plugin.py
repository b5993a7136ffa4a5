"""The Telegram channel as the registry lists it."""

from typing import Any

from aiogram.types import Update

from bot.channels.plugin import ChannelPlugin, Started, WorkerContext, inbound_handler
from bot.channels.telegram import CAPABILITIES, CHANNEL
from bot.channels.telegram.client import make_bot
from bot.channels.telegram.polling import poll
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.webhook import router
from bot.channels.telegram.wire import to_inbound, to_inbox
from bot.engine import Engine
from casework.inbox.service import Handler


def start(context: WorkerContext) -> Started | None:
    """The bot's client, shared by the sender and long polling (when asked for); None
    without a token."""
    if not context.settings.telegram.token:
        return None
    bot = make_bot(context.settings.telegram)
    inbox = context.inbox
    return Started(
        handler=_handler(context.engine),
        sender=TelegramSender(bot),
        tasks=(lambda stop: poll(inbox, bot, stop),) if context.polling else (),
        close=bot.session.close,
    )


def _handler(engine: Engine) -> Handler:
    """Stored Inbounds, like every channel's; an inbox row stored by a version that kept the
    raw Update (it has an update_id) is read as the door reads one now."""
    handle = inbound_handler(engine)

    async def handle_any(payload: dict[str, Any]) -> None:
        if "update_id" not in payload:
            await handle(payload)
        elif (inbound := to_inbound(Update.model_validate(payload))) is not None:
            await handle(inbound.as_dict())

    return handle_any


PLUGIN = ChannelPlugin(
    name=CHANNEL, capabilities=CAPABILITIES, router=router, parse=to_inbox, start=start
)
