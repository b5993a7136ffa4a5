"""The network-edge fakes answer like the real Telegram Bot API and WhatsApp Cloud API."""

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes import payloads as p
from tests.fakes.telegram import FakeTelegram
from tests.fakes.whatsapp import FakeWhatsApp

# One keep-alive client for the module, as the project's pooled clients would use.
http = httpx.Client(timeout=5)


@pytest.fixture(autouse=True, scope="module")
def _close_client() -> Iterator[None]:
    yield
    http.close()


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def wa() -> Iterator[FakeWhatsApp]:
    with FakeWhatsApp() as fake:
        yield fake


def call(tg: FakeTelegram, method: str, **params: Any) -> httpx.Response:
    return http.post(f"{tg.api_url}/{method}", json=params)


def keyboard(*data: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": d.title(), "callback_data": d} for d in data]]}


# ---- Telegram --------------------------------------------------------------------------------


def test_telegram_refuses_a_wrong_token_and_an_unknown_method(tg: FakeTelegram) -> None:
    wrong = http.post(f"{tg.base_url}/bot123:nope/sendMessage")
    unknown = call(tg, "sendTelepathy", chat_id=1)

    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert unknown.status_code == 404
    assert unknown.json()["description"] == "Not Found: method not found"
    assert [c.status for c in tg.calls] == [401, 404]


def test_send_message_round_trip_is_recorded_in_order(tg: FakeTelegram) -> None:
    first = call(tg, "sendMessage", chat_id=42, text="Hola", reply_markup=keyboard("sí", "no"))
    second = http.post(
        f"{tg.api_url}/sendMessage",
        data={"chat_id": "42", "text": "¿Algo más?", "reply_markup": '{"remove_keyboard":true}'},
    )
    call(tg, "sendMessage", chat_id=7, text="Otro chat")

    message = first.json()["result"]
    assert message["chat"] == {"id": 42, "type": "private"}
    assert message["text"] == "Hola"
    assert message["reply_markup"] == keyboard("sí", "no")
    assert message["from"]["is_bot"] is True
    assert second.json()["result"]["message_id"] == message["message_id"] + 1
    assert "reply_markup" not in second.json()["result"]  # only inline keyboards are echoed
    assert [m["text"] for m in tg.sent_messages(chat_id=42)] == ["Hola", "¿Algo más?"]
    assert tg.sent_messages(chat_id=42)[1]["reply_markup"] == {"remove_keyboard": True}
    assert len(tg.sent_messages()) == 3


def test_send_message_enforces_telegram_limits(tg: FakeTelegram) -> None:
    longest = call(tg, "sendMessage", chat_id=1, text="a" * 4096)
    too_long = call(tg, "sendMessage", chat_id=1, text="a" * 4097)
    empty = call(tg, "sendMessage", chat_id=1, text="")
    bad_data = call(tg, "sendMessage", chat_id=1, text="x", reply_markup=keyboard("x" * 65))
    bad_html = call(tg, "sendMessage", chat_id=1, text="1 < 2", parse_mode="HTML")
    bad_md = call(tg, "sendMessage", chat_id=1, text="Folio 12.", parse_mode="MarkdownV2")

    assert longest.status_code == 200
    assert too_long.status_code == 400
    assert too_long.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message is too long",
    }
    assert empty.json()["description"] == "Bad Request: message text is empty"
    assert bad_data.json()["description"] == "Bad Request: BUTTON_DATA_INVALID"
    assert "can't parse entities" in bad_html.json()["description"]
    assert "Character '.' is reserved" in bad_md.json()["description"]
    assert len(tg.sent_messages()) == 1


def test_scripted_rate_limit_then_success(tg: FakeTelegram) -> None:
    tg.rate_limit_next("sendMessage", retry_after=3)

    limited = call(tg, "sendMessage", chat_id=5, text="Hola")
    sent = call(tg, "sendMessage", chat_id=5, text="Hola")

    assert limited.status_code == 429
    assert limited.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert sent.status_code == 200
    assert len(tg.calls_to("sendMessage")) == 2
    assert len(tg.sent_messages(chat_id=5)) == 1


