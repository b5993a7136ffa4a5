"""The Telegram channel as the registry lists it."""

from bot.channels.plugin import ChannelPlugin, Started, WorkerContext
from bot.channels.telegram import CAPABILITIES, CHANNEL
from bot.channels.telegram.dispatch import build_dispatcher, inbox_handler, make_bot
from bot.channels.telegram.polling import poll
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.webhook import router
from bot.channels.telegram.wire import parse


def start(context: WorkerContext) -> Started | None:
    """The bot's client, shared by the handler, the sender and long polling (when asked
    for); None without a token."""
    if not context.settings.telegram.token:
        return None
    bot = make_bot(context.settings)
    inbox = context.inbox
    return Started(
        handler=inbox_handler(build_dispatcher(context.engine), bot),
        sender=TelegramSender(bot),
        tasks=(lambda stop: poll(inbox, bot, stop),) if context.polling else (),
        close=bot.session.close,
    )


PLUGIN = ChannelPlugin(
    name=CHANNEL, capabilities=CAPABILITIES, router=router, parse=parse, start=start
)
