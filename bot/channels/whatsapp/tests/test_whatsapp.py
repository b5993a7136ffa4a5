"""WhatsApp Cloud API end to end against a fake Graph API speaking the real wire format."""

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from backoffice.app import create_app
from casework.conversations.models import Conversation, Message
from casework.outbox.models import OutboxMessage
from catalog.models import Procedure
from foundation import texts
from foundation.db import Database, utcnow
from foundation.settings import Settings, amended
from tests.fakes.payloads import (
    WA_BSUID,
    WA_ID,
    wa_button_reply,
    wa_signature,
    wa_status,
    wa_sticker,
    wa_text,
    wa_unknown,
    wa_verification_params,
)
from tests.fakes.payloads import wa_signed as signed
from tests.fakes.whatsapp import FakeWhatsApp
from tests.support import ChannelClient, login, with_whatsapp

APP_SECRET = "secreto-de-la-app-de-meta"
VERIFY = "token-de-verificacion"


class WhatsAppClient(ChannelClient):
    async def post(self, payload: dict) -> httpx.Response:
        body, headers = signed(payload, APP_SECRET)
        return await self.client.post("/whatsapp/webhook", content=body, headers=headers)

    async def say(self, text: str, **options: object) -> None:
        response = await self.post(wa_text(WA_ID, text, **options))
        assert response.status_code == 200, response.text
        await self.deliver()


@pytest.fixture
def wa_settings(settings: Settings, fake_whatsapp: FakeWhatsApp) -> Settings:
    return amended(
        with_whatsapp(settings, fake_whatsapp, APP_SECRET), whatsapp={"verify_token": VERIFY}
    )


@pytest.fixture
async def wa(loaded_db: Database, wa_settings: Settings) -> AsyncIterator[WhatsAppClient]:
    app = create_app(wa_settings, loaded_db, "k")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield WhatsAppClient(client, app)


def bodies(fake: FakeWhatsApp) -> list[str]:
    out = []
    for sent in fake.sent():
        if sent["type"] == "text":
            out.append(sent["text"]["body"])
        elif sent["type"] == "interactive":
            out.append(sent["interactive"]["body"]["text"])
    return out


async def test_the_subscription_check_echoes_the_challenge_only_with_the_token(
    wa: WhatsAppClient,
) -> None:
    ok = await wa.client.get("/whatsapp/webhook", params=wa_verification_params(VERIFY, "42"))
    assert (ok.status_code, ok.text) == (200, "42")
    bad = await wa.client.get("/whatsapp/webhook", params=wa_verification_params("otro", "42"))
    assert bad.status_code == 403


async def test_unsigned_and_forged_deliveries_are_refused_and_nothing_is_stored(
    wa: WhatsAppClient, loaded_db: Database
) -> None:
    body, _ = signed(wa_text(WA_ID, "hola"), APP_SECRET)
    missing = await wa.client.post(
        "/whatsapp/webhook", content=body, headers={"Content-Type": "application/json"}
    )
    _, forged_headers = signed(wa_text(WA_ID, "hola"), "otro-secreto")
    forged = await wa.client.post("/whatsapp/webhook", content=body, headers=forged_headers)
    garbage = b"{no es json"
    garbage_headers = {
        "X-Hub-Signature-256": wa_signature(garbage, APP_SECRET),
        "Content-Type": "application/json",
    }
    malformed = await wa.client.post("/whatsapp/webhook", content=garbage, headers=garbage_headers)
    assert (missing.status_code, forged.status_code, malformed.status_code) == (401, 403, 400)
    async with loaded_db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 0


async def test_a_question_is_answered_with_reply_buttons_or_a_list(
    wa: WhatsAppClient, fake_whatsapp: FakeWhatsApp, loaded_db: Database
) -> None:
    async with loaded_db.transaction() as session:
        predial = await session.get(Procedure, "pago-predial")
    assert predial is not None
    await wa.say("hola")
    await wa.say("cuanto cuesta el predial")
    last = fake_whatsapp.sent()[-1]
    assert last["type"] == "interactive" and predial.cost in last["interactive"]["body"]["text"]
    kind = last["interactive"]["type"]
    if kind == "button":
        titles = [b["reply"]["title"] for b in last["interactive"]["action"]["buttons"]]
        assert len(titles) <= 3 and all(len(t) <= 20 for t in titles)
    else:
        rows = last["interactive"]["action"]["sections"][0]["rows"]
        assert len(rows) <= 10 and all(len(r["title"]) <= 24 for r in rows)
        ids = [r["id"] for r in rows]
        assert "aspect:requirements" in ids
    await wa.post(wa_button_reply("aspect:requirements", "Requisitos"))
    await wa.deliver()
    assert predial.requirements[0] in bodies(fake_whatsapp)[-1]


