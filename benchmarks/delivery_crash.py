"""Replies sent twice after a crash: `ventanilla serve` killed with SIGKILL mid-burst.

A fake Telegram Bot API (tests/fakes/telegram.py) that takes `--latency-ms` to answer each
sendMessage (half before it records the message, half after, like a request and its answer
crossing the network) receives the replies of `ventanilla serve` (one process: webhooks, the
bot and the outbox worker; SQLite by default, or `--database` PostgreSQL). 500 messages from
100 chats are posted to the webhook at once; when `--kill-after` replies have reached the
fake, the server is killed with SIGKILL, started again, and left to finish. The replies
whose send was under way at the kill are sent again once their lease lapses (the benchmark
expires the leases at the restart instead of waiting the 60 s).

Counted: the replies (outbox rows sent), the sendMessage calls the fake answered, and the
difference: replies that reached the chat twice. Prints one JSON line per run.

    uv run python benchmarks/delivery_crash.py [--runs 3] [--latency-ms 80] [--kill-after 300]
                                   [--postgresql postgresql://postgres@127.0.0.1:5432/postgres]

With `--postgresql` (a server's admin URL) each run gets a new database there, dropped after.
`VENTANILLA_OUTBOX_IN_FLIGHT` in the environment reaches the server.
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.channels.telegram.sender import split  # noqa: E402
from casework.inbox.models import InboxItem  # noqa: E402
from casework.outbox.models import OutboxMessage  # noqa: E402
from casework.schema import upgrade  # noqa: E402
from foundation.db import Database, utcnow  # noqa: E402
from tests.fakes.telegram import FakeTelegram  # noqa: E402

SECRET = "benchmark-secret-benchmark-secret"
CHATS = 100
TEXTS = (
    "hola",
    "cuánto cuesta el predial",
    "requisitos de la licencia de funcionamiento",
    "dónde se paga el agua",
    "gracias",
)


class DistantTelegram(FakeTelegram):
    """The fake Bot API, as far away as `latency` seconds for a round trip; `reached` is set
    once it has taken `count` messages."""

    def __init__(self, latency: float, count: int) -> None:
        super().__init__()
        self.latency, self.count, self.taken = latency, count, 0
        self.reached = threading.Event()

    def _answer(self, handler: Any, params: dict[str, Any], scripted: Any) -> tuple[int, Any]:
        time.sleep(self.latency / 2)  # the request on its way
        answer = super()._answer(handler, params, scripted)
        with self._lock:
            self.taken += 1
            if self.taken >= self.count:
                self.reached.set()
        time.sleep(self.latency / 2)  # the answer on its way back
        return answer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, fake: FakeTelegram, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "VENTANILLA_DATABASE_URL": url,
        "VENTANILLA_TELEGRAM_TOKEN": fake.token,
        "VENTANILLA_TELEGRAM_API_BASE": fake.base_url,
        "VENTANILLA_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "VENTANILLA_USEFULNESS_RATE": "0",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "ventanilla", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def wait_ready(port: int) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/privacidad")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


async def burst(port: int, first_update: int) -> None:
    """500 messages from 100 chats, posted 32 at a time."""
    updates = []
    for n in range(CHATS * len(TEXTS)):
        chat = 50_000 + n % CHATS
        update_id = first_update + n
        updates.append(
            {
                "update_id": update_id,
                "message": {
                    "message_id": update_id,
                    "date": int(time.time()),
                    "chat": {"id": chat, "type": "private", "first_name": "Bench"},
                    "from": {"id": chat, "is_bot": False, "first_name": "Bench"},
                    "text": TEXTS[n // CHATS],
                },
            }
        )
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    gate = asyncio.Semaphore(32)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:

        async def post(update: dict[str, Any]) -> None:
            async with gate:
                answer = await client.post("/telegram/webhook", json=update, headers=headers)
                answer.raise_for_status()

        await asyncio.gather(*(post(u) for u in updates))


def sent_calls(fake: FakeTelegram) -> int:
    with fake._lock:
        return sum(1 for c in fake.calls if c.method == "sendMessage" and c.status == 200)


async def counts(db: Database) -> dict[str, int]:
    async with db.transaction() as session:
        rows = dict(
            (
                await session.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                )
            ).all()
        )
        waiting = await session.scalar(
            select(func.count()).select_from(InboxItem).where(InboxItem.processed_at.is_(None))
        )
    return {**rows, "inbox_waiting": int(waiting or 0)}


async def run_once(url: str, latency: float, kill_after: int, log: Path) -> dict[str, Any]:
    db = Database(url)
    await upgrade(db)
    port = free_port()
    with DistantTelegram(latency, kill_after) as fake:
        server = start_server(url, port, fake, log)
        await wait_ready(port)
        await burst(port, first_update=int(time.time() * 1000) % 10**9)
        await asyncio.to_thread(fake.reached.wait)
        server.send_signal(signal.SIGKILL)
        server.wait()
        at_kill = await counts(db)
        async with db.transaction() as session:  # as if the 60 s lease had lapsed
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "sending")
                .values(lease_until=utcnow())
            )
        server = start_server(url, port, fake, log)
        try:
            await wait_ready(port)
            for _ in range(6000):
                now = await counts(db)
                if not now.get("pending") and not now.get("sending") and not now["inbox_waiting"]:
                    break
                await asyncio.sleep(0.1)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        async with db.transaction() as session:
            texts = list(
                await session.scalars(
                    select(OutboxMessage.text).where(OutboxMessage.status == "sent")
                )
            )
        expected = sum(len(split(t)) for t in texts)
        calls = sent_calls(fake)
    await db.dispose()
    return {
        "replies": len(texts),
        "sent_before_kill": at_kill.get("sent", 0),
        "sending_at_kill": at_kill.get("sending", 0),
        "send_calls": calls,
        "duplicates": calls - expected,
    }


async def _admin(dsn: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def run_on_postgresql(dsn: str, run: int, latency: float, kill_after: int, log: Path) -> Any:
    name = f"ventanilla_crash_{os.getpid()}_{run}"
    asyncio.run(_admin(dsn, f'CREATE DATABASE "{name}"'))
    base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        return asyncio.run(run_once(f"{base}/{name}", latency, kill_after, log))
    finally:
        asyncio.run(_admin(dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgresql", help="admin URL of a PostgreSQL server (default: SQLite)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=80.0)
    parser.add_argument("--kill-after", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "serve.log"
        results = []
        latency = args.latency_ms / 1000
        for run in range(args.runs):
            if args.postgresql:
                found = run_on_postgresql(args.postgresql, run, latency, args.kill_after, log)
            else:
                url = f"sqlite+aiosqlite:///{tmp}/crash-{run}.db"
                found = asyncio.run(run_once(url, latency, args.kill_after, log))
            results.append(found)
    print(
        json.dumps(
            {
                "backend": "postgresql" if args.postgresql else "sqlite",
                "in_flight": int(os.environ.get("VENTANILLA_OUTBOX_IN_FLIGHT", "8")),
                "latency_ms": args.latency_ms,
                "kill_after": args.kill_after,
                "runs": results,
                "duplicates": sum(r["duplicates"] for r in results),
                "replies": sum(r["replies"] for r in results),
            }
        )
    )


if __name__ == "__main__":
    main()
