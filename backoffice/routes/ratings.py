"""The ratings citizens gave, for evaluators: pseudonymised (no folio, personal data masked
in comments), like the exports."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from backoffice import permissions
from backoffice.csrf import verify_csrf
from backoffice.deps import RoleRequired, Session
from backoffice.templating import templates
from casework.ratings.service import answered_ratings
from casework.staff.models import StaffUser

router = APIRouter(prefix="/backoffice/calificaciones", dependencies=[Depends(verify_csrf)])
ROLES = permissions.RATINGS
Staff = Annotated[StaffUser, Depends(RoleRequired(*ROLES))]


@router.get("", response_class=HTMLResponse)
async def rating_list(request: Request, session: Session, staff: Staff) -> Response:
    rows = await answered_ratings(session)
    scores = [row.score for row in rows if row.score is not None]
    mean = round(sum(scores) / len(scores), 2) if scores else None
    return templates.TemplateResponse(
        request, "ratings.html", {"staff": staff, "rows": rows, "mean": mean}
    )
