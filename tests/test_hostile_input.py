"""Hostile and careless input at the door: every shape, size, depth, encoding and number a
client can send gets a 4xx and a log line, never a 5xx, and nothing of it is stored.

The corpus is parametrised; each case names what it tries. The webhooks are posted with a
valid secret or signature, so what is refused is refused for its content.
"""

import json
import logging
from collections.abc import AsyncIterator, Callable
from copy import deepcopy
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from backoffice.app import create_app
from casework.citizens.models import ChannelIdentity
from casework.conversations.models import Message
from casework.inbox.models import InboxItem
from foundation import texts
from foundation.db import Database
from foundation.settings import Settings
from tests.fakes.payloads import (
    TG_CHAT_ID,
    WA_ID,
    tg_callback,
    tg_text,
    tg_webhook_headers,
    wa_location,
    wa_reaction,
    wa_signature,
    wa_status,
    wa_text,
    wa_unknown,
)
from tests.fakes.telegram import FakeTelegram
from tests.fakes.whatsapp import FakeWhatsApp
from tests.support import (
    ChannelClient,
    WebChat,
    break_conversation,
    joined,
    login,
    with_telegram,
    with_whatsapp,
)

APP_SECRET = "secreto-de-la-app-de-prueba"
TG_SECRET = "secreto-del-webhook-de-prueba"
TOO_BIG_ID = 2**63
LARGEST_ID = 2**31 - 1  # row ids are 32-bit on PostgreSQL


@pytest.fixture
async def door(
    loaded_db: Database,
    settings: Settings,
    fake_telegram: FakeTelegram,
    fake_whatsapp: FakeWhatsApp,
) -> AsyncIterator[ChannelClient]:
    """The app with both messaging channels switched on, posted to in process."""
    configured = with_telegram(
        with_whatsapp(settings, fake_whatsapp, APP_SECRET), fake_telegram, TG_SECRET
    )
    app = create_app(configured, loaded_db, "k")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        door = ChannelClient(client, app)
        yield door
    await door.close()


async def post_whatsapp(door: ChannelClient, body: bytes) -> httpx.Response:
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": wa_signature(body, APP_SECRET),
    }
    return await door.client.post("/whatsapp/webhook", content=body, headers=headers)


async def post_telegram(door: ChannelClient, body: bytes) -> httpx.Response:
    return await door.client.post(
        "/telegram/webhook", content=body, headers=tg_webhook_headers(TG_SECRET)
    )


async def stored(db: Database) -> int:
    """Everything a refused request could have left behind."""
    async with db.transaction() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(table))
            for table in (InboxItem, Message, ChannelIdentity)
        ]
    return sum(c or 0 for c in counts)


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()


def nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


# --- WhatsApp: every shape the webhook does not read is refused -----------------------------

Mutation = Callable[[dict[str, Any]], Any]


def _value(body: dict[str, Any]) -> dict[str, Any]:
    return body["entry"][0]["changes"][0]["value"]


def _set(path: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any) -> Mutation:
    def mutate(body: dict[str, Any]) -> Any:
        path(body)[key] = value
        return body

    return mutate


def _message(body: dict[str, Any]) -> dict[str, Any]:
    return _value(body)["messages"][0]


