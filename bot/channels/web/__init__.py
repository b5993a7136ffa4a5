"""The web chat: a JSON API (routes.py) the chat page (and anyone else) calls; the reply
comes in the same request, so it needs no inbox, sender or worker."""

from bot.channels.plugin import Capabilities

CHANNEL = "web"
CAPABILITIES = Capabilities(max_text=None, buttons=None, media_in=False)
