"""Conversations handed to a person: the waiting list, the chat view, reply and close."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice import permissions
from backoffice.csrf import verify_csrf
from backoffice.deps import RoleRequired, Session
from backoffice.templating import templates
from casework.conversations.service import transcript
from casework.handoffs.models import Handoff
from casework.handoffs.service import (
    HandoffError,
    close,
    get_for_staff,
    list_open,
    reply,
    reply_window_closed,
)
from casework.staff.models import StaffUser
from casework.staff.service import department_scope

router = APIRouter(prefix="/backoffice/canalizaciones", dependencies=[Depends(verify_csrf)])
ROLES = permissions.HANDOFFS
Staff = Annotated[StaffUser, Depends(RoleRequired(*ROLES))]


async def _get(session: AsyncSession, staff: StaffUser, handoff_id: int) -> Handoff:
    """Another department's conversation answers like an unknown one (404)."""
    handoff = await get_for_staff(session, handoff_id, department_scope(staff))
    if handoff is None:
        raise HTTPException(404, "No existe esa conversación.")
    return handoff


@router.get("", response_class=HTMLResponse)
async def handoff_list(request: Request, session: Session, staff: Staff) -> Response:
    return templates.TemplateResponse(
        request,
        "handoffs.html",
        {"staff": staff, "handoffs": await list_open(session, department_scope(staff))},
    )


@router.get("/{handoff_id}", response_class=HTMLResponse)
async def handoff_detail(
    request: Request, handoff_id: int, session: Session, staff: Staff, error: str = ""
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
            "error": error,
        },
    )


@router.post("/{handoff_id}/responder")
async def handoff_reply(
    handoff_id: int, session: Session, staff: Staff, text: Annotated[str, Form()]
) -> Response:
    try:
        await reply(session, await _get(session, staff, handoff_id), staff, text)
    except HandoffError as exc:
        raise HTTPException(409, str(exc)) from exc
    return RedirectResponse(f"/backoffice/canalizaciones/{handoff_id}", status_code=303)


@router.post("/{handoff_id}/cerrar")
async def handoff_close(handoff_id: int, session: Session, staff: Staff) -> Response:
    try:
        await close(session, await _get(session, staff, handoff_id), staff)
    except HandoffError as exc:
        raise HTTPException(409, str(exc)) from exc
    return RedirectResponse("/backoffice/canalizaciones", status_code=303)
