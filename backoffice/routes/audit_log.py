"""The audit log, for administrators: who changed what, when, before and after."""

from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from backoffice import permissions
from backoffice.csrf import verify_csrf
from backoffice.deps import RoleRequired, Session
from backoffice.params import Page, id_in
from backoffice.templating import templates
from casework.staff.accounts import list_users
from casework.staff.audit import AuditFilter, audit_choices, search_audit
from casework.staff.models import StaffUser
from foundation.calendar import LOCAL_TZ

router = APIRouter(prefix="/backoffice/auditoria", dependencies=[Depends(verify_csrf)])
ROLES = permissions.AUDIT
Staff = Annotated[StaffUser, Depends(RoleRequired(*ROLES))]


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=LOCAL_TZ)


@router.get("", response_class=HTMLResponse)
async def audit_list(
    request: Request,
    session: Session,
    staff: Staff,
    usuario: str = "",
    accion: str = "",
    entidad: str = "",
    desde: str = "",
    hasta: str = "",
    pagina: Page = 1,
) -> Response:
    """Dates are whole days in Mexico City time, both ends included."""
    since, until = _day(desde), _day(hasta)
    where = AuditFilter(
        staff_user_id=id_in(usuario),
        action=accion or None,
        entity=entidad or None,
        since=_local_midnight(since) if since else None,
        until=_local_midnight(until + timedelta(days=1)) if until else None,
    )
    found = await search_audit(session, where, pagina)
    actions, entities = await audit_choices(session)
    filters = {
        "usuario": usuario if id_in(usuario) is not None else "",
        "accion": accion,
        "entidad": entidad,
        "desde": since.isoformat() if since else "",
        "hasta": until.isoformat() if until else "",
    }
    return templates.TemplateResponse(
        request,
        "audit.html",
        {
            "staff": staff,
            "found": found,
            "users": await list_users(session),
            "actions": actions,
            "entities": entities,
            "filters": filters,
            "query": urlencode({key: value for key, value in filters.items() if value}),
        },
    )
