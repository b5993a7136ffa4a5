"""Every text a citizen reads, looked up by key from one reviewable Spanish file.

A municipality rewords its bot by editing texts.es-MX.yml; code never holds citizen-facing
literals. Placeholders use str.format syntax: {folio}, {name}...
"""

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TEXTS_FILE = Path(__file__).resolve().parent / "texts.es-MX.yml"


@lru_cache
def _texts() -> dict[str, Any]:
    with TEXTS_FILE.open(encoding="utf-8") as fh:
        texts = yaml.safe_load(fh)
    if not isinstance(texts, dict):
        raise ValueError(f"{TEXTS_FILE} must hold a mapping of texts")
    return texts


def _lookup(key: str) -> Any:
    node: Any = _texts()
    for part in key.split("."):
        node = node[part]
    return node


def t(key: str, **values: object) -> str:
    """The text under `key` (dotted path) with its placeholders filled in."""
    template = _lookup(key)
    if not isinstance(template, str):
        raise KeyError(f"{key} is not a text")
    return template.format(**values).strip()


def label(group: str, code: str) -> str:
    """A display label, e.g. label('status', 'resolved') -> 'Resuelta'."""
    return str(_lookup(f"labels.{group}.{code}"))


def labels(group: str) -> dict[str, str]:
    return dict(_lookup(f"labels.{group}"))
