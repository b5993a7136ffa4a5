"""Several worker processes drain one inbox on PostgreSQL; one of them dies mid-drain.

Each worker is a real process (tests/inbox_worker.py) with its own connections, draining with
the same claims as `ventanilla worker`. What must hold: every update takes effect once, in
order within its chat; each is marked handled by the worker that handled it; a worker that
dies keeps its chats only until its leases lapse, and nothing it held is tried by another
worker before then.
"""

import asyncio
import os
import signal
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import select, text

from casework.inbox.drain import PARALLEL_CHATS
from casework.inbox.models import InboxItem
from casework.inbox.service import Inbox, Update
from foundation.db import Database

ROOT = Path(__file__).resolve().parent.parent
CHATS, PER_CHAT = 40, 10
LEASE = 10.0  # seconds: long enough for the other two to start, short for a test
TRY_COLUMNS = "chat, k, worker, at FROM prueba_intentos"
TABLES = {
    "prueba_efectos": "chat text, k int, worker text, PRIMARY KEY (chat, k)",
    "prueba_intentos": "id serial PRIMARY KEY, chat text, k int, worker text,"
    " at timestamptz DEFAULT clock_timestamp()",
    "prueba_desorden": "chat text, k int, worker text",
}


async def scalar(db: Database, sql: str) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(text(sql)) or 0)


async def until(check: object, what: str, seconds: float = 120) -> None:
    for _ in range(int(seconds * 10)):
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting: {what}")


async def start(url: str, name: str, stuck_after: int | None = None) -> asyncio.subprocess.Process:
    args = [url, name, str(LEASE)] + ([str(stuck_after)] if stuck_after is not None else [])
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.inbox_worker",
        *args,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.fixture
async def tables(db: Database) -> object:
    if not db.url.startswith("postgresql"):
        pytest.skip("worker processes share an inbox on PostgreSQL; SQLite runs one process")
    async with db.transaction() as session:
        for name, columns in TABLES.items():
            await session.execute(text(f"DROP TABLE IF EXISTS {name}"))
            await session.execute(text(f"CREATE TABLE {name} ({columns})"))
    yield
    async with db.transaction() as session:
        for name in TABLES:
            await session.execute(text(f"DROP TABLE IF EXISTS {name}"))


async def test_three_workers_drain_one_backlog_and_a_dead_ones_chats_come_back_after_its_lease(
    db: Database, tables: object
) -> None:
    for k in range(PER_CHAT):  # interleaved arrivals, as from live webhooks
        await Inbox(db).accept(
            [
                Update("prueba", f"c{c}-{k}", f"c{c}", {"chat": f"c{c}", "k": k})
                for c in range(CHATS)
            ]
        )
    # The one that will die starts first and gets stuck holding chats, some half handled.
    doomed = await start(db.url, "condenado", stuck_after=15)
    survivors = []
    try:

        async def doomed_holds_chats() -> bool:
            tried = await scalar(db, "SELECT count(*) FROM prueba_intentos")
            held = await scalar(db, "SELECT count(*) FROM inbox WHERE claimed_by = 'condenado'")
            return tried >= 15 and held == PARALLEL_CHATS  # every slot stuck

        await until(doomed_holds_chats, "the first worker to hold chats")
        # It is stuck: what it holds stays as it is until it dies.
        async with db.transaction() as session:  # what it holds, and until when
            held = dict(
                (
                    await session.execute(
                        select(InboxItem.chat, InboxItem.claimed_until).where(
                            InboxItem.claimed_by == "condenado"
                        )
                    )
                ).all()
            )
        survivors = [await start(db.url, name) for name in ("uno", "dos")]

        async def survivors_under_way() -> bool:
            return (
                await scalar(db, "SELECT count(*) FROM prueba_efectos WHERE worker <> 'condenado'")
                >= 20
            )

        await until(survivors_under_way, "the other two workers to drain")
        doomed.send_signal(signal.SIGKILL)  # no chance to hand anything back
        await doomed.wait()

        async def all_handled() -> bool:
            return not await scalar(db, "SELECT count(*) FROM inbox WHERE processed_at IS NULL")

        await until(all_handled, "the inbox to be drained")
    finally:
        for process in [doomed, *survivors]:
            if process.returncode is None:
                process.terminate()
        stopped = [await process.wait() for process in survivors]
    assert stopped == [0, 0]  # told to stop, they stopped cleanly

    async with db.transaction() as session:
        effects = (await session.execute(text("SELECT chat, k, worker FROM prueba_efectos"))).all()
        disorder = (await session.execute(text("SELECT * FROM prueba_desorden"))).all()
        tries = (
            await session.execute(
                text("SELECT chat, k, worker, at FROM prueba_intentos ORDER BY id")
            )
        ).all()
        rows = (await session.execute(select(InboxItem))).scalars().all()
    # Every update took effect once, none before its chat's previous one.
    assert sorted((chat, k) for chat, k, _ in effects) == sorted(
        (f"c{c}", k) for c in range(CHATS) for k in range(PER_CHAT)
    )
    assert disorder == []
    # Each is marked handled, by one of the workers that lived; nothing is left held.
    assert all(r.processed_at is not None and not r.failed for r in rows)
    assert {r.handled_by for r in rows} <= {"uno", "dos", "condenado"}
    assert {"uno", "dos"} <= {r.handled_by for r in rows}
    assert all(r.claimed_by is None and r.claimed_until is None for r in rows)
    # Only the dead worker's tries were tried again, and only once its lease had lapsed.
    by_update: dict[tuple[str, int], list[tuple[str, object]]] = defaultdict(list)
    for chat, k, worker, at in tries:
        by_update[(chat, k)].append((worker, at))
    again = {update: seen for update, seen in by_update.items() if len(seen) > 1}
    assert again  # what it had done but not marked handled when it died
    for (chat, _), seen in again.items():
        assert [worker for worker, _ in seen[:1]] == ["condenado"], seen
        assert len(seen) == 2 and seen[1][0] in ("uno", "dos")
        assert chat in held and seen[1][1] >= held[chat]
    # The chats the dead worker held were taken over: each finished by another worker.
    for chat in held:
        last = max(
            (k, worker) for (c, k), seen in by_update.items() if c == chat for worker, _ in seen
        )
        assert last[1] in ("uno", "dos")
    assert await scalar(db, "SELECT count(*) FROM inbox") == CHATS * PER_CHAT
