"""Builders for INBOUND payloads shaped like the official documentation's examples.

Telegram: ``Update`` objects as POSTed to a webhook or returned by getUpdates
(https://core.telegram.org/bots/api#update, #message, #callbackquery, #photosize, #voice,
#sticker, #location). In a private chat the chat id and the user id are the same number, as on
Telegram.

WhatsApp: bodies of the ``messages`` webhook of a WhatsApp Business Account
(https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples and the
"messages webhook reference" pages: text, interactive, location, sticker, reaction,
unsupported, status), wrapped in ``{"object": "whatsapp_business_account", "entry": [...]}``.
Every ``wa_*`` message builder takes these keyword options:

- ``with_contacts=False`` drops the ``contacts`` array (system messages have none);
- ``with_wa_id=False`` drops the phone number (``contacts[].wa_id`` and ``messages[].from``), as
  for users who adopted a WhatsApp username; a BSUID is then always included;
- ``user_id="MX.1502576394655843"`` adds the business-scoped user id (BSUID) where Meta's
  BSUID changes put it: ``contacts[].user_id`` and ``messages[].from_user_id``;
  ``parent_user_id`` and ``username`` likewise (``contacts[].parent_user_id``,
  ``messages[].from_parent_user_id``, ``contacts[].profile.username``);
- ``phone_number_id``, ``display_phone_number``, ``waba_id`` for the business side.

``wa_signature`` computes the ``X-Hub-Signature-256`` header Meta signs webhook bodies with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from typing import Any

from tests.fakes.telegram import DEFAULT_TOKEN
from tests.fakes.whatsapp import DEFAULT_PHONE_NUMBER_ID, GRAPH_ERRORS

# ---- Telegram --------------------------------------------------------------------------------

TG_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TG_BOT_ID = int(DEFAULT_TOKEN.split(":", 1)[0])
TG_BOT_USERNAME = "ventanilla_pruebas_bot"
TG_CHAT_ID = 987654321
PHOTO_SIZES = [(90, 67, 1342), (320, 240, 17260), (800, 600, 68513), (1280, 960, 131827)]

_serial = itertools.count(1)


def _now() -> int:
    return int(time.time())


def _tg_file_ids(kind: str) -> tuple[str, str]:
    """A (file_id, file_unique_id) pair shaped like Telegram's opaque base64 ids."""
    n = next(_serial)
    blob = f"{kind}:{n:08d}:ventanilla".encode()
    file_id = "AgACAgEAAxkBAAI" + base64.urlsafe_b64encode(blob).decode().rstrip("=")
    unique = "AQAD" + base64.urlsafe_b64encode(f"{kind}{n:06d}".encode()).decode().rstrip("=")
    return file_id, unique


def tg_user(
    user_id: int = TG_CHAT_ID,
    first_name: str = "María",
    last_name: str | None = "Hernández",
    username: str | None = "mariahdz",
    language_code: str | None = "es",
) -> dict[str, Any]:
    """https://core.telegram.org/bots/api#user for a person."""
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if last_name:
        user["last_name"] = last_name
    if username:
        user["username"] = username
    if language_code:
        user["language_code"] = language_code
    return user


def tg_bot_user() -> dict[str, Any]:
    """The bot itself as a User (``from`` of the messages it sent)."""
    return {
        "id": TG_BOT_ID,
        "is_bot": True,
        "first_name": "Ventanilla Municipal",
        "username": TG_BOT_USERNAME,
    }


def tg_private_chat(
    chat_id: int = TG_CHAT_ID,
    first_name: str = "María",
    last_name: str | None = "Hernández",
    username: str | None = "mariahdz",
) -> dict[str, Any]:
    """https://core.telegram.org/bots/api#chat of type ``private``."""
    chat: dict[str, Any] = {"id": chat_id, "first_name": first_name}
    if last_name:
        chat["last_name"] = last_name
    if username:
        chat["username"] = username
    chat["type"] = "private"
    return chat


