"""The channel-neutral shape of what a citizen sends and what they are sent back."""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Choice:
    """An option offered to the citizen; `value` comes back when it is picked."""

    label: str
    value: str

    def as_dict(self) -> dict[str, str]:
        return {"label": self.label, "value": self.value}


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    address: str = ""


@dataclass(frozen=True)
class Inbound:
    """One message from a citizen, as every channel adapter delivers it."""

    channel: str
    address: str  # the chat on that channel: Telegram chat id, WhatsApp number, web session
    text: str = ""
    kind: str = "text"  # text | location | photo | voice | sticker | document | other
    external_id: str | None = None  # the provider's message id, for deduplication
    location: Location | None = None
    media: str | None = None  # provider reference of a photo
    display_name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (what the inbox stores)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Inbound":
        """Back from `as_dict`; payloads stored by older versions may carry a "raw" field,
        which is no longer kept and is dropped here."""
        fields = {k: v for k, v in data.items() if k != "raw"}
        where = fields.get("location")
        return cls(**{**fields, "location": Location(**where) if where else None})


@dataclass(frozen=True)
class Outbound:
    """One message to a citizen."""

    text: str
    choices: tuple[Choice, ...] = ()
    sender: str = "bot"


# Channels that only allow free-form replies for a while after the citizen last wrote.
REPLY_WINDOWS = {"whatsapp": timedelta(hours=24)}


def reply_window_open(channel: str, last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether free-form replies may still be sent on `channel` to a chat last heard from at
    `last_inbound_at` (always, on channels without a window)."""
    window = REPLY_WINDOWS.get(channel)
    if window is None:
        return True
    return last_inbound_at is not None and now - last_inbound_at < window
