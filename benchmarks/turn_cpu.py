"""CPU of a whole bot turn: one citizen message in, its replies in the outbox, on SQLite.

Replays the citizen messages of the bundled conversation files (each case in its own chat,
setups ignored) against the Acacias sample catalogue, and prints one JSON line with the
process CPU time per turn (p50, p99, mean; the model is built before timing starts). Written
to run unchanged on older commits, so a change's effect can be measured before and after:

    uv run python benchmarks/turn_cpu.py
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ["VENTANILLA_USEFULNESS_RATE"] = "0"  # no random «¿Te sirvió?» (works on old commits)

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from shared import conversations

from bot.engine import Engine
from foundation.db import Database
from foundation.messages import Inbound
from foundation.settings import Settings
from ventanilla.setup import prepare

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "catalog" / "samples"
ROUNDS = 3


async def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/turns.db"
        settings = Settings(_env_file=None, database_url=url)
        db = Database(url)
        await prepare(db, settings, SAMPLES / "acacias.yml", first_user=False)
        engine = Engine(db, settings)
        await engine.warm_up()
        cpu_ms: list[float] = []
        for round_ in range(ROUNDS):
            for n, texts in enumerate(conversations()):
                for text in texts:
                    started = time.process_time()
                    await engine.handle(Inbound("web", f"bench-{round_}-{n}", text))
                    cpu_ms.append((time.process_time() - started) * 1000)
        await db.dispose()
    cpu_ms.sort()
    print(
        json.dumps(
            {
                "benchmark": "turn_cpu",
                "turns": len(cpu_ms),
                "cpu_ms_p50": round(statistics.median(cpu_ms), 2),
                "cpu_ms_p99": round(cpu_ms[int(len(cpu_ms) * 0.99) - 1], 2),
                "cpu_ms_mean": round(statistics.fmean(cpu_ms), 2),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
