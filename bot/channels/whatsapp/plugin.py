"""The WhatsApp channel as the registry lists it."""

from bot.channels.plugin import ChannelPlugin, Started, WorkerContext, inbound_handler
from bot.channels.whatsapp import CAPABILITIES, CHANNEL
from bot.channels.whatsapp.sender import WhatsAppSender
from bot.channels.whatsapp.webhook import router
from bot.channels.whatsapp.wire import to_inbox


def start(context: WorkerContext) -> Started:
    """Stored messages are always handled (they may have arrived while WhatsApp was
    configured); the sender needs the token and the phone number id."""
    settings = context.settings.whatsapp
    sender = (
        WhatsAppSender(settings, context.db)
        if settings.token and settings.phone_number_id
        else None
    )
    return Started(handler=inbound_handler(context.engine), sender=sender)


PLUGIN = ChannelPlugin(
    name=CHANNEL, capabilities=CAPABILITIES, router=router, parse=to_inbox, start=start
)