def test_scripted_server_errors_and_delays(tg: FakeTelegram) -> None:
    tg.fail_next("sendMessage", 502, times=2)
    tg.fail_next("sendMessage", delay=0.3)
    tg.fail_next("sendMessage", 403)

    errors = [call(tg, "sendMessage", chat_id=5, text="x") for _ in range(2)]
    with pytest.raises(httpx.ReadTimeout):
        http.post(f"{tg.api_url}/sendMessage", json={"chat_id": 5, "text": "x"}, timeout=0.1)
    blocked = call(tg, "sendMessage", chat_id=5, text="x")

    assert [r.status_code for r in errors] == [502, 502]
    assert errors[0].json() == {"ok": False, "error_code": 502, "description": "Bad Gateway"}
    assert blocked.json()["description"] == "Forbidden: bot was blocked by the user"
    # The client gave up, but the delayed send still goes through -- as on the real API.
    deadline = time.monotonic() + 2
    while len(tg.sent_messages()) < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(tg.sent_messages()) == 1


def test_get_updates_long_polls_and_honours_offset(tg: FakeTelegram) -> None:
    threading.Timer(0.2, tg.queue_update, [p.tg_text(500, 42, "hola")]).start()
    started = time.monotonic()

    polled = http.post(f"{tg.api_url}/getUpdates", json={"timeout": 30}).json()
    waited = time.monotonic() - started

    assert 0.1 < waited < 1.5
    assert [u["update_id"] for u in polled["result"]] == [500]
    tg.queue_update(p.tg_text(501, 42, "otra"))
    tg.queue_update(p.tg_command("/ayuda", update_id=502, chat_id=42))
    again = call(tg, "getUpdates", offset=501).json()["result"]
    assert [u["update_id"] for u in again] == [501, 502]
    assert [u["update_id"] for u in tg.pending_updates()] == [501, 502]  # 500 confirmed
    limited = call(tg, "getUpdates", offset=501, limit=1).json()["result"]
    assert [u["update_id"] for u in limited] == [501]
    assert call(tg, "getUpdates", offset=503).json()["result"] == []
    assert tg.pending_updates() == []


def test_long_poll_does_not_block_other_calls(tg: FakeTelegram) -> None:
    poll = threading.Thread(target=call, args=(tg, "getUpdates"), kwargs={"timeout": 2})
    poll.start()
    time.sleep(0.05)
    started = time.monotonic()

    sent = call(tg, "sendMessage", chat_id=1, text="mientras tanto")

    assert sent.status_code == 200
    assert time.monotonic() - started < 0.5
    tg.queue_update(p.tg_text(1, 1, "fin"))  # ends the long poll
    poll.join()
    assert tg.calls_to("getUpdates")[0].response["result"][0]["update_id"] == 1


def test_webhook_settings_are_stored_and_block_get_updates(tg: FakeTelegram) -> None:
    tg.queue_update(p.tg_text(1, 42, "vieja"))
    set_ = call(
        tg,
        "setWebhook",
        url="https://ventanilla.example.mx/telegram/webhook",
        secret_token="s3cr3t_token-1",
        allowed_updates=["message", "callback_query"],
        drop_pending_updates=True,
    )
    stored = tg.webhook
    pending = tg.pending_updates()
    conflict = call(tg, "getUpdates")
    deleted = call(tg, "deleteWebhook")

    assert set_.json() == {"ok": True, "result": True, "description": "Webhook was set"}
    assert stored.secret_token == "s3cr3t_token-1"
    assert stored.allowed_updates == ["message", "callback_query"]
    assert stored.url == "https://ventanilla.example.mx/telegram/webhook"
    assert pending == []  # dropped
    assert conflict.status_code == 409
    assert deleted.json()["description"] == "Webhook was deleted"
    assert call(tg, "setWebhook", url="http://insecure.example").status_code == 400


def test_buttons_and_callback_answers(tg: FakeTelegram) -> None:
    sent = call(tg, "sendMessage", chat_id=9, text="Elige", reply_markup=keyboard("a")).json()
    answered = call(tg, "answerCallbackQuery", callback_query_id="4382000000000000001")
    no_id = call(tg, "answerCallbackQuery")

    assert sent["result"]["reply_markup"] == keyboard("a")
    assert answered.json() == {"ok": True, "result": True}
    assert no_id.status_code == 400