WHATSAPP_SHAPES: dict[str, Mutation] = {
    "entry is a number": lambda b: {"entry": 5},
    "entry is null": lambda b: {"entry": None},
    "entry holds a number": lambda b: {"entry": [5]},
    "changes is a number": lambda b: {"entry": [{"changes": 5}]},
    "changes hold a string": lambda b: {"entry": [{"changes": ["x"]}]},
    "value is a number": lambda b: {"entry": [{"changes": [{"value": 5}]}]},
    "messages is an object": _set(_value, "messages", {"id": "x"}),
    "messages hold a number": _set(_value, "messages", [5]),
    "contacts is a string": _set(_value, "contacts", "María"),
    "profile is a number": _set(_value, "contacts", [{"wa_id": WA_ID, "profile": 5}]),
    "statuses hold a list": _set(_value, "statuses", [[]]),
    "status errors is a number": _set(
        _value, "statuses", [{"id": "wamid.x", "status": "failed", "errors": 5}]
    ),
    "status longer than its column": _set(_value, "statuses", [{"id": "x", "status": "x" * 50}]),
    "sender is a number": _set(_message, "from", 5215512345678),
    "message id longer than its column": _set(_message, "id", "wamid." + "x" * 300),
    "text is a string": _set(_message, "text", "hola"),
    "text body is a list": _set(_message, "text", {"body": ["hola"]}),
    "interactive reply is a list": lambda b: _set(_message, "type", "interactive")(
        _set(_message, "interactive", {"type": "button_reply", "button_reply": []})(b)
    ),
    "body is an array": lambda b: [b],
    "body is a string": lambda b: "hola",
    "body is null": lambda b: None,
}


@pytest.mark.parametrize("mutate", WHATSAPP_SHAPES.values(), ids=WHATSAPP_SHAPES.keys())
async def test_a_signed_whatsapp_body_of_another_shape_is_refused_and_nothing_stored(
    door: ChannelClient, loaded_db: Database, caplog: pytest.LogCaptureFixture, mutate: Mutation
) -> None:
    body = as_json(mutate(wa_text(WA_ID, "hola")))
    response = await post_whatsapp(door, body)
    assert response.status_code == 400, response.text
    assert any("malformed whatsapp webhook refused" in m for m in refusals(caplog))
    assert await stored(loaded_db) == 0


@pytest.mark.parametrize(
    ("latitude", "longitude"), [("norte", -101.2), (91.0, -101.2), (21.1, 1e308), (None, 0)]
)
async def test_a_location_off_the_globe_is_refused(
    door: ChannelClient, loaded_db: Database, latitude: Any, longitude: Any
) -> None:
    body = wa_location(21.12, -101.68)
    _message(body)["location"].update(latitude=latitude, longitude=longitude)
    assert (await post_whatsapp(door, as_json(body))).status_code == 400
    assert await stored(loaded_db) == 0


async def test_shapes_whatsapp_really_sends_are_taken(
    door: ChannelClient, loaded_db: Database
) -> None:
    """The model refuses only what the code cannot read: fields it does not read, types it
    does not know and statuses pass."""
    text = wa_text(WA_ID, "hola")
    _message(text)["context"] = {"from": "525580001234", "id": "wamid.anterior"}
    _value(text)["unknown_field"] = {"nested": [1, 2, {"x": None}]}
    bodies = [
        text,
        wa_reaction("wamid.y"),
        wa_unknown(unsupported_type="poll"),
        wa_location(21.12, -101.68),
        wa_status("wamid.z", "failed", errors=[131051]),
    ]
    for body in bodies:
        response = await post_whatsapp(door, as_json(body))
        assert response.status_code == 200, response.text
    async with loaded_db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(InboxItem)) == 4


# --- Telegram: what aiogram would not read is refused at the door --------------------------


def _tg_message(update: dict[str, Any]) -> dict[str, Any]:
    return update["message"]


TELEGRAM_SHAPES: dict[str, Mutation] = {
    "no update_id": lambda u: {k: v for k, v in u.items() if k != "update_id"},
    "update_id is text": _set(lambda u: u, "update_id", "uno"),
    "update_id past 64 bits": _set(lambda u: u, "update_id", TOO_BIG_ID),
    "message without a date": lambda u: {**u, "message": {**u["message"], "date": None}},
    "message without an id": lambda u: {
        **u,
        "message": {k: v for k, v in u["message"].items() if k != "message_id"},
    },
    "chat is a number": _set(_tg_message, "chat", 5),
    "chat id past 64 bits": _set(_tg_message, "chat", {"id": -(2**64), "type": "private"}),
    "text is a list": _set(_tg_message, "text", ["hola"]),
    "from without a first name": _set(_tg_message, "from", {"id": 1, "is_bot": False}),
    "body is an array": lambda u: [u],
    "body is a number": lambda u: 7,
}