def tg_message(
    chat_id: int = TG_CHAT_ID,
    message_id: int = 1,
    *,
    first_name: str = "María",
    last_name: str | None = "Hernández",
    username: str | None = "mariahdz",
    date: int | None = None,
    **content: Any,
) -> dict[str, Any]:
    """https://core.telegram.org/bots/api#message from a person in a private chat."""
    return {
        "message_id": message_id,
        "from": tg_user(chat_id, first_name, last_name, username),
        "chat": tg_private_chat(chat_id, first_name, last_name, username),
        "date": date if date is not None else _now(),
        **content,
    }


def _tg_update(update_id: int, chat_id: int, message_id: int | None, **kw: Any) -> dict[str, Any]:
    who = {k: kw.pop(k) for k in ("first_name", "last_name", "username", "date") if k in kw}
    message = tg_message(chat_id, message_id if message_id is not None else update_id, **who, **kw)
    return {"update_id": update_id, "message": message}


def tg_text(
    update_id: int,
    chat_id: int,
    text: str,
    first_name: str = "María",
    message_id: int | None = None,
    *,
    last_name: str | None = "Hernández",
    username: str | None = "mariahdz",
    date: int | None = None,
) -> dict[str, Any]:
    """An Update with a plain text message (``message.text``)."""
    return _tg_update(
        update_id,
        chat_id,
        message_id,
        first_name=first_name,
        last_name=last_name,
        username=username,
        date=date,
        text=text,
    )


def tg_command(
    command: str = "/start",
    update_id: int = 1,
    chat_id: int = TG_CHAT_ID,
    *,
    args: str = "",
    message_id: int | None = None,
    first_name: str = "María",
    date: int | None = None,
) -> dict[str, Any]:
    """An Update with a command: ``text`` "/start args" and a ``bot_command`` entity over the
    command (https://core.telegram.org/bots/api#messageentity). ``/start <payload>`` is how
    deep links (t.me/bot?start=payload) arrive."""
    text = f"{command} {args}".strip()
    entity = {"offset": 0, "length": len(command.encode("utf-16-le")) // 2, "type": "bot_command"}
    return _tg_update(
        update_id,
        chat_id,
        message_id,
        first_name=first_name,
        date=date,
        text=text,
        entities=[entity],
    )


def tg_callback(
    update_id: int,
    chat_id: int,
    data: str,
    message_id: int,
    *,
    message_text: str = "¿Qué trámite te interesa?",
    reply_markup: dict[str, Any] | None = None,
    callback_id: str | None = None,
    first_name: str = "María",
) -> dict[str, Any]:
    """An Update with a CallbackQuery: a press on an inline button of the bot's message
    ``message_id`` (https://core.telegram.org/bots/api#callbackquery)."""
    markup = reply_markup or {"inline_keyboard": [[{"text": "Elegir", "callback_data": data}]]}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": callback_id or str(4382000000000000000 + update_id),
            "from": tg_user(chat_id, first_name),
            "message": {
                "message_id": message_id,
                "from": tg_bot_user(),
                "chat": tg_private_chat(chat_id, first_name),
                "date": _now() - 60,
                "text": message_text,
                "reply_markup": markup,
            },
            "chat_instance": str(-5923000000000000000 - chat_id),
            "data": data,
        },
    }


def tg_location(
    latitude: float,
    longitude: float,
    *,
    update_id: int = 1,
    chat_id: int = TG_CHAT_ID,
    message_id: int | None = None,
    horizontal_accuracy: float | None = None,
) -> dict[str, Any]:
    """An Update with a shared location (https://core.telegram.org/bots/api#location)."""
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    if horizontal_accuracy is not None:
        location["horizontal_accuracy"] = horizontal_accuracy
    return _tg_update(update_id, chat_id, message_id, location=location)


