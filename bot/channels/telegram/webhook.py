"""The Telegram webhook: check the secret, read the Update, store what the citizen said in the
inbox. A pressed button is acknowledged in the webhook's answer (Telegram calls the method an
answer names), so its spinner stops at once, however long the bot's queue."""

import hmac
import json
import logging

from fastapi import APIRouter, HTTPException, Request, Response

from bot.channels.telegram.wire import callback_query_id, to_inbox
from bot.channels.wire import json_object
from casework.staff.instance_secrets import instance_secret
from foundation import texts
from foundation.db import Database
from foundation.settings import Settings

router = APIRouter()
log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
OK = b'{"ok":true}'  # written once: this route answers every update a bot receives


@router.post("/telegram/webhook", include_in_schema=False)
async def telegram_webhook(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if not settings.telegram.token:
        raise HTTPException(404, texts.t("errors.telegram_off"))
    given = request.headers.get(SECRET_HEADER)
    if given is None:
        log.warning("telegram webhook without secret from %s", request.client)
        raise HTTPException(401, texts.t("errors.secret_missing"))
    expected: str | None = getattr(request.app.state, "telegram_webhook_secret", None)
    if expected is None:  # set by `ventanilla telegram set-webhook`, read once
        expected = await webhook_secret(request.app.state.db, settings)
        request.app.state.telegram_webhook_secret = expected
    if not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("telegram webhook with a wrong secret from %s", request.client)
        raise HTTPException(403, texts.t("errors.secret_wrong"))
    body = await request.body()
    try:
        data = json_object(body)
        entries = to_inbox(data)
    except ValueError as exc:  # pydantic's ValidationError too
        log.warning("malformed telegram update refused: %s; body=%r", exc, body[:200])
        raise HTTPException(400, texts.t("door.malformed")) from exc
    await request.app.state.inbox.accept(entries)
    query = callback_query_id(data)
    if query is None:
        return Response(OK, media_type="application/json")
    answer = {"method": "answerCallbackQuery", "callback_query_id": query}
    return Response(json.dumps(answer), media_type="application/json")


async def webhook_secret(db: Database, settings: Settings) -> str:
    """The secret Telegram sends back in X-Telegram-Bot-Api-Secret-Token."""
    if settings.telegram.webhook_secret:
        return settings.telegram.webhook_secret
    async with db.transaction() as session:
        return await instance_secret(session, "telegram_webhook_secret")