@pytest.mark.parametrize("mutate", TELEGRAM_SHAPES.values(), ids=TELEGRAM_SHAPES.keys())
async def test_a_telegram_update_the_bot_could_not_read_is_refused_and_nothing_stored(
    door: ChannelClient, loaded_db: Database, caplog: pytest.LogCaptureFixture, mutate: Mutation
) -> None:
    body = as_json(mutate(tg_text(1, TG_CHAT_ID, "hola")))
    response = await post_telegram(door, body)
    assert response.status_code == 400, response.text
    assert any("malformed telegram update refused" in m for m in refusals(caplog))
    assert await stored(loaded_db) == 0


async def test_a_callback_without_its_user_is_refused(
    door: ChannelClient, loaded_db: Database
) -> None:
    update = tg_callback(2, TG_CHAT_ID, "menu:ask", 10)
    del update["callback_query"]["from"]
    assert (await post_telegram(door, as_json(update))).status_code == 400
    assert await stored(loaded_db) == 0


# --- Encodings: text no database can store, bytes that are not UTF-8 ----------------------

UNSTORABLE = {"NUL": "hola\u0000mundo", "lone surrogate": "hola \ud800", "low surrogate": "\udc00"}


@pytest.mark.parametrize("text", UNSTORABLE.values(), ids=UNSTORABLE.keys())
async def test_text_a_database_cannot_store_is_refused_on_every_channel(
    door: ChannelClient, loaded_db: Database, text: str
) -> None:
    whatsapp = await post_whatsapp(door, as_json(wa_text(WA_ID, text)))
    telegram = await post_telegram(door, as_json(tg_text(3, TG_CHAT_ID, text)))
    unknown_field = tg_text(4, TG_CHAT_ID, "hola")
    unknown_field["message"]["extra"] = {text: text}
    telegram_extra = await post_telegram(door, as_json(unknown_field))
    chat = await WebChat.open(door.client)
    web = await door.client.post(
        "/api/chat/messages",
        content=as_json({"session": chat.session, "text": text}),  # escaped: \\ud800
        headers={"Content-Type": "application/json"},
    )
    assert (whatsapp.status_code, telegram.status_code, telegram_extra.status_code) == (400,) * 3
    assert web.status_code == 422
    assert await stored(loaded_db) == 0


BAD_BYTES = {
    "latin-1, not UTF-8": '{"text": "canción"}'.encode("latin-1"),
    "an array": b"[1, 2]",
    "truncated": b'{"update_id": 1, "message": {',
    "not JSON": b"update_id=1&text=hola",
    "a number of 5,000 digits": b'{"update_id": ' + b"9" * 5000 + b"}",
    "empty": b"",
}


@pytest.mark.parametrize("body", BAD_BYTES.values(), ids=BAD_BYTES.keys())
async def test_bytes_that_are_not_a_json_object_are_refused(
    door: ChannelClient, loaded_db: Database, body: bytes
) -> None:
    assert (await post_whatsapp(door, body)).status_code == 400
    assert (await post_telegram(door, body)).status_code == 400
    web = await door.client.post(
        "/api/chat/messages", content=body, headers={"Content-Type": "application/json"}
    )
    assert web.status_code in (400, 422)
    assert await stored(loaded_db) == 0


