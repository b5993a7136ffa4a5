"""Conversations handed to a person: the live inbox, the chat view, claim, reply and close."""

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

from backoffice import permissions
from backoffice.csrf import verify_csrf
from backoffice.deps import (
    RoleRequired,
    RoleRequiredOutsideTransaction,
    Session,
    database,
    logged_in,
)
from backoffice.params import RowId
from backoffice.templating import templates
from casework.conversations.service import transcript
from casework.handoffs.canned import canned_answers, expand
from casework.handoffs.models import Handoff
from casework.handoffs.service import (
    HandoffError,
    claim,
    close,
    get_for_staff,
    inbox,
    reply,
    reply_window_closed,
)
from casework.staff.accounts import department_scope
from casework.staff.models import StaffUser
from foundation import texts
from foundation.db import Database

router = APIRouter(prefix="/backoffice/canalizaciones", dependencies=[Depends(verify_csrf)])
INBOX_POLL_SECONDS = 2.0
ROLES = permissions.HANDOFFS
Staff = Annotated[StaffUser, Depends(RoleRequired(*ROLES))]


async def _get(session: Session, staff: StaffUser, handoff_id: int) -> Handoff:
    """Another department's conversation answers like an unknown one (404)."""
    handoff = await get_for_staff(session, handoff_id, department_scope(staff))
    if handoff is None:
        raise HTTPException(404, texts.t("errors.no_conversation"))
    return handoff


@router.get("", response_class=HTMLResponse)
async def handoff_list(request: Request, session: Session, staff: Staff) -> Response:
    return templates.TemplateResponse(
        request,
        "handoffs.html",
        {"staff": staff, "rows": await inbox(session, department_scope(staff))},
    )


@router.get("/eventos", response_class=EventSourceResponse)
async def handoff_events(
    request: Request,
    db: Annotated[Database, Depends(database)],
    staff: Annotated[StaffUser, Depends(RoleRequiredOutsideTransaction(*ROLES))],
) -> AsyncIterator[ServerSentEvent]:
    """The inbox as server-sent events: a new list whenever it changes. Each check is its own
    short transaction, so an open page never holds the database. A stream ends after
    `inbox_stream_seconds` and the browser reconnects by itself (proxies drop idle streams).

    Every check looks at the login again: once it has ended (logged out, deactivated, a new
    password or a role without this section) the stream sends `ended` and stops, so nothing
    more reaches that browser; the page then goes to the login form."""
    deadline = time.monotonic() + request.app.state.settings.web.inbox_stream_seconds
    last = None
    while not await request.is_disconnected():
        async with db.transaction() as session:
            current = await logged_in(request, session)
            rows = None
            if current is not None and current.role in ROLES:
                rows = [row.as_dict() for row in await inbox(session, department_scope(current))]
        if rows is None:
            # With some data: browsers drop an event whose data is empty.
            yield ServerSentEvent(event="ended", raw_data="/backoffice/login")
            return
        if rows != last:
            yield ServerSentEvent(data=rows, event="inbox", retry=2000)
            last = rows
        if time.monotonic() >= deadline:
            return
        await asyncio.sleep(INBOX_POLL_SECONDS)


@router.get("/{handoff_id}", response_class=HTMLResponse)
async def handoff_detail(
    request: Request, handoff_id: RowId, session: Session, staff: Staff, error: str = ""
) -> Response:
    handoff = await _get(session, staff, handoff_id)
    return templates.TemplateResponse(
        request,
        "handoff_detail.html",
        {
            "staff": staff,
            "handoff": handoff,
            "messages": await transcript(session, handoff.conversation_id),
            "window_closed": await reply_window_closed(session, handoff),
            "canned": canned_answers(request.app.state.settings.canned_answers),
            "error": error,
        },
    )


@router.post("/{handoff_id}/tomar")
async def handoff_claim(handoff_id: RowId, session: Session, staff: Staff) -> Response:
    try:
        await claim(session, await _get(session, staff, handoff_id), staff)
    except HandoffError as exc:
        raise HTTPException(409, f"No se pudo tomar: {exc}.") from exc
    return RedirectResponse(f"/backoffice/canalizaciones/{handoff_id}", status_code=303)


@router.post("/{handoff_id}/responder")
async def handoff_reply(
    request: Request,
    handoff_id: RowId,
    session: Session,
    staff: Staff,
    text: Annotated[str, Form()],
) -> Response:
    text = expand(text, canned_answers(request.app.state.settings.canned_answers))
    try:
        await reply(session, await _get(session, staff, handoff_id), staff, text)
    except HandoffError as exc:
        raise HTTPException(409, f"No se pudo enviar: {exc}.") from exc
    return RedirectResponse(f"/backoffice/canalizaciones/{handoff_id}", status_code=303)


@router.post("/{handoff_id}/cerrar")
async def handoff_close(handoff_id: RowId, session: Session, staff: Staff) -> Response:
    try:
        await close(session, await _get(session, staff, handoff_id), staff)
    except HandoffError as exc:
        raise HTTPException(409, f"No se pudo cerrar: {exc}.") from exc
    return RedirectResponse("/backoffice/canalizaciones", status_code=303)
