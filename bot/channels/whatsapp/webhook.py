"""The WhatsApp webhook: subscription check (GET) and signed deliveries (POST)."""

import logging

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import ValidationError

from bot.channels.plugin import inbox_entry
from bot.channels.whatsapp.wire import parse, signed_body
from bot.channels.wire import json_object
from casework.outbox.service import record_receipt
from foundation import texts
from foundation.settings import Settings

router = APIRouter()
log = logging.getLogger(__name__)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    if not settings.whatsapp.app_secret:
        raise HTTPException(404, texts.t("errors.whatsapp_off"))
    return settings


@router.get("/whatsapp/webhook", include_in_schema=False)
async def verify(
    request: Request,
    mode: str = Query("", alias="hub.mode"),
    token: str = Query("", alias="hub.verify_token"),
    challenge: str = Query("", alias="hub.challenge"),
) -> PlainTextResponse:
    settings = _settings(request)
    if mode == "subscribe" and token and token == settings.whatsapp.verify_token:
        return PlainTextResponse(challenge)
    log.warning("whatsapp webhook verification refused (mode=%r)", mode)
    raise HTTPException(403, texts.t("errors.verification_refused"))


@router.post("/whatsapp/webhook", include_in_schema=False)
async def deliver(request: Request) -> dict[str, bool]:
    """The signature is checked before the body is read, as it streams; the body is then
    checked against the webhook's model. Malformed: 400 and a log line, nothing stored."""
    settings = _settings(request)
    signature = request.headers.get("X-Hub-Signature-256")
    if signature is None:
        log.warning("whatsapp webhook without signature from %s", request.client)
        raise HTTPException(401, texts.t("errors.signature_missing"))
    body = await signed_body(request.stream(), signature, settings.whatsapp.app_secret)
    if body is None:
        log.warning("whatsapp webhook with a wrong signature from %s", request.client)
        raise HTTPException(403, texts.t("errors.signature_wrong"))
    try:
        messages, receipts = parse(json_object(body))
    except (ValueError, ValidationError) as exc:
        log.warning("malformed whatsapp webhook refused: %s; body=%r", exc, body[:200])
        raise HTTPException(400, texts.t("door.malformed")) from exc
    await request.app.state.inbox.accept([inbox_entry(m) for m in messages])
    if receipts:
        async with request.app.state.db.transaction() as session:
            for receipt in receipts:
                await record_receipt(session, receipt.provider_id, receipt.status, receipt.error)
    return {"ok": True}
