"""A fake Telegram Bot API server on 127.0.0.1 speaking the wire format of api.telegram.org.

Requests go to ``{base_url}/bot<token>/<method>`` (GET or POST) with parameters in the query
string, an ``application/json`` body, an ``application/x-www-form-urlencoded`` body or a
``multipart/form-data`` body -- the four ways https://core.telegram.org/bots/api#making-requests
allows. In form bodies, object-valued parameters (``reply_markup``, ``allowed_updates``,
``reply_parameters``) are JSON-serialised strings, as the docs require.

Every answer is the Bot API envelope: ``{"ok": true, "result": ...}`` on success and
``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}`` on failure, with the
HTTP status equal to ``error_code``. Descriptions reuse Telegram's own texts ("Bad Request: message
is too long", "Too Many Requests: retry after 3", "Forbidden: bot was blocked by the user", ...).

Usage::

    with FakeTelegram() as tg:
        settings = Settings(telegram=TelegramSettings(api_base=tg.base_url, token=tg.token))
        tg.rate_limit_next("sendMessage", retry_after=1)
        ...
        assert tg.sent_messages(chat_id=42)[0]["text"] == "Hola"
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import html
import itertools
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.local_server import LocalServer, read_body

DEFAULT_TOKEN = "7123456789:AAF4k3-t0k3n_F0r_V3nt4n1ll4_t3sts00"
LONG_POLL_CAP = 2.0  # seconds; getUpdates never waits longer than this in the fake
MAX_TEXT = 4096  # https://core.telegram.org/bots/api#sendmessage: 1-4096 characters
MAX_CALLBACK_DATA = 64  # InlineKeyboardButton.callback_data: 1-64 bytes

HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
# Characters MarkdownV2 reserves that never start an entity, so an unescaped one is always an
# error outside code spans (https://core.telegram.org/bots/api#markdownv2-style).
MDV2_ALWAYS_ESCAPE = frozenset("#+-={}.!")
INLINE_BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
# Object-valued parameters arrive JSON-serialised in query strings and form bodies.
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "reply_parameters",
        "entities",
        "caption_entities",
        "link_preview_options",
    }
)
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}
METHOD_NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found"}


class TelegramError(Exception):
    """An error answer of the Bot API: HTTP status == error_code."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def bad_request(detail: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {detail}")


@dataclass
class Call:
    """One request the fake received. ``status``/``response`` are filled once it was answered."""

    method: str
    params: dict[str, Any]
    time: float
    http_method: str = "POST"
    status: int | None = None
    response: Any = None


@dataclass
class _Scripted:
    status: int | None
    body: Any
    delay: float


@dataclass
class _Webhook:
    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    max_connections: int = 40
    drop_pending_updates: bool = False
    ip_address: str | None = None


