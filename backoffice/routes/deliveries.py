"""Messages that could not be delivered, and received ones the bot could not handle: seen
by staff, tried again on request."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backoffice import permissions
from backoffice.csrf import verify_csrf
from backoffice.deps import RoleRequired, Session
from backoffice.params import RowId
from backoffice.templating import templates
from casework.inbox import service as inbox
from casework.inbox.service import given_up
from casework.outbox.service import failed, retry
from casework.staff.models import StaffUser
from foundation import texts

router = APIRouter(prefix="/backoffice/envios", dependencies=[Depends(verify_csrf)])
ROLES = permissions.DELIVERIES
Staff = Annotated[StaffUser, Depends(RoleRequired(*ROLES))]


@router.get("", response_class=HTMLResponse)
async def failed_list(request: Request, session: Session, staff: Staff) -> Response:
    context = {"staff": staff, "items": await failed(session), "received": await given_up(session)}
    return templates.TemplateResponse(request, "deliveries.html", context)


@router.post("/{item_id}/reintentar")
async def failed_retry(item_id: RowId, session: Session, staff: Staff) -> Response:
    if not await retry(session, item_id, staff):
        raise HTTPException(404, texts.t("errors.no_failed_delivery"))
    return RedirectResponse("/backoffice/envios", status_code=303)


@router.post("/recibidos/{item_id}/reintentar")
async def received_retry(item_id: RowId, session: Session, staff: Staff) -> Response:
    if not await inbox.retry(session, item_id, staff):
        raise HTTPException(404, texts.t("errors.no_failed_update"))
    return RedirectResponse("/backoffice/envios", status_code=303)
