"""The evaluators' read-only API: anonymised rating rows (JSON pages, CSV, XLSX) and the
indicators, for a period and optional procedure, department and channel.

Authentication is `Authorization: Bearer <token>` only (tokens are made at
/backoffice/tokens): no session cookie is accepted, so no CSRF token is needed, and every
route is a GET. Every call is written to the audit log with who made it and the filters.
"""

from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from backoffice import permissions
from backoffice.deps import RoleRequired, channel_names, database
from casework.indicators.export import (
    MAX_PAGE,
    ExportError,
    csv_chunks,
    rating_page,
    xlsx_chunks,
)
from casework.indicators.pseudonym import pseudonym_secret
from casework.indicators.scope import Scope, local_today
from casework.indicators.service import METRICS, metric_value
from casework.staff.models import StaffUser
from casework.staff.tokens import verify_token
from catalog.service import get_department, get_procedure
from foundation import texts
from foundation.audit import audit
from foundation.db import Database
from foundation.settings import Settings

PREFIX = "/api/v1/evaluacion"
MAX_PERIODS = 60  # series by week or month: at most this many periods per call
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class BearerRequired(RoleRequired):
    """The API's permission: a valid evaluator token in `Authorization: Bearer ...`, checked
    in a short transaction of its own (exports stream for a while). Anything else is 401 with
    `WWW-Authenticate: Bearer`; a staff session cookie does not count."""

    async def __call__(  # type: ignore[override]
        self, request: Request, db: Annotated[Database, Depends(database)]
    ) -> StaffUser:
        scheme, _, plain = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not plain.strip():
            raise _unauthorized(
                "Falta el token. Envíelo en el encabezado «Authorization: Bearer <token>».",
                'Bearer realm="ventanilla"',
            )
        async with db.transaction() as session:
            staff = await verify_token(session, plain.strip())
        if staff is None:
            raise _unauthorized(
                "El token no es válido, fue revocado o su cuenta ya no tiene acceso.",
                'Bearer realm="ventanilla", error="invalid_token"',
            )
        if staff.role not in self.roles:
            raise HTTPException(403, texts.t("errors.role_forbidden"))
        return staff


