"""Pages anyone can open: the web chat and the privacy notice."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from backoffice.deps import Session
from backoffice.templating import templates
from catalog.service import municipality
from foundation.settings import Settings

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def chat_page(request: Request, session: Session) -> Response:
    return templates.TemplateResponse(
        request, "chat.html", {"municipality": await municipality(session)}
    )


@router.get("/privacidad", response_class=HTMLResponse)
async def privacy_page(request: Request, session: Session) -> Response:
    settings: Settings = request.app.state.settings
    return templates.TemplateResponse(
        request,
        "privacy.html",
        {
            "municipality": await municipality(session),
            "inbox_days": settings.retention.inbox_retention_days,
            "transcript_months": settings.retention.transcript_retention_months,
        },
    )
