"""Outbox rows to Graph API calls, keeping WhatsApp's rules: at most 3 reply buttons (titles
up to 20 characters), lists of up to 10 rows, and outside the 24-hour customer-service window
only approved templates."""

from datetime import datetime
from typing import Any

import httpx

from bot.channels.choices import numbered
from bot.channels.whatsapp import (
    CHANNEL,
    MAX_BODY,
    MAX_BUTTON_TITLE,
    MAX_BUTTONS,
    MAX_ROW_TITLE,
    MAX_ROWS,
    MAX_TEXT,
)
from casework.citizens.models import ChannelIdentity
from casework.conversations.service import last_heard_from
from casework.outbox.delivery import DeliveryError
from casework.outbox.models import OutboxMessage
from foundation.db import Database, utcnow
from foundation.messages import reply_window_open
from foundation.settings import WhatsAppSettings

MAX_TEMPLATE_BUTTONS = 10  # quick-reply buttons a template may carry
RATE_LIMIT_CODES = {4, 80007, 130429, 131048, 131056}
TEMPLATE_PURPOSES = ("status", "survey")


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
            text = f"{text}\n\n" + "\n".join(numbered(choices))
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

    def __init__(
        self, settings: WhatsAppSettings, db: Database, client: httpx.AsyncClient | None = None
    ):
        self.settings = settings
        self.db = db
        self.client = client or httpx.AsyncClient(timeout=10)
        base = settings.api_base.rstrip("/")
        self.url = f"{base}/{settings.api_version}/{settings.phone_number_id}/messages"

    async def _last_inbound(self, identity: ChannelIdentity) -> datetime | None:
        async with self.db.transaction() as session:
            return await last_heard_from(session, identity)

    def _template(self, item: OutboxMessage, to: str) -> dict[str, Any]:
        name = (
            self.settings.template_status
            if item.purpose == "status"
            else self.settings.template_survey
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
                "language": {"code": self.settings.template_language},
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
        headers = {"Authorization": f"Bearer {self.settings.token}"}
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