def _unauthorized(detail: str, challenge: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": challenge})


router = APIRouter(prefix=PREFIX, tags=["evaluación"])
Caller = Annotated[StaffUser, Depends(BearerRequired(*permissions.RATINGS))]
Db = Annotated[Database, Depends(database)]


def _bad(detail: str) -> HTTPException:
    return HTTPException(400, detail)


def _day(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _bad(f"«{name}» debe ser una fecha AAAA-MM-DD; se recibió «{text[:20]}».") from None


async def _scope(
    request: Request,
    db: Db,
    desde: str = "",
    hasta: str = "",
    tramite: str = "",
    area: str = "",
    canal: str = "",
) -> Scope:
    """The Scope from the query: `desde`/`hasta` are local days, both included (by default
    from 1 January of this year to today); `tramite`, `area` and `canal` narrow it."""
    settings: Settings = request.app.state.settings
    end = _day(hasta, "hasta") or local_today(settings.timezone)
    start = _day(desde, "desde") or date(end.year, 1, 1)
    if start > end:
        raise _bad("«desde» es posterior a «hasta».")
    channels = channel_names(request)
    if canal and canal not in channels:
        raise _bad(f"«canal» debe ser uno de: {', '.join(channels)}.")
    if tramite or area:
        async with db.transaction() as session:
            if tramite and await get_procedure(session, tramite) is None:
                raise _bad(f"No existe el trámite «{tramite[:80]}».")
            if area and await get_department(session, area) is None:
                raise _bad(f"No existe el área «{area[:80]}».")
    return Scope(start, end, tramite or None, area or None, canal or None)


Filters = Annotated[Scope, Depends(_scope)]


def _filters(scope: Scope) -> dict[str, Any]:
    return {
        "desde": scope.start.isoformat(),
        "hasta": scope.end.isoformat(),
        "tramite": scope.procedure_id,
        "area": scope.department_id,
        "canal": scope.channel,
    }


async def _audited(
    db: Database, request: Request, caller: StaffUser, action: str, details: dict[str, Any]
) -> bytes:
    """Record the call in the audit log (committed before any data leaves) and return the
    pseudonym secret for the rows."""
    settings: Settings = request.app.state.settings
    async with db.transaction() as session:
        await audit(session, caller, action, "api", request.url.path, None, details)
        return await pseudonym_secret(session, settings.evaluation)


@router.get("/calificaciones")
async def ratings_page(
    request: Request,
    db: Db,
    caller: Caller,
    scope: Filters,
    cursor: str = "",
    limit: int = 100,
) -> Response:
    """One page of anonymised rating rows in id order; follow `next_cursor` (same filters)
    until it is null."""
    if not 1 <= limit <= MAX_PAGE:
        raise _bad(f"«limit» debe estar entre 1 y {MAX_PAGE}.")
    filters = _filters(scope)
    secret = await _audited(
        db, request, caller, "api.read", {"filtros": filters, "cursor": cursor or None}
    )
    settings: Settings = request.app.state.settings
    try:
        async with db.transaction() as session:
            conn = await session.connection()
            page = await rating_page(
                conn, scope, secret, cursor=cursor or None, limit=limit, timezone=settings.timezone
            )
    except ExportError as exc:
        raise _bad(_sentence(exc)) from None
    return JSONResponse(
        {"filtros": filters, "calificaciones": page.rows, "next_cursor": page.next_cursor}
    )


def _filename(scope: Scope, extension: str) -> str:
    parts = ["calificaciones", scope.start.isoformat(), scope.end.isoformat()]
    parts += [p for p in (scope.procedure_id, scope.department_id, scope.channel) if p]
    return "_".join(parts) + "." + extension


async def _export(
    request: Request, db: Database, caller: StaffUser, scope: Scope, kind: str
) -> StreamingResponse:
    secret = await _audited(
        db, request, caller, "api.export", {"filtros": _filters(scope), "formato": kind}
    )
    settings: Settings = request.app.state.settings
    chunks: AsyncIterator[bytes]
    if kind == "csv":
        chunks, media = csv_chunks(db, scope, secret, settings.timezone), "text/csv; charset=utf-8"
    else:
        chunks, media = xlsx_chunks(db, scope, secret, settings.timezone), XLSX_TYPE
    disposition = f'attachment; filename="{_filename(scope, kind)}"'
    return StreamingResponse(
        chunks,
        media_type=media,
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


@router.get("/calificaciones.csv")
async def ratings_csv(request: Request, db: Db, caller: Caller, scope: Filters) -> Response:
    """Every row of the scope as CSV (UTF-8, comma-separated, header first), streamed."""
    return await _export(request, db, caller, scope, "csv")


@router.get("/calificaciones.xlsx")
async def ratings_xlsx(request: Request, db: Db, caller: Caller, scope: Filters) -> Response:
    """Every row of the scope as an Excel workbook."""
    return await _export(request, db, caller, scope, "xlsx")


def _periods(scope: Scope, grouping: str) -> list[Scope]:
    """The scope cut into calendar months or ISO weeks (Monday to Sunday), the first and last
    cut to the scope's own days."""
    periods = []
    start = scope.start
    while start <= scope.end:
        if grouping == "mes":
            following = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
        else:
            following = start - timedelta(days=start.weekday()) + timedelta(days=7)
        end = min(following - timedelta(days=1), scope.end)
        periods.append(Scope(start, end, scope.procedure_id, scope.department_id, scope.channel))
        start = following
    return periods


async def _measured(db: Database, scope: Scope, timezone: str) -> dict[str, dict[str, Any]]:
    async with db.transaction() as session:
        found = {}
        for metric in METRICS:
            measure = await metric_value(session, metric, scope, timezone)
            found[metric] = {"valor": measure.value, "observaciones": measure.count}
        return found


@router.get("/indicadores")
async def indicators(
    request: Request, db: Db, caller: Caller, scope: Filters, agrupar: str = ""
) -> Response:
    """Every indicator over the scope; with `agrupar=mes` or `agrupar=semana`, also one value
    per month or week in `series`."""
    if agrupar not in ("", "mes", "semana"):
        raise _bad("«agrupar» debe ser «mes» o «semana».")
    periods = _periods(scope, agrupar) if agrupar else []
    if len(periods) > MAX_PERIODS:
        raise _bad(
            f"Demasiados periodos ({len(periods)}); acorte las fechas (máximo {MAX_PERIODS})."
        )
    filters = _filters(scope)
    await _audited(db, request, caller, "api.read", {"filtros": filters, "agrupar": agrupar})
    settings: Settings = request.app.state.settings
    totals = await _measured(db, scope, settings.timezone)
    body: dict[str, Any] = {
        "filtros": filters,
        "indicadores": [{"clave": key, **_info(key), **totals[key]} for key in METRICS],
    }
    if agrupar:
        body["agrupar"] = agrupar
        body["series"] = [
            {
                "desde": period.start.isoformat(),
                "hasta": period.end.isoformat(),
                "valores": await _measured(db, period, settings.timezone),
            }
            for period in periods
        ]
    return JSONResponse(body)


def _info(key: str) -> dict[str, Any]:
    info = asdict(METRICS[key])
    return {
        "nombre": info["label"],
        "unidad": info["unit"],
        "formula": info["formula"],
        "mayor_es_mejor": info["higher_is_better"],
    }


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:] + "."
