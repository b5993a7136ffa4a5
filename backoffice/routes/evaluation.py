"""The evaluators' dashboard: indicator tiles, trends, the 1-5 distribution and the procedures
with the lowest satisfaction and the worst deadline compliance."""

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from backoffice import permissions
from backoffice.csrf import verify_csrf
from backoffice.deps import RoleRequired, Session, channel_names
from backoffice.templating import label, templates
from casework.indicators.dashboard import (
    lowest_csat,
    rating_trend,
    request_trend,
    score_distribution,
    worst_compliance,
)
from casework.indicators.scope import Scope, last_months, local_today
from casework.indicators.service import METRICS, Measure, MetricInfo, measures
from casework.staff.models import StaffUser
from catalog.service import department_options, procedure_options
from foundation.settings import Settings

router = APIRouter(prefix="/backoffice/evaluacion", dependencies=[Depends(verify_csrf)])
ROLES = permissions.RATINGS
Staff = Annotated[StaffUser, Depends(RoleRequired(*ROLES))]

GRAINS = {"semana": "week", "mes": "month"}
MONTHS = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")
COUNT_UNITS = ("calificaciones", "solicitudes", "conversaciones")


def number(value: float | None, unit: str) -> str:
    """A figure as shown to staff and the public (es-MX: decimal point, thousands comma)."""
    if value is None:
        return "—"
    if unit in COUNT_UNITS:
        return f"{round(value):,}"
    if unit == "%":
        return f"{value:.1f} %"
    if unit.startswith("puntos"):
        return f"{value:.2f}"
    return f"{value:,.1f} {unit}"


def period_label(start: date, grain: str) -> str:
    month = MONTHS[start.month - 1]
    if grain == "week":
        return f"{start.day} {month} {start.year}"
    return f"{month} {start.year}"


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None  # a mistyped date falls back to the default rather than failing the page


@dataclass(frozen=True)
class Tile:
    key: str
    info: MetricInfo
    measure: Measure
    shown: str
    few: bool  # resting on fewer answers than settings.evaluation.min_reliable_count


def _tiles(found: dict[str, Measure], min_count: int) -> list[Tile]:
    return [
        Tile(key, METRICS[key], m, number(m.value, METRICS[key].unit), m.count < min_count)
        for key, m in found.items()
    ]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@router.get("", response_class=HTMLResponse)
async def dashboard(
    request: Request,
    session: Session,
    staff: Staff,
    desde: str = "",
    hasta: str = "",
    tramite: str = "",
    dependencia: str = "",
    canal: str = "",
    agrupar: str = "mes",
) -> Response:
    settings: Settings = request.app.state.settings
    channels = channel_names(request)
    tz = settings.timezone
    default_start, default_end = last_months(local_today(tz), 12)
    start, end = _day(desde) or default_start, _day(hasta) or default_end
    if start > end:
        start, end = end, start
    procedures = await procedure_options(session)
    departments = await department_options(session)
    scope = Scope(
        start,
        end,
        procedure_id=tramite if tramite in {p.value for p in procedures} else None,
        department_id=dependencia if dependencia in {d.value for d in departments} else None,
        channel=canal if canal in channels else None,
    )
    grain_name = agrupar if agrupar in GRAINS else "mes"
    grain = GRAINS[grain_name]
    min_count = settings.evaluation.min_reliable_count

    found = await measures(session, scope, tz)
    ratings = await rating_trend(session, scope, tz, grain)
    flow = await request_trend(session, scope, tz, grain)
    distribution = await score_distribution(session, scope, tz)
    lowest = await lowest_csat(session, scope, tz, min_count)
    worst = await worst_compliance(session, scope, tz, min_count)

    charts: dict[str, Any] = {
        "ratings": {
            "labels": [period_label(p.period, grain) for p in ratings],
            "answered": [p.answered for p in ratings],
            "csat": [_rounded(p.csat) for p in ratings],
        },
        "requests": {
            "labels": [period_label(p.period, grain) for p in flow],
            "opened": [p.opened for p in flow],
            "resolved": [p.resolved for p in flow],
        },
        "distribution": {
            "labels": [str(score) for score in distribution],
            "counts": list(distribution.values()),
        },
        "lowest": {
            "labels": [row.name for row in lowest.rows],
            "values": [_rounded(row.csat) for row in lowest.rows],
        },
        "compliance": {
            "labels": [row.name for row in worst.rows],
            "values": [_rounded(row.on_time_share) for row in worst.rows],
        },
    }
    return templates.TemplateResponse(
        request,
        "evaluation.html",
        {
            "staff": staff,
            "scope": scope,
            "grain_name": grain_name,
            "grain": grain,
            "procedures": procedures,
            "departments": departments,
            "channels": [(code, label("channel", code)) for code in channels],
            "tiles": _tiles(found, min_count),
            "min_count": min_count,
            "ratings": ratings,
            "flow": flow,
            "distribution": distribution,
            "answered_total": sum(distribution.values()),
            "lowest": lowest,
            "worst": worst,
            "charts": charts,
            "number": number,
            "period_label": period_label,
        },
    )
