"""Web chat: a JSON API the chat page (and anyone else) can call."""

import secrets

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from bot.engine import Engine
from casework.citizens.service import identity_for
from casework.messages import Inbound
from casework.outbox.models import OutboxMessage
from casework.outbox.service import pull

CHANNEL = "web"
SESSION_PATTERN = r"^[A-Za-z0-9_-]{32,64}$"

router = APIRouter(prefix="/api/chat", tags=["web chat"])


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
        return cls(id=item.id, text=item.text, sender=item.sender, choices=item.choices)


class SessionOut(BaseModel):
    session: str


class MessageIn(BaseModel):
    session: str = Field(pattern=SESSION_PATTERN)
    text: str = Field(max_length=20_000)
    after: int = Field(default=0, ge=0, description="Last message id the client has shown")


class MessagesOut(BaseModel):
    messages: list[MessageOut]


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


@router.post("/sessions", response_model=SessionOut)
async def new_session() -> SessionOut:
    """A fresh, unguessable chat session id; the browser keeps it."""
    return SessionOut(session=secrets.token_urlsafe(32))


async def _messages(engine: Engine, session_id: str, after: int) -> MessagesOut:
    async with engine.db.transaction() as session:
        identity = await identity_for(session, CHANNEL, session_id)
        items = await pull(session, identity.id, after)
    return MessagesOut(messages=[MessageOut.of(i) for i in items])


@router.post("/messages", response_model=MessagesOut)
async def post_message(body: MessageIn, engine: Engine = Depends(engine_of)) -> MessagesOut:
    """Send the citizen's message; the reply is every message newer than `after`."""
    await engine.handle(Inbound(channel=CHANNEL, address=body.session, text=body.text))
    return await _messages(engine, body.session, body.after)


@router.get("/messages", response_model=MessagesOut)
async def get_messages(
    session: str = Query(pattern=SESSION_PATTERN),
    after: int = Query(default=0, ge=0),
    engine: Engine = Depends(engine_of),
) -> MessagesOut:
    """Messages that arrived without a question: status changes, an agent's replies."""
    return await _messages(engine, session, after)
