"""Inbound Telegram webhook to reply queued: throughput and latency of one worker.

Starts the real app (one uvicorn process, outbox delivery off so only "reply queued" is
measured) on SQLite and on PostgreSQL, and a bare FastAPI echo route as the reference, then
posts realistic updates from 32 concurrent connections. Prints one JSON line.

    uv run python benchmarks/webhook_throughput.py [--requests 2000] [--concurrency 32]
"""

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
SECRET = "benchmark-secret-benchmark-secret"
QUESTIONS = [
    "cuanto cuesta el predial",
    "requisitos para la licencia de construccion",
    "hola",
    "donde saco el acta de nacimiento",
    "a que hora abren en el registro civil",
    "quiero hablar con un asesor",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(kind: str, url: str, port: int) -> None:
    """Run in a child process: the app (or the echo reference) on `port`."""
    import uvicorn
    from fastapi import FastAPI

    if kind == "echo":
        app = FastAPI()

        @app.post("/telegram/webhook")
        async def echo(body: dict) -> dict:  # type: ignore[type-arg]
            return {"ok": True}

        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
        return

    from backoffice.app import create_app
    from casework.db import Database
    from ventanilla.settings import Settings
    from ventanilla.setup import prepare

    settings = Settings(
        database_url=url,
        telegram_token="123456:benchmark",
        telegram_api_base="http://127.0.0.1:9",
        telegram_webhook_secret=SECRET,
        _env_file=None,
    )

    async def main() -> None:
        db = Database(url)
        ready = await prepare(db, settings)
        app = create_app(settings, db, ready.secret_key, deliver=False)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        await uvicorn.Server(config).serve()

    asyncio.run(main())


def update(n: int) -> dict:
    chat = 10_000 + n % 500
    return {
        "update_id": n,
        "message": {
            "message_id": n,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private", "first_name": "Bench"},
            "from": {"id": chat, "is_bot": False, "first_name": "Bench"},
            "text": QUESTIONS[n % len(QUESTIONS)],
        },
    }


async def load(port: int, requests: int, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    counter = iter(range(1, requests + 1))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    client_options = {"limits": limits, "timeout": 60}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", **client_options) as client:

        async def worker() -> None:
            for n in counter:
                started = time.perf_counter()
                response = await client.post("/telegram/webhook", json=update(n), headers=headers)
                response.raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)

        for n in range(50):  # warm up (not measured)
            await client.post("/telegram/webhook", json=update(10**9 + n), headers=headers)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))], 2),
    }


def wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            httpx.post(f"http://127.0.0.1:{port}/telegram/webhook", json={}, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def measure(kind: str, url: str, requests: int, concurrency: int) -> dict[str, float]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--url", url, "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        wait_ready(port, process)
        return asyncio.run(load(port, requests, concurrency))
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _pg(sql: str) -> None:
    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve")
    parser.add_argument("--url", default="")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.url, args.port)
        return
    result: dict[str, object] = {"benchmark": "webhook_throughput", "concurrency": args.concurrency}
    result["echo"] = measure("echo", "", args.requests, args.concurrency)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite+aiosqlite:///{tmp}/bench.db"
        result["sqlite"] = measure("app", sqlite, args.requests, args.concurrency)
    name = f"ventanilla_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    try:
        pg = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        result["postgresql"] = measure("app", pg, args.requests, args.concurrency)
    finally:
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    echo_rps = result["echo"]["rps"]  # type: ignore[index]
    for backend in ("sqlite", "postgresql"):
        share = result[backend]["rps"] / echo_rps  # type: ignore[index]
        result[backend]["share_of_echo"] = round(share, 3)  # type: ignore[index]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
