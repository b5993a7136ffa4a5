"""Stored Updates to the bot, through aiogram's dispatcher: each Update becomes one Inbound
(a text, a /start, a button's callback, a location, a photo; anything else with its kind so
the bot answers politely)."""

import logging
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import CommandStart
from aiogram.types import CallbackQuery, Message, Update

from bot import safety
from bot.channels.telegram import CHANNEL
from bot.channels.wire import MAX_NAME
from bot.engine import Engine
from casework.failures import Transient
from casework.inbox import service as inbox
from foundation.messages import Inbound, Location
from foundation.settings import Settings

log = logging.getLogger(__name__)


def make_bot(settings: Settings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram.api_base))
    return Bot(settings.telegram.token, session=session)


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


def inbox_handler(dispatcher: Dispatcher, bot: Bot) -> inbox.Handler:
    async def handle(payload: dict[str, Any]) -> None:
        try:
            await feed(dispatcher, bot, payload)
        except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter) as exc:
            raise Transient(str(exc)) from exc

    return handle
