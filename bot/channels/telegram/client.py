"""The bot's Bot API client (aiogram), shared by the sender and long polling."""

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from foundation.settings import Settings


def make_bot(settings: Settings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram.api_base))
    return Bot(settings.telegram.token, session=session)