# --- Depth ----------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
async def test_json_nested_too_deep_is_refused_on_every_json_route(
    door: ChannelClient, loaded_db: Database, caplog: pytest.LogCaptureFixture, depth: int
) -> None:
    """Past `json_max_depth` (32) a body is refused as it streams: no parser recurses into
    it. 1,000 deep used to be a RecursionError and a 500."""
    deep = b"[" * depth + b"]" * depth
    signed_body = wa_text(WA_ID, "hola")
    signed_body["extra"] = "PLACEHOLDER"
    whatsapp = as_json(signed_body).replace(b'"PLACEHOLDER"', deep)
    update = as_json({**tg_text(5, TG_CHAT_ID, "hola"), "extra": "PLACEHOLDER"})
    telegram = update.replace(b'"PLACEHOLDER"', deep)
    web = b'{"session": "' + b"s" * 43 + b'", "text": "hola", "x": ' + deep + b"}"
    responses = [
        await post_whatsapp(door, whatsapp),
        await post_telegram(door, telegram),
        await door.client.post(
            "/api/chat/messages", content=web, headers={"Content-Type": "application/json"}
        ),
    ]
    # Past the chat's 16 KB, a very deep body is refused for its size first.
    expected = [400, 400, 413 if len(web) > 16_384 else 400]
    assert [r.status_code for r in responses] == expected
    assert sum("refused POST" in m for m in refusals(caplog)) == 3
    assert await stored(loaded_db) == 0


async def test_nesting_within_the_limit_and_brackets_inside_strings_pass(
    door: ChannelClient, loaded_db: Database
) -> None:
    body = wa_text(WA_ID, "[[[[{{{{ " * 40)  # brackets in text do not nest anything
    body["extra"] = nested(20)  # the body reaches 21 levels, under 32
    assert (await post_whatsapp(door, as_json(body))).status_code == 200


# --- Sizes and types ------------------------------------------------------------------------


async def test_bodies_over_their_route_limit_are_refused_announced_or_streamed(
    door: ChannelClient, loaded_db: Database
) -> None:
    webhook = b'{"entry": "' + b"a" * 1_048_576 + b'"}'
    chat = b'{"text": "' + b"a" * 16_384 + b'"}'

    async def chunks(body: bytes) -> AsyncIterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    json_type = {"Content-Type": "application/json"}
    announced = [
        await post_whatsapp(door, webhook),
        await post_telegram(door, webhook),
        await door.client.post("/api/chat/messages", content=chat, headers=json_type),
    ]
    signature = {"X-Hub-Signature-256": wa_signature(webhook, APP_SECRET), **json_type}
    streamed = [
        await door.client.post("/whatsapp/webhook", content=chunks(webhook), headers=signature),
        await door.client.post("/api/chat/messages", content=chunks(chat), headers=json_type),
    ]
    assert [r.status_code for r in announced + streamed] == [413] * 5
    assert await stored(loaded_db) == 0


CONTENT_TYPES = {
    "text/plain": "text/plain",
    "form": "application/x-www-form-urlencoded",
    "xml": "application/xml",
    "none": None,
}


@pytest.mark.parametrize("content_type", CONTENT_TYPES.values(), ids=CONTENT_TYPES.keys())
async def test_a_body_that_is_not_json_is_refused_on_json_routes(
    door: ChannelClient, loaded_db: Database, content_type: str | None
) -> None:
    body = as_json(wa_text(WA_ID, "hola"))
    headers = {"X-Hub-Signature-256": wa_signature(body, APP_SECRET)}
    if content_type:
        headers["Content-Type"] = content_type
    whatsapp = await door.client.post("/whatsapp/webhook", content=body, headers=headers)
    telegram_headers = {**tg_webhook_headers(TG_SECRET), "Content-Type": content_type or ""}
    telegram = await door.client.post("/telegram/webhook", content=body, headers=telegram_headers)
    chat = await door.client.post("/api/chat/sessions", content=b"x", headers=headers)
    assert [whatsapp.status_code, telegram.status_code, chat.status_code] == [415] * 3
    assert await stored(loaded_db) == 0


async def test_a_back_office_form_of_another_type_is_refused(door: ChannelClient) -> None:
    response = await door.client.post(
        "/backoffice/login", content=b"<login/>", headers={"Content-Type": "application/xml"}
    )
    assert response.status_code == 415


# --- Digits and numbers ---------------------------------------------------------------------

