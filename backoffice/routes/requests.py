"""The request queue: list, detail with history, status changes."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backoffice import permissions
from backoffice.csrf import verify_csrf
from backoffice.deps import RoleRequired, Session
from backoffice.templating import templates
from casework.requests.models import STATUSES
from casework.requests.models import Request as CaseRequest
from casework.requests.service import RequestError, change_status, get_by_folio, list_requests
from casework.staff.models import StaffUser
from casework.staff.service import department_scope

router = APIRouter(prefix="/backoffice/solicitudes", dependencies=[Depends(verify_csrf)])
ROLES = permissions.REQUESTS
Staff = Annotated[StaffUser, Depends(RoleRequired(*ROLES))]


async def _get(session: Session, staff: StaffUser, folio: str) -> CaseRequest:
    """Another department's request answers like an unknown folio (404): its existence is
    not revealed to an agent who may not see it."""
    item = await get_by_folio(session, folio, department_scope(staff))
    if item is None:
        raise HTTPException(404, "No existe esa solicitud.")
    return item


@router.get("", response_class=HTMLResponse)
async def request_list(
    request: Request, session: Session, staff: Staff, estado: str = ""
) -> Response:
    status = estado if estado in STATUSES else None
    rows = await list_requests(session, status, departments=department_scope(staff))
    return templates.TemplateResponse(
        request,
        "requests.html",
        {"staff": staff, "requests": rows, "status": status, "statuses": STATUSES},
    )


@router.get("/{folio}", response_class=HTMLResponse)
async def request_detail(request: Request, folio: str, session: Session, staff: Staff) -> Response:
    item = await _get(session, staff, folio)
    return templates.TemplateResponse(
        request, "request_detail.html", {"staff": staff, "item": item, "statuses": STATUSES}
    )


@router.post("/{folio}/estado")
async def request_status(
    folio: str,
    session: Session,
    staff: Staff,
    status: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
    visibility: Annotated[str, Form()] = "public",
) -> Response:
    item = await _get(session, staff, folio)
    try:
        await change_status(session, item, staff, status, note, public=visibility == "public")
    except RequestError as exc:
        raise HTTPException(422, str(exc)) from exc
    return RedirectResponse(f"/backoffice/solicitudes/{folio}", status_code=303)
