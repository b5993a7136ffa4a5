"""Survey dimensions per procedure, for evaluators: which extra questions each survey asks."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backoffice import permissions
from backoffice.csrf import verify_csrf
from backoffice.deps import RoleRequired, Session
from backoffice.templating import templates
from casework.ratings.dimensions import (
    DIMENSIONS,
    DimensionError,
    dimensions_by_procedure,
    set_dimensions,
)
from casework.staff.models import StaffUser
from catalog.service import department_options, get_procedure, procedures_of
from foundation import texts

router = APIRouter(prefix="/backoffice/encuestas", dependencies=[Depends(verify_csrf)])
ROLES = permissions.RATINGS
Staff = Annotated[StaffUser, Depends(RoleRequired(*ROLES))]
NOTICES = {"guardado": "Cambios guardados.", "sin-cambios": "No había nada que cambiar."}


async def _page(
    request: Request,
    session: Session,
    staff: StaffUser,
    area: str,
    error: str = "",
    status: int = 200,
) -> Response:
    return templates.TemplateResponse(
        request,
        "surveys.html",
        {
            "staff": staff,
            "procedures": await procedures_of(session, area or None),
            "departments": await department_options(session),
            "area": area,
            "dimensions": list(DIMENSIONS.values()),
            "switched_on": await dimensions_by_procedure(session),
            "notice": NOTICES.get(request.query_params.get("aviso", ""), ""),
            "error": error,
        },
        status_code=status,
    )


@router.get("", response_class=HTMLResponse)
async def survey_dimensions(
    request: Request, session: Session, staff: Staff, area: str = ""
) -> Response:
    return await _page(request, session, staff, area)


@router.post("/{procedure_id}")
async def save_dimensions(
    request: Request,
    procedure_id: str,
    session: Session,
    staff: Staff,
    dimensiones: Annotated[list[str] | None, Form()] = None,
    area: Annotated[str, Form()] = "",
) -> Response:
    if await get_procedure(session, procedure_id) is None:
        raise HTTPException(404, texts.t("errors.no_procedure"))
    try:
        changed = await set_dimensions(session, staff, procedure_id, dimensiones or [])
    except DimensionError as exc:
        return await _page(request, session, staff, area, f"No se guardó: {exc}.", 422)
    query = {"area": area} if area else {}
    query["aviso"] = "guardado" if changed else "sin-cambios"
    return RedirectResponse(
        f"/backoffice/encuestas?{urlencode(query)}#p-{procedure_id}", status_code=303
    )
