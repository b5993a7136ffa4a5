"""Speed and memory of the default understanding pipeline, on one core.

Prints one JSON line: understand() latency p50/p99 over realistic messages (the evaluation
dev sets' texts), as wall time and as this thread's CPU time (which other processes sharing
the core do not inflate), the time and memory to build the model for a 100-procedure
catalogue, and the process's peak RSS.

    uv run python benchmarks/nlu_speed.py
    uv run --extra embeddings python benchmarks/nlu_speed.py --embeddings  # the optional extra
    uv run python benchmarks/nlu_speed.py --uncalibrated  # without the answer-risk model
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import csv
import json
import resource
import statistics
import sys
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

from nlu.entries import entries_from_catalog
from nlu.pipeline import DefaultUnderstander
from nlu.training import load
from nlu.understanding import Context, ProcedureEntry

ROOT = Path(__file__).resolve().parent.parent
# catalogues only: not their companions (acacias.faq.yml, acacias.faq-conversations.yml, ...)
CATALOGS = sorted(p for p in (ROOT / "catalog" / "samples").glob("*.yml") if "." not in p.stem)
EVAL = sorted((ROOT / "nlu" / "eval").glob("*_dev*.csv"))  # the held-out *_test.csv stay unread


def hundred_procedures() -> list[ProcedureEntry]:
    """Every sample catalogue's procedures, topped up with renamed copies to reach 100."""
    entries = [e for path in CATALOGS for e in entries_from_catalog(path)]
    base = list(entries)
    n = 0
    while len(entries) < 100:
        source = base[n % len(base)]
        entries.append(replace(source, id=f"{source.id}-{n}", name=f"{source.name} (anexo {n})"))
        n += 1
    return entries[:100]


def main() -> None:
    embeddings = "--embeddings" in sys.argv[1:]
    calibrated = "--uncalibrated" not in sys.argv[1:]
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    data = load()
    procedures = hundred_procedures()

    tracemalloc.start()
    started = time.perf_counter()
    model = DefaultUnderstander(procedures, data, embeddings=embeddings, calibrated=calibrated)
    build_s = time.perf_counter() - started
    _, build_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    texts = [row["text"] for path in EVAL for row in csv.DictReader(path.open(encoding="utf-8"))]
    texts = texts or ["cuanto cuesta el acta de nacimiento", "hay un bache en mi calle"]
    for text in texts[:50]:
        model.understand(text, Context())  # warm up
    latencies, cpu = [], []
    for _ in range(3):
        for text in texts:
            started, started_cpu = time.perf_counter(), time.thread_time()
            model.understand(text, Context())
            cpu.append((time.thread_time() - started_cpu) * 1000)
            latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    cpu.sort()
    print(
        json.dumps(
            {
                "benchmark": "nlu_speed",
                "embeddings": embeddings,
                "calibrated": calibrated,
                "procedures": len(procedures),
                "messages": len(latencies),
                "understand_ms_p50": round(statistics.median(latencies), 3),
                "understand_ms_p99": round(latencies[int(0.99 * (len(latencies) - 1))], 3),
                "understand_cpu_ms_p50": round(statistics.median(cpu), 3),
                "understand_cpu_ms_p99": round(cpu[int(0.99 * (len(cpu) - 1))], 3),
                "build_s": round(build_s, 3),
                "build_peak_mb": round(build_peak / 2**20, 1),
                "process_peak_rss_mb": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
