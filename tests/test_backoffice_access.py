"""Staff pages need a login; the chat and the privacy notice do not."""

import httpx
import pytest
from sqlalchemy import select

from foundation.audit import AuditEntry
from foundation.db import Database
from tests.support import STAFF_PASSWORD, login, post_login

STAFF_PAGES = [
    "/backoffice/solicitudes",
    "/backoffice/canalizaciones",
    "/backoffice/calificaciones",
    "/backoffice/envios",
]


@pytest.mark.parametrize("path", STAFF_PAGES)
async def test_anonymous_visitors_are_sent_to_login(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/backoffice/login?next={path}"


async def test_anonymous_status_changes_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/backoffice/solicitudes/SMA-2026-000001/estado", data={"status": "resolved"}
    )
    assert response.status_code == 303 and "/backoffice/login" in response.headers["location"]


async def test_wrong_password_is_refused(client: httpx.AsyncClient) -> None:
    response = await post_login(client, "agente", STAFF_PASSWORD + "x")
    assert response.status_code == 401
    assert "Usuario o contraseña incorrectos" in response.text
    assert (await client.get("/backoffice/solicitudes")).status_code == 303


async def test_login_opens_the_pages_and_is_audited(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    await login(client)
    for path in STAFF_PAGES:
        expected = 403 if path == "/backoffice/calificaciones" else 200  # evaluators' section
        assert (await client.get(path)).status_code == expected, path
    async with loaded_db.transaction() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert "staff.login" in actions


async def test_login_never_redirects_off_site(client: httpx.AsyncClient) -> None:
    response = await post_login(client, "agente", STAFF_PASSWORD, next="https://evil.example/")
    assert response.headers["location"] == "/backoffice/solicitudes"


@pytest.mark.parametrize("path", ["/", "/privacidad"])
async def test_public_pages_need_no_login(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert "San Martín de las Acacias" in response.text


async def test_malformed_chat_requests_get_a_4xx(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/chat/messages", json={"text": "hola"})).status_code == 422
    bad_session = {"session": "../../etc", "text": "hola"}
    assert (await client.post("/api/chat/messages", json=bad_session)).status_code == 422
    assert (await client.get("/api/chat/messages", params={"session": "x"})).status_code == 422
    response = await client.post(
        "/api/chat/messages", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


async def test_staff_forms_need_the_session_token(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    form = await client.get("/backoffice/login")
    refused = await client.post(
        "/backoffice/login", data={"username": "agente", "password": STAFF_PASSWORD}
    )
    assert refused.status_code == 403 and "caducó" in refused.text
    assert "csrf_token" in form.text
    await login(client)
    token = client.headers.pop("X-CSRF-Token")
    forged = await client.post("/backoffice/envios/1/reintentar", data={"csrf_token": "x" * 43})
    assert forged.status_code == 403
    missing = await client.post("/backoffice/logout")
    assert missing.status_code == 403
    assert (await client.get("/backoffice/solicitudes")).status_code == 200  # still logged in
    logout = await client.post("/backoffice/logout", data={"csrf_token": token})
    assert logout.status_code == 303
