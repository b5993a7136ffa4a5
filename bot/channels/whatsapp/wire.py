"""The WhatsApp webhook's body, checked against a typed model (a body of any other shape is
refused): `messages[]` become Inbound (text, button/list replies, location, image; anything
else is passed on with its type so the bot answers politely), `statuses[]` delivery receipts.
"""

import hashlib
import hmac
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from bot.channels.plugin import inbox_entry
from bot.channels.whatsapp import CHANNEL
from bot.channels.wire import MAX_NAME, StorableText
from casework.inbox import service as inbox
from foundation.messages import Inbound, Location

log = logging.getLogger(__name__)


async def signed_body(chunks: AsyncIterator[bytes], header: str, app_secret: str) -> bytes | None:
    """The body, if `header` signs it; None otherwise. The signature is computed as the body
    streams in (the door bounds its size), so nothing is parsed before it is known good."""
    mac = hmac.new(app_secret.encode(), digestmod=hashlib.sha256)
    parts = []
    async for chunk in chunks:
        mac.update(chunk)
        parts.append(chunk)
    expected = "sha256=" + mac.hexdigest()
    if not hmac.compare_digest(header.encode(), expected.encode()):
        return None
    return b"".join(parts)


@dataclass(frozen=True)
class Receipt:
    provider_id: str
    status: str  # sent | delivered | read | failed
    error: str | None = None


# The webhook body, as far as the code reads it (Meta's fields that are not read are ignored;
# a field read in a shape other than Meta's refuses the whole body). Ids fit the columns they
# are stored in.
Id = Annotated[StorableText, Field(min_length=1, max_length=200)]
Text = StorableText


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Profile(_Wire):
    name: Text = ""


class _Contact(_Wire):
    wa_id: Id | None = None
    user_id: Id | None = None
    profile: _Profile = _Profile()


class _Body(_Wire):
    body: Text = ""


class _Reply(_Wire):
    id: Text | None = None
    title: Text | None = None


class _Interactive(_Wire):
    button_reply: _Reply | None = None
    list_reply: _Reply | None = None


class _Button(_Wire):
    payload: Text | None = None
    text: Text | None = None


class _Location(_Wire):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    address: Text | None = None
    name: Text | None = None


class _Image(_Wire):
    id: Id | None = None
    caption: Text = ""


class _Message(_Wire):
    sender: Id | None = Field(default=None, alias="from")
    from_user_id: Id | None = None
    id: Id | None = None
    type: Annotated[Text, Field(max_length=40)] = "other"
    text: _Body | None = None
    interactive: _Interactive | None = None
    button: _Button | None = None
    location: _Location | None = None
    image: _Image | None = None


class _Error(_Wire):
    code: int | None = None
    title: Text | None = None
    message: Text | None = None


class _Status(_Wire):
    id: Id | None = None
    status: Annotated[Text, Field(max_length=20)] | None = None
    errors: list[_Error] = []


class _Value(_Wire):
    contacts: list[_Contact] = []
    messages: list[_Message] = []
    statuses: list[_Status] = []


class _Change(_Wire):
    value: _Value = _Value()


class _Entry(_Wire):
    changes: list[_Change] = []


class Webhook(_Wire):
    entry: list[_Entry] = []


def _inbound(message: _Message, contacts: list[_Contact]) -> Inbound | None:
    """The message as the engine reads it; None when it names no sender."""
    contact = contacts[0] if len(contacts) == 1 else _Contact()
    address = message.sender or contact.wa_id or message.from_user_id or contact.user_id
    if not address:
        log.warning("whatsapp message %s without a sender skipped", message.id)
        return None
    base: dict[str, Any] = {
        "channel": CHANNEL,
        "address": address,
        "external_id": message.id,
        "display_name": contact.profile.name[:MAX_NAME] or None,
    }
    kind = message.type
    if kind == "text":
        return Inbound(text=message.text.body if message.text else "", **base)
    if kind == "interactive":
        found = message.interactive or _Interactive()
        reply = found.button_reply or found.list_reply or _Reply()
        return Inbound(text=reply.id or reply.title or "", **base)
    if kind == "button" and message.button is not None:  # a quick reply on a template
        return Inbound(text=message.button.payload or message.button.text or "", **base)
    if kind == "location" and message.location is not None:
        place = message.location
        where = Location(place.latitude, place.longitude, place.address or place.name or "")
        return Inbound(kind="location", location=where, **base)
    if kind == "image" and message.image is not None:
        return Inbound(kind="photo", media=message.image.id, text=message.image.caption, **base)
    known = {"audio": "voice", "voice": "voice", "sticker": "sticker", "document": "document"}
    if kind not in known:
        log.warning("whatsapp message of type %r answered politely", kind)
    return Inbound(kind=known.get(kind, "other"), **base)


def parse(body: dict[str, Any]) -> tuple[list[Inbound], list[Receipt]]:
    """Everything a webhook body carries; ValidationError for a body of another shape."""
    webhook = Webhook.model_validate(body)
    inbound: list[Inbound] = []
    receipts: list[Receipt] = []
    for entry in webhook.entry:
        for change in entry.changes:
            value = change.value
            for message in value.messages:
                found = _inbound(message, value.contacts)
                if found is not None:
                    inbound.append(found)
            for status in value.statuses:
                error = None
                if status.errors:
                    first = status.errors[0]
                    error = f"{first.code}: {first.title or first.message}"
                if status.id and status.status:
                    receipts.append(Receipt(status.id, status.status, error))
    return inbound, receipts


def to_inbox(body: dict[str, Any]) -> list[inbox.Update]:
    """The plugin's parse: the messages a body carries, as inbox entries (its receipts are
    recorded by the webhook itself)."""
    messages, _ = parse(body)
    return [inbox_entry(m) for m in messages]
