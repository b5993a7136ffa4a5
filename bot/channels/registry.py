"""The channels Ventanilla knows. Adding one is its folder and one line here (README,
"Adding a channel"). Whatever consumes the list (the web app, the workers, the indicators'
channel filter, demo data, conversation tests) takes it as an argument defaulting to this
tuple, so a test can run with another."""

from bot.channels.plugin import ChannelPlugin, names
from bot.channels.telegram.plugin import PLUGIN as TELEGRAM
from bot.channels.terminal.plugin import PLUGIN as TERMINAL
from bot.channels.web.plugin import PLUGIN as WEB
from bot.channels.whatsapp.plugin import PLUGIN as WHATSAPP

CHANNELS: tuple[ChannelPlugin, ...] = (TELEGRAM, WHATSAPP, WEB, TERMINAL)
NAMES = names(CHANNELS)
