"""The request queue: list, detail with history, status changes."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backoffice.csrf import verify_csrf
from backoffice.deps import Session, Staff
from backoffice.templating import templates
from casework.requests.models import STATUSES
from casework.requests.service import RequestError, change_status, get_by_folio, list_requests

router = APIRouter(prefix="/backoffice/solicitudes", dependencies=[Depends(verify_csrf)])


@router.get("", response_class=HTMLResponse)
async def request_list(
    request: Request, session: Session, staff: Staff, estado: str = ""
) -> Response:
    status = estado if estado in STATUSES else None
    rows = await list_requests(session, status)
    return templates.TemplateResponse(
        request,
        "requests.html",
        {"staff": staff, "requests": rows, "status": status, "statuses": STATUSES},
    )


@router.get("/{folio}", response_class=HTMLResponse)
async def request_detail(request: Request, folio: str, session: Session, staff: Staff) -> Response:
    item = await get_by_folio(session, folio)
    if item is None:
        raise HTTPException(404, "No existe esa solicitud.")
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
    item = await get_by_folio(session, folio)
    if item is None:
        raise HTTPException(404, "No existe esa solicitud.")
    try:
        await change_status(session, item, staff, status, note, public=visibility == "public")
    except RequestError as exc:
        raise HTTPException(422, str(exc)) from exc
    return RedirectResponse(f"/backoffice/solicitudes/{folio}", status_code=303)
