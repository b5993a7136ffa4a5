"""WhatsApp Cloud API: a thin httpx client for sending, a typed model of the webhook.

Inbound, checked against `Webhook` (a body of any other shape is refused): `messages[]` become
Inbound (text, button/list replies, location, image; anything else is passed on with its type
so the bot answers politely); `statuses[]` become delivery receipts. The sender uses the Graph
API at the configured base URL and keeps WhatsApp's rules: at most 3 reply buttons (titles up
to 20 characters), lists of up to 10 rows, and outside the 24-hour customer-service window
only approved templates.
"""

import hashlib
import hmac
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import httpx
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from bot import safety
from bot.channels.wire import MAX_NAME, StorableText
from bot.engine import Engine
from casework.citizens.models import ChannelIdentity
from casework.conversations.models import Conversation
from casework.inbox import service as inbox
from casework.outbox.delivery import DeliveryError
from casework.outbox.models import OutboxMessage
from foundation.db import Database, utcnow
from foundation.messages import Inbound, Location, reply_window_open
from foundation.settings import Settings

CHANNEL = "whatsapp"
MAX_TEXT, MAX_BODY = 4096, 1024
MAX_BUTTONS, MAX_BUTTON_TITLE = 3, 20
MAX_ROWS, MAX_ROW_TITLE = 10, 24
MAX_TEMPLATE_BUTTONS = 10  # quick-reply buttons a template may carry
RATE_LIMIT_CODES = {4, 80007, 130429, 131048, 131056}
TEMPLATE_PURPOSES = ("status", "survey")
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


def to_inbox(message: Inbound) -> inbox.Update:
    """An inbox entry keyed by WhatsApp's message id (one without an id cannot be told apart
    from a repeat, so it gets a key of its own)."""
    key = message.external_id or f"sin-id-{uuid.uuid4().hex}"
    return inbox.Update(CHANNEL, key, message.address, message.as_dict())


def inbox_handler(engine: Engine) -> inbox.Handler:
    async def handle(payload: dict[str, Any]) -> None:
        await safety.answer(engine, Inbound.from_dict(payload))

    return handle


def _trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def message_bodies(item: OutboxMessage, to: str) -> list[dict[str, Any]]:
    """The Graph API bodies for one outbox message inside the 24-hour window."""
    base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
    choices = item.choices
    text = item.text
    fits_buttons = 0 < len(choices) <= MAX_BUTTONS and all(
        len(c["label"]) <= MAX_BUTTON_TITLE for c in choices
    )
    if not choices or len(choices) > MAX_ROWS or len(text) > MAX_BODY:
        if choices:  # too many options, or too long a text: numbered options instead
            numbered = "\n".join(f"{n}. {c['label']}" for n, c in enumerate(choices, 1))
            text = f"{text}\n\n{numbered}"
        pieces = [text[i : i + MAX_TEXT] for i in range(0, len(text), MAX_TEXT)]
        return [{**base, "type": "text", "text": {"body": p, "preview_url": False}} for p in pieces]
    if fits_buttons:
        action: dict[str, Any] = {
            "buttons": [
                {"type": "reply", "reply": {"id": c["value"][:256], "title": c["label"]}}
                for c in choices
            ]
        }
        interactive = {"type": "button", "body": {"text": text}, "action": action}
    else:
        rows = [
            {"id": c["value"][:200], "title": _trim(c["label"], MAX_ROW_TITLE)}
            | ({"description": _trim(c["label"], 72)} if len(c["label"]) > MAX_ROW_TITLE else {})
            for c in choices
        ]
        action = {"button": "Ver opciones", "sections": [{"title": "Opciones", "rows": rows}]}
        interactive = {"type": "list", "body": {"text": text}, "action": action}
    return [{**base, "type": "interactive", "interactive": interactive}]


class WhatsAppSender:
    channel = CHANNEL

    def __init__(self, settings: Settings, db: Database, client: httpx.AsyncClient | None = None):
        self.settings = settings
        self.db = db
        self.client = client or httpx.AsyncClient(timeout=10)
        base = settings.whatsapp_api_base.rstrip("/")
        self.url = (
            f"{base}/{settings.whatsapp_api_version}/{settings.whatsapp_phone_number_id}/messages"
        )

    async def _last_inbound(self, identity: ChannelIdentity) -> datetime | None:
        async with self.db.transaction() as session:
            return await session.scalar(
                select(Conversation.last_inbound_at).where(Conversation.identity_id == identity.id)
            )

    def _template(self, item: OutboxMessage, to: str) -> dict[str, Any]:
        name = (
            self.settings.whatsapp_template_status
            if item.purpose == "status"
            else self.settings.whatsapp_template_survey
        )
        parameter = {"type": "text", "text": _trim(item.text.replace("\n", " "), MAX_BODY)}
        components: list[dict[str, Any]] = [{"type": "body", "parameters": [parameter]}]
        if item.purpose == "survey":
            # The survey template is approved with one quick-reply button per score; each
            # button's payload is the choice value (rate:N), which a tap sends back as a
            # `button` message the engine reads like any other choice.
            scores = [c for c in item.choices if c["value"].startswith("rate:")]
            components += [
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": str(index),
                    "parameters": [{"type": "payload", "payload": choice["value"]}],
                }
                for index, choice in enumerate(scores[:MAX_TEMPLATE_BUTTONS])
            ]
        return {
            "messaging_product": "whatsapp",
            "to": to,
            "type": "template",
            "template": {
                "name": name,
                "language": {"code": self.settings.whatsapp_template_language},
                "components": components,
            },
        }

    async def send(self, item: OutboxMessage, identity: ChannelIdentity) -> str | None:
        last = await self._last_inbound(identity)
        if reply_window_open(CHANNEL, last, utcnow()):
            bodies = message_bodies(item, identity.address)
        elif item.purpose in TEMPLATE_PURPOSES:
            bodies = [self._template(item, identity.address)]
        else:
            raise DeliveryError("fuera de la ventana de 24 horas de WhatsApp", permanent=True)
        provider_id = None
        for body in bodies:
            provider_id = await self._post(body)
        return provider_id

    async def _post(self, body: dict[str, Any]) -> str:
        headers = {"Authorization": f"Bearer {self.settings.whatsapp_token}"}
        try:
            response = await self.client.post(self.url, json=body, headers=headers)
        except httpx.HTTPError as exc:  # timeouts and connection errors: try again later
            raise DeliveryError(f"red: {exc!r}") from exc
        if response.status_code == 200:
            return str(response.json()["messages"][0]["id"])
        try:
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        code = error.get("code")
        reason = f"{response.status_code} {code}: {error.get('message', response.text[:200])}"
        if response.status_code >= 500 or response.status_code == 429 or code in RATE_LIMIT_CODES:
            raise DeliveryError(reason)
        raise DeliveryError(reason, permanent=True)
