"""Channels as plugins: what the registry promises, and a toy channel registered end to end
(webhook → inbox → engine → outbox → its sender) without touching the registry file."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import select

from backoffice.app import create_app
from bot.channels.plugin import (
    Capabilities,
    ChannelPlugin,
    Started,
    WorkerContext,
    inbound_handler,
    inbox_entry,
)
from bot.channels.registry import CHANNELS, NAMES
from bot.channels.wire import json_object
from casework.citizens.models import ChannelIdentity
from casework.inbox.models import InboxItem
from casework.inbox.service import Update
from casework.outbox.models import OutboxMessage
from catalog.models import Procedure
from foundation import texts
from foundation.db import Database
from foundation.messages import Inbound
from foundation.settings import Settings
from ventanilla.demo.people import PATTERN
from ventanilla.workers import Workers

TOY = "paloma"  # a carrier pigeon: messages come as {"id", "de", "texto"}


class Loft:
    """The toy channel's sender: keeps what it is asked to send."""

    channel = TOY

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, list[dict[str, str]]]] = []

    async def send(self, item: OutboxMessage, identity: ChannelIdentity) -> str | None:
        self.sent.append((identity.address, item.text, item.choices))
        return f"vuelo-{len(self.sent)}"


def toy_plugin(loft: Loft) -> ChannelPlugin:
    def parse(body: dict[str, Any]) -> list[Update]:
        message = Inbound(TOY, str(body["de"]), text=str(body["texto"]), external_id=body["id"])
        return [inbox_entry(message)]

    router = APIRouter()

    @router.post("/paloma/webhook")
    async def webhook(request: Request) -> dict[str, bool]:
        try:
            entries = parse(json_object(await request.body()))
        except (ValueError, KeyError) as exc:
            raise HTTPException(400) from exc
        await request.app.state.inbox.accept(entries)
        return {"ok": True}

    def start(context: WorkerContext) -> Started:
        return Started(handler=inbound_handler(context.engine), sender=loft)

    return ChannelPlugin(
        name=TOY,
        capabilities=Capabilities(max_text=None, buttons=None),
        router=router,
        parse=parse,
        start=start,
    )


@pytest.fixture
async def toy(loaded_db: Database, settings: Settings) -> AsyncIterator[tuple[Loft, Any, Workers]]:
    loft = Loft()
    channels = (*CHANNELS, toy_plugin(loft))
    app = create_app(settings, loaded_db, "k", channels=channels)
    workers = Workers(
        settings, loaded_db, engine=app.state.engine, inbox=app.state.inbox, channels=channels
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield loft, client, workers
    await workers.close()


async def _answer(workers: Workers) -> None:
    """What the workers do: hand every stored update to the bot, then deliver."""
    while await workers.drainer.drain():
        pass
    assert workers.deliverer is not None
    while await workers.deliverer.run_once():
        pass


async def test_a_channel_plugged_in_from_outside_the_registry_is_answered_end_to_end(
    toy: tuple[Loft, Any, Workers], loaded_db: Database
) -> None:
    loft, client, workers = toy
    greeting = await client.post("/paloma/webhook", json={"id": "m1", "de": "5", "texto": "hola"})
    repeated = await client.post("/paloma/webhook", json={"id": "m1", "de": "5", "texto": "hola"})
    assert (greeting.status_code, repeated.status_code) == (200, 200)
    async with loaded_db.transaction() as session:
        stored = list(await session.scalars(select(InboxItem)))
    assert [(i.channel, i.external_id, i.chat) for i in stored] == [(TOY, "m1", "5")]

    await _answer(workers)
    assert loft.sent and {address for address, _, _ in loft.sent} == {"5"}
    greeting_starts = texts.t("welcome", municipality="§").split("§")[0]
    assert loft.sent[0][1].startswith(greeting_starts)

    async with loaded_db.transaction() as session:
        predial = await session.get(Procedure, "pago-predial")
    assert predial is not None
    before = len(loft.sent)
    await client.post(
        "/paloma/webhook", json={"id": "m2", "de": "5", "texto": "cuanto cuesta el predial"}
    )
    await _answer(workers)
    assert any(predial.cost in text for _, text, _ in loft.sent[before:])
    async with loaded_db.transaction() as session:
        delivered = await session.scalars(
            select(OutboxMessage.provider_id).where(OutboxMessage.channel == TOY)
        )
        assert set(delivered) == {f"vuelo-{n}" for n in range(1, len(loft.sent) + 1)}


async def test_without_the_plugin_the_toy_channel_has_no_route(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/paloma/webhook", json={"id": "m1", "de": "5", "texto": "hola"})
    assert response.status_code == 404


def test_registered_channels_have_distinct_names_and_a_label_for_staff() -> None:
    assert len(set(NAMES)) == len(NAMES) == len(CHANNELS)
    assert all(texts.label("channel", name) for name in NAMES)


def test_demo_data_writes_only_on_registered_channels() -> None:
    assert {channel for channel, _ in PATTERN} <= set(NAMES)
