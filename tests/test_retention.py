"""Retention: handled updates from the messaging apps are deleted after their period (30
days by default), the transcript after its own (24 months); the app's worker and
`ventanilla retention run` both apply them, and the privacy notice states them."""

import asyncio
import subprocess
import sys
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update

from backoffice.app import create_app
from casework.citizens.service import identity_for
from casework.conversations.models import Message
from casework.conversations.service import conversation_for
from casework.inbox.models import InboxItem
from casework.outbox.models import OutboxMessage
from casework.outbox.service import enqueue
from casework.privacy.retention import months_before, run_retention
from casework.schema import upgrade
from foundation.db import Database
from foundation.messages import Outbound
from foundation.settings import Settings, amended
from tests.support import running
from ventanilla.workers import Workers

NOW = datetime.now().astimezone()
DAY = timedelta(days=1)


async def add_update(
    db: Database, key: str, received_days_ago: float, processed_days_ago: float | None
) -> None:
    async with db.transaction() as session:
        session.add(
            InboxItem(
                channel="telegram",
                external_id=key,
                chat="700",
                payload={"message": {"text": f"mensaje {key}", "from": {"first_name": "Ana"}}},
                received_at=NOW - received_days_ago * DAY,
                processed_at=None if processed_days_ago is None else NOW - processed_days_ago * DAY,
            )
        )


async def inbox_keys(db: Database) -> set[str]:
    async with db.transaction() as session:
        return set(await session.scalars(select(InboxItem.external_id)))


async def test_handled_updates_are_deleted_after_the_inbox_period(
    db: Database, settings: Settings
) -> None:
    await add_update(db, "old", 40, 31)  # handled 31 days ago: gone
    await add_update(db, "recent", 30, 29)  # handled 29 days ago: kept
    await add_update(db, "waiting", 40, None)  # never handled (waiting for a retry): kept
    report = await run_retention(db, settings.retention, NOW)
    assert report.inbox_deleted == 1
    assert await inbox_keys(db) == {"recent", "waiting"}
    shorter = amended(settings, retention={"inbox_retention_days": 7})
    assert (await run_retention(db, shorter.retention, NOW)).inbox_deleted == 1
    assert await inbox_keys(db) == {"waiting"}


async def _transcript(db: Database, *ages: timedelta) -> list[int]:
    """One reply per age, each with its transcript line, written that long ago."""
    async with db.transaction() as session:
        identity = await identity_for(session, "telegram", "701")
        conversation = await conversation_for(session, identity)
        items = [
            await enqueue(session, identity, conversation.id, Outbound(f"r{n}"))
            for n in range(len(ages))
        ]
        for item, age in zip(items, ages, strict=True):
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == item.id)
                .values(created_at=NOW - age, status="sent")
            )
            await session.execute(
                update(Message).where(Message.id == item.message_id).values(created_at=NOW - age)
            )
        return [item.id for item in items]


async def test_transcripts_older_than_the_period_are_deleted(
    db: Database, settings: Settings
) -> None:
    old, waiting, recent = await _transcript(db, 25 * 30 * DAY, 25 * 30 * DAY, 30 * DAY)
    async with db.transaction() as session:  # a reply never delivered keeps its own text
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == waiting).values(status="pending")
        )
    report = await run_retention(db, settings.retention, NOW)
    assert (report.messages_deleted, report.replies_deleted) == (2, 1)
    async with db.transaction() as session:
        lines = list(await session.scalars(select(Message.text)))
        replies = {r.id: r for r in await session.scalars(select(OutboxMessage))}
    assert lines == ["r2"]
    assert set(replies) == {waiting, recent}
    assert replies[waiting].message_id is None and replies[waiting].text == "r1"
    assert replies[recent].message_id is not None
    assert old not in replies


def test_months_are_calendar_months() -> None:
    moment = datetime(2026, 3, 31, 12, 0).astimezone()
    assert months_before(moment, 1) == moment.replace(month=2, day=28)
    assert months_before(moment, 24) == moment.replace(year=2024)
    assert months_before(moment, 15) == moment.replace(year=2024, month=12)


async def test_the_app_worker_applies_retention_as_it_starts(
    loaded_db: Database, settings: Settings
) -> None:
    await add_update(loaded_db, "old", 40, 31)
    async with running(Workers(settings, loaded_db, handle_inbox=False)):
        for _ in range(600):  # the model is built first, then the worker starts
            if "old" not in await inbox_keys(loaded_db):
                break
            await asyncio.sleep(0.1)
    assert await inbox_keys(loaded_db) == set()


def test_the_command_applies_retention(database_url: str) -> None:
    async def prepare() -> None:
        db = Database(database_url)
        await upgrade(db)
        await add_update(db, "old", 40, 31)
        await add_update(db, "recent", 2, 1)
        await db.dispose()

    async def left() -> set[str]:
        db = Database(database_url)
        try:
            return await inbox_keys(db)
        finally:
            await db.dispose()

    asyncio.run(prepare())
    result = subprocess.run(
        [sys.executable, "-m", "ventanilla", "retention", "run", "--database", database_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "borrados (atendidos hace más de 30 días): 1." in result.stdout
    assert asyncio.run(left()) == {"recent"}


async def test_the_privacy_notice_states_the_periods(
    loaded_db: Database, settings: Settings
) -> None:
    for days, months in ((30, 24), (15, 6)):
        configured = amended(
            settings,
            retention={"inbox_retention_days": days, "transcript_retention_months": months},
        )
        app = create_app(configured, loaded_db, settings.web.secret_key)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            page = (await client.get("/privacidad")).text
        assert f"se eliminan {days} días después de atendidos" in page
        assert f"se conservan {months} meses y después se eliminan" in page
        assert "borra mis datos" in page