DIGITS = {"superscript two": "²", "circled one": "①", "Arabic-Indic three": "٣", "long": "1" * 5000}


@pytest.mark.parametrize("text", DIGITS.values(), ids=DIGITS.keys())
async def test_digits_that_are_not_ascii_are_read_as_text_at_a_menu(
    client: httpx.AsyncClient, text: str
) -> None:
    """ "²".isdigit() is true and int("²") fails: these were a 500 on the web chat."""
    chat = await WebChat.open(client)
    assert texts.t("menu.prompt") in joined(await chat.say("hola"))
    reply = joined(await chat.say(text))
    assert reply and texts.t("input.failed") not in reply


async def test_unicode_digits_over_whatsapp_are_answered_once_never_retried(
    door: ChannelClient, loaded_db: Database
) -> None:
    for n, text in enumerate(["hola", "²", "①"]):
        body = as_json(wa_text(WA_ID, text, message_id=f"wamid.digits{n}"))
        assert (await post_whatsapp(door, body)).status_code == 200
    await door.handle()
    async with loaded_db.transaction() as session:
        items = list(await session.scalars(select(InboxItem)))
    assert [(i.processed_at is not None, i.attempts, i.failed) for i in items] == [
        (True, 0, False)
    ] * 3


FEEDBACK_IDS = {
    "superscript two": "²",
    "circled one": "①",
    "Arabic-Indic twelve": "١٢",
    "past a row id": str(LARGEST_ID + 1),
    "long": "9" * 5000,
}


@pytest.mark.parametrize("raw_id", FEEDBACK_IDS.values(), ids=FEEDBACK_IDS.keys())
async def test_a_usefulness_button_with_an_id_that_is_not_one_gets_a_polite_reply(
    client: httpx.AsyncClient, raw_id: str
) -> None:
    """The button value is `useful:yes:<feedback id>`; a typed one reaches the same code."""
    chat = await WebChat.open(client)
    await chat.say("hola")
    reply = joined(await chat.say(f"useful:yes:{raw_id}"))
    assert texts.t("fallback") in reply and texts.t("input.failed") not in reply


CONTENT_LENGTHS = {
    "superscript two": "²".encode("latin-1"),  # a header is Latin-1: "²" is one byte
    "circled one": "①".encode(),
    "Arabic-Indic twelve": "١٢".encode(),
}


@pytest.mark.parametrize("length", CONTENT_LENGTHS.values(), ids=CONTENT_LENGTHS.keys())
async def test_a_content_length_of_other_digits_is_not_a_server_error(
    door: ChannelClient, length: bytes
) -> None:
    response = await door.client.post(
        "/api/chat/messages",
        content=b'{"text": "hola"}',
        headers={"Content-Type": "application/json", "Content-Length": length},
    )
    assert 400 <= response.status_code < 500


AFTER = {
    "2^63": str(TOO_BIG_ID),
    "past a row id": str(LARGEST_ID + 1),
    "negative": "-1",
    "not a number": "uno",
    "superscript": "²",
}


@pytest.mark.parametrize("after", AFTER.values(), ids=AFTER.keys())
async def test_the_chat_cursor_is_bounded(client: httpx.AsyncClient, after: str) -> None:
    chat = await WebChat.open(client)
    polled = await client.get(
        "/api/chat/messages", params={"session": chat.session, "after": after}
    )
    sent = await client.post(
        "/api/chat/messages",
        content=b'{"session": "%s", "text": "hola", "after": %s}'
        % (chat.session.encode(), after.encode()),
        headers={"Content-Type": "application/json"},
    )
    assert (polled.status_code, sent.status_code) == (422, 422)


async def test_the_largest_cursor_is_answered(client: httpx.AsyncClient) -> None:
    chat = await WebChat.open(client)
    await chat.say("hola")
    params = {"session": chat.session, "after": str(LARGEST_ID)}
    polled = await client.get("/api/chat/messages", params=params)
    assert polled.status_code == 200 and polled.json() == {"messages": []}


