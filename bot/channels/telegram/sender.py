"""Outbox rows to sendMessage calls: split at the channel's length limit, choices as an
inline keyboard on the last piece."""

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels.telegram import CHANNEL, MAX_BUTTON, MAX_TEXT
from casework.citizens.models import ChannelIdentity
from casework.outbox.delivery import DeliveryError
from casework.outbox.models import OutboxMessage


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
        [InlineKeyboardButton(text=c["label"][:MAX_BUTTON], callback_data=c["value"][:MAX_BUTTON])]
        for c in choices
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