def tg_photo(
    *,
    update_id: int = 1,
    chat_id: int = TG_CHAT_ID,
    message_id: int | None = None,
    caption: str | None = None,
) -> dict[str, Any]:
    """An Update with a photo: ``photo`` is an array of PhotoSize, smallest first, all sizes of
    one picture sharing its file_unique_id stem (https://core.telegram.org/bots/api#photosize)."""
    sizes = []
    for width, height, size in PHOTO_SIZES:
        file_id, unique = _tg_file_ids(f"photo{width}")
        sizes.append(
            {
                "file_id": file_id,
                "file_unique_id": unique,
                "file_size": size,
                "width": width,
                "height": height,
            }
        )
    content: dict[str, Any] = {"photo": sizes}
    if caption is not None:
        content["caption"] = caption
    return _tg_update(update_id, chat_id, message_id, **content)


def tg_voice(
    *,
    update_id: int = 1,
    chat_id: int = TG_CHAT_ID,
    message_id: int | None = None,
    duration: int = 4,
) -> dict[str, Any]:
    """An Update with a voice note (https://core.telegram.org/bots/api#voice)."""
    file_id, unique = _tg_file_ids("voice")
    voice = {
        "duration": duration,
        "mime_type": "audio/ogg",
        "file_id": file_id,
        "file_unique_id": unique,
        "file_size": 4100 * duration,
    }
    return _tg_update(update_id, chat_id, message_id, voice=voice)


def tg_sticker(
    *,
    update_id: int = 1,
    chat_id: int = TG_CHAT_ID,
    message_id: int | None = None,
    emoji: str = "👍",
) -> dict[str, Any]:
    """An Update with a static sticker (https://core.telegram.org/bots/api#sticker)."""
    file_id, unique = _tg_file_ids("sticker")
    thumb_id, thumb_unique = _tg_file_ids("thumb")
    thumbnail = {
        "file_id": thumb_id,
        "file_unique_id": thumb_unique,
        "file_size": 5416,
        "width": 128,
        "height": 128,
    }
    sticker = {
        "width": 512,
        "height": 512,
        "emoji": emoji,
        "set_name": "HotCherry",
        "is_animated": False,
        "is_video": False,
        "type": "regular",
        "thumbnail": thumbnail,
        "thumb": thumbnail,
        "file_id": file_id,
        "file_unique_id": unique,
        "file_size": 26474,
    }
    return _tg_update(update_id, chat_id, message_id, sticker=sticker)


def tg_webhook_headers(secret_token: str) -> dict[str, str]:
    """Headers Telegram sends with each webhook POST when setWebhook had a ``secret_token``."""
    return {"Content-Type": "application/json", TG_SECRET_HEADER: secret_token}


# ---- WhatsApp --------------------------------------------------------------------------------

WA_SIGNATURE_HEADER = "X-Hub-Signature-256"
WABA_ID = "102290129340398"
PHONE_NUMBER_ID = DEFAULT_PHONE_NUMBER_ID
DISPLAY_PHONE_NUMBER = "525580001234"
WA_ID = "5215512345678"  # Mexican mobiles arrive with the legacy "521" prefix in webhooks
WA_BSUID = "MX.1502576394655843"
ERROR_CODES_URL = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
_WEBHOOK_ONLY_ERRORS = {
    131051: ("Message type unknown", "Message type is currently not supported."),
    131052: ("Media download error", "Unable to download the media sent by the user."),
    131053: ("Media upload error", "Unable to upload the media used in the message."),
}


def wa_message_id() -> str:
    """A fresh id shaped like ``wamid.HBgN...`` (unique within the test run)."""
    blob = f"\x0d{WA_ID}\x15\x02\x00\x12\x18\x14{next(_serial):020d}\x00".encode("latin-1")
    return "wamid." + base64.b64encode(blob).decode()