class FakeTelegram(LocalServer):
    """The Bot API at ``base_url`` for one bot ``token``; records calls; scripts failures.

    Thread-safe: the server answers each connection on its own thread (long polls included) and
    every piece of shared state is guarded by one lock.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "ventanilla_pruebas_bot",
        bot_first_name: str = "Ventanilla Municipal",
    ) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 7123456789
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.calls: list[Call] = []
        self.webhook = _Webhook()
        self._lock = threading.Lock()
        self._updates_changed = threading.Condition(self._lock)
        self._scripts: dict[str, deque[_Scripted]] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 100000001
        self._message_ids = itertools.count(1)
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._allowed_updates: list[str] | None = None
        super().__init__()

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """``{base_url}/bot{token}``: the prefix of every method URL."""
        return f"{self.base_url}/bot{self.token}"

    def _wake(self) -> None:
        with self._lock:
            self._updates_changed.notify_all()  # pending long polls

    def reset(self) -> None:
        """Forget calls, scripted failures, queued updates, sent messages and the webhook."""
        with self._lock:
            self.calls.clear()
            self._scripts.clear()
            self._updates.clear()
            self._messages.clear()
            self.webhook = _Webhook()
            self._allowed_updates = None

    # ---- test-side helpers -----------------------------------------------------------------

    def queue_update(self, update: dict[str, Any]) -> int:
        """Queue an Update for getUpdates; assigns ``update_id`` when missing; returns it."""
        with self._lock:
            update = dict(update)
            if "update_id" not in update:
                update["update_id"] = self._next_update_id
            self._next_update_id = max(self._next_update_id, int(update["update_id"])) + 1
            self._updates.append(update)
            self._updates_changed.notify_all()
            return int(update["update_id"])

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates still queued (not yet confirmed by a getUpdates offset)."""
        with self._lock:
            return list(self._updates)

    def fail_next(
        self,
        method: str,
        status: int | None = None,
        body: Any = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Script the next ``times`` calls of ``method``.

        ``status`` (e.g. 429, 500, 502, 403) answers with that HTTP status and ``body`` -- a dict
        sent as JSON, str/bytes sent verbatim (an nginx HTML page, say) or ``None`` for the Bot
        API error envelope with Telegram's usual description. A 429 without body carries
        ``retry_after`` 1. ``delay`` seconds are waited before answering; with ``status=None`` the
        call is then answered normally (use it to provoke client timeouts).
        """
        if status == 429 and body is None:
            body = _rate_limit_body(1)
        with self._lock:
            queue = self._scripts.setdefault(method.lower(), deque())
            for _ in range(times):
                queue.append(_Scripted(status, body, delay))

    def rate_limit_next(self, method: str, retry_after: int, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer 429 "Too Many Requests: retry after N"."""
        self.fail_next(method, 429, _rate_limit_body(retry_after), times=times)

    def calls_to(self, method: str) -> list[Call]:
        """The calls made to one method (case-insensitive), in arrival order."""
        with self._lock:
            return [c for c in self.calls if c.method.lower() == method.lower()]

    def sent_messages(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """Params of the sendMessage calls that succeeded, in order; optionally for one chat."""
        with self._lock:
            return [
                c.params
                for c in self.calls
                if c.method == "sendMessage"
                and c.status == 200
                and (chat_id is None or _same_chat(c.params.get("chat_id"), chat_id))
            ]

    # ---- HTTP plumbing ---------------------------------------------------------------------

    def _serve(self, request: BaseHTTPRequestHandler, http_method: str) -> None:
        raw = read_body(request)
        url = urlsplit(request.path)
        match = re.fullmatch(r"/bot([^/]*)/([A-Za-z0-9_]*)", url.path)
        if not match:
            _respond(request, 404, NOT_FOUND)
            return
        token, method = match.groups()
        handler = METHODS.get(method.lower())
        problem: TelegramError | None = None
        try:
            params = _parse_params(url.query, request.headers.get("Content-Type", ""), raw)
        except TelegramError as exc:
            params, problem = {}, exc
        call = Call(handler[0] if handler else method, params, time.time(), http_method)
        scripted = None
        with self._lock:
            self.calls.append(call)
            if token == self.token and problem is None:
                scripts = self._scripts.get(method.lower())
                scripted = scripts.popleft() if scripts else None
        if token != self.token:
            status, body = 401, UNAUTHORIZED
        elif problem is not None:
            status, body = problem.code, problem.body()
        else:
            status, body = self._answer(handler, params, scripted)
        with self._lock:
            call.status, call.response = status, body
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            _respond(request, status, body)

    def _answer(
        self,
        handler: tuple[str, Any] | None,
        params: dict[str, Any],
        scripted: _Scripted | None,
    ) -> tuple[int, Any]:
        if scripted:
            if scripted.delay:
                self._closing.wait(scripted.delay)
            if scripted.status is not None:
                body = scripted.body
                if body is None:
                    description = DEFAULT_DESCRIPTIONS.get(scripted.status, "Error")
                    body = {"ok": False, "error_code": scripted.status, "description": description}
                return scripted.status, body
        if handler is None:
            return 404, METHOD_NOT_FOUND
        try:
            result, extra = handler[1](self, params)
        except TelegramError as exc:
            return exc.code, exc.body()
        return 200, {"ok": True, "result": result, **extra}

    # ---- state helpers (lock held) ---------------------------------------------------------

    def _new_message(self, chat_id: int | str, **content: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": dict(self.bot_user),
            "chat": _chat(chat_id),
            "date": int(time.time()),
            **content,
        }
        self._messages[(_chat_key(chat_id), message["message_id"])] = message
        return message


# ---- method implementations ------------------------------------------------------------------
# Only the methods Ventanilla calls; any other answers 404 "method not found", so a new call in
# the product fails its tests until the fake learns it.
# Each takes (fake, params) and returns (result, extra top-level fields of the envelope).

Result = tuple[Any, dict[str, Any]]


def _send_message(fake: FakeTelegram, params: dict[str, Any]) -> Result:
    """https://core.telegram.org/bots/api#sendmessage -> Message."""
    chat_id = _require_chat(params)
    text = params.get("text")
    if text is None or str(text) == "":
        raise bad_request("message text is empty")
    text = str(text)
    plain = _check_parse_mode(text, params.get("parse_mode"))
    if not plain.strip():
        raise bad_request("message text is empty")
    if len(plain) > MAX_TEXT:
        raise bad_request("message is too long")
    markup = _check_reply_markup(params.get("reply_markup"))
    with fake._lock:
        content: dict[str, Any] = {"text": plain}
        reply_to = _reply_to_id(params)
        if reply_to is not None:
            original = fake._messages.get((_chat_key(chat_id), reply_to))
            content["reply_to_message"] = original or {
                "message_id": reply_to,
                "chat": _chat(chat_id),
                "date": int(time.time()),
            }
        if markup and "inline_keyboard" in markup:
            # Only inline keyboards belong to the message; reply keyboards are not echoed.
            content["reply_markup"] = markup
        message = fake._new_message(chat_id, **content)
    return message, {}


def _answer_callback_query(fake: FakeTelegram, params: dict[str, Any]) -> Result:
    """https://core.telegram.org/bots/api#answercallbackquery -> True."""
    if not params.get("callback_query_id"):
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    if len(str(params.get("text") or "")) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    return True, {}


def _set_webhook(fake: FakeTelegram, params: dict[str, Any]) -> Result:
    """https://core.telegram.org/bots/api#setwebhook -> True ("Webhook was set")."""
    url = str(params.get("url") or "")
    secret = params.get("secret_token")
    if url and not url.startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
        raise bad_request("secret token contains unallowed characters")
    allowed = params.get("allowed_updates")
    if allowed is not None and not isinstance(allowed, list):
        raise bad_request("can't parse allowed updates")
    drop = _bool_param(params, "drop_pending_updates")
    with fake._lock:
        if not url:
            fake.webhook = _Webhook()
            return True, {"description": "Webhook is already deleted"}
        fake.webhook = _Webhook(
            url=url,
            secret_token=str(secret) if secret is not None else None,
            allowed_updates=allowed,
            max_connections=_int_param(params, "max_connections") or 40,
            drop_pending_updates=drop,
            ip_address=params.get("ip_address"),
        )
        if drop:
            fake._updates.clear()
    return True, {"description": "Webhook was set"}


def _delete_webhook(fake: FakeTelegram, params: dict[str, Any]) -> Result:
    """https://core.telegram.org/bots/api#deletewebhook -> True."""
    with fake._lock:
        had = bool(fake.webhook.url)
        fake.webhook = _Webhook()
        if _bool_param(params, "drop_pending_updates"):
            fake._updates.clear()
    return True, {"description": "Webhook was deleted" if had else "Webhook is already deleted"}


def _get_updates(fake: FakeTelegram, params: dict[str, Any]) -> Result:
    """https://core.telegram.org/bots/api#getupdates -> Array of Update (long polling)."""
    offset = _int_param(params, "offset")
    limit = min(max(_int_param(params, "limit") or 100, 1), 100)
    timeout = min(max(float(_int_param(params, "timeout") or 0), 0.0), LONG_POLL_CAP)
    allowed = params.get("allowed_updates")
    deadline = time.monotonic() + timeout
    with fake._lock:
        if fake.webhook.url:
            raise TelegramError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        if isinstance(allowed, list):
            fake._allowed_updates = allowed or None
        while True:
            if offset is not None and offset < 0:
                fake._updates = fake._updates[offset:]
            elif offset is not None:
                # Confirm: an offset forgets every update with a smaller update_id.
                fake._updates = [u for u in fake._updates if u["update_id"] >= offset]
            wanted = [u for u in fake._updates if _update_allowed(u, fake._allowed_updates)]
            remaining = deadline - time.monotonic()
            if wanted or remaining <= 0 or fake._closing.is_set():
                return json.loads(json.dumps(wanted[:limit])), {}
            fake._updates_changed.wait(remaining)


METHODS: dict[str, tuple[str, Any]] = {
    name.lower(): (name, impl)
    for name, impl in [
        ("sendMessage", _send_message),
        ("answerCallbackQuery", _answer_callback_query),
        ("setWebhook", _set_webhook),
        ("deleteWebhook", _delete_webhook),
        ("getUpdates", _get_updates),
    ]
}


# ---- validation helpers ----------------------------------------------------------------------


def _rate_limit_body(retry_after: int) -> dict[str, Any]:
    return {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {retry_after}",
        "parameters": {"retry_after": retry_after},
    }


def _chat_key(chat_id: Any) -> int | str:
    text = str(chat_id)
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def _same_chat(a: Any, b: Any) -> bool:
    return _chat_key(a) == _chat_key(b)


def _chat(chat_id: int | str) -> dict[str, Any]:
    key = _chat_key(chat_id)
    if isinstance(key, str):
        name = key.lstrip("@")
        return {"id": -1001000000001, "title": name, "username": name, "type": "channel"}
    if key > 0:
        return {"id": key, "type": "private"}
    return {"id": key, "type": "supergroup" if str(key).startswith("-100") else "group"}


def _require_chat(params: dict[str, Any]) -> int | str:
    chat_id = params.get("chat_id")
    if chat_id is None or str(chat_id) == "":
        raise bad_request("chat_id is empty")
    key = _chat_key(chat_id)
    if isinstance(key, str) and not key.startswith("@"):
        raise bad_request("chat not found")
    return key


def _int_param(params: dict[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


def _bool_param(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    if isinstance(value, str):
        return value.lower() in {"true", "1"}
    return bool(value)


def _reply_to_id(params: dict[str, Any]) -> int | None:
    reply_parameters = params.get("reply_parameters")
    if isinstance(reply_parameters, dict) and "message_id" in reply_parameters:
        return int(reply_parameters["message_id"])
    return _int_param(params, "reply_to_message_id")


def _update_allowed(update: dict[str, Any], allowed: list[str] | None) -> bool:
    if not allowed:
        return True
    return any(key in allowed for key in update if key != "update_id")


def _check_parse_mode(text: str, parse_mode: Any) -> str:
    """Validate ``text`` for ``parse_mode``; return the text as the user will see it."""
    if parse_mode in (None, ""):
        return text
    if parse_mode == "HTML":
        return _check_html(text)
    if parse_mode == "MarkdownV2":
        return _check_markdown_v2(text)
    if parse_mode == "Markdown":
        return re.sub(r"[*_`\[\]]", "", text)
    raise bad_request(f"unsupported parse_mode {parse_mode!r}".replace("'", '"'))


def _check_html(text: str) -> str:
    """The subset of Telegram's HTML parser that catches real mistakes: unknown tags, unclosed or
    mismatched tags, a bare ``<`` and unknown ``&entities;``."""
    stack: list[str] = []
    plain: list[str] = []
    position = 0
    tag = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)>")
    entity = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")
    while position < len(text):
        char = text[position]
        offset = len(text[:position].encode())
        if char == "<":
            found = tag.match(text, position)
            if not found:
                raise bad_request(
                    f'can\'t parse entities: Unsupported start tag "" at byte offset {offset}'
                )
            closing, name = found.group(1), found.group(2).lower()
            if name not in HTML_TAGS:
                kind = "end" if closing else "start"
                raise bad_request(
                    f'can\'t parse entities: Unsupported {kind} tag "{name}" at byte offset '
                    f"{offset}"
                )
            if closing:
                if not stack:
                    raise bad_request(
                        f"can't parse entities: Unexpected end tag at byte offset {offset}"
                    )
                if stack[-1] != name:
                    raise bad_request(
                        f"can't parse entities: Unmatched end tag at byte offset {offset}, "
                        f'expected "</{stack[-1]}>", found "</{name}>"'
                    )
                stack.pop()
            else:
                stack.append(name)
            position = found.end()
        elif char == "&":
            found = entity.match(text, position)
            if not found:
                raise bad_request(
                    "can't parse entities: Can't find end of the entity starting at byte offset "
                    f"{offset}"
                )
            plain.append(html.unescape(found.group(0)))
            position = found.end()
        else:
            plain.append(char)
            position += 1
    if stack:
        raise bad_request(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return "".join(plain)


def _check_markdown_v2(text: str) -> str:
    """Reject the characters MarkdownV2 requires escaping that can never open an entity."""
    plain: list[str] = []
    position = 0
    in_code = False
    while position < len(text):
        char = text[position]
        if char == "\\" and position + 1 < len(text):
            plain.append(text[position + 1])
            position += 2
            continue
        if char == "`":
            in_code = not in_code
        elif not in_code and char in MDV2_ALWAYS_ESCAPE:
            raise bad_request(
                f"can't parse entities: Character '{char}' is reserved and must be escaped with "
                "the preceding '\\'"
            )
        elif in_code or char not in "*_~|[]()>":
            plain.append(char)
        position += 1
    return "".join(plain)


def _check_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Validate a ReplyMarkup object (inline keyboard, reply keyboard, remove, force reply)."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                _check_inline_button(button)
        return markup
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays'
            )
        return markup
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    actions = INLINE_BUTTON_ACTIONS.intersection(button)
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
            raise bad_request("BUTTON_DATA_INVALID")
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_EMPTY")


# ---- request parsing -------------------------------------------------------------------------


def _parse_params(query: str, content_type: str, raw: bytes) -> dict[str, Any]:
    """Merge query-string and body parameters the way the Bot API does."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    query_fields = set(params)
    kind = content_type.split(";")[0].strip().lower()
    if raw and kind == "application/json":
        try:
            body = json.loads(raw)
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("JSON object expected")
        params.update(body)
        form_fields: set[str] = set()
    elif raw and kind == "multipart/form-data":
        header = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + raw)
        form_fields = set()
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                payload = part.get_payload(decode=True) or b""
                params[str(name)] = payload.decode("utf-8", errors="replace")
                form_fields.add(str(name))
    elif raw:
        form = dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
        params.update(form)
        form_fields = set(form)
    else:
        form_fields = set()
    for name in JSON_PARAMS:
        value = params.get(name)
        if isinstance(value, str) and value and (name in form_fields or name in query_fields):
            try:
                params[name] = json.loads(value)
            except ValueError:
                if name == "reply_markup":
                    raise bad_request("can't parse reply keyboard markup JSON object") from None
                raise bad_request(f"can't parse {name} JSON object") from None
    return params


def _respond(request: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    if isinstance(body, bytes | str):
        data = body.encode() if isinstance(body, str) else body
        content_type = "text/html" if data.lstrip().startswith(b"<") else "text/plain"
    else:
        data = json.dumps(body).encode()
        content_type = "application/json"
    request.send_response(status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)
