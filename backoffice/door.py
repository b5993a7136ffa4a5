"""The door: what a request's body may be, checked as it streams, before any route reads it.

An ASGI middleware that buffers nothing:

- **size**: each route has a limit (settings: webhooks, web chat, everything else). A
  Content-Length over it is refused at once; a body that grows past it while streaming is cut
  off there. 413.
- **type**: a body must be JSON on the JSON routes (webhooks, web chat, APIs) and JSON or a
  form elsewhere. 415.
- **depth**: a JSON body nested deeper than `json_max_depth` is refused as it streams (400),
  so no parser ever recurses into it.

A response given before the body was read whole (a refusal, a missing signature) closes the
connection, so the server stops reading the rest instead of draining it.
"""

import logging
import re
from array import array
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException

from foundation import texts
from foundation.settings import LimitSettings

log = logging.getLogger(__name__)
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON = "application/json"
FORMS = frozenset({JSON, "application/x-www-form-urlencoded", "multipart/form-data"})
WEBHOOKS = frozenset({"/telegram/webhook", "/whatsapp/webhook"})
JSON_ONLY_PREFIXES = ("/api/",)
CHAT_PREFIX = "/api/chat/"


class BodyRefused(HTTPException):
    """Raised from `receive` when a streaming body breaks a rule: the route stops reading and
    the app's error handlers answer it like any HTTP error."""


@dataclass(frozen=True)
class Rule:
    limit: int
    types: frozenset[str]


def rule_for(path: str, limits: LimitSettings) -> Rule:
    if path in WEBHOOKS:
        return Rule(limits.webhook_max_bytes, frozenset({JSON}))
    if path.startswith(CHAT_PREFIX):
        return Rule(limits.chat_max_bytes, frozenset({JSON}))
    if path.startswith(JSON_ONLY_PREFIXES):
        return Rule(limits.max_body_bytes, frozenset({JSON}))
    return Rule(limits.max_body_bytes, FORMS)


# Outside strings: everything but a quote, and whole strings (escapes included). Inside a
# string: everything up to its closing quote, or up to a backslash that ends the chunk.
# Possessive, so each chunk is matched in one pass without backtracking.
_OUTSIDE = re.compile(rb'(?:[^"]++|"[^"\\]*+(?:\\.[^"\\]*+)*+")*+', re.S)
_INSIDE = re.compile(rb'[^"\\]*+(?:\\.[^"\\]*+)*+', re.S)
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.S)
# Opening brackets become 1 and closing ones -1 (0xFF as a signed byte); the rest is deleted.
_BRACKETS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class JsonDepth:
    """How deep a JSON text nests, fed in chunks as they arrive. Brackets inside strings do
    not count. The scanning runs in C regular expressions and `accumulate`: a megabyte takes
    milliseconds whatever its shape, and nothing of the body is kept."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.depth = 0
        self._in_string = False
        self._escaped = False  # the last chunk ended on a backslash inside a string

    def feed(self, chunk: bytes) -> bool:
        """Take the next chunk; False once the nesting went past the limit."""
        pos = 0
        while pos < len(chunk):
            if self._in_string:
                if self._escaped:
                    pos, self._escaped = pos + 1, False
                    continue
                pos = _INSIDE.match(chunk, pos).end()  # type: ignore[union-attr]
                if pos == len(chunk):
                    break
                if chunk[pos] == ord("\\"):  # the last byte: its escaped byte comes next
                    self._escaped, pos = True, pos + 1
                    continue
                self._in_string, pos = False, pos + 1  # the closing quote
                continue
            end = _OUTSIDE.match(chunk, pos).end()  # type: ignore[union-attr]
            if not self._count(chunk[pos:end]):
                return False
            if end < len(chunk):  # a string that goes on in the next chunk
                self._in_string = True
            pos = end + 1
        return True

    def _count(self, segment: bytes) -> bool:
        brackets = _STRING.sub(b"", segment).translate(_BRACKETS, _NOT_BRACKETS)
        if not brackets:
            return True
        steps = array("b", brackets)
        deepest = max(accumulate(steps, initial=self.depth))
        self.depth += sum(steps)
        return deepest <= self.limit


def _media_type(headers: Headers) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _refusal(scope: Scope, status: int, text: str, received: int) -> BodyRefused:
    client = scope.get("client")
    log.warning(
        "refused %s %s from %s: %s %s (%s bytes read)",
        scope["method"],
        scope["path"],
        client[0] if client else "?",
        status,
        text,
        received,
    )
    return BodyRefused(status, text)


class Door:
    """The middleware; installed once in backoffice/app.py."""

    def __init__(self, app: ASGIApp, limits: LimitSettings) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = rule_for(scope["path"], self.limits)
        headers = Headers(scope=scope)
        length = headers.get("content-length", "").strip()
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        has_body = chunked or length not in ("", "0")
        media_type = _media_type(headers)
        too_large = texts.t("door.too_large", limit=rule.limit)
        state = {"received": 0, "complete": not has_body, "started": False}
        depth = JsonDepth(self.limits.json_max_depth) if media_type == JSON else None

        async def guarded_receive() -> Message:
            message = await receive()
            if message["type"] != "http.request":
                return message
            body = message.get("body", b"")
            state["received"] += len(body)
            if not message.get("more_body", False):
                state["complete"] = True
            if state["received"] > rule.limit:
                raise _refusal(scope, 413, too_large, state["received"])
            if depth is not None and not depth.feed(body):
                raise _refusal(scope, 400, texts.t("door.too_deep"), state["received"])
            return message

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
                if not state["complete"]:  # the rest of the body will not be read
                    MutableHeaders(scope=message)["connection"] = "close"
            await send(message)

        try:
            if has_body and media_type not in rule.types:
                raise _refusal(scope, 415, texts.t("door.content_type"), 0)
            # ASCII digits only: "²" (a Latin-1 header byte) passes isdigit() and fails int()
            if length.isascii() and length.isdigit() and int(length) > rule.limit:
                raise _refusal(scope, 413, too_large, 0)
            await self.app(scope, guarded_receive, guarded_send)
        except BodyRefused as exc:  # refused before the app ran, or raised past its handlers
            if state["started"]:
                raise
            response = JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
            await response(scope, guarded_receive, guarded_send)
