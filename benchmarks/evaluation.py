"""Evaluation on a large history: each dashboard query, the public page and the CSV export.

Run against a database filled by `ventanilla demo-data` (the issue's size: 1,000,000 ratings
and 200,000 requests on PostgreSQL). Every query of the dashboard and of the public results
page is timed over the last 12 months (repeated; the median and the worst are reported), and
the whole rating history is exported as CSV in a child process whose peak RSS is measured.
Prints one JSON line.

    uv run ventanilla demo-data --database URL --ratings 1000000 --requests 200000
    uv run python benchmarks/evaluation.py --database URL [--repeat 5]
"""

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from casework.indicators import cards, dashboard, public, service  # noqa: E402
from casework.indicators.scope import Scope, last_months, local_today  # noqa: E402
from casework.ratings.models import Rating  # noqa: E402
from casework.requests.models import Request  # noqa: E402
from foundation.db import Database  # noqa: E402

TIMEZONE = "America/Mexico_City"
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/ventanilla_demo_bench"
MIN_COUNT = 30


def queries(scope: Scope) -> dict[str, Callable[[Any], Awaitable[object]]]:
    """Every query the dashboard and the public page run, by name."""
    tz = TIMEZONE
    timed: dict[str, Callable[[Any], Awaitable[object]]] = {}
    for name, group in service.GROUPS.items():
        timed[f"group:{name}"] = lambda s, group=group: group(s, scope, tz)
    timed["rating_trend:week"] = lambda s: dashboard.rating_trend(s, scope, tz, "week")
    timed["rating_trend:month"] = lambda s: dashboard.rating_trend(s, scope, tz, "month")
    timed["request_trend:week"] = lambda s: dashboard.request_trend(s, scope, tz, "week")
    timed["request_trend:month"] = lambda s: dashboard.request_trend(s, scope, tz, "month")
    timed["score_distribution"] = lambda s: dashboard.score_distribution(s, scope, tz)
    timed["lowest_csat"] = lambda s: dashboard.lowest_csat(s, scope, tz, MIN_COUNT)
    timed["worst_compliance"] = lambda s: dashboard.worst_compliance(s, scope, tz, MIN_COUNT)
    timed["by_procedure"] = lambda s: dashboard.by_procedure(s, scope, tz)
    timed["public_results"] = lambda s: public.public_results(s, local_today(tz), tz, 5, 8)
    through = public.last_closed_day(local_today(tz), 8)
    timed["public_cards"] = lambda s: cards.public_cards(s, through, tz, 5)
    return timed


async def time_queries(url: str, repeat: int) -> dict[str, Any]:
    db = Database(url)
    try:
        start, end = last_months(local_today(TIMEZONE), 12)
        scope = Scope(start, end)
        async with db.transaction() as session:
            ratings = await session.scalar(select(func.count()).select_from(Rating))
            requests = await session.scalar(select(func.count()).select_from(Request))
        results: dict[str, dict[str, float]] = {}
        for name, run in queries(scope).items():
            took = []
            for _ in range(repeat + 1):  # the first run warms the cache and is not counted
                async with db.transaction() as session:
                    began = time.perf_counter()
                    await run(session)
                    took.append((time.perf_counter() - began) * 1000)
            took = took[1:]
            results[name] = {
                "median_ms": round(statistics.median(took), 1),
                "max_ms": round(max(took), 1),
            }
        return {"ratings": ratings, "requests": requests, "queries": results}
    finally:
        await db.dispose()


async def export(url: str) -> dict[str, Any]:
    """Run in a child process: the whole history as CSV, counted and thrown away."""
    from casework.indicators.export import csv_chunks

    db = Database(url)
    try:
        scope = Scope(*last_months(local_today(TIMEZONE), 12 * 30))
        async with db.transaction() as session:
            rows = await session.scalar(select(func.count()).select_from(Rating))
        size = lines = 0
        began = time.perf_counter()
        async for chunk in csv_chunks(db, scope, b"benchmark-secret", TIMEZONE):
            size += len(chunk)
            lines += chunk.count(b"\n")  # a row per line, plus the header and any line
            # breaks inside comments
        seconds = time.perf_counter() - began
    finally:
        await db.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "rows": rows,
        "lines": lines,
        "seconds": round(seconds, 2),
        "rows_per_s": round((rows or 0) / seconds),
        "mb": round(size / 1e6, 1),
        "peak_rss_mb": round(peak_mb, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default=DEFAULT_URL)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--export-only", action="store_true")
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--child-export", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_export:
        print(json.dumps(asyncio.run(export(args.database))))
        return
    report: dict[str, Any] = {"benchmark": "evaluation", "backend": args.database.split(":")[0]}
    if not args.export_only:
        report.update(asyncio.run(time_queries(args.database, args.repeat)))
        slowest = max(report["queries"].items(), key=lambda item: item[1]["median_ms"])
        report["slowest_query"] = {"name": slowest[0], **slowest[1]}
    if args.no_export:
        print(json.dumps(report))
        return
    child = subprocess.run(
        [sys.executable, __file__, "--database", args.database, "--child-export"],
        capture_output=True,
        text=True,
        check=True,
    )
    report["csv_export"] = json.loads(child.stdout.strip().splitlines()[-1])
    print(json.dumps(report))


if __name__ == "__main__":
    main()
