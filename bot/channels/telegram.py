"""Telegram through aiogram 3: updates in (our webhook route or long polling), outbox out.

The adapter only translates: an Update becomes one Inbound for the engine, an outbox row
becomes sendMessage calls (split at 4,096 characters, choices as an inline keyboard).
"""

import asyncio
import logging
from typing import Annotated, Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from pydantic import BaseModel, Field

from bot import safety
from bot.channels.wire import MAX_NAME, MAX_PROVIDER_ID, check_storable
from bot.engine import Engine
from casework.citizens.models import ChannelIdentity
from casework.failures import Transient
from casework.inbox import service as inbox
from casework.outbox.delivery import DeliveryError
from casework.outbox.models import OutboxMessage
from casework.staff.instance_secrets import instance_secret
from foundation.db import Database
from foundation.messages import Inbound, Location
from foundation.settings import Settings

CHANNEL = "telegram"
MAX_TEXT = 4096
log = logging.getLogger(__name__)


def make_bot(settings: Settings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    return Bot(settings.telegram_token, session=session)


def _inbound(message: Message, update: Update, **fields: Any) -> Inbound:
    user = message.from_user
    return Inbound(
        channel=CHANNEL,
        address=str(message.chat.id),
        external_id=str(update.update_id),
        display_name=user.full_name[:MAX_NAME] if user else None,
        **fields,
    )


def build_dispatcher(engine: Engine) -> Dispatcher:
    router = Router(name="ventanilla")

    @router.message(CommandStart())
    async def on_start(message: Message, event_update: Update) -> None:
        await safety.answer(engine, _inbound(message, event_update, text="hola"))

    @router.message(F.text)
    async def on_text(message: Message, event_update: Update) -> None:
        await safety.answer(engine, _inbound(message, event_update, text=message.text or ""))

    @router.message(F.location)
    async def on_location(message: Message, event_update: Update) -> None:
        assert message.location is not None
        where = Location(message.location.latitude, message.location.longitude)
        await safety.answer(
            engine, _inbound(message, event_update, kind="location", location=where)
        )

    @router.message(F.photo)
    async def on_photo(message: Message, event_update: Update) -> None:
        assert message.photo
        largest = message.photo[-1].file_id
        text = message.caption or ""
        await safety.answer(
            engine, _inbound(message, event_update, kind="photo", media=largest, text=text)
        )

    @router.message()
    async def on_other(message: Message, event_update: Update) -> None:
        kind = str(message.content_type).split(".")[-1].lower()
        await safety.answer(engine, _inbound(message, event_update, kind=kind or "other"))

    @router.callback_query(F.data)
    async def on_choice(query: CallbackQuery, event_update: Update) -> None:
        try:  # stops the button's spinner; the reply comes through the outbox
            await query.answer()
        except TelegramAPIError as exc:  # e.g. too old after a backlog: the choice still counts
            log.warning("callback query %s not answered: %s", query.id, exc)
        chat = query.message.chat.id if query.message else query.from_user.id
        await safety.answer(
            engine,
            Inbound(
                channel=CHANNEL,
                address=str(chat),
                text=query.data or "",
                external_id=str(event_update.update_id),
                display_name=query.from_user.full_name[:MAX_NAME],
            ),
        )

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


async def feed(dispatcher: Dispatcher, bot: Bot, data: dict[str, Any]) -> None:
    """Hand one raw Update (already parsed JSON) to the dispatcher; raises on bad shape."""
    update = Update.model_validate(data, context={"bot": bot})
    await dispatcher.feed_update(bot, update)


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


def inbox_handler(dispatcher: Dispatcher, bot: Bot) -> inbox.Handler:
    async def handle(payload: dict[str, Any]) -> None:
        try:
            await feed(dispatcher, bot, payload)
        except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter) as exc:
            raise Transient(str(exc)) from exc

    return handle


async def poll(box: inbox.Inbox, bot: Bot, stop: asyncio.Event) -> None:
    """Long polling, for municipalities without a public HTTPS address: updates go into the
    inbox like the webhook's, and the offset moves on only once they are stored."""
    await bot.delete_webhook(drop_pending_updates=False)
    offset: int | None = None
    while not stop.is_set():
        try:
            updates = await bot.get_updates(offset=offset, timeout=20)
        except (TelegramNetworkError, TelegramServerError) as exc:
            log.warning("getUpdates failed: %s", exc)
            await asyncio.sleep(2)
            continue
        entries = []
        for found in updates:
            data = found.model_dump(mode="json", by_alias=True, exclude_none=True)
            try:
                entries.append(to_inbox(data))
            except ValueError as exc:  # pydantic's ValidationError too
                log.warning("update %s refused: %s", found.update_id, exc)
        await box.accept(entries)
        if updates:
            offset = updates[-1].update_id + 1


def split(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters, cut at a paragraph, line or word when possible."""
    pieces = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        cut = cut if cut > limit // 2 else limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*pieces, rest] if rest or not pieces else pieces


def keyboard(choices: list[dict[str, str]]) -> InlineKeyboardMarkup | None:
    if not choices:
        return None
    rows = [
        [InlineKeyboardButton(text=c["label"][:64], callback_data=c["value"][:64])] for c in choices
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


class TelegramSender:
    channel = CHANNEL

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, item: OutboxMessage, identity: ChannelIdentity) -> str | None:
        pieces = split(item.text)
        last = None
        try:
            for n, piece in enumerate(pieces):
                markup = keyboard(item.choices) if n == len(pieces) - 1 else None
                last = await self.bot.send_message(identity.address, piece, reply_markup=markup)
        except TelegramRetryAfter as exc:
            raise DeliveryError(str(exc), retry_after=exc.retry_after) from exc
        except (TelegramNetworkError, TelegramServerError) as exc:
            raise DeliveryError(str(exc)) from exc
        except (TelegramForbiddenError, TelegramUnauthorizedError, TelegramBadRequest) as exc:
            raise DeliveryError(str(exc), permanent=True) from exc
        return str(last.message_id) if last else None


async def webhook_secret(db: Database, settings: Settings) -> str:
    """The secret Telegram sends back in X-Telegram-Bot-Api-Secret-Token."""
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    async with db.transaction() as session:
        return await instance_secret(session, "telegram_webhook_secret")
