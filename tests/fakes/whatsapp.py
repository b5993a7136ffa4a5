"""A fake WhatsApp Cloud API (Graph API) on 127.0.0.1 speaking graph.facebook.com's wire format.

Served, as at ``https://graph.facebook.com``:

- ``POST /{version}/{phone_number_id}/messages`` -- send a message
  (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages) or, with
  ``{"status": "read", "message_id": ...}``, mark an inbound message read (answers
  ``{"success": true}``).
- ``GET /{version}/{media_id}`` -- media URL lookup, and ``GET {url}`` -- the download, both with
  the bearer token (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media).

Every request needs ``Authorization: Bearer <token>``. Errors use the Graph error envelope of the
Cloud API error-code reference
(https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes)::

    {"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429,
               "error_data": {"messaging_product": "whatsapp", "details": "..."},
               "fbtrace_id": "..."}}

HTTP statuses follow the "HTTP Status Code" column of that reference: throttling errors (4, 80007,
130429, 131048, 131056) answer **429**, parameter errors 400, 131000 answers 500. Meta has also been
seen answering throttling codes with 400, so ``fail_next(status=400, error_code=130429)`` is there
for clients that must cope with both -- clients should key on ``error.code``, as Meta advises.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal
from urllib.parse import urlsplit

from tests.fakes.local_server import LocalServer, read_body

DEFAULT_TOKEN = "EAAGfakeVentanillaAccessToken0123456789abcdefZZ"
DEFAULT_PHONE_NUMBER_ID = "106540352242922"
DEFAULT_VERSION = "v21.0"

# Limits from the Messages reference (text, interactive reply buttons and list messages).
MAX_TEXT_BODY = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_HEADER_TEXT = 60
MAX_FOOTER_TEXT = 60
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_LIST_BUTTON = 20
MAX_SECTIONS = 10
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_ROW_ID = 200
MAX_SECTION_TITLE = 24
MAX_TEMPLATE_BUTTONS = 10  # quick-reply (and other) buttons of a template, index 0-9
TEMPLATE_BUTTON_SUB_TYPES = frozenset({"quick_reply", "url", "copy_code", "catalog", "flow"})

MESSAGE_TYPES = frozenset(
    {
        "text",
        "interactive",
        "template",
        "reaction",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "location",
        "contacts",
    }
)
MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})

# code -> (HTTP status, title, details) as listed in the Cloud API error-code reference.
GRAPH_ERRORS: dict[int, tuple[int, str, str]] = {
    0: (401, "AuthException", "We were unable to authenticate the app user."),
    1: (400, "API Unknown", "Invalid request or possible server error."),
    2: (503, "API Service", "Temporary due to downtime or due to being overloaded."),
    4: (429, "API Too Many Calls", "The app has reached its API call rate limit."),
    10: (403, "Permission Denied", "Permission is either not granted or has been removed."),
    100: (
        400,
        "Invalid parameter",
        "The request included one or more unsupported or misspelled parameters.",
    ),
    190: (401, "Access token has expired", "Your access token has expired."),
    368: (
        403,
        "Temporarily blocked for policies violations",
        "The WhatsApp Business Account associated with the app has been restricted or disabled "
        "for violating a platform policy.",
    ),
    80007: (429, "Rate limit issues", "The WhatsApp Business Account has reached its rate limit."),
    130429: (429, "Rate limit hit", "Cloud API message throughput has been reached."),
    131000: (500, "Something went wrong", "Message failed to send due to an unknown error."),
    131005: (403, "Access denied", "Permission is either not granted or has been removed."),
    131008: (400, "Required parameter is missing", "The request is missing a required parameter."),
    131009: (400, "Parameter value is not valid", "One or more parameter values are invalid."),
    131016: (503, "Service unavailable", "A service is temporarily unavailable."),
    131021: (400, "Recipient cannot be sender", "Sender and recipient phone number is the same."),
    131026: (400, "Message undeliverable", "Unable to deliver message."),
    131047: (
        400,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number.",
    ),
    131048: (
        429,
        "Spam rate limit hit",
        "Message failed to send because there are restrictions on how many messages can be sent "
        "from this phone number. This may be because too many previous messages were blocked or "
        "flagged as spam.",
    ),
    131051: (400, "Unsupported message type", "Unsupported message type."),
    131056: (
        429,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone number "
        "to the same phone number in a short period of time.",
    ),
    132000: (
        400,
        "Number of parameters does not match the expected number of params",
        "The number of variable parameter values included in the request did not match the "
        "number of variable parameters defined in the template.",
    ),
    132001: (
        404,
        "Template name does not exist in the translation",
        "The template does not exist in the specified language or the template has not been "
        "approved.",
    ),
}
# What a bare ``fail_next(status)`` answers with.
STATUS_DEFAULT_CODE = {
    400: 100,
    401: 190,
    403: 10,
    429: 130429,
    500: 131000,
    502: 2,
    503: 131016,
    504: 2,
}


class GraphError(Exception):
    """A Graph API error answer."""

    def __init__(
        self,
        code: int,
        details: str | None = None,
        *,
        status: int | None = None,
        message: str | None = None,
        error_type: str = "OAuthException",
        subcode: int | None = None,
    ) -> None:
        known = GRAPH_ERRORS.get(code, (400, "Error", "An error occurred."))
        self.code = code
        self.status = status or known[0]
        self.message = message or f"(#{code}) {known[1]}"
        self.details = details if details is not None else known[2]
        self.error_type = error_type
        self.subcode = subcode
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
        }
        if self.details:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = _fbtrace_id()
        return {"error": error}


def graph_error_body(
    code: int, message: str | None = None, details: str | None = None
) -> dict[str, Any]:
    """The Graph error envelope for ``code`` (title and details from ``GRAPH_ERRORS``)."""
    return GraphError(code, details, message=message).body()


def invalid(details: str) -> GraphError:
    """(#131009) Parameter value is not valid -- what interactive/list limit violations answer."""
    return GraphError(131009, details)


def param_error(message: str) -> GraphError:
    """(#100) errors name the parameter in the message itself, e.g. "The parameter to is
    required."; they carry no details."""
    return GraphError(100, "", message=f"(#100) {message}")


@dataclass
class Call:
    """One request the fake received. ``status``/``response`` are filled once it was answered."""

    method: str  # "messages", "read", "media", "media_download" or "unknown"
    path: str
    params: dict[str, Any]
    time: float
    http_method: str = "POST"
    status: int | None = None
    response: Any = None


@dataclass
class _Scripted:
    status: int | None
    delay: float
    on: str
    body: dict[str, Any] | str | None = None
    error_code: int | None = None
    message: str | None = None
    details: str | None = None


@dataclass
class _Media:
    content: bytes
    mime_type: str


class FakeWhatsApp(LocalServer):
    """The Cloud API for one business phone number; records calls; scripts failures.

    Thread-safe: one thread per connection, shared state under one lock.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
        version: str = DEFAULT_VERSION,
    ) -> None:
        self.token = token
        self.phone_number_id = phone_number_id
        self.version = version
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._scripts: deque[_Scripted] = deque()
        self._serial = itertools.count(1)
        self._media: dict[str, _Media] = {}
        super().__init__()

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def messages_url(self) -> str:
        """``{base_url}/{version}/{phone_number_id}/messages``."""
        return f"{self.base_url}/{self.version}/{self.phone_number_id}/messages"

    def reset(self) -> None:
        """Forget calls and scripted failures."""
        with self._lock:
            self.calls.clear()
            self._scripts.clear()

    # ---- test-side helpers -----------------------------------------------------------------

    def fail_next(
        self,
        status: int | None = None,
        error_code: int | None = None,
        message: str | None = None,
        delay: float = 0.0,
        times: int = 1,
        *,
        details: str | None = None,
        body: dict[str, Any] | str | None = None,
        on: Literal["send", "read", "any"] = "send",
    ) -> None:
        """Script the next ``times`` POSTs to ``/messages``.

        ``error_code`` picks a Graph error from ``GRAPH_ERRORS`` (its HTTP status unless
        ``status`` overrides it); ``status`` alone picks a matching code (429 -> 130429,
        500 -> 131000, 502/504 -> 2, 503 -> 131016). ``message``/``details`` override the texts,
        ``body`` replaces the whole answer (dict as JSON, str verbatim). ``delay`` seconds are
        waited first; with neither status nor code the call is then answered normally.
        ``on`` says which POSTs are scripted: message sends (default), read receipts, or any.
        """
        if error_code is None and status is not None:
            error_code = STATUS_DEFAULT_CODE.get(status, 131000)
        if error_code is not None and status is None:
            status = GRAPH_ERRORS.get(error_code, (400,))[0]
        with self._lock:
            for _ in range(times):
                self._scripts.append(
                    _Scripted(status, delay, on, body, error_code, message, details)
                )

    def rate_limit_next(self, times: int = 1, status: int | None = None) -> None:
        """(#130429) Rate limit hit -- throughput reached; HTTP 429 unless ``status`` says."""
        self.fail_next(status, 130429, times=times)

    def pair_rate_limit_next(self, times: int = 1, status: int | None = None) -> None:
        """(#131056) pair rate limit hit -- too many messages to one user in a short time."""
        self.fail_next(status, 131056, times=times)

    def reengagement_next(self, times: int = 1) -> None:
        """(#131047) Re-engagement message -- the 24-hour customer service window is closed.

        Meta usually reports this one asynchronously: the send answers 200 and a ``failed``
        status webhook follows (``payloads.wa_status(..., "failed", errors=[131047])``).
        """
        self.fail_next(None, 131047, times=times)

    def add_media(self, media_id: str, content: bytes, mime_type: str = "image/jpeg") -> None:
        """Make ``GET /{version}/{media_id}`` and its download URL serve ``content``."""
        with self._lock:
            self._media[media_id] = _Media(content, mime_type)

    def calls_to(self, method: str) -> list[Call]:
        """Calls of one kind ("messages", "read", "media", "media_download"), in order."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def sent(self, to: str | None = None) -> list[dict[str, Any]]:
        """Bodies of the message sends that succeeded (200), in order; optionally to one user
        (``to`` matches the request's ``to`` or BSUID ``recipient``)."""
        with self._lock:
            return [
                c.params
                for c in self.calls
                if c.method == "messages"
                and c.status == 200
                and (to is None or to in (c.params.get("to"), c.params.get("recipient")))
            ]

    def marked_read(self) -> list[str]:
        """``message_id``s acknowledged with read receipts that succeeded, in order."""
        with self._lock:
            return [
                c.params["message_id"] for c in self.calls if c.method == "read" and c.status == 200
            ]

    # ---- HTTP plumbing ---------------------------------------------------------------------

    def _serve(self, request: BaseHTTPRequestHandler, http_method: str) -> None:
        raw = read_body(request)
        path = urlsplit(request.path).path
        params: dict[str, Any] = {}
        problem: GraphError | None = None
        if raw:
            try:
                parsed = json.loads(raw)
                if not isinstance(parsed, dict):
                    raise ValueError
                params = parsed
            except ValueError:
                problem = param_error("The request body must be a JSON object.")
        kind = _kind(http_method, path, params)
        call = Call(kind, path, params, time.time(), http_method)
        scripted: _Scripted | None = None
        authorised = request.headers.get("Authorization", "") == f"Bearer {self.token}"
        with self._lock:
            self.calls.append(call)
            if authorised and problem is None and kind in ("messages", "read") and self._scripts:
                wanted = {"messages": "send", "read": "read"}[kind]
                if self._scripts[0].on in (wanted, "any"):
                    scripted = self._scripts.popleft()
        if not authorised:
            status, body = 401, _invalid_token()
        elif problem is not None:
            status, body = problem.status, problem.body()
        else:
            status, body = self._answer(kind, path, params, scripted)
        with self._lock:
            call.status, call.response = status, body
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if isinstance(body, bytes):
                _respond_bytes(request, status, body, self._media_type(path))
            else:
                _respond(request, status, body)

    def _answer(
        self, kind: str, path: str, params: dict[str, Any], scripted: _Scripted | None
    ) -> tuple[int, Any]:
        if scripted:
            if scripted.delay:
                self._closing.wait(scripted.delay)
            if scripted.status is not None:
                if scripted.body is not None:
                    return scripted.status, scripted.body
                error = GraphError(
                    scripted.error_code or 131000,
                    scripted.details,
                    status=scripted.status,
                    message=scripted.message,
                )
                return scripted.status, error.body()
        try:
            if kind == "messages":
                return 200, self._send(path, params)
            if kind == "read":
                self._check_phone(path)
                if not params.get("message_id"):
                    raise param_error("The parameter message_id is required.")
                return 200, {"success": True}
            if kind == "media":
                return 200, self._media_info(path)
            if kind == "media_download":
                return 200, self._media_content(path)
        except GraphError as exc:
            return exc.status, exc.body()
        unknown = "/" + "/".join(path.strip("/").split("/")[2:])
        error = GraphError(2500, "", message=f"Unknown path components: {unknown}")
        return 400, error.body()

    # ---- endpoints -------------------------------------------------------------------------

    def _check_phone(self, path: str) -> None:
        phone_number_id = path.split("/")[2]
        if phone_number_id != self.phone_number_id:
            raise GraphError(
                100,
                "",
                message=f"Unsupported post request. Object with ID '{phone_number_id}' does not "
                "exist, cannot be loaded due to missing permissions, or does not support this "
                "operation. Please read the Graph API documentation at "
                "https://developers.facebook.com/docs/graph-api",
                error_type="GraphMethodException",
                subcode=33,
            )

    def _send(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Validate a Messages API body and answer like the Cloud API does."""
        self._check_phone(path)
        validate_message(body)
        to = body.get("to")
        with self._lock:
            serial = next(self._serial)
        contact: dict[str, Any] = {"input": to if to else body["recipient"]}
        if to:
            contact["wa_id"] = re.sub(r"\D", "", str(to))
        else:
            contact["user_id"] = body["recipient"]
        message: dict[str, Any] = {"id": _wamid(serial)}
        if body["type"] == "template":
            message["message_status"] = "accepted"
        return {"messaging_product": "whatsapp", "contacts": [contact], "messages": [message]}

    def _media_info(self, path: str) -> dict[str, Any]:
        media_id = path.split("/")[2]
        with self._lock:
            media = self._media.get(media_id)
        if media is None:
            raise GraphError(
                100,
                "",
                message=f"Unsupported get request. Object with ID '{media_id}' does not exist, "
                "cannot be loaded due to missing permissions, or does not support this operation.",
                error_type="GraphMethodException",
                subcode=33,
            )
        return {
            "messaging_product": "whatsapp",
            "url": f"{self.base_url}/media-download/{media_id}",
            "mime_type": media.mime_type,
            "sha256": hashlib.sha256(media.content).hexdigest(),
            "file_size": len(media.content),
            "id": media_id,
        }

    def _media_content(self, path: str) -> bytes:
        media_id = path.rsplit("/", 1)[-1]
        with self._lock:
            media = self._media.get(media_id)
        if media is None:
            raise GraphError(100, "", message="(#100) Media not found")
        return media.content

    def _media_type(self, path: str) -> str:
        with self._lock:
            media = self._media.get(path.rsplit("/", 1)[-1])
        return media.mime_type if media else "application/octet-stream"


# ---- validation ------------------------------------------------------------------------------


def validate_message(body: dict[str, Any]) -> None:
    """Raise GraphError for bodies the Cloud API refuses; covers the limits the bot can hit.

    Deviation: the real API defaults a missing ``type`` to ``"text"``; the fake refuses it so
    clients always say what they send.
    """
    product = body.get("messaging_product")
    if product is None:
        raise param_error("The parameter messaging_product is required.")
    if product != "whatsapp":
        raise param_error(f'Param messaging_product must be one of {{WHATSAPP}} - got "{product}".')
    if not body.get("to") and not body.get("recipient"):
        raise param_error("The parameter to is required.")
    recipient_type = body.get("recipient_type", "individual")
    if recipient_type not in ("individual", "group"):
        raise param_error(
            f'Param recipient_type must be one of {{INDIVIDUAL, GROUP}} - got "{recipient_type}".'
        )
    kind = body.get("type")
    if kind is None:
        raise param_error("The parameter type is required.")
    if kind not in MESSAGE_TYPES:
        raise param_error(
            f'Param type must be one of {{{", ".join(sorted(MESSAGE_TYPES))}}} - got "{kind}".'
        )
    if kind not in body:
        raise param_error(f"The parameter {kind} is required.")
    content = body[kind]
    if kind == "text":
        _validate_text(content)
    elif kind == "interactive":
        _validate_interactive(content)
    elif kind == "template":
        _validate_template(content)
    elif kind == "reaction":
        if not isinstance(content, dict) or not content.get("message_id"):
            raise param_error("The parameter reaction['message_id'] is required.")
        if "emoji" not in content:
            raise param_error("The parameter reaction['emoji'] is required.")
    elif kind in MEDIA_TYPES:
        if not isinstance(content, dict) or not (content.get("id") or content.get("link")):
            raise invalid(f"Parameter '{kind}' must include either 'id' or 'link'.")
    elif kind == "location" and (
        not isinstance(content, dict) or "latitude" not in content or "longitude" not in content
    ):
        raise param_error("The parameter location['latitude'] is required.")


def _validate_text(text: Any) -> None:
    if not isinstance(text, dict) or not isinstance(text.get("body"), str) or not text["body"]:
        raise param_error("The parameter text['body'] is required.")
    if len(text["body"]) > MAX_TEXT_BODY:
        raise param_error(f"Param text['body'] must be at most {MAX_TEXT_BODY} characters long.")


def _check_length(value: Any, low: int, high: int, what: str) -> None:
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise invalid(f"{what} length invalid. Min length: {low}, Max length: {high}")


def _validate_interactive(interactive: Any) -> None:
    """Reply buttons and list messages, per the interactive object reference."""
    if not isinstance(interactive, dict) or "type" not in interactive:
        raise param_error("The parameter interactive['type'] is required.")
    kind = interactive["type"]
    if kind not in ("button", "list"):
        return  # cta_url, flow, product... are passed through unchecked
    body = interactive.get("body")
    if not isinstance(body, dict) or "text" not in body:
        raise GraphError(131008, "The parameter interactive['body'] is required.")
    _check_length(body["text"], 1, MAX_INTERACTIVE_BODY, "Body text")
    header = interactive.get("header")
    if isinstance(header, dict) and header.get("type") == "text":
        _check_length(header.get("text"), 1, MAX_HEADER_TEXT, "Header text")
    footer = interactive.get("footer")
    if isinstance(footer, dict):
        _check_length(footer.get("text"), 1, MAX_FOOTER_TEXT, "Footer text")
    action = interactive.get("action")
    if not isinstance(action, dict):
        raise GraphError(131008, "The parameter interactive['action'] is required.")
    if kind == "button":
        _validate_buttons(action)
    else:
        _validate_list(action)


def _validate_buttons(action: dict[str, Any]) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        raise invalid(
            f"Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: {MAX_BUTTONS}"
        )
    ids, titles = [], []
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) else None
        if not isinstance(button, dict) or button.get("type") != "reply" or not reply:
            raise invalid("Button type must be 'reply' with a 'reply' object.")
        _check_length(reply.get("title"), 1, MAX_BUTTON_TITLE, "Button title")
        _check_length(reply.get("id"), 1, MAX_BUTTON_ID, "Button id")
        ids.append(reply["id"])
        titles.append(reply["title"])
    if len(set(ids)) != len(ids):
        raise invalid("Button id is not unique.")
    if len(set(titles)) != len(titles):
        raise invalid("Button title is not unique.")


def _validate_list(action: dict[str, Any]) -> None:
    _check_length(action.get("button"), 1, MAX_LIST_BUTTON, "Button label")
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= MAX_SECTIONS:
        raise invalid(
            f"Invalid sections count. Min allowed sections: 1, Max allowed sections: {MAX_SECTIONS}"
        )
    rows = []
    for section in sections:
        if not isinstance(section, dict) or not isinstance(section.get("rows"), list):
            raise GraphError(131008, "The parameter sections['rows'] is required.")
        if len(sections) > 1 or "title" in section:
            _check_length(section.get("title"), 1, MAX_SECTION_TITLE, "Section title")
        rows.extend(section["rows"])
    if not rows:
        raise invalid("Invalid rows count. Min allowed rows: 1")
    if len(rows) > MAX_ROWS:
        raise invalid(f"Total row count exceed max allowed count: {MAX_ROWS}")
    ids = []
    for row in rows:
        if not isinstance(row, dict):
            raise invalid("Row must be an object.")
        _check_length(row.get("title"), 1, MAX_ROW_TITLE, "Row title")
        _check_length(row.get("id"), 1, MAX_ROW_ID, "Row id")
        if "description" in row:
            _check_length(row["description"], 0, MAX_ROW_DESCRIPTION, "Row description")
        ids.append(row["id"])
    if len(set(ids)) != len(ids):
        raise invalid("Row id is not unique.")


def _validate_template(template: Any) -> None:
    if not isinstance(template, dict) or not template.get("name"):
        raise param_error("The parameter template['name'] is required.")
    language = template.get("language")
    if not isinstance(language, dict) or not language.get("code"):
        raise param_error("The parameter template['language']['code'] is required.")
    components = template.get("components", [])
    if not isinstance(components, list) or any(
        not isinstance(c, dict) or "type" not in c for c in components
    ):
        raise invalid("Parameter 'components' must be an array of objects with a 'type'.")
    indexes = []
    for component in components:
        if component["type"] == "button":
            _validate_template_button(component)
            indexes.append(str(component["index"]))
    if len(set(indexes)) != len(indexes):
        raise invalid("Button index is not unique.")


def _validate_template_button(button: dict[str, Any]) -> None:
    """A button component of a template message: ``sub_type``, ``index`` (0-9) and, for a
    quick reply, one ``payload`` parameter (the text the tap sends back)."""
    sub_type = button.get("sub_type")
    if sub_type is None:
        raise GraphError(131008, "The parameter components['sub_type'] is required.")
    if sub_type not in TEMPLATE_BUTTON_SUB_TYPES:
        raise invalid(f"Param components['sub_type'] is not valid - got \"{sub_type}\".")
    index = button.get("index")
    if index is None:
        raise GraphError(131008, "The parameter components['index'] is required.")
    if str(index) not in {str(n) for n in range(MAX_TEMPLATE_BUTTONS)}:
        raise invalid(f"Param components['index'] must be 0 to {MAX_TEMPLATE_BUTTONS - 1}.")
    parameters = button.get("parameters")
    if not isinstance(parameters, list) or not parameters:
        raise GraphError(131008, "The parameter components['parameters'] is required.")
    if sub_type == "quick_reply":
        for parameter in parameters:
            if not isinstance(parameter, dict) or parameter.get("type") != "payload":
                raise invalid("Quick reply button parameters must be of type 'payload'.")
            _check_length(parameter.get("payload"), 1, MAX_BUTTON_ID, "Button payload")


# ---- helpers ---------------------------------------------------------------------------------


def _kind(http_method: str, path: str, params: dict[str, Any]) -> str:
    if http_method == "POST" and re.fullmatch(r"/v\d+\.\d+/[^/]+/messages", path):
        return "read" if params.get("status") == "read" else "messages"
    if http_method == "GET" and re.fullmatch(r"/v\d+\.\d+/[^/]+", path):
        return "media"
    if http_method == "GET" and re.fullmatch(r"/media-download/[^/]+", path):
        return "media_download"
    return "unknown"


def _invalid_token() -> dict[str, Any]:
    return {
        "error": {
            "message": "Invalid OAuth access token.",
            "type": "OAuthException",
            "code": 190,
            "fbtrace_id": _fbtrace_id(),
        }
    }


def _fbtrace_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")[:23]


def _wamid(serial: int) -> str:
    """An id shaped like Cloud API's ``wamid.HBgM...`` (base64 of an opaque blob)."""
    blob = f"\x0c521{serial:010d}\x15\x02\x00\x11\x18\x12{secrets.token_hex(9).upper()}\x00"
    return "wamid." + base64.b64encode(blob.encode("latin-1")).decode()


def _respond(request: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    if isinstance(body, str):
        _respond_bytes(request, status, body.encode(), "text/html; charset=utf-8")
        return
    _respond_bytes(request, status, json.dumps(body).encode(), "application/json; charset=UTF-8")


def _respond_bytes(
    request: BaseHTTPRequestHandler, status: int, data: bytes, content_type: str
) -> None:
    request.send_response(status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)
