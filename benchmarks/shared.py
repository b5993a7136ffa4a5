"""What several benchmarks read or do: the dev conversations' texts, a PostgreSQL statement.
Run as scripts (`uv run python benchmarks/X.py`), they import it as `shared`."""

from pathlib import Path

import yaml

SAMPLES = Path(__file__).resolve().parent.parent / "catalog" / "samples"


def conversations() -> list[list[str]]:
    """The citizen texts of every dev conversation case (never the held-out files); the
    cases whose every text is a template ("{folio}") are left out."""
    cases = []
    for path in sorted(SAMPLES.glob("*.conversations.yml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["test_cases"]:
            texts = [str(step["user"]) for step in case["steps"] if "user" in step]
            cases.append([t for t in texts if "{" not in t])
    return [c for c in cases if c]


async def pg(sql: str) -> None:
    """Run one statement on the local PostgreSQL server's maintenance database."""
    import asyncpg

    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
