"""The terminal chat (`ventanilla chat`, chat.py): one input line is one message, replies are
printed with choices as numbered options; answered at once, it needs no route or worker."""

from bot.channels.plugin import Capabilities

CHANNEL = "terminal"
CAPABILITIES = Capabilities(max_text=None, buttons=0, media_in=False)