async def test_missing_contacts_or_wa_id_still_reach_the_bot(
    wa: WhatsAppClient, fake_whatsapp: FakeWhatsApp
) -> None:
    await wa.say("hola", with_contacts=False)
    await wa.say("hola", with_wa_id=False)
    recipients = {s["to"] for s in fake_whatsapp.sent()}
    assert recipients == {WA_ID, WA_BSUID}


async def test_unknown_types_and_stickers_get_a_polite_answer_never_silence(
    wa: WhatsAppClient, fake_whatsapp: FakeWhatsApp
) -> None:
    await wa.post(wa_unknown())
    await wa.post(wa_sticker())
    await wa.deliver()
    assert bodies(fake_whatsapp).count(texts.t("input.not_text")) == 2


async def test_a_repeated_delivery_changes_nothing(
    wa: WhatsAppClient, fake_whatsapp: FakeWhatsApp
) -> None:
    payload = wa_text(WA_ID, "quiero hablar con un asesor", message_id="wamid.REPETIDO")
    for _ in range(3):
        assert (await wa.post(payload)).status_code == 200
    await wa.deliver()
    assert sum(texts.t("handoff.requested") in sent for sent in bodies(fake_whatsapp)) == 1


async def test_status_callbacks_are_stored_against_the_message(
    wa: WhatsAppClient, fake_whatsapp: FakeWhatsApp, loaded_db: Database
) -> None:
    await wa.say("hola")
    async with loaded_db.transaction() as session:
        item = await session.scalar(select(OutboxMessage).where(OutboxMessage.status == "sent"))
    assert item is not None and item.provider_id and item.provider_id.startswith("wamid.")
    for status in ("sent", "delivered", "read"):
        await wa.post(wa_status(item.provider_id, status))
    async with loaded_db.transaction() as session:
        stored = await session.get(OutboxMessage, item.id)
    assert stored is not None and stored.receipt == "read"
    await wa.post(wa_status(item.provider_id, "failed", errors=[131047]))
    async with loaded_db.transaction() as session:
        stored = await session.get(OutboxMessage, item.id)
    assert (
        stored is not None and stored.status == "failed" and "131047" in (stored.last_error or "")
    )


async def test_rate_limits_are_retried_later(
    wa: WhatsAppClient, fake_whatsapp: FakeWhatsApp, loaded_db: Database
) -> None:
    fake_whatsapp.rate_limit_next()
    await wa.post(wa_text(WA_ID, "hola"))
    await wa.handle()
    await wa.deliverer.run_once()
    async with loaded_db.transaction() as session:
        item = await session.scalar(select(OutboxMessage).order_by(OutboxMessage.id).limit(1))
    assert item is not None and item.status == "pending" and "130429" in (item.last_error or "")
    async with loaded_db.transaction() as session:
        await session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    await wa.deliver()
    assert len(fake_whatsapp.sent()) >= 1


async def test_outside_the_24_hour_window_updates_go_as_templates_and_agents_are_told(
    wa: WhatsAppClient, fake_whatsapp: FakeWhatsApp, loaded_db: Database, wa_settings: Settings
) -> None:
    await wa.say("quiero hablar con un asesor")
    async with loaded_db.transaction() as session:
        await session.execute(
            update(Conversation).values(last_inbound_at=utcnow() - timedelta(hours=25))
        )
    await login(wa.client)
    handoffs = await wa.client.get("/backoffice/canalizaciones")
    handoff_id = re.search(r"/backoffice/canalizaciones/(\d+)", handoffs.text).group(1)  # type: ignore[union-attr]
    page = await wa.client.get(f"/backoffice/canalizaciones/{handoff_id}")
    assert "ventana de 24 horas de WhatsApp está cerrada" in page.text
    await wa.client.post(
        f"/backoffice/canalizaciones/{handoff_id}/responder", data={"text": "Hola"}
    )
    await wa.client.post(f"/backoffice/canalizaciones/{handoff_id}/cerrar")
    sent_before = len(fake_whatsapp.sent())
    await wa.deliver()
    new = fake_whatsapp.sent()[sent_before:]
    assert [s["type"] for s in new] == ["template"]  # only the survey; free text is not sent
    assert new[0]["template"]["name"] == wa_settings.whatsapp.template_survey
    async with loaded_db.transaction() as session:
        failed = list(
            await session.scalars(
                select(OutboxMessage.text).where(OutboxMessage.status == "failed")
            )
        )
    assert "Hola" in failed
