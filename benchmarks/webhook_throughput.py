"""Inbound Telegram webhook to reply queued: throughput and latency of the workers.

Drives each target with wrk (a C load generator, so the generator is not what is measured)
from 32 concurrent connections: a bare FastAPI echo route (the reference), then the real app
on SQLite and on PostgreSQL. The messages are the texts of the understanding model's tuning
sets (`nlu/eval/*_dev*.csv`) from 500 chats, so the bot does real work.

Each backend runs as it is deployed. SQLite: plain `ventanilla serve`, one process (uvicorn on
uvloop) that answers webhooks and runs the dialogue, as the README's set-up does. PostgreSQL:
as in docker-compose, `ventanilla serve --web-only` checks each webhook, stores it in the
inbox and answers, and `ventanilla worker` processes (one, or `--workers N`) run the dialogue.
Three measures per backend:

- "webhook" (the top level): wrk at full speed for `--seconds`: the webhook's throughput and
  latency, against the echo's. The split layout's worker is stopped meanwhile; in one
  process, webhooks go before the dialogue (foundation/db.py), which catches up after.
- "bot": the backlog that run left, handled: replies queued per second.
- "paced": wrk offering `--rate` messages a second for `--paced-seconds` (30) as a Poisson
  stream, with the dialogue running: the latency from the webhook's arrival to the reply
  queued (the turn's outbox rows written), p50 and p99, what a citizen waits before the
  reply can be sent.

`--together` or `--split` runs both backends in that layout. Outbox delivery is off
throughout. Prints one JSON line.

    uv run python benchmarks/webhook_throughput.py [--seconds 10] [--rate 100]
                                   [--paced-seconds 30] [--together | --split] [--workers N]

Needs wrk (Debian: apt-get install wrk).
"""

import argparse
import asyncio
import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from shared import pg as maintenance_sql
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
SECRET = "benchmark-secret-benchmark-secret"
CHATS = 500
LUA = """
local texts = {%(texts)s}
local n = 0
local base = %(base)d
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Telegram-Bot-Api-Secret-Token"] = "%(secret)s"
request = function()
  n = n + 1
  local id = base + n
  local chat = 10000 + n %% %(chats)d
  local body = '{"update_id":' .. id .. ',"message":{"message_id":' .. id ..
    ',"date":' .. os.time() .. ',"chat":{"id":' .. chat ..
    ',"type":"private","first_name":"Bench"},"from":{"id":' .. chat ..
    ',"is_bot":false,"first_name":"Bench"},"text":' .. texts[n %% #texts + 1] .. '}}'
  return wrk.format(nil, "/telegram/webhook", nil, body)
end
%(delay)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%%d,"seconds":%%.3f,"p50_us":%%d,"p99_us":%%d,"errors":%%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(kind: str, url: str, port: int) -> None:
    """Run in a child process: the app (or the echo reference) on `port`, on uvloop."""
    import uvicorn
    import uvloop
    from fastapi import FastAPI

    if kind == "echo":
        echo = FastAPI()

        @echo.post("/telegram/webhook")
        async def answer(body: dict) -> dict:  # type: ignore[type-arg]
            return {"ok": True}

        config = uvicorn.Config(echo, host="127.0.0.1", port=port, log_level="warning")
        uvloop.run(uvicorn.Server(config).serve())
        return

    from backoffice.app import create_app
    from bot.engine import Engine
    from casework.inbox.service import Inbox
    from foundation.db import Database
    from foundation.settings import Settings, TelegramSettings
    from ventanilla.setup import prepare
    from ventanilla.workers import Workers

    settings = Settings(
        database_url=url,
        telegram=TelegramSettings(
            token="123456:benchmark", api_base="http://127.0.0.1:9", webhook_secret=SECRET
        ),
        _env_file=None,
    )

    async def main() -> None:
        db = Database(url)
        ready = await prepare(db, settings)
        # web: `serve --web-only`; worker: `ventanilla worker`; together: plain `serve`.
        # Outbox delivery stays off in all three: "reply queued" is what is measured.
        if kind == "worker":
            await Workers(settings, db, deliver=False, periodic=False).run(asyncio.Event())
            return
        engine, inbox = Engine(db, settings), Inbox(db)
        workers = None
        if kind == "together":
            workers = Workers(
                settings, db, engine=engine, inbox=inbox, deliver=False, periodic=False
            )
        app = create_app(
            settings,
            db,
            ready.secret_key,
            engine=engine,
            inbox=inbox,
            background=workers.run if workers is not None else None,
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        await uvicorn.Server(config).serve()

    uvloop.run(main())


def texts() -> list[str]:
    """The tuning sets' messages (the held-out *_test.csv stay unread)."""
    paths = sorted((ROOT / "nlu" / "eval").glob("*_dev*.csv"))
    rows = [row["text"] for p in paths for row in csv.DictReader(p.open(encoding="utf-8"))]
    return [t for t in rows if t.strip()]


