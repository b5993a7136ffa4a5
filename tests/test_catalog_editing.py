"""Catalogue editing in the back office: drafts the bot cannot see, publishing, validation with
the catalogue file's rules, history with differences and restore, import and export, and who
may do it. The bot is driven through the web chat API, as a citizen would."""

import html
import re
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import func, select

from catalog.models import CatalogVersion, Department, Procedure
from catalog.transfer import load_catalog_file
from catalog.validate import validate_text
from foundation.audit import AuditEntry
from foundation.db import Database
from foundation.settings import SAMPLE_CATALOG
from tests.support import WebChat, joined, login

CATALOG = "/backoffice/catalogo"
ACTA = f"{CATALOG}/tramites/copia-certificada-acta"
ACTA_COST = "$95.00 por cada copia"
ASK_ACTA_COST = "¿Cuánto cuesta la copia certificada de un acta?"

NEW_PROCEDURE: dict[str, Any] = {
    "id": "permiso-filmacion",
    "kind": "tramite",
    "name": "Permiso de filmación en la vía pública",
    "synonyms": "permiso para filmar\ngrabar una película en la calle",
    "description": "Autorización para filmar con fines comerciales en calles y plazas.",
    "department": "secretaria-ayuntamiento",
    "requirements": "Solicitud por escrito\n\nPlan de filmación con fechas y calles",
    "cost": "$1,234.00 por día de filmación",
    "cost_amount": "1234",
    "response_time": "5 días hábiles",
    "response_days": "5",
    "validity": "Las fechas autorizadas",
    "legal_basis": "Reglamento de Imagen Urbana, art. 12",
    "modality": ["presencial"],
    "online_url": "",
}


async def editor(client: httpx.AsyncClient) -> httpx.AsyncClient:
    await login(client, "editora")
    return client


async def form_of(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """The values an edit page's form holds, as a browser would submit them unchanged."""
    page = (await client.get(url)).text
    form = page.split('class="entry-form"', 1)[1].split("</form>", 1)[0]
    values: dict[str, Any] = {"modality": [], "request_fields": []}
    for name, value in re.findall(
        r'<input id="f-\w+" name="(\w+)" type="text" value="([^"]*)"', form
    ):
        values[name] = _unescape(value)
    for name, value in re.findall(
        r'<textarea id="f-\w+" name="(\w+)"[^>]*>(.*?)</textarea>', form, re.S
    ):
        values[name] = _unescape(value)
    for name in ("kind", "department"):
        select_ = re.search(rf'name="{name}".*?</select>', form, re.S)
        if select_:
            values[name] = re.search(r'value="([^"]*)" selected', select_.group(0)).group(1)
    for name, value in re.findall(r'name="(\w+)" value="(\w+)" checked', form):
        if name == "request_enabled":
            values[name] = value
        else:
            values[name].append(value)
    return values


def _unescape(text: str) -> str:
    return html.unescape(text)


async def bot_answer(client: httpx.AsyncClient, question: str) -> str:
    chat = await WebChat.open(client)
    await chat.say("hola")
    return joined(await chat.say(question))


async def audit_entries(db: Database, action: str) -> list[AuditEntry]:
    async with db.transaction() as session:
        rows = await session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return list(rows)


async def version_count(db: Database) -> int:
    async with db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(CatalogVersion)) or 0


