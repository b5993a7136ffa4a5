"""Catalogue editing for administrators and editors: list, edit as drafts, preview, publish,
history with differences and restore, and YAML import and export.

The logic is in ``catalog.forms``, ``catalog.versions``, ``catalog.preview`` and
``catalog.overview``; these routes parse, authorise, call them and render.
"""

from collections.abc import AsyncIterator
from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backoffice import permissions
from backoffice.csrf import verify_csrf
from backoffice.deps import RoleRequired, Session
from backoffice.params import QueryId, RowId
from backoffice.templating import templates
from casework.staff.accounts import staff_names
from casework.staff.models import StaffUser
from catalog import forms, overview, preview, versions
from catalog.forms import Kind
from catalog.models import CatalogVersion
from catalog.schema import DepartmentEntry, ProcedureEntry
from catalog.service import department_options, first_procedure_of, get_department
from catalog.transfer import export_catalog
from catalog.validate import MESSAGES as VALIDATE_MESSAGES
from catalog.validate import CatalogError, validate_text
from foundation.calendar import format_local
from foundation.db import utcnow


async def _bot_rereads_catalogue(request: Request) -> AsyncIterator[None]:
    """After a change made here is committed, the bot checks the catalogue on its next turn
    (other processes notice within `catalog_refresh_seconds`)."""
    yield
    if request.method == "POST":
        request.app.state.engine.forget_catalog()


router = APIRouter(
    prefix="/backoffice/catalogo",
    dependencies=[Depends(verify_csrf), Depends(_bot_rereads_catalogue)],
)
ROLES = permissions.CATALOG
Editor = Annotated[StaffUser, Depends(RoleRequired(*ROLES))]

SECTIONS: dict[str, Kind] = {"tramites": "procedure", "dependencias": "department"}
NEW: dict[str, str] = {"tramite": "tramites", "dependencia": "dependencias"}
MAX_UPLOAD = 2 * 1024 * 1024

MESSAGES: dict[str, Any] = {
    "notices": {
        "guardado": "Borrador guardado. Revise la vista previa y publíquelo cuando esté listo.",
        "sin-cambios": "No hay cambios respecto a la versión publicada; no se guardó borrador.",
        "publicado": "Publicado: el asistente ya responde con esta versión.",
        "descartado": "Borrador descartado.",
        "restaurado": "Versión restaurada como borrador. Publíquela para que el asistente la use.",
    },
    "preview_unsaved": "Vista previa de lo escrito, sin guardar.",
    "not_found": "No existe esa entrada del catálogo.",
    "upload_too_large": "el archivo es demasiado grande (máximo 2 MB)",
    "upload_empty": "no se eligió ningún archivo",
    "list_states": {
        "published": "Publicado",
        "edited": "Publicado, con borrador",
        "new": "Borrador nuevo, sin publicar",
    },
    "version_states": {
        "draft": "Borrador",
        "published": "Publicada",
        "superseded": "Reemplazada",
        "discarded": "Descartada",
    },
    "kinds": {"tramite": "Trámite", "servicio": "Servicio"},
    "modalities": {"presencial": "Presencial", "en_linea": "En línea"},
    "request_fields": {"location": "Ubicación", "description": "Descripción", "photo": "Foto"},
    "titles": {"procedure": "trámite o servicio", "department": "dependencia"},
}


def _kind(section: str) -> Kind:
    kind = SECTIONS.get(section)
    if kind is None:
        raise HTTPException(404, MESSAGES["not_found"])
    return kind


def _entry_url(section: str, entry_id: str, notice: str = "") -> str:
    url = f"/backoffice/catalogo/{section}/{entry_id}"
    return f"{url}?aviso={notice}" if notice else url


def _base(staff: StaffUser, **context: Any) -> dict[str, Any]:
    return {"staff": staff, "m": MESSAGES, **context}


# --- list, export, import -------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def catalog_list(
    request: Request,
    session: Session,
    staff: Editor,
    q: str = "",
    dependencia: str = "",
    estado: str = "",
) -> Response:
    state = estado if estado in overview.STATES else ""
    departments = await overview.departments(session)
    procedures = await overview.procedures(session, q.strip(), dependencia, state)
    context = _base(
        staff,
        departments=departments,
        procedures=procedures,
        q=q,
        department=dependencia,
        state=state,
        states=overview.STATES,
    )
    return templates.TemplateResponse(request, "catalog_list.html", context)