def lua_script(folder: Path, base: int, pause_ms: int = 0) -> Path:
    """wrk's script: each request a new update; with `pause_ms`, each connection waits that
    long on average before its next request (how the paced run offers a steady rate)."""
    # JSON strings escaped to ASCII, inside Lua long brackets: no quoting issues either way.
    items = ",".join(f"[==[{json.dumps(t)}]==]" for t in texts())
    path = folder / f"load-{base}.lua"
    # Exponential pauses: the connections together make a Poisson stream, as independent
    # citizens writing do (fixed pauses would send all 32 at the same instants).
    delay = f"delay = function() return -math.log(1 - math.random()) * {pause_ms} end"
    delay = delay if pause_ms else ""
    values = {"texts": items, "base": base, "secret": SECRET, "chats": CHATS, "delay": delay}
    path.write_text(LUA % values, encoding="utf-8")
    return path


def wrk(port: int, script: Path, seconds: int, concurrency: int) -> dict[str, float]:
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "30s"]
    command += ["-s", str(script), f"http://127.0.0.1:{port}/"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / raw["seconds"], 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "errors": raw["errors"],
    }


def wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            httpx.post(f"http://127.0.0.1:{port}/telegram/webhook", json={}, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


async def follow_up(url: str, started: float, limit_s: float) -> dict[str, float]:
    """Wait for the worker to clear the inbox; how fast it handled the messages received since
    `started` and how long each waited from its webhook to its reply queued."""
    from casework.conversations.models import Message
    from casework.inbox.models import InboxItem
    from foundation.db import Database

    db = Database(url)
    try:
        pending = select(func.count()).where(InboxItem.processed_at.is_(None))
        async with db.transaction() as session:
            backlog = int(await session.scalar(pending) or 0)
        while time.time() - started < limit_s:
            async with db.transaction() as session:
                if not await session.scalar(pending):
                    break
            await asyncio.sleep(0.2)
        cleared = time.time()
        since = datetime.fromtimestamp(started, UTC)
        async with db.transaction() as session:
            received = dict(
                (
                    await session.execute(
                        select(
                            InboxItem.channel + ":" + InboxItem.external_id,
                            InboxItem.received_at,
                        ).where(InboxItem.received_at >= since)
                    )
                ).all()
            )
            transcript = (
                await session.execute(
                    select(
                        Message.conversation_id,
                        Message.direction,
                        Message.dedup_key,
                        Message.created_at,
                    )
                    .where(Message.created_at >= since)
                    .order_by(Message.conversation_id, Message.id)
                )
            ).all()
    finally:
        await db.dispose()
    turns, delays = [], []  # when each turn began; webhook to the turn's first reply queued
    for i, line in enumerate(transcript):
        if line.direction != "in" or line.dedup_key not in received:
            continue
        turns.append(line.created_at.timestamp())
        reply = transcript[i + 1] if i + 1 < len(transcript) else None
        # The next line of the chat is the reply, unless a person holds the chat.
        if reply and reply.conversation_id == line.conversation_id and reply.direction == "out":
            delays.append((reply.created_at - received[line.dedup_key]).total_seconds())
    if not delays:
        raise RuntimeError("the bot handled none of the messages")
    delays.sort()
    return {
        "handled": len(turns),
        "backlog_at_end": backlog,
        "backlog_cleared_s": round(cleared - started, 1),
        # The rate while handling: from the first message handled to the last.
        "handled_per_s": round(len(turns) / (max(turns) - min(turns)), 1),
        "webhook_to_reply_queued_p50_ms": round(1000 * delays[len(delays) // 2], 1),
        "webhook_to_reply_queued_p99_ms": round(1000 * delays[int(0.99 * (len(delays) - 1))], 1),
    }


def start(kind: str, url: str, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--url", url, "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def measure(kind: str, url: str, args: argparse.Namespace, folder: Path) -> dict[str, object]:
    """wrk against `kind` (echo, web or together). For web: the webhook alone at full speed,
    then a worker process started on the backlog, then a paced run with the worker live. For
    together, the same process handles everything."""
    seconds, concurrency, rate = args.seconds, args.concurrency, args.rate
    port = free_port()
    server = start(kind, url, port)
    workers: list[subprocess.Popen[bytes]] = []

    def start_worker() -> None:
        if kind == "web":
            workers.extend(start("worker", url, 0) for _ in range(args.workers))

    def stop_worker() -> None:
        for process in workers:
            process.terminate()
        for process in workers:
            process.wait(timeout=30)
        workers.clear()

    try:
        wait_ready(port, server)
        warm_up = time.time()
        wrk(port, lua_script(folder, 1), 2, concurrency)  # warm-up, not measured
        if kind == "echo":
            return {**wrk(port, lua_script(folder, 10**7), seconds, concurrency)}
        start_worker()
        asyncio.run(follow_up(url, warm_up, 600))  # the warm-up's messages, not measured
        stop_worker()
        started = time.time()
        result: dict[str, object] = {**wrk(port, lua_script(folder, 10**7), seconds, concurrency)}
        start_worker()
        result["bot"] = asyncio.run(follow_up(url, started, 900))
        # Paced: each connection waits so that all of them together offer `rate` per second.
        started = time.time()
        pause_ms = round(1000 * concurrency / rate)
        script = lua_script(folder, 2 * 10**7, pause_ms)
        paced = {"offered_per_s": rate, **wrk(port, script, args.paced_seconds, concurrency)}
        result["paced"] = {**paced, **asyncio.run(follow_up(url, started, 300))}
        result["layout"] = (
            "one process" if kind == "together" else f"web + {args.workers} worker(s)"
        )
        return result
    finally:
        stop_worker()
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve")
    parser.add_argument("--url", default="")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=int, default=100, help="messages/s offered when paced")
    parser.add_argument("--paced-seconds", type=int, default=30)
    parser.add_argument("--only", choices=("echo", "sqlite", "postgresql"), action="append")
    parser.add_argument(
        "--workers", type=int, default=1, help="`ventanilla worker` processes (split layout)"
    )
    layout = parser.add_mutually_exclusive_group()
    layout.add_argument(
        "--together",
        action="store_true",
        help="one process answers webhooks and handles them (plain `ventanilla serve`)",
    )
    layout.add_argument(
        "--split",
        action="store_true",
        help="`serve --web-only` and a `ventanilla worker` process",
    )
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.url, args.port)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    only = set(args.only or ("echo", "sqlite", "postgresql"))
    result: dict[str, object] = {"benchmark": "webhook_throughput", "concurrency": args.concurrency}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "echo" in only:
            result["echo"] = measure("echo", "", args, folder)
        forced = "together" if args.together else "web" if args.split else None
        if "sqlite" in only:
            sqlite = f"sqlite+aiosqlite:///{tmp}/bench.db"
            result["sqlite"] = measure(forced or "together", sqlite, args, folder)
        if "postgresql" in only:
            name = f"ventanilla_bench_{uuid.uuid4().hex[:8]}"
            asyncio.run(maintenance_sql(f'CREATE DATABASE "{name}"'))
            try:
                pg = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
                result["postgresql"] = measure(forced or "web", pg, args, folder)
            finally:
                asyncio.run(maintenance_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    echo = result.get("echo")
    for backend in ("sqlite", "postgresql"):
        if isinstance(echo, dict) and isinstance(result.get(backend), dict):
            share = result[backend]["rps"] / echo["rps"]  # type: ignore[index]
            result[backend]["share_of_echo"] = round(share, 3)  # type: ignore[index]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
