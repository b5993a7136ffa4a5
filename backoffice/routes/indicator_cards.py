"""Indicator cards (fichas de indicador) for evaluators: the list with each card's traffic
light, and the form to create, edit and delete them."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backoffice import permissions
from backoffice.csrf import verify_csrf
from backoffice.deps import RoleRequired, Session, channel_names
from backoffice.params import RowId
from backoffice.templating import templates
from casework.indicators.cards import (
    FIELDS,
    FREQUENCIES,
    LIGHTS,
    CardError,
    CardStatus,
    all_card_status,
    card_status,
    create_card,
    delete_card,
    form_values,
    get_card,
    update_card,
)
from casework.indicators.models import IndicatorCard
from casework.indicators.scope import local_today
from casework.indicators.service import METRICS
from casework.staff.models import StaffUser
from catalog.service import department_options, procedure_options
from foundation import texts
from foundation.settings import Settings

router = APIRouter(prefix="/backoffice/indicadores", dependencies=[Depends(verify_csrf)])
ROLES = permissions.RATINGS
Staff = Annotated[StaffUser, Depends(RoleRequired(*ROLES))]
NOTICES = {
    "creada": "Ficha creada.",
    "guardada": "Cambios guardados.",
    "eliminada": "Ficha eliminada.",
}
LABELS = {
    "code": "Clave",
    "name": "Nombre del indicador",
    "description": "Descripción",
    "formula": "Método de cálculo",
    "metric": "Indicador que se calcula",
    "unit": "Unidad de medida",
    "frequency": "Frecuencia de medición",
    "source": "Fuente de información",
    "baseline": "Línea base",
    "baseline_year": "Año de la línea base",
    "targets": "Metas por año",
    "ods": "Alineación con los ODS",
    "higher_is_better": "Sentido del indicador",
    "tolerance": "Tolerancia",
    "procedure_id": "Trámite o servicio",
    "department_id": "Área",
    "channel": "Canal",
    "public": "Pública",
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _card(session: Session, card_id: int) -> IndicatorCard:
    card = await get_card(session, card_id)
    if card is None:
        raise HTTPException(404, texts.t("errors.no_card"))
    return card


@router.get("", response_class=HTMLResponse)
async def card_list(request: Request, session: Session, staff: Staff) -> Response:
    settings = _settings(request)
    today = local_today(settings.timezone)
    statuses = await all_card_status(session, today, settings.timezone)
    context = {
        "staff": staff,
        "statuses": statuses,
        "year": today.year,
        "lights": LIGHTS,
        "metrics": METRICS,
        "min_count": settings.evaluation.min_reliable_count,
        "notice": NOTICES.get(request.query_params.get("aviso", ""), ""),
    }
    return templates.TemplateResponse(request, "indicator_cards.html", context)


async def _form(
    request: Request,
    session: Session,
    staff: StaffUser,
    card: IndicatorCard | None,
    values: dict[str, Any],
    errors: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> Response:
    settings = _settings(request)
    status: CardStatus | None = None
    if card is not None:
        status = await card_status(session, card, local_today(settings.timezone), settings.timezone)
    context = {
        "staff": staff,
        "card": card,
        "status": status,
        "values": values,
        "errors": errors or {},
        "labels": LABELS,
        "lights": LIGHTS,
        "metrics": METRICS,
        "frequencies": FREQUENCIES,
        "channels": channel_names(request),
        "procedures": await procedure_options(session),
        "departments": await department_options(session),
        "min_count": settings.evaluation.min_reliable_count,
        "notice": NOTICES.get(request.query_params.get("aviso", ""), ""),
    }
    return templates.TemplateResponse(
        request, "indicator_card_form.html", context, status_code=status_code
    )


async def _submitted(request: Request) -> dict[str, Any]:
    form = await request.form()
    values = {field: str(form.get(field, "")).strip() for field in FIELDS}
    values["public"] = "1" if form.get("public") else ""
    return values


@router.get("/nueva", response_class=HTMLResponse)
async def new_card_form(request: Request, session: Session, staff: Staff) -> Response:
    return await _form(request, session, staff, None, form_values(None))


@router.post("/nueva", response_class=HTMLResponse)
async def new_card(request: Request, session: Session, staff: Staff) -> Response:
    values = await _submitted(request)
    try:
        card = await create_card(session, staff, values, channels=channel_names(request))
    except CardError as exc:
        return await _form(request, session, staff, None, values, exc.problems, 422)
    return RedirectResponse(f"/backoffice/indicadores/{card.id}?aviso=creada", status_code=303)


@router.get("/{card_id}", response_class=HTMLResponse)
async def edit_card_form(
    request: Request, card_id: RowId, session: Session, staff: Staff
) -> Response:
    card = await _card(session, card_id)
    return await _form(request, session, staff, card, form_values(card))


@router.post("/{card_id}", response_class=HTMLResponse)
async def edit_card(request: Request, card_id: RowId, session: Session, staff: Staff) -> Response:
    card = await _card(session, card_id)
    values = await _submitted(request)
    try:
        await update_card(session, staff, card, values, channels=channel_names(request))
    except CardError as exc:
        return await _form(request, session, staff, card, values, exc.problems, 422)
    return RedirectResponse(f"/backoffice/indicadores/{card.id}?aviso=guardada", status_code=303)


@router.post("/{card_id}/eliminar")
async def remove_card(card_id: RowId, session: Session, staff: Staff) -> Response:
    card = await _card(session, card_id)
    await delete_card(session, staff, card)
    return RedirectResponse("/backoffice/indicadores?aviso=eliminada", status_code=303)
