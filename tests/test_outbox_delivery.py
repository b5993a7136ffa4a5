"""Outbox delivery to Telegram: retries, rate limits, order, crashes and several workers."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from aiogram import Bot
from sqlalchemy import func, select, update

from backoffice.app import create_app
from bot.channels.telegram.client import make_bot
from bot.channels.telegram.sender import TelegramSender, split
from casework.citizens.service import identity_for
from casework.conversations.models import Message
from casework.conversations.service import conversation_for
from casework.outbox.delivery import Deliverer, RetryPolicy
from casework.outbox.models import OutboxMessage
from casework.outbox.service import enqueue, enqueue_all
from foundation.db import Database, utcnow
from foundation.messages import Outbound
from foundation.settings import Settings
from tests.fakes.telegram import FakeTelegram
from tests.support import login, with_telegram


@pytest.fixture
async def bot(fake_telegram: FakeTelegram, settings: Settings) -> AsyncIterator[Bot]:
    configured = with_telegram(settings, fake_telegram)
    telegram_bot = make_bot(configured.telegram)
    yield telegram_bot
    await telegram_bot.session.close()


async def queue(db: Database, chat: str, *texts: str) -> list[int]:
    async with db.transaction() as session:
        identity = await identity_for(session, "telegram", chat)
        conversation = await conversation_for(session, identity)
        items = [await enqueue(session, identity, conversation.id, Outbound(t)) for t in texts]
        return [i.id for i in items]


async def status_of(db: Database, item_id: int) -> OutboxMessage:
    async with db.transaction() as session:
        item = await session.get(OutboxMessage, item_id)
        assert item is not None
        return item


async def make_due(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "pending")
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )


async def test_a_turns_replies_keep_their_order_each_linked_to_its_transcript_line(
    db: Database,
) -> None:
    """The replies of one turn are written with one insert per table: each outbox row must
    still point at its own transcript line, in the order the bot said them, on a busy table."""
    texts = [f"respuesta {n}" for n in range(7)]
    await queue(db, "otro", "antes")  # another chat's rows already in both tables
    async with db.transaction() as session:
        identity = await identity_for(session, "telegram", "orden")
        conversation = await conversation_for(session, identity)
        items = await enqueue_all(session, identity, conversation.id, [Outbound(t) for t in texts])
    assert [i.text for i in items] == texts
    async with db.transaction() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.id, OutboxMessage.text, Message.text)
                .join(Message, Message.id == OutboxMessage.message_id)
                .where(OutboxMessage.identity_id == identity.id)
                .order_by(OutboxMessage.id)
            )
        ).all()
    assert [(r[1], r[2]) for r in rows] == [(t, t) for t in texts]
    assert [r[0] for r in rows] == [i.id for i in items]


async def test_rate_limits_wait_for_the_time_telegram_asks(
    db: Database, bot: Bot, fake_telegram: FakeTelegram
) -> None:
    [item_id] = await queue(db, "100", "Tu solicitud fue atendida.")
    fake_telegram.rate_limit_next("sendMessage", retry_after=30)
    deliverer = Deliverer(db, [TelegramSender(bot)])
    assert await deliverer.run_once() == 1
    item = await status_of(db, item_id)
    assert item.status == "pending" and item.attempts == 1
    wait = (item.next_attempt_at - utcnow()).total_seconds()
    assert 25 < wait <= 30
    assert await deliverer.run_once() == 0  # not before it is due
    await make_due(db)
    await deliverer.run_once()
    assert (await status_of(db, item_id)).status == "sent"
    assert [m["text"] for m in fake_telegram.sent_messages()] == ["Tu solicitud fue atendida."]


async def test_server_errors_back_off_then_fail_and_are_kept_for_staff(
    db: Database, bot: Bot, fake_telegram: FakeTelegram
) -> None:
    [item_id] = await queue(db, "101", "Hola")
    fake_telegram.fail_next("sendMessage", 502, times=10)
    deliverer = Deliverer(db, [TelegramSender(bot)], RetryPolicy(max_attempts=3, base_delay=2))
    waits = []
    for _ in range(3):
        await make_due(db)
        await deliverer.run_once()
        item = await status_of(db, item_id)
        waits.append(round((item.next_attempt_at - utcnow()).total_seconds()))
    item = await status_of(db, item_id)
    assert (
        item.status == "failed" and item.attempts == 3 and "Bad Gateway" in (item.last_error or "")
    )
    assert waits[:2] == [2, 4]  # exponential backoff between tries
    assert fake_telegram.sent_messages() == []


async def test_a_blocked_bot_fails_at_once(
    db: Database, bot: Bot, fake_telegram: FakeTelegram
) -> None:
    [item_id] = await queue(db, "102", "Hola")
    fake_telegram.fail_next("sendMessage", 403)
    await Deliverer(db, [TelegramSender(bot)]).run_once()
    assert (await status_of(db, item_id)).status == "failed"


async def test_messages_to_one_chat_keep_their_order_through_failures(
    db: Database, bot: Bot, fake_telegram: FakeTelegram
) -> None:
    await queue(db, "103", "primero", "segundo", "tercero")
    fake_telegram.fail_next("sendMessage", 500)
    deliverer = Deliverer(db, [TelegramSender(bot)])
    for _ in range(6):
        await make_due(db)
        await deliverer.run_once()
    assert [m["text"] for m in fake_telegram.sent_messages()] == ["primero", "segundo", "tercero"]


async def test_a_worker_killed_mid_delivery_loses_nothing(
    db: Database, bot: Bot, fake_telegram: FakeTelegram
) -> None:
    [item_id] = await queue(db, "104", "no te pierdas")
    crashed = Deliverer(db, [TelegramSender(bot)], RetryPolicy(lease=60))
    assert len(await crashed.claim(10)) == 1  # claimed, then the worker dies
    survivor = Deliverer(db, [TelegramSender(bot)])
    assert await survivor.run_once() == 0  # the lease still holds
    async with db.transaction() as session:
        await session.execute(
            update(OutboxMessage).values(lease_until=utcnow() - timedelta(seconds=1))
        )
    assert await survivor.run_once() == 1
    assert (await status_of(db, item_id)).status == "sent"
    assert [m["text"] for m in fake_telegram.sent_messages()] == ["no te pierdas"]


async def test_long_replies_are_split_under_4096_characters(
    db: Database, bot: Bot, fake_telegram: FakeTelegram
) -> None:
    paragraph = "Requisito importante para el trámite. " * 40
    text = "\n\n".join([paragraph] * 7)
    await queue(db, "105", text)
    await Deliverer(db, [TelegramSender(bot)]).run_once()
    sent = [m["text"] for m in fake_telegram.sent_messages()]
    assert len(sent) == len(split(text)) > 1
    assert all(len(piece) <= 4096 for piece in sent)
    assert "".join(sent).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )


async def test_two_workers_drain_one_backlog_without_loss_or_duplicates(
    db: Database, bot: Bot, fake_telegram: FakeTelegram
) -> None:
    chats = [str(200 + n) for n in range(12)]
    for chat in chats:
        await queue(db, chat, *(f"{chat}-{k}" for k in range(8)))

    async def drain(worker: Deliverer) -> None:
        while True:
            if not await worker.run_once(limit=5):
                async with db.transaction() as session:
                    left = await session.scalar(
                        select(OutboxMessage.id).where(OutboxMessage.status != "sent").limit(1)
                    )
                if left is None:
                    return
                await asyncio.sleep(0.01)

    other_db = Database(db.url)  # a second worker with its own connections
    try:
        await asyncio.wait_for(
            asyncio.gather(
                drain(Deliverer(db, [TelegramSender(bot)])),
                drain(Deliverer(other_db, [TelegramSender(bot)])),
            ),
            timeout=60,
        )
    finally:
        await other_db.dispose()
    sent = [m["text"] for m in fake_telegram.sent_messages()]
    assert sorted(sent) == sorted(f"{c}-{k}" for c in chats for k in range(8))
    for chat in chats:
        mine = [m["text"] for m in fake_telegram.sent_messages(chat_id=chat)]
        assert mine == [f"{chat}-{k}" for k in range(8)]


async def test_failed_messages_are_listed_for_staff_and_can_be_sent_again(
    loaded_db: Database, bot: Bot, fake_telegram: FakeTelegram, settings: Settings
) -> None:
    [item_id] = await queue(loaded_db, "106", "Aviso importante")
    fake_telegram.fail_next("sendMessage", 403)
    deliverer = Deliverer(loaded_db, [TelegramSender(bot)])
    await deliverer.run_once()
    app = create_app(settings, loaded_db, "k")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        await login(c)
        page = await c.get("/backoffice/envios")
        assert "Aviso importante" in page.text and "blocked" in page.text
        assert (await c.post(f"/backoffice/envios/{item_id}/reintentar")).status_code == 303
    await deliverer.run_once()
    assert (await status_of(loaded_db, item_id)).status == "sent"


async def count_status(db: Database, status: str) -> int:
    async with db.transaction() as session:
        found = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == status)
        )
    return int(found or 0)


async def test_a_crash_sends_again_at_most_the_replies_under_way(
    db: Database, bot: Bot, fake_telegram: FakeTelegram
) -> None:
    """The worker keeps `in_flight` sends under way (a slot that frees is filled at once) and
    never more; killed mid-burst, only those can reach a chat twice, in order still."""
    chats = [str(300 + n) for n in range(12)]
    for chat in chats:
        await queue(db, chat, f"{chat}-a", f"{chat}-b")
    fake_telegram.fail_next("sendMessage", delay=0.2, times=100)  # a provider 0.2 s away
    crashed = Deliverer(db, [TelegramSender(bot)], in_flight=3)
    worker = asyncio.create_task(crashed.run(asyncio.Event()))
    under_way = []
    for _ in range(400):
        under_way.append(await count_status(db, "sending"))
        if await count_status(db, "sent") >= 6:
            break
        await asyncio.sleep(0.01)
    at_crash = await count_status(db, "sending")
    worker.cancel()  # the crash: the sends under way are cut short
    await asyncio.gather(worker, return_exceptions=True)
    assert max(under_way) == 3 and at_crash <= 3

    async with db.transaction() as session:  # their leases lapse
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "sending")
            .values(lease_until=utcnow() - timedelta(seconds=1))
        )
    survivor = Deliverer(db, [TelegramSender(bot)])
    while await survivor.run_once():
        pass
    sent = [m["text"] for m in fake_telegram.sent_messages()]
    assert set(sent) == {f"{chat}-{x}" for chat in chats for x in "ab"}
    assert len(sent) - len(set(sent)) <= 3
    for chat in chats:
        mine = [m["text"] for m in fake_telegram.sent_messages(chat_id=chat)]
        assert mine.index(f"{chat}-a") < mine.index(f"{chat}-b")
