"""What the inbox needs of a Telegram Update: checked as the bot will read it, keyed by its
update_id and ordered within its chat."""

from typing import Annotated, Any

from aiogram.types import Update
from pydantic import BaseModel, Field

from bot.channels.telegram import CHANNEL
from bot.channels.wire import MAX_PROVIDER_ID, check_storable
from casework.inbox import service as inbox

TelegramId = Annotated[int, Field(ge=-MAX_PROVIDER_ID, le=MAX_PROVIDER_ID)]


class _Chat(BaseModel):
    id: TelegramId


class _Message(BaseModel):
    chat: _Chat


class _User(BaseModel):
    id: TelegramId


class _Query(BaseModel):
    from_user: _User = Field(alias="from")
    message: _Message | None = None


class _Envelope(BaseModel):
    """What the inbox keys and orders an Update by: its id and its chat."""

    update_id: Annotated[int, Field(ge=0, le=MAX_PROVIDER_ID)]
    message: _Message | None = None
    edited_message: _Message | None = None
    callback_query: _Query | None = None


def to_inbox(data: dict[str, Any]) -> inbox.Update:
    """Check a raw Update and make it an inbox entry, keyed by its update_id and ordered
    within its chat. It is refused (ValidationError, ValueError) unless aiogram reads it as
    the bot will when handling it, its ids fit 64 bits and every string can be stored, so
    nothing is stored that could only fail later."""
    Update.model_validate(data)
    check_storable(data)
    update = _Envelope.model_validate(data)
    query, message = update.callback_query, update.message or update.edited_message
    if query is not None:
        chat = query.message.chat.id if query.message else query.from_user.id
    else:
        chat = message.chat.id if message is not None else 0
    return inbox.Update(CHANNEL, str(update.update_id), str(chat), data)


def parse(data: dict[str, Any]) -> list[inbox.Update]:
    """The plugin's parse: one Update is one inbox entry."""
    return [to_inbox(data)]