ID_ROUTES = [
    ("GET", "/backoffice/canalizaciones/{id}", None),
    ("POST", "/backoffice/canalizaciones/{id}/tomar", None),
    ("POST", "/backoffice/canalizaciones/{id}/cerrar", None),
    ("POST", "/backoffice/envios/{id}/reintentar", None),
    ("POST", "/backoffice/envios/recibidos/{id}/reintentar", None),
    ("GET", "/backoffice/indicadores/{id}", None),
    ("POST", "/backoffice/indicadores/{id}/eliminar", None),
    ("POST", "/backoffice/tokens/{id}/revocar", None),
    ("GET", "/backoffice/usuarios/{id}", None),
    ("POST", "/backoffice/usuarios/{id}/activo", {"active": "false"}),
    ("GET", "/backoffice/catalogo/tramites/pago-predial/versiones/{id}", None),
]


@pytest.mark.parametrize(
    ("method", "path", "form"), ID_ROUTES, ids=[f"{m} {p}" for m, p, _ in ID_ROUTES]
)
async def test_path_ids_past_a_row_id_are_refused_and_the_largest_is_not_found(
    client: httpx.AsyncClient,
    staff_of_every_role: dict[str, str],
    method: str,
    path: str,
    form: dict[str, str] | None,
) -> None:
    await login(client, staff_of_every_role["admin"])
    refused = [TOO_BIG_ID, LARGEST_ID + 1, 0, -1]
    for number in refused:
        response = await client.request(method, path.format(id=number), data=form)
        assert response.status_code == 422, number
    largest = await client.request(method, path.format(id=LARGEST_ID), data=form)
    assert largest.status_code == 404


async def test_numbers_typed_into_filters_are_read_only_when_they_fit(
    client: httpx.AsyncClient, staff_of_every_role: dict[str, str]
) -> None:
    await login(client, staff_of_every_role["admin"])
    for usuario in ("²", "9" * 40, str(TOO_BIG_ID), "-1"):
        page = await client.get("/backoffice/auditoria", params={"usuario": usuario})
        assert page.status_code == 200, usuario
    for pagina in (str(10**30), "0", "²"):
        page = await client.get("/backoffice/auditoria", params={"pagina": pagina})
        assert page.status_code == 422, pagina


async def test_one_unreadable_message_refuses_the_whole_body(
    door: ChannelClient, loaded_db: Database
) -> None:
    """Nothing of a refused body is stored, even its readable part."""
    body = wa_text(WA_ID, "hola")
    second = deepcopy(_message(body))
    second["id"], second["text"] = "wamid.otro", 5
    _value(body)["messages"].append(second)
    assert (await post_whatsapp(door, as_json(body))).status_code == 400
    assert await stored(loaded_db) == 0


async def test_a_whatsapp_message_the_bot_fails_on_is_answered_once_and_never_retried(
    door: ChannelClient, loaded_db: Database, fake_whatsapp: FakeWhatsApp
) -> None:
    """No poison loop: the chat gets an apology at once instead of five tries while it
    waits, and its next message is answered."""
    assert (await post_whatsapp(door, as_json(wa_text(WA_ID, "hola")))).status_code == 200
    await door.deliver()
    await break_conversation(loaded_db, "whatsapp", WA_ID)
    body = as_json(wa_text(WA_ID, "requisitos del acta de nacimiento", message_id="wamid.roto"))
    assert (await post_whatsapp(door, body)).status_code == 200
    await door.deliver()
    async with loaded_db.transaction() as session:
        item = await session.scalar(select(InboxItem).where(InboxItem.external_id == "wamid.roto"))
    assert item is not None and item.processed_at is not None
    assert (item.attempts, item.failed) == (0, False)
    sent = [m["interactive"]["body"]["text"] for m in fake_whatsapp.sent() if "interactive" in m]
    assert sent[-1] == texts.t("input.failed")
