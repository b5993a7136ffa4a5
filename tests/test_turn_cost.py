"""What a bot turn costs the database, and that what it keeps between turns stays current.

Every citizen message is a turn, so its statements are the bot's throughput: a question on a
chat seen before reads the conversation and writes the message, the visit, the replies and the
conversation, and nothing else (the catalogue is kept in memory between turns).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from bot.engine import Engine
from catalog.models import Department
from foundation.db import Database
from foundation.messages import Inbound
from foundation.settings import Settings, amended


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements `db` runs inside the block (BEGIN and COMMIT are not statements
    here: SQLite's explicit BEGIN IMMEDIATE is left out to compare the backends)."""
    seen: list[str] = []

    def record(*args: object) -> None:
        sql = str(args[2])
        if not sql.startswith("BEGIN"):
            seen.append(sql)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def ask(engine: Engine, text: str, n: int) -> str:
    replies = await engine.handle(Inbound("web", "costo", text, external_id=f"c{n}"))
    return "\n".join(reply.text for reply in replies)


async def test_a_question_on_a_chat_seen_before_costs_six_statements(
    loaded_db: Database, settings: Settings
) -> None:
    engine = Engine(loaded_db, amended(settings, catalog_refresh_seconds=3600))
    await ask(engine, "hola", 0)
    with statements(loaded_db) as seen:
        answer = await ask(engine, "cuanto cuesta el predial", 1)
    assert "predial" in answer.casefold()
    kinds = sorted(" ".join(sql.split()[:3]) for sql in seen)
    assert kinds == [
        "INSERT INTO messages",  # what the citizen wrote
        "INSERT INTO messages",  # the replies, in one statement
        "INSERT INTO outbox",  # and their deliveries, in one statement
        "SELECT channel_identities.id, channel_identities.channel,",  # chat and conversation
        "UPDATE bot_sessions SET",  # the visit's count
        "UPDATE conversations SET",  # state, slots, last message
    ], seen


async def test_an_office_edited_by_another_process_reaches_the_answers(
    loaded_db: Database, settings: Settings
) -> None:
    """The procedures kept between turns are read again when a department changes too: its
    hours and phone are part of the answers."""
    engine = Engine(loaded_db, amended(settings, catalog_refresh_seconds=0))
    before = await ask(engine, "en que horario atienden para pagar el predial", 0)
    assert "8:30 a 15:30" in before
    async with loaded_db.transaction() as session:  # as the back office of another process
        office = await session.get(Department, "catastro")
        assert office is not None
        office.hours = "Lunes a viernes de 7:00 a 19:00 h"
    after = await ask(engine, "y a que hora abren para el predial", 1)
    assert "7:00 a 19:00" in after and "8:30 a 15:30" not in after
