"""The public results page (no login): satisfaction and deadline compliance by procedure."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from backoffice.deps import Session
from backoffice.routes.evaluation import MONTHS, number
from backoffice.templating import templates
from casework.indicators.cards import public_cards
from casework.indicators.public import public_results
from casework.indicators.scope import local_today
from catalog.service import municipality
from foundation.settings import Settings

router = APIRouter()


@router.get("/resultados", response_class=HTMLResponse)
async def results_page(request: Request, session: Session) -> Response:
    settings: Settings = request.app.state.settings
    today = local_today(settings.timezone)
    settle_days = (
        settings.evaluation.survey_days + 1
    )  # no answer to a closed month's surveys can come
    minimum = settings.evaluation.public_min_count
    results = await public_results(session, today, settings.timezone, minimum, settle_days)
    cards = await public_cards(session, results.end, settings.timezone, minimum)
    return templates.TemplateResponse(
        request,
        "results.html",
        {
            "municipality": await municipality(session),
            "results": results,
            "cards": cards,
            "min_count": minimum,
            "settle_days": settle_days,
            "number": number,
            "month_name": lambda d: f"{MONTHS[d.month - 1]} {d.year}",
        },
    )
