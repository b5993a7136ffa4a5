"""The request queue: filters, detail with its timeline, assignment, status changes."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backoffice import permissions
from backoffice.csrf import verify_csrf
from backoffice.deps import RoleRequired, Session
from backoffice.params import id_in
from backoffice.templating import templates
from casework.requests.models import STATUSES
from casework.requests.models import Request as CaseRequest
from casework.requests.service import (
    QueueFilter,
    RequestError,
    assign,
    change_status,
    get_by_folio,
    list_requests,
)
from casework.staff.accounts import active_staff, department_scope, get_user
from casework.staff.models import StaffUser
from catalog.service import department_options, request_procedure_options
from foundation import texts
from foundation.db import utcnow

router = APIRouter(prefix="/backoffice/solicitudes", dependencies=[Depends(verify_csrf)])
ROLES = permissions.REQUESTS
Staff = Annotated[StaffUser, Depends(RoleRequired(*ROLES))]


async def _get(session: Session, staff: StaffUser, folio: str) -> CaseRequest:
    """Another department's request answers like an unknown folio (404): its existence is
    not revealed to an agent who may not see it."""
    item = await get_by_folio(session, folio, department_scope(staff))
    if item is None:
        raise HTTPException(404, texts.t("errors.no_request"))
    return item


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None  # a mistyped date filters nothing rather than failing the page


def _can_work(person: StaffUser, department_id: str) -> bool:
    """Admins, and agents of the request's department, can be given a request."""
    scope = department_scope(person)
    return person.active and person.role in ROLES and (scope is None or department_id in scope)


async def _colleagues(session: Session, department_id: str) -> list[StaffUser]:
    found = await active_staff(session, ROLES)
    return [person for person in found if _can_work(person, department_id)]


@router.get("", response_class=HTMLResponse)
async def request_list(
    request: Request,
    session: Session,
    staff: Staff,
    estado: str = "",
    tramite: str = "",
    area: str = "",
    vencidas: bool = False,
    mias: bool = False,
    desde: str = "",
    hasta: str = "",
) -> Response:
    filters = QueueFilter(
        status=estado if estado in STATUSES else None,
        procedure_id=tramite or None,
        department_ids=(area,) if area else None,
        overdue_only=vencidas,
        assigned_to_id=staff.id if mias else None,
        opened_from=_day(desde),
        opened_to=_day(hasta),
    )
    return templates.TemplateResponse(
        request,
        "requests.html",
        {
            "staff": staff,
            "requests": await list_requests(session, filters, scope=department_scope(staff)),
            "filters": filters,
            "form": {"desde": desde, "hasta": hasta, "area": area, "mias": mias},
            "statuses": STATUSES,
            "procedures": await request_procedure_options(session),
            "departments": await department_options(session),
            "now": utcnow(),
        },
    )


@router.get("/{folio}", response_class=HTMLResponse)
async def request_detail(request: Request, folio: str, session: Session, staff: Staff) -> Response:
    item = await _get(session, staff, folio)
    return templates.TemplateResponse(
        request,
        "request_detail.html",
        {
            "staff": staff,
            "item": item,
            "statuses": STATUSES,
            "colleagues": await _colleagues(session, item.department_id),
            "now": utcnow(),
        },
    )


@router.post("/{folio}/asignar")
async def request_assign(
    folio: str, session: Session, staff: Staff, assignee: Annotated[str, Form()] = ""
) -> Response:
    item = await _get(session, staff, folio)
    person = None
    if assignee:
        chosen = id_in(assignee)
        person = await get_user(session, chosen) if chosen is not None else None
        if person is None or not _can_work(person, item.department_id):
            raise HTTPException(422, texts.t("errors.assignee_outside_area"))
    await assign(session, item, staff, person)
    return RedirectResponse(f"/backoffice/solicitudes/{folio}", status_code=303)


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
