"""Telegram end to end against a fake Bot API server speaking the real wire format."""

import asyncio
import itertools
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from backoffice.app import create_app
from casework.conversations.models import Message
from casework.inbox.models import InboxItem
from casework.inbox.service import Update as InboxUpdate
from casework.requests.models import Request
from catalog.models import Procedure
from foundation import texts
from foundation.db import Database
from foundation.settings import Settings, TelegramSettings
from tests.fakes.payloads import (
    TG_CHAT_ID,
    tg_callback,
    tg_command,
    tg_location,
    tg_photo,
    tg_sticker,
    tg_text,
    tg_voice,
    tg_webhook_headers,
)
from tests.fakes.telegram import FakeTelegram
from tests.support import ChannelClient, running, valid_curp, with_telegram
from ventanilla.workers import Workers

SECRET = "secreto-del-webhook-de-prueba"
updates = itertools.count(1000)


class TelegramClient(ChannelClient):
    async def post(self, update: dict, secret: str | None = SECRET) -> httpx.Response:
        headers = tg_webhook_headers(secret) if secret is not None else {}
        return await self.client.post("/telegram/webhook", json=update, headers=headers)

    async def say(self, text: str, chat_id: int = TG_CHAT_ID) -> None:
        response = await self.post(tg_text(next(updates), chat_id, text))
        assert response.status_code == 200, response.text
        await self.deliver()


@pytest.fixture
async def tg(
    fake_telegram: FakeTelegram, loaded_db: Database, settings: Settings
) -> AsyncIterator[TelegramClient]:
    configured = with_telegram(settings, fake_telegram, SECRET)
    app = create_app(configured, loaded_db, "k")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        channel = TelegramClient(client, app)
        yield channel
    await channel.close()


def texts_sent(fake: FakeTelegram) -> list[str]:
    return [m["text"] for m in fake.sent_messages()]


async def test_a_question_on_telegram_is_answered_with_an_inline_keyboard(
    tg: TelegramClient, fake_telegram: FakeTelegram, loaded_db: Database
) -> None:
    async with loaded_db.transaction() as session:
        predial = await session.get(Procedure, "pago-predial")
    assert predial is not None
    assert (await tg.post(tg_command("/start", update_id=1))).status_code == 200
    await tg.deliver()
    assert texts.t("menu.prompt") in texts_sent(fake_telegram)
    await tg.say("cuanto cuesta el predial")
    last = fake_telegram.sent_messages()[-1]
    assert predial.cost in last["text"]
    buttons = [row[0] for row in last["reply_markup"]["inline_keyboard"]]
    assert {
        "text": texts.t("info.aspect.requirements"),
        "callback_data": "aspect:requirements",
    } in buttons


async def test_a_pressed_button_is_answered_and_picks_the_choice(
    tg: TelegramClient, fake_telegram: FakeTelegram, loaded_db: Database
) -> None:
    async with loaded_db.transaction() as session:
        predial = await session.get(Procedure, "pago-predial")
    assert predial is not None
    await tg.say("cuanto cuesta el predial")
    message_id = fake_telegram.calls_to("sendMessage")[-1].response["result"]["message_id"]
    pressed = tg_callback(next(updates), TG_CHAT_ID, "aspect:requirements", message_id)
    response = await tg.post(pressed)
    # acknowledged in the webhook's answer, before the bot has even read it
    assert response.json() == {
        "method": "answerCallbackQuery",
        "callback_query_id": pressed["callback_query"]["id"],
    }
    await tg.deliver()
    assert predial.requirements[0] in texts_sent(fake_telegram)[-1]


async def test_start_with_a_deep_link_or_addressed_to_the_bot_is_a_greeting(
    tg: TelegramClient, fake_telegram: FakeTelegram
) -> None:
    await tg.post(tg_command("/start", update_id=next(updates), args="campana-predial"))
    await tg.post(tg_text(next(updates), TG_CHAT_ID, "/start@VentanillaAcaciasBot"))
    await tg.deliver()
    assert texts_sent(fake_telegram).count(texts.t("menu.prompt")) == 2


async def test_what_the_bot_does_not_answer_is_not_stored(
    tg: TelegramClient, loaded_db: Database
) -> None:
    edited = tg_text(next(updates), TG_CHAT_ID, "cuanto cuesta el predial?")
    edited["edited_message"] = edited.pop("message")
    assert (await tg.post(edited)).status_code == 200
    async with loaded_db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(InboxItem)) == 0


async def test_an_update_stored_raw_by_an_earlier_version_is_still_answered(
    tg: TelegramClient, fake_telegram: FakeTelegram
) -> None:
    """Versions before the one inbox format stored Telegram's raw Update; rows still queued
    at an upgrade are read as the door reads an Update now."""
    raw = tg_text(next(updates), TG_CHAT_ID, "quiero hablar con un asesor")
    stored = InboxUpdate("telegram", str(raw["update_id"]), str(TG_CHAT_ID), raw)
    await tg.workers.inbox.accept([stored])
    await tg.deliver()
    assert any(texts.t("handoff.requested") in sent for sent in texts_sent(fake_telegram))


