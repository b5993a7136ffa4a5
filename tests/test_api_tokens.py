"""Evaluators' API tokens: made in the back office and shown once, kept only as a hash,
refused when missing, forged, revoked, or held by someone who is no longer an evaluator."""

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from backoffice.app import create_app
from casework.staff.accounts import set_active, update_user
from casework.staff.models import ApiToken, StaffUser
from casework.staff.tokens import TokenError, create_token, token_digest, verify_token
from foundation.audit import AuditEntry
from foundation.db import Database, utcnow
from foundation.settings import Settings
from tests.support import login

API = "/api/v1/evaluacion/calificaciones"


@pytest.fixture
async def app(
    loaded_db: Database, settings: Settings, staff_of_every_role: dict[str, str]
) -> FastAPI:
    return create_app(settings, loaded_db, settings.web.secret_key)


async def _client(app: FastAPI, username: str | None) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    if username:
        await login(client, username)
    return client


@pytest.fixture
async def evaluator(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    client = await _client(app, "evaluadora")
    yield client
    await client.aclose()


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    client = await _client(app, None)
    yield client
    await client.aclose()


async def _staff(db: Database, username: str) -> StaffUser:
    async with db.transaction() as session:
        staff = await session.scalar(select(StaffUser).where(StaffUser.username == username))
        assert staff is not None
        return staff


async def _tokens(db: Database) -> list[ApiToken]:
    async with db.transaction() as session:
        return list(await session.scalars(select(ApiToken).order_by(ApiToken.id)))


async def _audit(db: Database, action: str) -> list[AuditEntry]:
    async with db.transaction() as session:
        found = await session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return list(found)


async def _create_in_page(client: httpx.AsyncClient, name: str) -> str:
    response = await client.post("/backoffice/tokens", data={"name": name})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    found = re.search(r'id="new-token" value="(vnt_[^"]+)"', response.text)
    assert found, "the new token is shown"
    assert "no se volverá a mostrar" in response.text
    return found.group(1)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_made_in_the_back_office_is_shown_once_and_kept_only_as_a_hash(
    evaluator: httpx.AsyncClient, anonymous: httpx.AsyncClient, loaded_db: Database
) -> None:
    plain = await _create_in_page(evaluator, "Tablero de la Unidad de Evaluación")
    (token,) = await _tokens(loaded_db)
    assert token.token_hash == token_digest(plain) and plain not in token.token_hash
    assert token.prefix == plain[:12] and token.name == "Tablero de la Unidad de Evaluación"
    listing = await evaluator.get("/backoffice/tokens")
    assert token.prefix in listing.text and plain not in listing.text
    assert "Vigente" in listing.text

    (created,) = await _audit(loaded_db, "api_token.create")
    assert created.staff_user_id == (await _staff(loaded_db, "evaluadora")).id
    assert created.after is not None and created.after["prefix"] == token.prefix
    assert plain not in str(created.after) and token.token_hash not in str(created.after)

    response = await anonymous.get(API, headers=_bearer(plain))
    assert response.status_code == 200, response.text
    assert (await _tokens(loaded_db))[0].last_used_at is not None


async def test_a_token_needs_a_name(evaluator: httpx.AsyncClient, loaded_db: Database) -> None:
    response = await evaluator.post("/backoffice/tokens", data={"name": "   "})
    assert response.status_code == 422
    assert "Ponle un nombre al token" in response.text
    assert await _tokens(loaded_db) == []


async def test_requests_without_a_valid_token_are_refused_with_a_bearer_challenge(
    evaluator: httpx.AsyncClient, anonymous: httpx.AsyncClient, loaded_db: Database
) -> None:
    plain = await _create_in_page(evaluator, "scripts")
    refused = {
        "missing": {},
        "empty": {"Authorization": "Bearer "},
        "other scheme": {"Authorization": f"Basic {plain}"},
        "forged": _bearer("vnt_" + "A" * 43),
        "altered": _bearer(plain[:-1] + ("a" if plain[-1] != "a" else "b")),
        "no prefix": _bearer(plain[4:]),
    }
    for case, headers in refused.items():
        response = await anonymous.get(API, headers=headers)
        assert response.status_code == 401, case
        assert response.headers["www-authenticate"].startswith('Bearer realm="ventanilla"'), case
        assert "token" in response.json()["detail"], case
    # The staff session cookie is not an API credential.
    response = await evaluator.get(API)
    assert response.status_code == 401
    assert (await anonymous.get(API, headers=_bearer(plain))).status_code == 200


async def test_a_revoked_token_stops_working_at_once(
    evaluator: httpx.AsyncClient, anonymous: httpx.AsyncClient, loaded_db: Database
) -> None:
    plain = await _create_in_page(evaluator, "hoja de cálculo")
    assert (await anonymous.get(API, headers=_bearer(plain))).status_code == 200
    (token,) = await _tokens(loaded_db)

    response = await evaluator.post(f"/backoffice/tokens/{token.id}/revocar")
    assert response.status_code == 303
    assert "revocado" in (await evaluator.get(response.headers["location"])).text.lower()
    response = await anonymous.get(API, headers=_bearer(plain))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    (revoked,) = await _audit(loaded_db, "api_token.revoke")
    assert revoked.entity_id == str(token.id) and revoked.after == {
        **revoked.before,
        "revoked": True,
    }
    # Revoking again changes nothing.
    assert (await evaluator.post(f"/backoffice/tokens/{token.id}/revocar")).status_code == 303
    assert len(await _audit(loaded_db, "api_token.revoke")) == 1


async def test_revoking_needs_the_form_token(
    evaluator: httpx.AsyncClient, loaded_db: Database
) -> None:
    plain = await _create_in_page(evaluator, "csrf")
    (token,) = await _tokens(loaded_db)
    response = await evaluator.post(
        f"/backoffice/tokens/{token.id}/revocar", headers={"X-CSRF-Token": "otro"}
    )
    assert response.status_code == 403
    assert await verify_token_now(loaded_db, plain) is not None


async def verify_token_now(db: Database, plain: str) -> StaffUser | None:
    async with db.transaction() as session:
        return await verify_token(session, plain)


async def test_evaluators_see_and_revoke_only_their_own_tokens_and_admins_all(
    app: FastAPI, evaluator: httpx.AsyncClient, loaded_db: Database
) -> None:
    plain = await _create_in_page(evaluator, "mío")
    (token,) = await _tokens(loaded_db)
    async with loaded_db.transaction() as session:
        other = StaffUser(username="otra-evaluadora", role="evaluator", password_hash="x")
        session.add(other)
        await session.flush()
        await create_token(session, other, "de otra persona")
    listing = (await evaluator.get("/backoffice/tokens")).text
    assert "mío" in listing and "de otra persona" not in listing
    theirs = (await _tokens(loaded_db))[1]
    assert (await evaluator.post(f"/backoffice/tokens/{theirs.id}/revocar")).status_code == 404

    admin = await _client(app, "administradora")
    try:
        listing = (await admin.get("/backoffice/tokens")).text
        assert "mío" in listing and "de otra persona" in listing and "evaluadora" in listing
        assert (await admin.post(f"/backoffice/tokens/{token.id}/revocar")).status_code == 303
    finally:
        await admin.aclose()
    assert await verify_token_now(loaded_db, plain) is None


async def test_a_token_stops_working_when_its_owner_is_no_longer_an_evaluator(
    evaluator: httpx.AsyncClient, anonymous: httpx.AsyncClient, loaded_db: Database
) -> None:
    plain = await _create_in_page(evaluator, "demo")
    async with loaded_db.transaction() as session:
        staff = await session.scalar(select(StaffUser).where(StaffUser.username == "evaluadora"))
        assert staff is not None
        await update_user(session, staff, staff, role="agent", full_name="", departments=[])
    assert (await anonymous.get(API, headers=_bearer(plain))).status_code == 401

    async with loaded_db.transaction() as session:
        staff = await session.scalar(select(StaffUser).where(StaffUser.username == "evaluadora"))
        assert staff is not None
        await update_user(session, staff, staff, role="evaluator", full_name="", departments=[])
    assert (await anonymous.get(API, headers=_bearer(plain))).status_code == 200

    async with loaded_db.transaction() as session:
        staff = await session.scalar(select(StaffUser).where(StaffUser.username == "evaluadora"))
        assert staff is not None
        await set_active(session, staff, staff, False)
    assert (await anonymous.get(API, headers=_bearer(plain))).status_code == 401


async def test_agents_and_editors_cannot_get_a_token(app: FastAPI, loaded_db: Database) -> None:
    for username in ("agente-obras", "editora"):
        client = await _client(app, username)
        try:
            assert (await client.get("/backoffice/tokens")).status_code == 403
            assert (await client.post("/backoffice/tokens", data={"name": "x"})).status_code == 403
        finally:
            await client.aclose()
        staff = await _staff(loaded_db, username)
        with pytest.raises(TokenError):
            async with loaded_db.transaction() as session:
                await create_token(session, staff, "x")
    assert await _tokens(loaded_db) == []


async def test_last_use_is_written_at_most_once_a_minute(
    evaluator: httpx.AsyncClient, anonymous: httpx.AsyncClient, loaded_db: Database
) -> None:
    plain = await _create_in_page(evaluator, "uso")
    await anonymous.get(API, headers=_bearer(plain))
    (first,) = await _tokens(loaded_db)
    await anonymous.get(API, headers=_bearer(plain))
    assert (await _tokens(loaded_db))[0].last_used_at == first.last_used_at

    earlier = utcnow() - timedelta(minutes=2)
    async with loaded_db.transaction() as session:
        await session.execute(update(ApiToken).values(last_used_at=earlier))
    await anonymous.get(API, headers=_bearer(plain))
    (later,) = await _tokens(loaded_db)
    assert later.last_used_at is not None and later.last_used_at > earlier + timedelta(minutes=1)
