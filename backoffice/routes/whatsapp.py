"""The WhatsApp webhook: subscription check (GET) and signed deliveries (POST)."""

import json
import logging

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse

from bot.channels import whatsapp
from casework.outbox.service import record_receipt
from ventanilla.settings import Settings

router = APIRouter()
log = logging.getLogger(__name__)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    if not settings.whatsapp_app_secret:
        raise HTTPException(404, "WhatsApp no está configurado.")
    return settings


@router.get("/whatsapp/webhook", include_in_schema=False)
async def verify(
    request: Request,
    mode: str = Query("", alias="hub.mode"),
    token: str = Query("", alias="hub.verify_token"),
    challenge: str = Query("", alias="hub.challenge"),
) -> PlainTextResponse:
    settings = _settings(request)
    if mode == "subscribe" and token and token == settings.whatsapp_verify_token:
        return PlainTextResponse(challenge)
    log.warning("whatsapp webhook verification refused (mode=%r)", mode)
    raise HTTPException(403, "Verificación rechazada.")


@router.post("/whatsapp/webhook", include_in_schema=False)
async def deliver(request: Request) -> dict[str, bool]:
    settings = _settings(request)
    body = await request.body()
    signature = request.headers.get("X-Hub-Signature-256")
    if signature is None:
        log.warning("whatsapp webhook without signature from %s", request.client)
        raise HTTPException(401, "Falta la firma.")
    if not whatsapp.signature_ok(body, signature, settings.whatsapp_app_secret):
        log.warning("whatsapp webhook with a wrong signature from %s", request.client)
        raise HTTPException(403, "Firma incorrecta.")
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        log.warning("malformed whatsapp webhook refused: %s; body=%r", exc, body[:200])
        raise HTTPException(400, "Cuerpo inválido.") from exc
    messages, receipts = whatsapp.parse(data)
    await request.app.state.inbox.accept([whatsapp.to_inbox(m) for m in messages])
    if receipts:
        async with request.app.state.db.transaction() as session:
            for receipt in receipts:
                await record_receipt(session, receipt.provider_id, receipt.status, receipt.error)
    return {"ok": True}