def test_telegram_methods_the_product_never_calls_are_unknown(tg: FakeTelegram) -> None:
    """The fake speaks only what Ventanilla uses: a new call in the product fails its tests
    until the fake learns it, instead of passing against a guess."""
    for method in ("getMe", "editMessageText", "getFile", "sendChatAction"):
        assert call(tg, method, chat_id=9).status_code == 404


# ---- WhatsApp --------------------------------------------------------------------------------


def send(wa: FakeWhatsApp, body: dict[str, Any], token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token or wa.token}"}
    return http.post(wa.messages_url, json=body, headers=headers)


def text(to: str, body: str = "Hola") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"preview_url": False, "body": body},
    }


def buttons(*titles: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": p.WA_ID,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "¿Te ayudó la respuesta?"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": f"b{i}", "title": t}}
                    for i, t in enumerate(titles)
                ]
            },
        },
    }


def a_list(*row_titles: str) -> dict[str, Any]:
    rows = [{"id": f"r{i}", "title": t} for i, t in enumerate(row_titles)]
    return {
        "messaging_product": "whatsapp",
        "to": p.WA_ID,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "Elige un trámite"},
            "action": {"button": "Ver trámites", "sections": [{"title": "Trámites", "rows": rows}]},
        },
    }


def test_whatsapp_requires_the_bearer_token(wa: FakeWhatsApp) -> None:
    wrong = send(wa, text(p.WA_ID), token="EAAnope")
    missing = http.post(wa.messages_url, json=text(p.WA_ID))

    for response in (wrong, missing):
        assert response.status_code == 401
        error = response.json()["error"]
        assert error["code"] == 190
        assert error["type"] == "OAuthException"
        assert error["message"] == "Invalid OAuth access token."
        assert error["fbtrace_id"]
    assert wa.sent() == []


def test_whatsapp_text_round_trip(wa: FakeWhatsApp) -> None:
    first = send(wa, text("+52 1 55 1234 5678", "Hola"))
    second = send(wa, text(p.WA_ID, "Adiós"))

    answer = first.json()
    assert answer["messaging_product"] == "whatsapp"
    assert answer["contacts"] == [{"input": "+52 1 55 1234 5678", "wa_id": "5215512345678"}]
    assert answer["messages"][0]["id"].startswith("wamid.")
    assert second.json()["messages"][0]["id"] != answer["messages"][0]["id"]
    assert [b["text"]["body"] for b in wa.sent()] == ["Hola", "Adiós"]
    assert [b["text"]["body"] for b in wa.sent(to=p.WA_ID)] == ["Adiós"]


def test_whatsapp_refuses_malformed_bodies(wa: FakeWhatsApp) -> None:
    body = text(p.WA_ID)
    no_product = send(wa, {k: v for k, v in body.items() if k != "messaging_product"})
    no_to = send(wa, {k: v for k, v in body.items() if k != "to"})
    no_type = send(wa, {k: v for k, v in body.items() if k != "type"})
    too_long = send(wa, text(p.WA_ID, "a" * 4097))
    elsewhere = http.post(
        wa.messages_url.replace(wa.phone_number_id, "999"),
        json=body,
        headers={"Authorization": f"Bearer {wa.token}"},
    )

    for response in (no_product, no_to, no_type, too_long, elsewhere):
        assert response.status_code == 400
        assert response.json()["error"]["code"] == 100
    assert "messaging_product" in no_product.json()["error"]["message"]
    assert elsewhere.json()["error"]["type"] == "GraphMethodException"


def test_whatsapp_enforces_button_and_list_limits(wa: FakeWhatsApp) -> None:
    ok_buttons = send(wa, buttons("Sí", "No", "Hablar con alguien"))
    four = send(wa, buttons("1", "2", "3", "4"))
    long_title = send(wa, buttons("Un título demasiado largo"))
    ok_list = send(wa, a_list(*[f"Trámite {i}" for i in range(10)]))
    eleven = send(wa, a_list(*[f"Trámite {i}" for i in range(11)]))
    long_row = send(wa, a_list("Licencia de funcionamiento"))

    assert ok_buttons.status_code == 200
    assert ok_list.status_code == 200
    for response in (four, long_title, eleven, long_row):
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == 131009
        assert error["message"] == "(#131009) Parameter value is not valid"
    assert "Max length: 20" in long_title.json()["error"]["error_data"]["details"]
    assert "Max length: 24" in long_row.json()["error"]["error_data"]["details"]
    assert len(wa.sent()) == 2


