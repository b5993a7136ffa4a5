"""Evaluators' API tokens: list, create (the token is shown once), revoke."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backoffice import permissions
from backoffice.csrf import verify_csrf
from backoffice.deps import RoleRequired, Session
from backoffice.params import RowId
from backoffice.templating import templates
from casework.staff.models import ApiToken, StaffUser
from casework.staff.tokens import TokenError, create_token, get_token, list_tokens, revoke_token
from foundation import texts

router = APIRouter(prefix="/backoffice/tokens", dependencies=[Depends(verify_csrf)])
ROLES = permissions.RATINGS
Staff = Annotated[StaffUser, Depends(RoleRequired(*ROLES))]
NOTICES = {"revocado": "Token revocado: deja de funcionar de inmediato."}
# The page that shows a new token must not be kept by the browser or a proxy.
NO_STORE = {"Cache-Control": "no-store"}


async def _page(
    request: Request,
    session: Session,
    staff: StaffUser,
    *,
    created: tuple[ApiToken, str] | None = None,
    error: str = "",
    name: str = "",
    status: int = 200,
) -> Response:
    context = {
        "staff": staff,
        "tokens": await list_tokens(session, staff),
        "created": created,
        "error": error,
        "name": name,
        "notice": NOTICES.get(request.query_params.get("aviso", ""), ""),
        "api_base": str(request.base_url).rstrip("/") + "/api/v1/evaluacion",
    }
    return templates.TemplateResponse(
        request, "tokens.html", context, status_code=status, headers=NO_STORE
    )


@router.get("", response_class=HTMLResponse)
async def token_list(request: Request, session: Session, staff: Staff) -> Response:
    return await _page(request, session, staff)


@router.post("", response_class=HTMLResponse)
async def new_token(
    request: Request, session: Session, staff: Staff, name: Annotated[str, Form()] = ""
) -> Response:
    try:
        created = await create_token(session, staff, name)
    except TokenError as exc:
        return await _page(request, session, staff, error=_sentence(exc), name=name, status=422)
    return await _page(request, session, staff, created=created)


@router.post("/{token_id}/revocar")
async def revoke(request: Request, token_id: RowId, session: Session, staff: Staff) -> Response:
    token = await get_token(session, staff, token_id)
    if token is None:  # another person's token answers like an unknown one
        raise HTTPException(404, texts.t("errors.no_token"))
    await revoke_token(session, staff, token)
    return RedirectResponse("/backoffice/tokens?aviso=revocado", status_code=303)


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:] + "."
