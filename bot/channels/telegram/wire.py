"""A Telegram Update at the door: checked as aiogram reads it, then made the one inbox payload
format every channel stores, an Inbound (a text, a /start, a pressed button, a location, a
photo; anything else with its kind, so the bot answers politely)."""

from dataclasses import replace
from typing import Annotated, Any

from aiogram.types import CallbackQuery, Message, Update
from pydantic import BaseModel, Field

from bot.channels.plugin import inbox_entry
from bot.channels.telegram import CHANNEL
from bot.channels.wire import MAX_NAME, MAX_PROVIDER_ID, check_storable
from casework.inbox import service as inbox
from foundation.messages import Inbound, Location

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
    """The ids the inbox keys and orders an Update by, checked to fit 64 bits."""

    update_id: Annotated[int, Field(ge=0, le=MAX_PROVIDER_ID)]
    message: _Message | None = None
    edited_message: _Message | None = None
    callback_query: _Query | None = None


def read(data: dict[str, Any]) -> Update:
    """A raw Update as the bot reads it; refused (ValidationError, ValueError) unless aiogram
    reads it, its ids fit 64 bits and every string can be stored."""
    update = Update.model_validate(data)
    check_storable(data)
    _Envelope.model_validate(data)
    return update


def to_inbound(update: Update) -> Inbound | None:
    """What the citizen said; None for what the bot does not answer (an edited message, a
    channel post, a button without data)."""
    if update.message is not None:
        return _said(update.message, str(update.update_id))
    query = update.callback_query
    if query is not None and query.data:
        return _pressed(query, str(update.update_id))
    return None


def _said(message: Message, update_id: str) -> Inbound:
    user = message.from_user
    said = Inbound(
        channel=CHANNEL,
        address=str(message.chat.id),
        external_id=update_id,
        display_name=user.full_name[:MAX_NAME] if user else None,
    )
    if message.text is not None:
        text = "hola" if _is_start(message.text) else message.text
        return replace(said, text=text)
    if message.location is not None:
        where = Location(message.location.latitude, message.location.longitude)
        return replace(said, kind="location", location=where)
    if message.photo:
        return replace(
            said, kind="photo", media=message.photo[-1].file_id, text=message.caption or ""
        )
    kind = str(message.content_type).split(".")[-1].lower()
    return replace(said, kind=kind or "other")


def _pressed(query: CallbackQuery, update_id: str) -> Inbound:
    chat = query.message.chat.id if query.message else query.from_user.id
    return Inbound(
        channel=CHANNEL,
        address=str(chat),
        text=query.data or "",
        external_id=update_id,
        display_name=query.from_user.full_name[:MAX_NAME],
    )


def _is_start(text: str) -> bool:
    """/start, also with a deep-link parameter or addressed to the bot (/start@bot): the
    first message of every Telegram chat, answered as a greeting."""
    command = text.split(maxsplit=1)[0] if text.strip() else ""
    return command.split("@", 1)[0] == "/start"


def to_inbox(data: dict[str, Any]) -> list[inbox.Update]:
    """The plugin's parse: the Update's message as an inbox entry (none when the bot does not
    answer it)."""
    inbound = to_inbound(read(data))
    return [inbox_entry(inbound)] if inbound is not None else []


def callback_query_id(data: dict[str, Any]) -> str | None:
    """The id of a pressed button's callback query, which Telegram wants acknowledged (the
    button's spinner stops); the Update was read by `to_inbox` first."""
    query = data.get("callback_query")
    return str(query["id"]) if isinstance(query, dict) and "id" in query else None
