"""Bot turns per second with 1, 2 and 3 `ventanilla worker` processes draining one inbox on
PostgreSQL.

For each worker count: a fresh backlog of WhatsApp messages (the citizen messages of the
bundled conversation files, each case its own chat, replayed COPIES times in new chats; never
the held-out files) is stored at once in the inbox, where N real `ventanilla worker --name`
processes, already warm, drain it with the real bot on the Acacias sample catalogue (no
sender is configured: the replies queued are what counts). Measured:

- turns per second: updates handled / (last update handled - backlog stored), from the
  database's own timestamps;
- CPU per turn: the worker processes' CPU time (user + system) over the drain, / turns; and the
  whole machine's (workers, PostgreSQL, everything), from /proc/stat;
- checks: every update handled exactly once (its inbound transcript line, keyed by provider
  id, appears once) and in order within its chat; how the work split between the workers.

Prints one JSON line.

    uv run python benchmarks/inbox_workers.py [--copies 4] [--workers 1 2 3]
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from shared import conversations, pg
from sqlalchemy import func, select

from foundation.messages import Inbound

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def update(update_id: int, chat: int, text: str) -> Inbound:
    """A WhatsApp message as its webhook stores it (WhatsApp is not configured to send, so
    the replies stay queued: no deliverer runs)."""
    return Inbound("whatsapp", f"52{chat:010d}", text, external_id=f"wamid.{update_id}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def machine_busy_seconds() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / TICKS


async def store(url: str, updates: list[Inbound]) -> None:
    from bot.channels.plugin import inbox_entry
    from casework.inbox.service import Inbox
    from foundation.db import Database

    db = Database(url)
    try:
        await Inbox(db).accept([inbox_entry(u) for u in updates])
    finally:
        await db.dispose()


async def pending(url: str) -> int:
    from casework.inbox.models import InboxItem
    from foundation.db import Database

    db = Database(url)
    try:
        async with db.transaction() as session:
            query = select(func.count()).where(InboxItem.processed_at.is_(None))
            return int(await session.scalar(query) or 0)
    finally:
        await db.dispose()


async def wait_drained(url: str, limit: float = 900) -> None:
    started = time.monotonic()
    while await pending(url):
        if time.monotonic() - started > limit:
            raise RuntimeError("the workers did not drain the inbox")
        await asyncio.sleep(0.05)


async def examine(url: str, first_id: int) -> dict[str, object]:
    """What the drain of the updates from `first_id` on did: rate, order, who handled."""
    from casework.conversations.models import Message
    from casework.inbox.models import InboxItem
    from foundation.db import Database

    db = Database(url)
    try:
        async with db.transaction() as session:
            items = (
                await session.execute(
                    select(
                        InboxItem.external_id,
                        InboxItem.received_at,
                        InboxItem.processed_at,
                        InboxItem.handled_by,
                        InboxItem.failed,
                    ).where(InboxItem.id >= first_id)
                )
            ).all()
            keys = {f"whatsapp:{i.external_id}" for i in items}
            lines = (
                await session.execute(
                    select(Message.conversation_id, Message.dedup_key)
                    .where(Message.direction == "in", Message.dedup_key.in_(keys))
                    .order_by(Message.id)
                )
            ).all()
    finally:
        await db.dispose()
    seen = [line.dedup_key for line in lines]
    by_chat: dict[int, list[int]] = {}
    for line in lines:
        by_chat.setdefault(line.conversation_id, []).append(int(line.dedup_key.split(".")[1]))
    in_order = all(ids == sorted(ids) for ids in by_chat.values())
    stored = min(i.received_at for i in items)
    last = max(i.processed_at for i in items if i.processed_at is not None)
    seconds = (last - stored).total_seconds()
    share: dict[str, int] = {}
    for i in items:
        share[str(i.handled_by)] = share.get(str(i.handled_by), 0) + 1
    return {
        "turns": len(items),
        "seconds": round(seconds, 2),
        "turns_per_s": round(len(items) / seconds, 1),
        "lost": len(keys - set(seen)),
        "repeated": len(seen) - len(set(seen)),
        "in_order_per_chat": in_order,
        "failed": sum(1 for i in items if i.failed),
        "handled_by": dict(sorted(share.items())),
    }


async def last_id(url: str) -> int:
    from casework.inbox.models import InboxItem
    from foundation.db import Database

    db = Database(url)
    try:
        async with db.transaction() as session:
            return int(await session.scalar(select(func.max(InboxItem.id))) or 0)
    finally:
        await db.dispose()


def run(url: str, workers: int, copies: int, base: int) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VENTANILLA_USEFULNESS_RATE": "0"}
    names = [f"bench-{workers}-{n}" for n in range(workers)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "ventanilla", "worker", "--database", url, "--name", name],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for name in names
    ]
    try:
        # Warm-up: enough chats that every worker takes some (and has built its model).
        warm = [update(base + n, base + n, "hola") for n in range(40 * workers)]
        asyncio.run(store(url, warm))
        asyncio.run(wait_drained(url))
        first = asyncio.run(last_id(url)) + 1
        chats = [
            (base + 200_000 + copy * 1000 + n, texts)
            for copy in range(copies)
            for n, texts in enumerate(conversations())
        ]
        # Interleaved as live chats write: every chat's first message, then every second one...
        backlog, update_id = [], base + 100_000
        for turn in range(max(len(texts) for _, texts in chats)):
            for chat, texts in chats:
                if turn < len(texts):
                    update_id += 1
                    backlog.append(update(update_id, chat, texts[turn]))
        cpu_before = sum(cpu_seconds(p.pid) for p in processes)
        busy_before = machine_busy_seconds()
        asyncio.run(store(url, backlog))
        asyncio.run(wait_drained(url))
        cpu = sum(cpu_seconds(p.pid) for p in processes) - cpu_before
        busy = machine_busy_seconds() - busy_before
        result = asyncio.run(examine(url, first))
        turns = int(result["turns"])  # type: ignore[call-overload]
        result["worker_cpu_ms_per_turn"] = round(1000 * cpu / turns, 2)
        result["machine_cpu_ms_per_turn"] = round(1000 * busy / turns, 2)
        return result
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


async def _prepare(url: str) -> None:
    from foundation.db import Database
    from foundation.settings import Settings
    from ventanilla.setup import prepare

    db = Database(url)
    try:
        await prepare(db, Settings(database_url=url, _env_file=None), first_user=False)
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=4, help="times each case is replayed")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    name = f"ventanilla_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(pg(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    result: dict[str, object] = {"benchmark": "inbox_workers", "cores": os.cpu_count()}
    try:
        asyncio.run(_prepare(url))
        for n, workers in enumerate(args.workers):
            result[f"workers_{workers}"] = run(url, workers, args.copies, (n + 1) * 10**6)
    finally:
        asyncio.run(pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    one = result.get("workers_1")
    for workers in args.workers:
        measured = result[f"workers_{workers}"]
        if isinstance(one, dict) and isinstance(measured, dict) and workers != 1:
            ratio = measured["turns_per_s"] / one["turns_per_s"]
            measured["speed_vs_1"] = round(ratio, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
