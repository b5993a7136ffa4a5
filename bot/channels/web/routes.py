"""Web chat: a JSON API the chat page (and anyone else) can call.

Flooding is bounded: messages per chat session, messages and new sessions per client address,
and polls per client address, each per minute (settings; 429 with Retry-After and a Spanish
message the page shows). A chat's identity is created by its first message only: polling
with a session id nobody wrote from creates nothing.
"""

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from bot import safety
from bot.channels.peer import client_address
from bot.channels.web import CHANNEL
from bot.channels.wire import StorableText
from bot.engine import Engine
from casework.citizens.service import identity_at
from casework.failures import transient
from casework.outbox.models import OutboxMessage
from casework.outbox.service import pull
from casework.ratelimits.service import Limit, RateLimiter
from foundation import texts
from foundation.db import MAX_ROW_ID
from foundation.messages import Inbound
from foundation.settings import Settings

SESSION_PATTERN = r"^[A-Za-z0-9_-]{32,64}$"
RETRY_SECONDS = 5  # how soon to try again when the database was briefly unavailable

router = APIRouter(prefix="/api/chat", tags=["web chat"])
log = logging.getLogger(__name__)


class ChoiceOut(BaseModel):
    label: str
    value: str


class MessageOut(BaseModel):
    id: int
    text: str
    sender: str
    choices: list[ChoiceOut]

    @classmethod
    def of(cls, item: OutboxMessage) -> "MessageOut":
        choices = [ChoiceOut.model_validate(choice) for choice in item.choices]
        return cls(id=item.id, text=item.text, sender=item.sender, choices=choices)


class SessionOut(BaseModel):
    session: str


class MessageIn(BaseModel):
    session: str = Field(pattern=SESSION_PATTERN)
    text: StorableText = Field(max_length=20_000)
    after: int = Field(
        default=0, ge=0, le=MAX_ROW_ID, description="Last message id the client has shown"
    )


class MessagesOut(BaseModel):
    messages: list[MessageOut]


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


class Flood:
    """The chat's rate limits for one request."""

    def __init__(self, request: Request) -> None:
        self.limiter: RateLimiter = request.app.state.rate_limiter
        self.settings: Settings = request.app.state.settings
        self.address = client_address(request) or "desconocida"

    async def check(self, *limits: Limit) -> None:
        wait = await self.limiter.hit(*limits)
        if wait is not None:
            log.warning("web chat rate limit reached by %s: %s", self.address, limits[0].what)
            raise HTTPException(
                429, texts.t("input.too_many", seconds=wait), headers={"Retry-After": str(wait)}
            )

    def message_from_address(self) -> Limit:
        return Limit("chat-message", self.address, self.settings.limits.chat_messages_per_address)


FloodCheck = Annotated[Flood, Depends(Flood)]


@asynccontextmanager
async def _answering() -> AsyncIterator[None]:
    """A database or network failure that may pass is 503 with Retry-After, never a 500."""
    try:
        yield
    except Exception as exc:
        if not transient(exc):
            raise
        log.warning("web chat unavailable: %r", exc)
        headers = {"Retry-After": str(RETRY_SECONDS)}
        raise HTTPException(503, texts.t("input.unavailable"), headers=headers) from exc


@router.post("/sessions", response_model=SessionOut)
async def new_session(flood: FloodCheck) -> SessionOut:
    """A fresh, unguessable chat session id; the browser keeps it."""
    async with _answering():
        await flood.check(flood.message_from_address())
    return SessionOut(session=secrets.token_urlsafe(32))


async def _messages(engine: Engine, session_id: str, after: int) -> MessagesOut:
    async with engine.db.transaction() as session:
        identity = await identity_at(session, CHANNEL, session_id)
        items = await pull(session, identity.id, after) if identity is not None else []
    return MessagesOut(messages=[MessageOut.of(i) for i in items])


@router.post("/messages", response_model=MessagesOut)
async def post_message(
    body: MessageIn, flood: FloodCheck, engine: Engine = Depends(engine_of)
) -> MessagesOut:
    """Send the citizen's message; the reply is every message newer than `after`. A message
    the bot fails on is answered with an apology (bot/safety.py)."""
    async with _answering():
        per_session = flood.settings.limits.chat_messages_per_session
        await flood.check(
            Limit("chat-session", body.session, per_session), flood.message_from_address()
        )
        await safety.answer(engine, Inbound(channel=CHANNEL, address=body.session, text=body.text))
        return await _messages(engine, body.session, body.after)


@router.get("/messages", response_model=MessagesOut)
async def get_messages(
    flood: FloodCheck,
    session: str = Query(pattern=SESSION_PATTERN),
    after: int = Query(default=0, ge=0, le=MAX_ROW_ID),
    engine: Engine = Depends(engine_of),
) -> MessagesOut:
    """Messages that arrived without a question: status changes, an agent's replies."""
    async with _answering():
        await flood.check(
            Limit("chat-poll", flood.address, flood.settings.limits.chat_polls_per_address)
        )
        return await _messages(engine, session, after)
