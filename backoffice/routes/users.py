"""Staff accounts, for administrators: list, create, edit, deactivate, reset password."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backoffice import permissions
from backoffice.csrf import verify_csrf
from backoffice.deps import RoleRequired, Session
from backoffice.params import RowId
from backoffice.templating import templates
from casework.staff.accounts import (
    StaffError,
    create_user,
    get_user,
    list_users,
    reset_password,
    set_active,
    update_user,
)
from casework.staff.models import ROLES as ALL_ROLES
from casework.staff.models import StaffUser
from catalog.service import department_options
from foundation import texts

router = APIRouter(prefix="/backoffice/usuarios", dependencies=[Depends(verify_csrf)])
ROLES = permissions.USERS
Staff = Annotated[StaffUser, Depends(RoleRequired(*ROLES))]
Departments = Annotated[list[str] | None, Form()]
NOTICES = {
    "creado": "Cuenta creada.",
    "guardado": "Cambios guardados.",
    "contrasena": "Contraseña restablecida. Las sesiones abiertas de la cuenta se cerraron.",
    "desactivado": "Cuenta desactivada. Sus sesiones abiertas se cerraron.",
    "activado": "Cuenta reactivada.",
}


async def _get(session: Session, user_id: int) -> StaffUser:
    user = await get_user(session, user_id, for_update=True)
    if user is None:
        raise HTTPException(404, texts.t("errors.no_account"))
    return user


async def _form(
    request: Request,
    session: Session,
    staff: StaffUser,
    user: StaffUser | None,
    values: dict[str, object],
    error: str = "",
    status: int = 200,
) -> Response:
    context = {
        "staff": staff,
        "user": user,
        "values": values,
        "roles": ALL_ROLES,
        "departments": await department_options(session),
        "error": error,
        "notice": NOTICES.get(request.query_params.get("aviso", ""), ""),
    }
    return templates.TemplateResponse(request, "user_form.html", context, status_code=status)


def _values(user: StaffUser) -> dict[str, object]:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "departments": sorted(user.department_ids),
    }


@router.get("", response_class=HTMLResponse)
async def user_list(request: Request, session: Session, staff: Staff) -> Response:
    return templates.TemplateResponse(
        request,
        "users.html",
        {
            "staff": staff,
            "users": await list_users(session),
            "notice": NOTICES.get(request.query_params.get("aviso", ""), ""),
        },
    )


@router.get("/nuevo", response_class=HTMLResponse)
async def new_user_form(request: Request, session: Session, staff: Staff) -> Response:
    values: dict[str, object] = {
        "username": "",
        "full_name": "",
        "role": "agent",
        "departments": [],
    }
    return await _form(request, session, staff, None, values)


@router.post("/nuevo")
async def new_user(
    request: Request,
    session: Session,
    staff: Staff,
    username: Annotated[str, Form()],
    role: Annotated[str, Form()],
    password: Annotated[str, Form()],
    full_name: Annotated[str, Form()] = "",
    departments: Departments = None,
) -> Response:
    chosen = departments or []
    try:
        user = await create_user(session, username, password, role, full_name, chosen, actor=staff)
    except StaffError as exc:
        values: dict[str, object] = {
            "username": username,
            "full_name": full_name,
            "role": role,
            "departments": chosen,
        }
        return await _form(request, session, staff, None, values, _sentence(exc), 422)
    return RedirectResponse(f"/backoffice/usuarios/{user.id}?aviso=creado", status_code=303)


@router.get("/{user_id}", response_class=HTMLResponse)
async def edit_user_form(
    request: Request, user_id: RowId, session: Session, staff: Staff
) -> Response:
    user = await _get(session, user_id)
    return await _form(request, session, staff, user, _values(user))


@router.post("/{user_id}")
async def edit_user(
    request: Request,
    user_id: RowId,
    session: Session,
    staff: Staff,
    role: Annotated[str, Form()],
    full_name: Annotated[str, Form()] = "",
    departments: Departments = None,
) -> Response:
    user = await _get(session, user_id)
    try:
        await update_user(
            session, staff, user, role=role, full_name=full_name, departments=departments or []
        )
    except StaffError as exc:
        values = {**_values(user), "role": role, "full_name": full_name}
        values["departments"] = departments or []
        return await _form(request, session, staff, user, values, _sentence(exc), 422)
    return RedirectResponse(f"/backoffice/usuarios/{user.id}?aviso=guardado", status_code=303)


@router.post("/{user_id}/contrasena")
async def user_password(
    request: Request,
    user_id: RowId,
    session: Session,
    staff: Staff,
    password: Annotated[str, Form()],
) -> Response:
    user = await _get(session, user_id)
    try:
        await reset_password(session, staff, user, password)
    except StaffError as exc:
        return await _form(request, session, staff, user, _values(user), _sentence(exc), 422)
    return RedirectResponse(f"/backoffice/usuarios/{user.id}?aviso=contrasena", status_code=303)


@router.post("/{user_id}/activo")
async def user_active(
    request: Request,
    user_id: RowId,
    session: Session,
    staff: Staff,
    active: Annotated[bool, Form()],
) -> Response:
    user = await _get(session, user_id)
    try:
        await set_active(session, staff, user, active)
    except StaffError as exc:
        return await _form(request, session, staff, user, _values(user), _sentence(exc), 422)
    notice = "activado" if active else "desactivado"
    return RedirectResponse(f"/backoffice/usuarios/{user.id}?aviso={notice}", status_code=303)


def _sentence(exc: StaffError) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:] + "."
