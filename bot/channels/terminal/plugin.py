"""The terminal chat as the registry lists it."""

from bot.channels.plugin import ChannelPlugin
from bot.channels.terminal import CAPABILITIES, CHANNEL

PLUGIN = ChannelPlugin(name=CHANNEL, capabilities=CAPABILITIES)
