"""The bot's Bot API client (aiogram), shared by the sender and long polling."""

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from foundation.settings import TelegramSettings


def make_bot(settings: TelegramSettings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.api_base))
    return Bot(settings.token, session=session)
