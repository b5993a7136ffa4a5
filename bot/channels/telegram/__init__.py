"""Telegram through aiogram 3: updates in (the webhook, webhook.py, or long polling,
polling.py) are read and stored in the inbox as Inbounds (wire.py), handed to the bot after;
the outbox goes out through sendMessage (sender.py). plugin.py puts them together."""

from bot.channels.plugin import Capabilities

CHANNEL = "telegram"
MAX_TEXT = 4096  # characters of one message; longer replies are split
MAX_BUTTONS = 100  # an inline keyboard's buttons
MAX_BUTTON = 64  # characters kept of a button's label and of its callback data
CAPABILITIES = Capabilities(
    max_text=MAX_TEXT, buttons=MAX_BUTTONS, button_title=MAX_BUTTON, media_in=True
)
