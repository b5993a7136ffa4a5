"""Who handles the procedures a municipality does not (nlu/data/external.yml)."""

from functools import lru_cache
from pathlib import Path

import yaml

from nlu.normalize import normalize

EXTERNAL_FILE = Path(__file__).resolve().parent / "data" / "external.yml"


@lru_cache
def _table() -> dict[str, str]:
    entries = yaml.safe_load(EXTERNAL_FILE.read_text(encoding="utf-8"))
    return {normalize(k): e["who"] for e in entries for k in e["keywords"]}


def who_handles(keyword: str) -> str | None:
    return _table().get(normalize(keyword))
