"""Long polling, for municipalities without a public HTTPS address."""

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramServerError

from bot.channels.telegram.wire import to_inbox
from casework.inbox import service as inbox

log = logging.getLogger(__name__)


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
