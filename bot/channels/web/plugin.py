"""The web chat as the registry lists it."""

from bot.channels.plugin import ChannelPlugin
from bot.channels.web import CAPABILITIES, CHANNEL
from bot.channels.web.routes import router

PLUGIN = ChannelPlugin(name=CHANNEL, capabilities=CAPABILITIES, router=router)
