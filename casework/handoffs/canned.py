"""Canned answers: short codes agents type instead of writing common replies again."""

from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_FILE = Path(__file__).resolve().parent / "canned.es-MX.yml"


@lru_cache(maxsize=4)
def canned_answers(path: Path = DEFAULT_FILE) -> dict[str, str]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return {str(code).casefold(): str(text).strip() for code, text in data.items()}


def expand(text: str, answers: dict[str, str]) -> str:
    """'/horario' becomes the canned text; '/folio y gracias' keeps what follows the code.
    An unknown code is left as typed, so nothing the agent wrote is lost."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return text
    code, _, rest = stripped[1:].partition(" ")
    canned = answers.get(code.casefold())
    if canned is None:
        return text
    return f"{canned} {rest.strip()}".strip()
