"""Choices as numbered options, for a channel without buttons (the terminal) or a message
with more choices than its buttons and lists hold (WhatsApp): the engine maps a typed number
back to the choice it offered."""

from typing import Any


def numbered(choices: list[dict[str, Any]]) -> list[str]:
    """One line per choice: "1. label", "2. label", …"""
    return [f"{n}. {choice['label']}" for n, choice in enumerate(choices, start=1)]
