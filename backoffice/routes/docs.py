"""The OpenAPI schema (`/openapi.json`) and the interactive API documentation (`/api/docs`),
for administrators only; `VENTANILLA_API_DOCS=false` turns both off (404).

The documentation page is Swagger UI as the fastapi-offline package ships it, served from here
(no CDN) and started by a script file, so it keeps the strict Content-Security-Policy.
"""

from pathlib import Path
from typing import Annotated

import fastapi_offline
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from backoffice import permissions
from backoffice.deps import RoleRequired
from backoffice.templating import templates
from casework.staff.models import StaffUser

SWAGGER = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS = {"swagger-ui-bundle.js", "swagger-ui.css"}
DOCS = "/api/docs"


def docs_enabled(request: Request) -> None:
    if not request.app.state.settings.web.api_docs:
        raise HTTPException(404, "Not Found")


router = APIRouter(include_in_schema=False, dependencies=[Depends(docs_enabled)])
ROLES = permissions.API_DOCS
Staff = Annotated[StaffUser, Depends(RoleRequired(*ROLES))]


@router.get("/openapi.json")
async def openapi_schema(request: Request, staff: Staff) -> Response:
    return JSONResponse(request.app.openapi())


@router.get(DOCS, response_class=HTMLResponse)
async def api_docs(request: Request, staff: Staff) -> Response:
    return templates.TemplateResponse(request, "api_docs.html", {"staff": staff})


@router.get(DOCS + "/{asset}")
async def api_docs_asset(asset: str, staff: Staff) -> Response:
    if asset not in ASSETS:
        raise HTTPException(404, "Not Found")
    return FileResponse(SWAGGER / asset)