def wa_envelope(
    value: dict[str, Any],
    *,
    phone_number_id: str = PHONE_NUMBER_ID,
    display_phone_number: str = DISPLAY_PHONE_NUMBER,
    waba_id: str = WABA_ID,
) -> dict[str, Any]:
    """Wrap a change ``value`` in the ``whatsapp_business_account`` webhook envelope."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": display_phone_number,
                                "phone_number_id": phone_number_id,
                            },
                            **value,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def _wa_inbound(
    kind: str,
    content: dict[str, Any] | None,
    *,
    wa_id: str = WA_ID,
    message_id: str | None = None,
    timestamp: int | str | None = None,
    name: str = "María López",
    context_id: str | None = None,
    with_contacts: bool = True,
    with_wa_id: bool = True,
    user_id: str | None = None,
    parent_user_id: str | None = None,
    username: str | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
    display_phone_number: str = DISPLAY_PHONE_NUMBER,
    waba_id: str = WABA_ID,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if not with_wa_id and user_id is None:
        user_id = WA_BSUID  # without a phone number the BSUID is the only identifier
    message: dict[str, Any] = {}
    if context_id:
        message["context"] = {"from": display_phone_number, "id": context_id}
    if with_wa_id:
        message["from"] = wa_id
    if user_id:
        message["from_user_id"] = user_id
    if parent_user_id:
        message["from_parent_user_id"] = parent_user_id
    message["id"] = message_id or wa_message_id()
    message["timestamp"] = str(timestamp if timestamp is not None else _now())
    message.update(extra or {})
    message["type"] = kind
    if content is not None:
        message[kind] = content
    value: dict[str, Any] = {}
    if with_contacts:
        profile: dict[str, Any] = {"name": name}
        if username:
            profile["username"] = username
        contact: dict[str, Any] = {"profile": profile}
        if with_wa_id:
            contact["wa_id"] = wa_id
        if user_id:
            contact["user_id"] = user_id
        if parent_user_id:
            contact["parent_user_id"] = parent_user_id
        value["contacts"] = [contact]
    value["messages"] = [message]
    return wa_envelope(
        value,
        phone_number_id=phone_number_id,
        display_phone_number=display_phone_number,
        waba_id=waba_id,
    )


def wa_text(
    wa_id: str,
    text: str,
    message_id: str | None = None,
    timestamp: int | str | None = None,
    name: str = "María López",
    **options: Any,
) -> dict[str, Any]:
    """A text message webhook (``type: "text"``, ``text.body``)."""
    return _wa_inbound(
        "text",
        {"body": text},
        wa_id=wa_id,
        message_id=message_id,
        timestamp=timestamp,
        name=name,
        **options,
    )


def wa_button_reply(
    reply_id: str,
    title: str,
    *,
    context_id: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """A press on a reply button: ``type: "interactive"``, ``interactive.type: "button_reply"``,
    with ``context`` pointing at the business message that carried the button."""
    interactive = {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}
    return _wa_inbound(
        "interactive", interactive, context_id=context_id or wa_message_id(), **options
    )


def wa_location(
    latitude: float,
    longitude: float,
    *,
    name: str | None = None,
    address: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """A shared location (``type: "location"``); name/address only for a chosen place."""
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    if name is not None:
        location["name"] = name
    if address is not None:
        location["address"] = address
    return _wa_inbound("location", location, **options)


def _media(mime_type: str, media_id: str | None, **fields: Any) -> dict[str, Any]:
    media_id = media_id or str(1_000_000_000_000_000 + next(_serial))
    digest = hashlib.sha256(media_id.encode()).hexdigest()
    return {**fields, "mime_type": mime_type, "sha256": digest, "id": media_id}


def wa_sticker(
    *, media_id: str | None = None, animated: bool = False, **options: Any
) -> dict[str, Any]:
    """A sticker (``sticker: {mime_type: "image/webp", sha256, id, animated}``)."""
    sticker = _media("image/webp", media_id)
    sticker["animated"] = animated
    return _wa_inbound("sticker", sticker, **options)


def wa_reaction(reacted_message_id: str, emoji: str = "👍", **options: Any) -> dict[str, Any]:
    """A reaction to a business message (``reaction: {message_id, emoji}``)."""
    return _wa_inbound("reaction", {"message_id": reacted_message_id, "emoji": emoji}, **options)


def wa_unknown(*, unsupported_type: str | None = None, **options: Any) -> dict[str, Any]:
    """A message type the Cloud API does not support: ``type: "unsupported"`` with
    ``errors: [{code: 131051, ...}]`` and no content object."""
    extra: dict[str, Any] = {"errors": [wa_error(131051)]}
    if unsupported_type:
        extra["unsupported"] = {"type": unsupported_type}
    return _wa_inbound("unsupported", None, extra=extra, **options)


def wa_error(code: int, details: str | None = None) -> dict[str, Any]:
    """An error object as webhooks carry them (``messages[].errors``, ``statuses[].errors``):
    ``{code, title, message, error_data: {details}, href}``."""
    if code in _WEBHOOK_ONLY_ERRORS:
        title, default_details = _WEBHOOK_ONLY_ERRORS[code]
    else:
        _, title, default_details = GRAPH_ERRORS.get(code, (400, "Error", "An error occurred."))
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details if details is not None else default_details},
        "href": ERROR_CODES_URL,
    }


def wa_status(
    message_id: str,
    status: str,
    recipient_id: str = WA_ID,
    errors: list[int | dict[str, Any]] | None = None,
    *,
    timestamp: int | str | None = None,
    category: str = "service",
    conversation_id: str = "a75d17ad06104c51166f948319b03c6a",
    user_id: str | None = None,
    biz_opaque_callback_data: str | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
    display_phone_number: str = DISPLAY_PHONE_NUMBER,
    waba_id: str = WABA_ID,
) -> dict[str, Any]:
    """A status webhook for a message the business sent: ``statuses[]`` with ``sent``,
    ``delivered``, ``read`` or ``failed``.

    As in the docs' examples, ``sent`` carries ``conversation`` (with ``expiration_timestamp``)
    and ``pricing``; ``delivered`` carries both without the expiration; ``read`` carries
    neither; ``failed`` carries ``errors`` (codes are expanded with ``wa_error``). Pricing is the
    per-message model (``pricing_model: "PMP"``) in force since July 2025: service replies in the
    customer service window are ``billable: false``, ``type: "free_customer_service"``.
    """
    if status not in {"sent", "delivered", "read", "failed"}:
        raise ValueError(f"unknown WhatsApp status {status!r}")
    when = int(timestamp) if timestamp is not None else _now()
    entry: dict[str, Any] = {
        "id": message_id,
        "status": status,
        "timestamp": str(when),
        "recipient_id": recipient_id,
    }
    if user_id:
        entry["recipient_user_id"] = user_id
    if biz_opaque_callback_data:
        entry["biz_opaque_callback_data"] = biz_opaque_callback_data
    if status in {"sent", "delivered"}:
        conversation: dict[str, Any] = {"id": conversation_id}
        if status == "sent":
            conversation["expiration_timestamp"] = str(when + 24 * 3600)
        conversation["origin"] = {"type": category}
        entry["conversation"] = conversation
        free = category == "service"
        entry["pricing"] = {
            "billable": not free,
            "pricing_model": "PMP",
            "category": category,
            "type": "free_customer_service" if free else "regular",
        }
    if status == "failed":
        entry["errors"] = [wa_error(e) if isinstance(e, int) else e for e in (errors or [131000])]
    return wa_envelope(
        {"statuses": [entry]},
        phone_number_id=phone_number_id,
        display_phone_number=display_phone_number,
        waba_id=waba_id,
    )


def wa_signature(body: bytes | str, app_secret: str) -> str:
    """``X-Hub-Signature-256`` value: ``"sha256=" + HMAC-SHA256(app_secret, raw body)``."""
    raw = body.encode() if isinstance(body, str) else body
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


def wa_signed(payload: dict[str, Any], app_secret: str) -> tuple[bytes, dict[str, str]]:
    """The raw body and headers Meta would POST: JSON bytes plus ``X-Hub-Signature-256``.
    Post the bytes as they are (``content=``) -- re-serialising breaks the signature."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        WA_SIGNATURE_HEADER: wa_signature(body, app_secret),
    }
    return body, headers


def wa_verification_params(
    verify_token: str, challenge: str = "1158201444", mode: str = "subscribe"
) -> dict[str, str]:
    """Query parameters of Meta's GET webhook verification request."""
    return {"hub.mode": mode, "hub.verify_token": verify_token, "hub.challenge": challenge}