def test_whatsapp_templates_and_read_receipts(wa: FakeWhatsApp) -> None:
    template = {
        "messaging_product": "whatsapp",
        "to": p.WA_ID,
        "type": "template",
        "template": {"name": "seguimiento_folio", "language": {"code": "es_MX"}, "components": []},
    }
    wa.rate_limit_next()  # scripts sends only: the read receipt below is not affected

    read = send(wa, {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X"})
    limited = send(wa, template)
    accepted = send(wa, template)

    assert read.json() == {"success": True}
    assert wa.marked_read() == ["wamid.X"]
    assert limited.status_code == 429
    assert accepted.json()["messages"][0]["message_status"] == "accepted"
    assert wa.sent() == [template]


def test_whatsapp_scripted_graph_errors(wa: FakeWhatsApp) -> None:
    wa.rate_limit_next()
    wa.rate_limit_next(status=400)
    wa.pair_rate_limit_next()
    wa.reengagement_next()
    wa.fail_next(503)
    wa.fail_next(delay=0.2)

    answers = [send(wa, text(p.WA_ID)) for _ in range(5)]
    with pytest.raises(httpx.ReadTimeout):
        http.post(
            wa.messages_url,
            json=text(p.WA_ID),
            headers={"Authorization": f"Bearer {wa.token}"},
            timeout=0.1,
        )
    after = send(wa, text(p.WA_ID))

    assert [a.status_code for a in answers] == [429, 400, 429, 400, 503]
    errors = [a.json()["error"] for a in answers]
    assert [e["code"] for e in errors] == [130429, 130429, 131056, 131047, 131016]
    assert errors[0]["message"] == "(#130429) Rate limit hit"
    assert errors[0]["error_data"]["messaging_product"] == "whatsapp"
    assert "pair rate limit hit" in errors[2]["message"]
    assert "24 hours" in errors[3]["error_data"]["details"]
    assert after.status_code == 200


def test_whatsapp_media_lookup_and_download(wa: FakeWhatsApp) -> None:
    wa.add_media("1234567890", b"OggS-voice", "audio/ogg")
    auth = {"Authorization": f"Bearer {wa.token}"}

    info = http.get(f"{wa.base_url}/v21.0/1234567890", headers=auth).json()
    content = http.get(info["url"], headers=auth)

    assert info["mime_type"] == "audio/ogg"
    assert info["sha256"] == hashlib.sha256(b"OggS-voice").hexdigest()
    assert content.content == b"OggS-voice"
    assert http.get(info["url"]).status_code == 401


# ---- payloads --------------------------------------------------------------------------------


def test_signature_helper_equals_the_hmac_reference() -> None:
    body, headers = p.wa_signed(p.wa_text(p.WA_ID, "Hola"), "app-secret")
    reference = hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()

    assert p.wa_signature(body, "app-secret") == f"sha256={reference}"
    assert headers[p.WA_SIGNATURE_HEADER] == f"sha256={reference}"


def test_telegram_builders_produce_documented_updates() -> None:
    updates = {
        "text": p.tg_text(1, 42, "hola"),
        "command": p.tg_command("/start", args="folio-123"),
        "callback": p.tg_callback(3, 42, "rate:5", 17),
        "location": p.tg_location(19.4326, -99.1332),
        "photo": p.tg_photo(caption="bache"),
        "voice": p.tg_voice(),
        "sticker": p.tg_sticker(),
    }

    for update in updates.values():
        assert json.loads(json.dumps(update)) == update
        assert isinstance(update["update_id"], int)
    message = updates["text"]["message"]
    assert message["chat"]["type"] == "private"
    assert message["from"]["id"] == message["chat"]["id"] == 42
    assert updates["command"]["message"]["text"] == "/start folio-123"
    assert updates["command"]["message"]["entities"] == [
        {"offset": 0, "length": 6, "type": "bot_command"}
    ]
    query = updates["callback"]["callback_query"]
    assert {"id", "from", "message", "chat_instance", "data"} <= set(query)
    assert query["message"]["message_id"] == 17
    photo = updates["photo"]["message"]["photo"]
    assert {"file_id", "file_unique_id", "width", "height", "file_size"} <= set(photo[0])
    assert photo[-1]["width"] > photo[0]["width"]
    assert updates["voice"]["message"]["voice"]["mime_type"] == "audio/ogg"


def test_whatsapp_builders_produce_documented_webhooks() -> None:
    bodies = {
        "text": p.wa_text(p.WA_ID, "Hola", "wamid.ABC", 1700000000, name="Juan"),
        "button": p.wa_button_reply("rate_5", "Excelente"),
        "location": p.wa_location(19.43, -99.13),
        "sticker": p.wa_sticker(),
        "unknown": p.wa_unknown(),
    }

    for kind, body in bodies.items():
        assert json.loads(json.dumps(body)) == body
        assert body["object"] == "whatsapp_business_account"
        change = body["entry"][0]["changes"][0]
        assert change["field"] == "messages"
        value = change["value"]
        assert value["messaging_product"] == "whatsapp"
        assert set(value["metadata"]) == {"display_phone_number", "phone_number_id"}
        message = value["messages"][0]
        assert {"from", "id", "timestamp", "type"} <= set(message), kind
        assert message["type"] == "unsupported" or message["type"] in message
    text_message = bodies["text"]["entry"][0]["changes"][0]["value"]
    assert text_message["contacts"] == [{"profile": {"name": "Juan"}, "wa_id": p.WA_ID}]
    assert text_message["messages"][0] == {
        "from": p.WA_ID,
        "id": "wamid.ABC",
        "timestamp": "1700000000",
        "type": "text",
        "text": {"body": "Hola"},
    }
    button = bodies["button"]["entry"][0]["changes"][0]["value"]["messages"][0]
    assert button["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "rate_5", "title": "Excelente"},
    }
    assert set(button["context"]) == {"from", "id"}
    unknown = bodies["unknown"]["entry"][0]["changes"][0]["value"]["messages"][0]
    assert unknown["errors"][0]["code"] == 131051
    assert set(bodies["sticker"]["entry"][0]["changes"][0]["value"]["messages"][0]["sticker"]) == {
        "mime_type",
        "sha256",
        "id",
        "animated",
    }


def test_whatsapp_identity_options_follow_the_bsuid_changes() -> None:
    no_contacts = p.wa_text(p.WA_ID, "Hola", with_contacts=False)
    username_only = p.wa_text(p.WA_ID, "Hola", with_wa_id=False, username="@maria")
    both = p.wa_text(p.WA_ID, "Hola", user_id="MX.99")

    assert "contacts" not in no_contacts["entry"][0]["changes"][0]["value"]
    value = username_only["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [
        {"profile": {"name": "María López", "username": "@maria"}, "user_id": p.WA_BSUID}
    ]
    assert "from" not in value["messages"][0]
    assert value["messages"][0]["from_user_id"] == p.WA_BSUID
    value = both["entry"][0]["changes"][0]["value"]
    assert value["contacts"][0]["wa_id"] == p.WA_ID
    assert value["contacts"][0]["user_id"] == "MX.99"
    assert value["messages"][0]["from"] == p.WA_ID
    assert value["messages"][0]["from_user_id"] == "MX.99"


def test_whatsapp_status_builder_follows_the_documented_shapes() -> None:
    def status_of(body: dict[str, Any]) -> dict[str, Any]:
        return body["entry"][0]["changes"][0]["value"]["statuses"][0]

    sent = status_of(p.wa_status("wamid.A", "sent"))
    delivered = status_of(p.wa_status("wamid.A", "delivered"))
    read = status_of(p.wa_status("wamid.A", "read"))
    failed = status_of(p.wa_status("wamid.A", "failed", errors=[131047]))

    assert {"id", "status", "timestamp", "recipient_id", "conversation", "pricing"} <= set(sent)
    assert "expiration_timestamp" in sent["conversation"]
    assert "expiration_timestamp" not in delivered["conversation"]
    assert sent["pricing"]["pricing_model"] == "PMP"
    assert "pricing" not in read and "conversation" not in read
    assert failed["errors"][0]["code"] == 131047
    assert set(failed["errors"][0]) == {"code", "title", "message", "error_data", "href"}
    with pytest.raises(ValueError):
        p.wa_status("wamid.A", "lost")
