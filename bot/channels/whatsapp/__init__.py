"""WhatsApp Cloud API: the webhook (webhook.py) checks the signature and the body's shape
(wire.py) and stores the messages in the inbox as Inbound; a thin httpx client delivers the
outbox (sender.py). plugin.py puts them together."""

from bot.channels.plugin import Capabilities

CHANNEL = "whatsapp"
MAX_TEXT = 4096  # characters of a text message
MAX_BODY = 1024  # characters of the text of a message with buttons or a list
MAX_BUTTONS, MAX_BUTTON_TITLE = 3, 20  # reply buttons
MAX_ROWS, MAX_ROW_TITLE = 10, 24  # list rows
CAPABILITIES = Capabilities(
    max_text=MAX_TEXT,
    buttons=MAX_BUTTONS,
    button_title=MAX_BUTTON_TITLE,
    choices_text=MAX_BODY,
    list_rows=MAX_ROWS,
    list_row_title=MAX_ROW_TITLE,
    templates=True,
    media_in=True,
)
