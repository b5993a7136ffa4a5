"""Administrators manage staff accounts and read the audit log; every change is recorded."""

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from backoffice.app import create_app
from casework.staff.models import StaffUser
from foundation.audit import AuditEntry
from foundation.db import Database, utcnow
from foundation.settings import Settings
from tests.support import STAFF_PASSWORD, login, post_login


@pytest.fixture
async def admin(
    loaded_db: Database, settings: Settings, staff_of_every_role: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, loaded_db, settings.web.secret_key)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        await login(client, staff_of_every_role["admin"])
        client.app = app  # type: ignore[attr-defined]
        yield client


async def _user(db: Database, username: str) -> StaffUser:
    async with db.transaction() as session:
        user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
        assert user is not None
        return user


async def _entries(db: Database, action: str) -> list[AuditEntry]:
    async with db.transaction() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return list(rows)


async def test_admin_creates_an_agent_who_sees_their_department(
    admin: httpx.AsyncClient, loaded_db: Database
) -> None:
    form = await admin.get("/backoffice/usuarios/nuevo")
    assert form.status_code == 200 and 'name="departments" value="sapas"' in form.text
    response = await admin.post(
        "/backoffice/usuarios/nuevo",
        data={
            "username": "laura",
            "full_name": "Laura Pérez",
            "role": "agent",
            "departments": ["sapas", "ecologia"],
            "password": "una-clave-larga",
        },
    )
    assert response.status_code == 303
    laura = await _user(loaded_db, "laura")
    assert (laura.role, laura.full_name) == ("agent", "Laura Pérez")
    assert laura.department_ids == {"sapas", "ecologia"}
    (created,) = (await _entries(loaded_db, "staff.create"))[-1:]
    assert created.entity_id == str(laura.id) and created.before is None
    assert created.after is not None and created.after["departments"] == ["ecologia", "sapas"]
    assert created.staff_user_id == (await _user(loaded_db, "administradora")).id
    assert "password_hash" not in str(created.after)
    listing = await admin.get("/backoffice/usuarios")
    assert "laura" in listing.text and "Medio Ambiente y Bienestar Animal" in listing.text

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=admin.app),  # type: ignore[attr-defined]
        base_url="http://t",
    ) as laura_client:
        assert (await post_login(laura_client, "laura", "una-clave-larga")).status_code == 303


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password": "corta"}, "al menos 10 caracteres"),
        ({"username": "agente"}, "ya existe un usuario"),
        ({"role": "jefe"}, "rol desconocido"),
        ({"departments": ["no-existe"]}, "dependencia desconocida"),
    ],
)
async def test_creating_an_account_explains_what_is_wrong(
    admin: httpx.AsyncClient, loaded_db: Database, fields: dict[str, object], message: str
) -> None:
    data = {"username": "nuevo", "role": "agent", "password": "una-clave-larga", **fields}
    response = await admin.post("/backoffice/usuarios/nuevo", data=data)
    assert response.status_code == 422
    assert message in response.text.lower()
    async with loaded_db.transaction() as session:
        assert await session.scalar(select(StaffUser).where(StaffUser.username == "nuevo")) is None


async def test_editing_role_and_departments_is_audited_with_before_and_after(
    admin: httpx.AsyncClient, loaded_db: Database
) -> None:
    agent = await _user(loaded_db, "agente-obras")
    response = await admin.post(
        f"/backoffice/usuarios/{agent.id}",
        data={"role": "evaluator", "full_name": "Ya no atiende", "departments": []},
    )
    assert response.status_code == 303
    changed = await _user(loaded_db, "agente-obras")
    assert (changed.role, changed.full_name, changed.department_ids) == (
        "evaluator",
        "Ya no atiende",
        frozenset(),
    )
    (entry,) = await _entries(loaded_db, "staff.update")
    assert entry.before is not None and entry.after is not None
    assert (entry.before["role"], entry.before["departments"]) == ("agent", ["obras-publicas"])
    assert (entry.after["role"], entry.after["departments"]) == ("evaluator", [])


