"""Visits (bot sessions): the raw material of the bot indicators."""

from datetime import timedelta

from sqlalchemy import select

from bot.engine import Engine
from casework.conversations.models import BotSession, Conversation
from foundation.db import Database
from foundation.messages import Inbound


def _says(text: str, n: int) -> Inbound:
    return Inbound(channel="web", address="visitante", text=text, external_id=f"m{n}")


async def _visits(db: Database) -> list[BotSession]:
    async with db.transaction() as session:
        return list(await session.scalars(select(BotSession).order_by(BotSession.id)))


async def test_messages_close_together_are_one_visit_and_a_long_pause_starts_another(
    engine: Engine, loaded_db: Database
) -> None:
    await engine.handle(_says("hola", 1))
    await engine.handle(_says("¿cuánto cuesta el predial?", 2))
    [visit] = await _visits(loaded_db)
    assert (visit.channel, visit.messages, visit.procedure_id) == ("web", 2, "pago-predial")
    async with loaded_db.transaction() as session:  # the citizen comes back two hours later
        conversation = await session.scalar(select(Conversation))
        assert conversation is not None and conversation.last_inbound_at is not None
        conversation.last_inbound_at -= timedelta(hours=2)
    await engine.handle(_says("hola otra vez", 3))
    first, second = await _visits(loaded_db)
    assert (first.messages, second.messages) == (2, 1)
    assert second.procedure_id == "pago-predial"  # the conversation still remembers it


async def test_not_understood_messages_and_handoffs_are_counted_in_the_visit(
    engine: Engine, loaded_db: Database
) -> None:
    await engine.handle(_says("hola", 1))
    await engine.handle(_says("zxqv blorf", 2))
    [visit] = await _visits(loaded_db)
    assert (visit.messages, visit.not_understood, visit.handed_off) == (2, 1, False)
    await engine.handle(_says("quiero hablar con una persona", 3))
    [visit] = await _visits(loaded_db)
    assert (visit.messages, visit.not_understood, visit.handed_off) == (3, 1, True)


async def test_a_repeated_delivery_is_not_counted_twice(
    engine: Engine, loaded_db: Database
) -> None:
    await engine.handle(_says("hola", 1))
    await engine.handle(_says("hola", 1))
    [visit] = await _visits(loaded_db)
    assert visit.messages == 1