@router.get("/exportar")
async def catalog_export(session: Session, staff: Editor) -> Response:
    try:
        text = await export_catalog(session)
    except CatalogError as exc:
        raise HTTPException(409, "; ".join(exc.problems)) from exc
    filename = f"catalogo-{utcnow():%Y-%m-%d}.yml"
    return Response(
        text,
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/importar", response_class=HTMLResponse)
async def import_form(request: Request, staff: Editor) -> Response:
    return templates.TemplateResponse(request, "catalog_import.html", _base(staff))


@router.post("/importar", response_class=HTMLResponse)
async def import_upload(
    request: Request, session: Session, staff: Editor, archivo: UploadFile | None = None
) -> Response:
    filename = PurePath(archivo.filename or "catalogo.yml").name if archivo else "catalogo.yml"
    problems: list[str] = []
    raw = await archivo.read(MAX_UPLOAD + 1) if archivo else b""
    if not raw:
        problems = [f"{filename}: {MESSAGES['upload_empty']}"]
    elif len(raw) > MAX_UPLOAD:
        problems = [f"{filename}: {MESSAGES['upload_too_large']}"]
    else:
        try:
            catalog, problems = validate_text(raw.decode("utf-8-sig"), filename)
        except UnicodeDecodeError:
            catalog, problems = None, [f"{filename}: {VALIDATE_MESSAGES['not_utf8']}"]
        if catalog is not None:
            report = await versions.import_file(session, staff, catalog, filename)
            context = _base(staff, report=report, filename=filename)
            return templates.TemplateResponse(request, "catalog_import.html", context)
    context = _base(staff, problems=problems, filename=filename)
    return templates.TemplateResponse(request, "catalog_import.html", context, status_code=422)


# --- one entry ------------------------------------------------------------------------------


async def _preview(
    session: Session, entry: DepartmentEntry | ProcedureEntry | None
) -> list[preview.PreviewAnswer]:
    if isinstance(entry, ProcedureEntry):
        department = await get_department(session, entry.department)
        return preview.procedure_answers(entry, department) if department else []
    if isinstance(entry, DepartmentEntry):
        example = await first_procedure_of(session, entry.id)
        return preview.department_answers(entry, example) if example else []
    return []


async def _edit_page(
    request: Request,
    session: Session,
    staff: StaffUser,
    section: str,
    entry_id: str | None,
    *,
    values: forms.FormValues | None = None,
    errors: dict[str, list[str]] | None = None,
    shown: DepartmentEntry | ProcedureEntry | None = None,
    notice: str = "",
    status_code: int = 200,
) -> Response:
    """The edit form (what is typed, else the draft, else the published entry), its problems,
    the preview of what the bot would say, and the publish and history controls."""
    kind = _kind(section)
    live = draft = None
    if entry_id is not None:
        live = await versions.live_entry(session, kind, entry_id)
        draft = await versions.in_state(session, kind, entry_id, "draft")
        if live is None and draft is None:
            raise HTTPException(404, MESSAGES["not_found"])
    current = versions.to_entry(kind, draft.data) if draft else live
    if values is None:
        values = forms.from_entry(kind, current)
    published = None
    if entry_id is not None and live is not None:
        published = await versions.in_state(session, kind, entry_id, "published")
    stale = bool(draft and published and draft.based_on != published.number)
    context = _base(
        staff,
        kind=kind,
        section=section,
        entry_id=entry_id,
        values=values,
        errors=errors or {},
        live=live,
        draft=draft,
        published=published,
        stale=stale,
        answers=await _preview(session, shown if shown is not None else current),
        preview_unsaved=shown is not None,
        notice=notice,
        departments=await department_options(session) if kind == "procedure" else [],
    )
    template = f"catalog_{kind}.html"
    return templates.TemplateResponse(request, template, context, status_code=status_code)


@router.get("/nuevo/{singular}", response_class=HTMLResponse)
async def new_form(request: Request, session: Session, staff: Editor, singular: str) -> Response:
    section = NEW.get(singular)
    if section is None:
        raise HTTPException(404, MESSAGES["not_found"])
    return await _edit_page(request, session, staff, section, None)


@router.post("/nuevo/{singular}", response_class=HTMLResponse)
async def new_save(request: Request, session: Session, staff: Editor, singular: str) -> Response:
    section = NEW.get(singular)
    if section is None:
        raise HTTPException(404, MESSAGES["not_found"])
    return await _save(request, session, staff, section, None)


@router.get("/{section}/{entry_id}", response_class=HTMLResponse)
async def edit_form(
    request: Request, session: Session, staff: Editor, section: str, entry_id: str, aviso: str = ""
) -> Response:
    notice = MESSAGES["notices"].get(aviso, "")
    return await _edit_page(request, session, staff, section, entry_id, notice=notice)


@router.post("/{section}/{entry_id}", response_class=HTMLResponse)
async def edit_save(
    request: Request, session: Session, staff: Editor, section: str, entry_id: str
) -> Response:
    kind = _kind(section)
    if await versions.live_entry(session, kind, entry_id) is None and (
        await versions.in_state(session, kind, entry_id, "draft") is None
    ):
        raise HTTPException(404, MESSAGES["not_found"])
    return await _save(request, session, staff, section, entry_id)


async def _save(
    request: Request, session: Session, staff: StaffUser, section: str, entry_id: str | None
) -> Response:
    """Check the submitted form; show it again with its problems, preview it, or save it as
    the draft."""
    kind = _kind(section)
    form = await request.form()
    values = forms.from_submission(kind, form)
    entry, errors = forms.check(kind, values, entry_id)
    if entry is not None and form.get("accion") == "vista-previa":
        notice = MESSAGES["preview_unsaved"]
        return await _edit_page(
            request, session, staff, section, entry_id, values=values, shown=entry, notice=notice
        )
    if entry is not None:
        try:
            draft = await versions.save_draft(session, staff, kind, entry, new=entry_id is None)
        except versions.EditError as exc:
            errors = {exc.field or "id": [str(exc)]}
        else:
            notice = "guardado" if draft is not None else "sin-cambios"
            return RedirectResponse(_entry_url(section, entry.id, notice), status_code=303)
    return await _edit_page(
        request, session, staff, section, entry_id, values=values, errors=errors, status_code=422
    )


@router.post("/{section}/{entry_id}/publicar")
async def publish(session: Session, staff: Editor, section: str, entry_id: str) -> Response:
    try:
        await versions.publish(session, staff, _kind(section), entry_id)
    except versions.EditError as exc:
        raise HTTPException(409, str(exc)) from exc
    return RedirectResponse(_entry_url(section, entry_id, "publicado"), status_code=303)


@router.post("/{section}/{entry_id}/descartar")
async def discard(session: Session, staff: Editor, section: str, entry_id: str) -> Response:
    kind = _kind(section)
    await versions.discard(session, staff, kind, entry_id)
    if await versions.live_entry(session, kind, entry_id) is None:
        return RedirectResponse("/backoffice/catalogo", status_code=303)
    return RedirectResponse(_entry_url(section, entry_id, "descartado"), status_code=303)


# --- history --------------------------------------------------------------------------------


async def _staff_names(session: Session, rows: list[CatalogVersion]) -> dict[int, str]:
    return await staff_names(
        session, {r.staff_user_id for r in rows if r.staff_user_id is not None}
    )


async def _history(session: Session, kind: Kind, entry_id: str) -> list[CatalogVersion]:
    await versions.published(session, kind, entry_id)  # history starts at what is live
    rows = await versions.history(session, kind, entry_id)
    if not rows:
        raise HTTPException(404, MESSAGES["not_found"])
    return rows


@router.get("/{section}/{entry_id}/historial", response_class=HTMLResponse)
async def history(
    request: Request, session: Session, staff: Editor, section: str, entry_id: str
) -> Response:
    kind = _kind(section)
    rows = await _history(session, kind, entry_id)
    context = _base(
        staff,
        kind=kind,
        section=section,
        entry_id=entry_id,
        name=rows[0].data.get("name", entry_id),
        versions=rows,
        names=await _staff_names(session, rows),
        base={row.number: versions.compared_with(rows, row) for row in rows},
    )
    return templates.TemplateResponse(request, "catalog_history.html", context)


@router.get("/{section}/{entry_id}/versiones/{number}", response_class=HTMLResponse)
async def version_diff(
    request: Request,
    session: Session,
    staff: Editor,
    section: str,
    entry_id: str,
    number: RowId,
    con: QueryId = None,
) -> Response:
    kind = _kind(section)
    rows = await _history(session, kind, entry_id)
    by_number = {row.number: row for row in rows}
    chosen = by_number.get(number)
    if chosen is None:
        raise HTTPException(404, MESSAGES["not_found"])
    other_number = con if con in by_number else versions.compared_with(rows, chosen)
    other = by_number.get(other_number) if other_number is not None else None
    lines = versions.diff(
        versions.to_yaml(kind, other.data if other else None), versions.to_yaml(kind, chosen.data)
    )
    context = _base(
        staff,
        kind=kind,
        section=section,
        entry_id=entry_id,
        name=chosen.data.get("name", entry_id),
        versions=rows,
        chosen=chosen,
        other=other,
        lines=lines,
        changed=any(line.sign != " " for line in lines),
        names=await _staff_names(session, rows),
        when=format_local(chosen.published_at or chosen.updated_at),
    )
    return templates.TemplateResponse(request, "catalog_version.html", context)


@router.post("/{section}/{entry_id}/versiones/{number}/restaurar")
async def restore(
    session: Session,
    staff: Editor,
    section: str,
    entry_id: str,
    number: RowId,
) -> Response:
    kind = _kind(section)
    try:
        draft = await versions.restore(session, staff, kind, entry_id, number)
    except versions.EditError as exc:
        raise HTTPException(409, str(exc)) from exc
    notice = "restaurado" if draft is not None else "sin-cambios"
    return RedirectResponse(_entry_url(section, entry_id, notice), status_code=303)