async def test_deactivating_ends_the_accounts_session(
    admin: httpx.AsyncClient, loaded_db: Database, settings: Settings
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=admin.app),  # type: ignore[attr-defined]
        base_url="http://t",
    ) as agent_client:
        await login(agent_client, "agente")
        agent = await _user(loaded_db, "agente")
        response = await admin.post(
            f"/backoffice/usuarios/{agent.id}/activo", data={"active": "false"}
        )
        assert response.status_code == 303
        assert (await agent_client.get("/backoffice/solicitudes")).status_code == 303
        assert (await post_login(agent_client, "agente", STAFF_PASSWORD)).status_code == 401
    (entry,) = await _entries(loaded_db, "staff.deactivate")
    assert entry.before is not None and entry.before["active"] is True
    assert entry.after is not None and entry.after["active"] is False


async def test_resetting_a_password_ends_old_sessions(
    admin: httpx.AsyncClient, loaded_db: Database
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=admin.app),  # type: ignore[attr-defined]
        base_url="http://t",
    ) as agent_client:
        await login(agent_client, "agente")
        agent = await _user(loaded_db, "agente")
        short = await admin.post(
            f"/backoffice/usuarios/{agent.id}/contrasena", data={"password": "corta"}
        )
        assert short.status_code == 422
        assert (await agent_client.get("/backoffice/solicitudes")).status_code == 200
        reset = await admin.post(
            f"/backoffice/usuarios/{agent.id}/contrasena", data={"password": "otra-clave-nueva"}
        )
        assert reset.status_code == 303
        assert (await agent_client.get("/backoffice/solicitudes")).status_code == 303
        assert (await post_login(agent_client, "agente", "otra-clave-nueva")).status_code == 303
    (entry,) = await _entries(loaded_db, "staff.password_reset")
    assert "otra-clave-nueva" not in str(entry.after)


async def test_the_last_administrator_cannot_be_removed(
    admin: httpx.AsyncClient, loaded_db: Database
) -> None:
    me = await _user(loaded_db, "administradora")
    demote = await admin.post(f"/backoffice/usuarios/{me.id}", data={"role": "agent"})
    assert demote.status_code == 422 and "última cuenta" in demote.text
    deactivate = await admin.post(f"/backoffice/usuarios/{me.id}/activo", data={"active": "false"})
    assert deactivate.status_code == 422
    assert (await _user(loaded_db, "administradora")).active


async def test_audit_log_filters_and_pages_newest_first(
    admin: httpx.AsyncClient, loaded_db: Database
) -> None:
    agent = await _user(loaded_db, "agente")
    for n in range(3):
        await admin.post(
            f"/backoffice/usuarios/{agent.id}",
            data={"role": "agent", "full_name": f"Nombre {n}", "departments": ["sapas"]},
        )
    page = await admin.get("/backoffice/auditoria", params={"accion": "staff.update"})
    assert page.status_code == 200
    assert "3 registros" in page.text
    # Newest first: the last change (to "Nombre 2") above the first (from the old name).
    assert page.text.index("Nombre 2") < page.text.index("Agente de prueba")
    assert "Cambio de cuenta" in page.text and "<dt>Nombre</dt>" in page.text

    me = await _user(loaded_db, "administradora")
    mine = await admin.get("/backoffice/auditoria", params={"usuario": str(me.id)})
    assert "<td>Cambio de cuenta</td>" in mine.text
    assert "<td>Alta de cuenta</td>" not in mine.text  # accounts were made by no one (fixtures)

    async with loaded_db.transaction() as session:  # move one entry to last week
        old = await session.scalar(
            select(AuditEntry.id).where(AuditEntry.action == "staff.update").limit(1)
        )
        await session.execute(
            update(AuditEntry).where(AuditEntry.id == old).values(at=utcnow() - timedelta(days=7))
        )
    today = utcnow().date().isoformat()
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    recent = await admin.get(
        "/backoffice/auditoria",
        params={"accion": "staff.update", "desde": yesterday, "hasta": today},
    )
    assert "2 registros" in recent.text

    async with loaded_db.transaction() as session:
        session.add_all(
            AuditEntry(action="x.test", entity="test", entity_id=str(n)) for n in range(120)
        )
    first = await admin.get("/backoffice/auditoria", params={"entidad": "test"})
    assert "120 registros" in first.text and "Página 1 de 3" in first.text
    assert "pagina=2" in first.text and "entidad=test" in first.text
    last = await admin.get("/backoffice/auditoria", params={"entidad": "test", "pagina": "3"})
    assert "Página 3 de 3" in last.text and last.text.count("<td>test ") == 20
