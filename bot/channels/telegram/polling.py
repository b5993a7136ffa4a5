"""Long polling, for municipalities without a public HTTPS address."""

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramServerError
from aiogram.types import Update

from bot.channels.telegram.wire import to_inbox
from casework.inbox import service as inbox

log = logging.getLogger(__name__)


async def poll(box: inbox.Inbox, bot: Bot, stop: asyncio.Event) -> None:
    """Long polling, for municipalities without a public HTTPS address: updates go into the
    inbox like the webhook's, and the offset moves on only once they are stored; pressed
    buttons are acknowledged then."""
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
                entries.extend(to_inbox(data))
            except ValueError as exc:  # pydantic's ValidationError too
                log.warning("update %s refused: %s", found.update_id, exc)
        await box.accept(entries)
        if updates:
            offset = updates[-1].update_id + 1
        await _acknowledge(bot, updates)


async def _acknowledge(bot: Bot, updates: list[Update]) -> None:
    """Stop the spinner of each pressed button; the reply comes through the outbox."""
    for update in updates:
        if update.callback_query is None:
            continue
        try:
            await bot.answer_callback_query(update.callback_query.id)
        except TelegramAPIError as exc:  # e.g. too old: the choice still counts
            log.warning("callback query %s not answered: %s", update.callback_query.id, exc)