# --- who may edit ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", CATALOG),
        ("get", ACTA),
        ("get", f"{ACTA}/historial"),
        ("get", f"{CATALOG}/exportar"),
        ("get", f"{CATALOG}/nuevo/tramite"),
        ("post", ACTA),
        ("post", f"{ACTA}/publicar"),
        ("post", f"{CATALOG}/importar"),
    ],
)
async def test_agents_get_403_and_anonymous_visitors_the_login(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    anonymous = await client.request(method, path)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/backoffice/login")
    await login(client, "agente")
    refused = await client.request(method, path)
    assert refused.status_code == 403


async def test_the_catalogue_link_is_shown_to_editors_only(client: httpx.AsyncClient) -> None:
    await login(client, "agente")
    assert 'href="/backoffice/catalogo"' not in (await client.get("/backoffice/solicitudes")).text
    await editor(client)
    assert 'href="/backoffice/catalogo"' in (await client.get("/backoffice/catalogo")).text


async def test_forms_without_the_session_token_are_refused(client: httpx.AsyncClient) -> None:
    await editor(client)
    client.headers.pop("X-CSRF-Token")
    form = await form_of(client, ACTA)
    assert (await client.post(ACTA, data={**form, "cost": "gratis"})).status_code == 403


# --- listing --------------------------------------------------------------------------------


async def test_list_searches_and_filters_by_department_and_state(
    client: httpx.AsyncClient,
) -> None:
    await editor(client)
    everything = (await client.get(CATALOG)).text
    assert "Copia certificada de acta del Registro Civil" in everything
    assert "Tesorería Municipal" in everything

    found = (await client.get(CATALOG, params={"q": "ACTA certificada"})).text
    assert "Copia certificada de acta" in found and "Pago del impuesto predial" not in found
    by_synonym = (await client.get(CATALOG, params={"q": "acta de defuncion"})).text
    assert "Copia certificada de acta" in by_synonym

    treasury = (await client.get(CATALOG, params={"dependencia": "catastro"})).text
    assert "Pago del impuesto predial" in treasury
    assert "Copia certificada de acta" not in treasury

    form = await form_of(client, ACTA)
    await client.post(ACTA, data={**form, "cost": "$100.00 por cada copia"})
    edited = (await client.get(CATALOG, params={"estado": "edited"})).text
    assert "Copia certificada de acta" in edited and "Pago del impuesto predial" not in edited
    assert "Publicado, con borrador" in edited


# --- drafts and publishing ------------------------------------------------------------------


async def test_a_new_procedure_is_invisible_to_the_bot_until_published(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    await editor(client)
    saved = await client.post(f"{CATALOG}/nuevo/tramite", data=NEW_PROCEDURE)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{CATALOG}/tramites/permiso-filmacion?aviso=guardado"
    page = (await client.get(saved.headers["location"])).text
    assert "Borrador guardado" in page and "Borrador nuevo, sin publicar" in page
    assert "Costo de Permiso de filmación en la vía pública: $1,234.00 por día" in page  # preview
    async with loaded_db.transaction() as session:
        assert await session.get(Procedure, "permiso-filmacion") is None
    listed = (await client.get(CATALOG, params={"estado": "new"})).text
    assert "Permiso de filmación en la vía pública" in listed

    question = "¿cuánto cuesta el permiso de filmación en la vía pública?"
    assert "1,234.00" not in await bot_answer(client, question)

    published = await client.post(f"{CATALOG}/tramites/permiso-filmacion/publicar")
    assert published.status_code == 303
    assert "1,234.00" in await bot_answer(client, question)
    async with loaded_db.transaction() as session:
        row = await session.get(Procedure, "permiso-filmacion")
        assert row is not None
        assert row.requirements == [
            "Solicitud por escrito",
            "Plan de filmación con fechas y calles",
        ]
        assert str(row.cost_amount) == "1234.00" and row.response_days == 5
    [publish] = await audit_entries(loaded_db, "catalog.publish")
    assert publish.entity == "procedure" and publish.entity_id == "permiso-filmacion"
    assert publish.before is None and publish.after["cost_amount"] == "1234.00"


async def test_an_edited_procedure_answers_from_the_published_text_until_published(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    await editor(client)
    assert ACTA_COST in await bot_answer(client, ASK_ACTA_COST)
    form = await form_of(client, ACTA)
    assert form["cost"] == ACTA_COST and form["modality"] == ["presencial", "en_linea"]

    saved = await client.post(ACTA, data={**form, "cost": "$110.00 por cada copia"})
    assert saved.status_code == 303
    page = (await client.get(saved.headers["location"])).text
    assert "$110.00 por cada copia" in page.split('id="preview-cost"')[1].split("</div>")[0]
    answer = await bot_answer(client, ASK_ACTA_COST)
    assert ACTA_COST in answer and "$110.00" not in answer

    assert (await client.post(f"{ACTA}/publicar")).status_code == 303
    answer = await bot_answer(client, ASK_ACTA_COST)
    assert "$110.00 por cada copia" in answer and ACTA_COST not in answer

    [draft] = await audit_entries(loaded_db, "catalog.save_draft")
    assert (draft.before["cost"], draft.after["cost"]) == (ACTA_COST, "$110.00 por cada copia")
    [publish] = await audit_entries(loaded_db, "catalog.publish")
    assert (publish.before["cost"], publish.after["cost"]) == (
        ACTA_COST,
        "$110.00 por cada copia",
    )
    assert publish.staff_user_id is not None


async def test_saving_the_published_text_again_makes_no_draft(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    await editor(client)
    form = await form_of(client, ACTA)
    saved = await client.post(ACTA, data=form)
    assert saved.headers["location"].endswith("aviso=sin-cambios")
    assert await audit_entries(loaded_db, "catalog.save_draft") == []
    publish = await client.post(f"{ACTA}/publicar")
    assert publish.status_code == 409


async def test_discarding_a_draft_keeps_the_published_version(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    await editor(client)
    form = await form_of(client, ACTA)
    await client.post(ACTA, data={**form, "cost": "$1.00"})
    discarded = await client.post(f"{ACTA}/descartar")
    assert discarded.headers["location"].endswith("aviso=descartado")
    assert (await form_of(client, ACTA))["cost"] == ACTA_COST
    history = (await client.get(f"{ACTA}/historial")).text
    assert "Descartada" in history
    [entry] = await audit_entries(loaded_db, "catalog.discard_draft")
    assert entry.before["cost"] == "$1.00" and entry.after is None


async def test_preview_without_saving_shows_the_answers_and_stores_nothing(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    await editor(client)
    form = await form_of(client, ACTA)
    response = await client.post(
        ACTA, data={**form, "validity": "Seis meses", "accion": "vista-previa"}
    )
    assert response.status_code == 200
    assert "sin guardar" in response.text
    assert "Vigencia de Copia certificada de acta del Registro Civil: Seis meses." in response.text
    for aspect in ("summary", "requirements", "hours", "location", "duration", "online"):
        assert f'id="preview-{aspect}"' in response.text
    assert await version_count(loaded_db) == 0


async def test_a_department_edit_reaches_the_bot_only_when_published(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    await editor(client)
    url = f"{CATALOG}/dependencias/registro-civil"
    form = await form_of(client, url)
    new_hours = "Lunes a sábado de 7:00 a 19:00 h"
    await client.post(url, data={**form, "hours": new_hours})
    page = (await client.get(url)).text
    assert f"Oficialía del Registro Civil atiende {new_hours}" in page  # preview
    question = "¿qué horario tiene el registro civil para sacar un acta?"
    assert new_hours not in await bot_answer(client, question)
    await client.post(f"{url}/publicar")
    assert new_hours in await bot_answer(client, question)
    async with loaded_db.transaction() as session:
        department = await session.get(Department, "registro-civil")
        assert department is not None and department.hours == new_hours


# --- validation -----------------------------------------------------------------------------


async def test_invalid_fields_are_explained_in_spanish_next_to_them_and_nothing_is_saved(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    await editor(client)
    form = await form_of(client, ACTA)
    typed = {
        **form,
        "name": "   ",
        "cost_amount": "$95",
        "response_days": "tres",
        "online_url": "acacias.example/acta",
    }
    response = await client.post(ACTA, data=typed)
    assert response.status_code == 422
    page = response.text
    assert "No se guardó" in page
    expected = {
        "name": "no puede quedar vacío",
        "cost_amount": "se esperaba un número (sin signo de pesos ni comas)",
        "response_days": "se esperaba un número entero",
        "online_url": "URL inválida &#39;acacias.example/acta&#39;",
    }
    for field, message in expected.items():
        error = page.split(f'id="e-{field}"', 1)[1].split("</ul>", 1)[0]
        assert message in error, field
        assert f'id="f-{field}"' in page.split(f'id="e-{field}"', 1)[0].rsplit("<label", 1)[1]
        assert f'aria-describedby="h-{field} e-{field}"' in page or (
            f'aria-describedby="e-{field}"' in page
        )
    # What was typed is kept.
    assert 'value="$95"' in page and 'value="tres"' in page
    assert 'value="acacias.example/acta"' in page
    assert await version_count(loaded_db) == 0
    assert await audit_entries(loaded_db, "catalog.save_draft") == []


async def test_new_entries_follow_the_catalogue_rules_for_ids_and_departments(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    await editor(client)
    bad_id = await client.post(
        f"{CATALOG}/nuevo/tramite", data={**NEW_PROCEDURE, "id": "Permiso Filmación"}
    )
    assert bad_id.status_code == 422
    assert "id inválido" in bad_id.text.split('id="e-id"')[1]
    taken = await client.post(
        f"{CATALOG}/nuevo/tramite", data={**NEW_PROCEDURE, "id": "copia-certificada-acta"}
    )
    assert taken.status_code == 422
    assert "ya existe una entrada con el id" in taken.text.split('id="e-id"')[1]
    no_department = await client.post(
        f"{CATALOG}/nuevo/tramite", data={**NEW_PROCEDURE, "department": "obras"}
    )
    assert no_department.status_code == 422
    assert "departamento desconocido &#39;obras&#39;" in no_department.text
    online = await client.post(
        f"{CATALOG}/nuevo/tramite", data={**NEW_PROCEDURE, "modality": ["en_linea"]}
    )
    assert "falta este campo: la modalidad incluye" in online.text.split('id="e-online_url"')[1]
    department = await client.post(
        f"{CATALOG}/nuevo/dependencia",
        data={
            "id": "cultura",
            "name": "Casa de la Cultura",
            "address": "Calle 1",
            "hours": "9 a 14",
            "phone": "477 555 0199",
            "email": "cultura@",
        },
    )
    assert department.status_code == 422
    assert "correo electrónico inválido &#39;cultura@&#39;" in department.text
    assert 'value="Casa de la Cultura"' in department.text
    assert await version_count(loaded_db) == 0


# --- history, differences, restore ----------------------------------------------------------


async def test_history_shows_differences_and_restores_an_old_version_as_a_draft(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    await editor(client)
    for cost in ("$100.00 por cada copia", "$120.00 por cada copia"):
        form = await form_of(client, ACTA)
        await client.post(ACTA, data={**form, "cost": cost})
        await client.post(f"{ACTA}/publicar")

    history = (await client.get(f"{ACTA}/historial")).text
    rows = re.findall(r"<tr>\s*<td>(\d+)</td>\s*<td>(\w+)</td>", history)
    assert rows == [("3", "Publicada"), ("2", "Reemplazada"), ("1", "Reemplazada")]
    assert "Versión publicada antes de editarse aquí" in history
    assert "Editora de prueba" in history

    diff = (await client.get(f"{ACTA}/versiones/3")).text
    assert "de la versión 2 a la 3" in diff
    removed = re.findall(r'<tr class="removed">.*?<code>(.*?)</code>', diff, re.S)
    added = re.findall(r'<tr class="added">.*?<code>(.*?)</code>', diff, re.S)
    assert removed == ["cost: $100.00 por cada copia"]
    assert added == ["cost: $120.00 por cada copia"]
    against_first = (await client.get(f"{ACTA}/versiones/3", params={"con": 1})).text
    assert re.findall(r'<tr class="removed">.*?<code>(.*?)</code>', against_first, re.S) == [
        f"cost: {ACTA_COST}"
    ]

    restored = await client.post(f"{ACTA}/versiones/1/restaurar")
    assert restored.headers["location"].endswith("aviso=restaurado")
    assert (await form_of(client, ACTA))["cost"] == ACTA_COST
    assert "$120.00 por cada copia" in await bot_answer(client, ASK_ACTA_COST)
    history = (await client.get(f"{ACTA}/historial")).text
    assert "Restaurada de la versión 1." in history
    await client.post(f"{ACTA}/publicar")
    assert ACTA_COST in await bot_answer(client, ASK_ACTA_COST)
    [restore] = await audit_entries(loaded_db, "catalog.restore")
    assert restore.before == {"version": 1}


# --- import and export ----------------------------------------------------------------------


async def test_export_then_import_from_the_page_round_trips_and_records_versions(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    await editor(client)
    exported = await client.get(f"{CATALOG}/exportar")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    catalog, problems = validate_text(exported.text, "catalogo.yml")
    assert problems == [] and catalog is not None

    same = await client.post(
        f"{CATALOG}/importar", files={"archivo": ("catalogo.yml", exported.content)}
    )
    assert same.status_code == 200
    assert "Procedimientos: 0 creados, 0 actualizados, 56 sin cambios." in same.text
    assert await version_count(loaded_db) == 0

    data = yaml.safe_load(exported.text)
    acta = next(p for p in data["procedures"] if p["id"] == "copia-certificada-acta")
    acta["cost"] = "$99.00 por cada copia"
    changed = yaml.safe_dump(data, allow_unicode=True).encode()
    imported = await client.post(f"{CATALOG}/importar", files={"archivo": ("nuevo.yml", changed)})
    assert imported.status_code == 200
    assert "1 actualizado" in imported.text
    assert "$99.00 por cada copia" in await bot_answer(client, ASK_ACTA_COST)
    history = (await client.get(f"{ACTA}/historial")).text
    assert "Importado del archivo nuevo.yml." in history
    [entry] = await audit_entries(loaded_db, "catalog.import")
    assert (entry.before["cost"], entry.after["cost"]) == (ACTA_COST, "$99.00 por cada copia")
    again = await client.get(f"{CATALOG}/exportar")
    assert again.text == exported.text.replace(ACTA_COST, "$99.00 por cada copia")


async def test_an_invalid_upload_lists_every_problem_like_the_cli_and_changes_nothing(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    await editor(client)
    exported = (await client.get(f"{CATALOG}/exportar")).text
    broken = exported.replace("cost: $95.00 por cada copia", "cost $95.00 por cada copia", 1)
    _, cli_problems = validate_text(broken, "roto.yml")
    assert cli_problems and "línea" in cli_problems[0]
    response = await client.post(
        f"{CATALOG}/importar", files={"archivo": ("roto.yml", broken.encode())}
    )
    assert response.status_code == 422
    shown = [html.unescape(x) for x in re.findall(r"<li><code>(.*?)</code></li>", response.text)]
    assert shown == cli_problems
    latin1 = await client.post(
        f"{CATALOG}/importar", files={"archivo": ("latin.yml", "año: ñ".encode("latin-1"))}
    )
    assert "no está en UTF-8" in latin1.text
    assert ACTA_COST in await bot_answer(client, ASK_ACTA_COST)
    assert await audit_entries(loaded_db, "catalog.import") == []


async def test_an_import_keeps_open_drafts_and_flags_them_as_based_on_an_older_version(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    await editor(client)
    form = await form_of(client, ACTA)
    await client.post(ACTA, data={**form, "validity": "Un año"})
    exported = (await client.get(f"{CATALOG}/exportar")).text
    changed = exported.replace(ACTA_COST, "$99.00 por cada copia").encode()
    await client.post(f"{CATALOG}/importar", files={"archivo": ("nuevo.yml", changed)})

    page = (await client.get(ACTA)).text
    assert "La versión publicada cambió (ahora es la versión 3)" in page
    assert "partió de la versión 1" in page
    form = await form_of(client, ACTA)
    assert (form["validity"], form["cost"]) == ("Un año", ACTA_COST)  # the draft, untouched


async def test_changes_made_outside_the_editor_enter_the_history(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    await editor(client)
    form = await form_of(client, ACTA)
    await client.post(ACTA, data={**form, "cost": "$100.00 por cada copia"})
    await client.post(f"{ACTA}/publicar")
    await load_catalog_file(loaded_db, SAMPLE_CATALOG)  # `ventanilla catalog import`

    history = (await client.get(f"{ACTA}/historial")).text
    rows = re.findall(r"<tr>\s*<td>(\d+)</td>\s*<td>(\w+)</td>", history)
    assert rows == [("3", "Publicada"), ("2", "Reemplazada"), ("1", "Reemplazada")]
    assert "Cambio publicado fuera del editor" in history
    diff = (await client.get(f"{ACTA}/versiones/3")).text
    assert re.findall(r'<tr class="added">.*?<code>(.*?)</code>', diff, re.S) == [
        f"cost: {ACTA_COST}"
    ]