@pytest.mark.parametrize(("secret", "status"), [(None, 401), ("otro-secreto", 403)])
async def test_forged_or_missing_secrets_are_refused_and_nothing_is_stored(
    tg: TelegramClient, loaded_db: Database, secret: str | None, status: int
) -> None:
    response = await tg.post(tg_text(1, TG_CHAT_ID, "hola"), secret=secret)
    assert response.status_code == status
    async with loaded_db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 0


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"update_id": "x"}'])
async def test_malformed_updates_get_a_400_and_nothing_is_stored(
    tg: TelegramClient, loaded_db: Database, body: bytes
) -> None:
    response = await tg.client.post(
        "/telegram/webhook", content=body, headers=tg_webhook_headers(SECRET)
    )
    assert response.status_code == 400
    async with loaded_db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 0


async def test_a_repeated_update_changes_nothing(
    tg: TelegramClient, fake_telegram: FakeTelegram
) -> None:
    update = tg_text(77, TG_CHAT_ID, "quiero hablar con un asesor")
    for _ in range(3):
        assert (await tg.post(update)).status_code == 200
    await tg.deliver()
    assert sum(texts.t("handoff.requested") in sent for sent in texts_sent(fake_telegram)) == 1


async def test_voice_notes_and_stickers_get_a_polite_answer(
    tg: TelegramClient, fake_telegram: FakeTelegram
) -> None:
    await tg.post(tg_voice(update_id=next(updates)))
    await tg.post(tg_sticker(update_id=next(updates)))
    await tg.deliver()
    assert texts_sent(fake_telegram).count(texts.t("input.not_text")) == 2


async def test_a_shared_location_and_a_photo_are_attached_to_the_report(
    tg: TelegramClient, fake_telegram: FakeTelegram, loaded_db: Database
) -> None:
    await tg.say("quiero reportar un bache")
    await tg.say("Sí, acepto")
    await tg.say("Bache profundo en el carril de baja velocidad, frente al mercado.")
    await tg.post(tg_location(21.1219, -101.6843, update_id=next(updates)))
    await tg.post(tg_photo(update_id=next(updates), caption="así está"))
    await tg.deliver()
    await tg.say(valid_curp("GODE561231HDFRRN0"))
    await tg.say("Sí, registrar")
    assert "Tu folio es" in texts_sent(fake_telegram)[-1]
    async with loaded_db.transaction() as session:
        request = await session.scalar(select(Request))
    assert request is not None
    assert request.location == {"latitude": 21.1219, "longitude": -101.6843, "address": ""}
    assert request.photo and request.photo.startswith("AgACAgEAAxkBAAI")
    assert request.channel == "telegram"


def set_webhook(fake: FakeTelegram, url: str, database_url: str) -> None:
    """Run `ventanilla telegram set-webhook` as an administrator would."""
    env = {
        **os.environ,
        "VENTANILLA_TELEGRAM_TOKEN": fake.token,
        "VENTANILLA_TELEGRAM_API_BASE": fake.base_url,
    }
    env.pop("VENTANILLA_TELEGRAM_WEBHOOK_SECRET", None)
    command = [sys.executable, "-m", "ventanilla", "telegram", "set-webhook", url]
    result = subprocess.run(
        [*command, "--database", database_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


async def test_set_webhook_registers_the_secret_the_route_accepts(
    fake_telegram: FakeTelegram, loaded_db: Database, database_url: str
) -> None:
    url = "https://ventanilla.acacias.example/telegram/webhook"
    set_webhook(fake_telegram, url, database_url)
    assert fake_telegram.webhook.url == url
    secret = fake_telegram.webhook.secret_token
    assert secret is not None and len(secret) >= 32

    settings = Settings(
        database_url=database_url,
        telegram=TelegramSettings(token=fake_telegram.token, api_base=fake_telegram.base_url),
        _env_file=None,
    )
    app = create_app(settings, loaded_db, "k")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        update = tg_text(5, TG_CHAT_ID, "hola")
        ok = await c.post("/telegram/webhook", json=update, headers=tg_webhook_headers(secret))
        wrong = await c.post("/telegram/webhook", json=update, headers=tg_webhook_headers("x" * 32))
    assert (ok.status_code, wrong.status_code) == (200, 403)


async def test_long_polling_receives_updates_without_a_webhook(
    fake_telegram: FakeTelegram, loaded_db: Database, settings: Settings
) -> None:
    configured = with_telegram(settings, fake_telegram)
    workers = Workers(configured, loaded_db, telegram_polling=True)
    fake_telegram.queue_update(tg_text(900, TG_CHAT_ID, "quiero hablar con un asesor"))
    fake_telegram.queue_update(tg_callback(901, TG_CHAT_ID, "menu:ask", 1))
    async with running(workers):
        for _ in range(100):
            if any(texts.t("handoff.requested") in sent for sent in texts_sent(fake_telegram)):
                break
            await asyncio.sleep(0.1)
    assert any(texts.t("handoff.requested") in sent for sent in texts_sent(fake_telegram))
    assert fake_telegram.calls_to("deleteWebhook")
    [acknowledged] = fake_telegram.calls_to("answerCallbackQuery")
    assert acknowledged.params["callback_query_id"] == str(4382000000000000000 + 901)
