"""The web chat and the back office in a real Chromium, against the real server process.

Each test starts `python -m ventanilla serve` on an empty database (SQLite and PostgreSQL), logs
in with the administrator password the first run prints, and plays citizen and staff member in
two separate browser contexts.
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.async_api import Page, expect

from casework.handoffs.canned import canned_answers
from foundation import texts

# The fixtures module is also a plugin (below); have pytest rewrite its asserts before import.
pytest.register_assert_rewrite("tests.browser_fixtures")
from tests.browser_fixtures import (  # noqa: E402
    POLL_WAIT_MS,
    ChatWindow,
    NewPage,
    ReviewPage,
    ServerProcess,
    create_staff,
)
from tests.support import valid_curp  # noqa: E402

pytest_plugins = ("tests.browser_fixtures",)
pytestmark = pytest.mark.browser

SAMPLE_CATALOG = Path(__file__).resolve().parent.parent / "catalog" / "samples" / "acacias.yml"
FOLIO = re.compile(r"\b[A-Z0-9]{2,8}-\d{4}-\d{6}\b")
# A message after the catalogue changed waits for the server to retrain its procedure index.
RETRAIN_WAIT_MS = 30_000


def sample_procedure(procedure_id: str) -> dict[str, Any]:
    """A procedure as written in the sample catalogue file the server loads on first run."""
    catalog = yaml.safe_load(SAMPLE_CATALOG.read_text(encoding="utf-8"))
    return next(p for p in catalog["procedures"] if p["id"] == procedure_id)


async def log_in_as_admin(page: Page, server: ServerProcess, review_page: ReviewPage) -> None:
    """Open a back-office page anonymously, land on the login form, log in with the password
    the server printed on its first run, and come back to the page asked for."""
    await page.goto("/backoffice/solicitudes")
    await expect(page).to_have_url(re.compile(r"/backoffice/login\?next=/backoffice/solicitudes$"))
    await expect(page.get_by_role("heading", name="Iniciar sesión")).to_be_visible()
    await review_page(page, "login")
    assert server.admin_password is not None
    await page.get_by_label("Usuario").fill("admin")
    await page.get_by_label("Contraseña").fill(server.admin_password)
    await page.get_by_role("button", name="Entrar").click()
    await expect(page).to_have_url(re.compile(r"/backoffice/solicitudes$"))
    await expect(page.get_by_role("heading", name="Solicitudes")).to_be_visible()


async def expect_rating_question(chat: ChatWindow, about: str) -> None:
    question = chat.bot_message(texts.t("rating.ask", about=about))
    await expect(question).to_be_visible(timeout=POLL_WAIT_MS)
    scores = [texts.label("score", str(n)) for n in range(1, 6)]
    await expect(question.get_by_role("button")).to_have_text(scores)


async def test_chat_answers_cost_and_requirements_from_the_catalogue(
    new_page: NewPage, review_page: ReviewPage
) -> None:
    acta = sample_procedure("copia-certificada-acta")
    chat = await ChatWindow.open(await new_page())
    await expect(chat.log).to_have_attribute("aria-live", "polite")
    await expect(chat.page.get_by_role("button", name="Enviar", exact=True)).to_be_visible()

    replies = await chat.say("¿Cuánto cuesta la copia certificada de un acta?")
    await expect(replies.last).to_contain_text(acta["cost"])
    await expect(chat.input).to_be_empty()

    replies = await chat.choose(texts.t("info.aspect.requirements"))
    await expect(replies.last).to_contain_text(acta["requirements"][0])
    await review_page(chat.page, "chat")


async def test_staff_resolve_a_pothole_report_and_the_citizen_rates_it(
    server: ServerProcess, new_page: NewPage, review_page: ReviewPage
) -> None:
    bache = sample_procedure("reporte-bache")
    resolved = texts.label("status", "resolved")
    note = "Cuadrilla de bacheo reparó la calle el martes."

    # The citizen opens a report on the web chat and gets a folio.
    chat = await ChatWindow.open(await new_page())
    await chat.say("quiero reportar un bache")
    await chat.choose(texts.t("consent.accept"))
    await chat.say("Bache profundo frente al número 45, ya reventó dos llantas.", with_button=True)
    await chat.say("Calle Hidalgo 45, colonia Centro")
    await chat.choose(texts.t("request.skip"))
    confirm = await chat.say(valid_curp("GODE561231HDFRRN0"))
    await expect(confirm.last).to_contain_text(bache["name"])
    opened = await chat.choose(texts.t("request.confirm_yes"))
    await expect(opened.last).to_contain_text(FOLIO)
    match = FOLIO.search(await opened.last.inner_text())
    assert match is not None
    folio = match.group(0)
    assert re.fullmatch(r"SMA-\d{4}-\d{6}", folio), folio

    # Staff log in, find the folio in the queue and resolve it with a public note.
    staff = await new_page()
    await log_in_as_admin(staff, server, review_page)
    await review_page(staff, "requests")
    await staff.get_by_role("link", name=folio, exact=True).click()
    await expect(staff.get_by_role("heading", name=f"Solicitud {folio}")).to_be_visible()
    await review_page(staff, "request-detail")
    await staff.get_by_label("Nuevo estado").select_option(label=resolved)
    await staff.get_by_label("Nota", exact=True).fill(note)
    await staff.get_by_label("Pública: se envía a la persona").check()
    await staff.get_by_role("button", name="Guardar").click()
    await expect(staff.locator("#status")).to_have_text(resolved)
    await expect(staff.get_by_role("listitem").filter(has_text=note)).to_be_visible()
    await review_page(staff, "request-resolved")

    # The chat page picks up the notice and the survey by itself, then the citizen rates.
    notice = chat.bot_message(folio).filter(has_text=resolved)
    await expect(notice).to_be_visible(timeout=POLL_WAIT_MS)
    await expect(notice).to_contain_text(note)
    await expect_rating_question(chat, texts.t("rating.about_request", folio=folio))
    await chat.choose(texts.label("score", "5"))
    thanks = await chat.choose(texts.t("request.skip"))
    await expect(thanks.last).to_contain_text(texts.t("rating.thanks"))
    await review_page(chat.page, "chat")

    # Evaluators see the rating with its procedure, pseudonymised: no folio.
    await staff.get_by_role("link", name="Calificaciones").click()
    row = staff.get_by_role("row").filter(has_text=bache["name"])
    await expect(row.get_by_role("cell")).to_have_text(
        [re.compile(r"\d"), "Solicitud", bache["name"], "web", "5", ""]
    )
    await expect(staff.locator("main")).not_to_contain_text(folio)
    await review_page(staff, "ratings")


async def test_an_agent_answers_a_handed_off_chat_and_hands_it_back_to_the_bot(
    server: ServerProcess, new_page: NewPage, review_page: ReviewPage
) -> None:
    question = "quiero hablar con un asesor"
    answer = canned_answers()["saludo"]

    # The agent has the inbox open before anyone asks.
    staff = await new_page()
    await log_in_as_admin(staff, server, review_page)
    await staff.get_by_role("link", name="Canalizaciones").click()
    await expect(staff.get_by_text("No hay conversaciones en espera.")).to_be_visible()

    chat = await ChatWindow.open(await new_page())
    replies = await chat.say(question)
    await expect(replies.last).to_contain_text(texts.t("handoff.requested"))
    await expect(replies.last).to_contain_text(texts.t("handoff.place", place=1))

    # The new conversation appears in the open inbox without reloading, and is announced.
    waiting = staff.get_by_role("row").filter(has_text=question)
    await expect(waiting).to_contain_text("En espera", timeout=POLL_WAIT_MS)
    await expect(staff.get_by_role("status")).to_contain_text("Nueva conversación en espera")
    await expect(staff).to_have_title(re.compile(r"^\(1\) Canalizaciones"))
    await review_page(staff, "handoffs")
    await waiting.get_by_role("link", name=re.compile(r"^Conversación \d+$")).click()
    transcript = staff.get_by_role("list", name="Conversación")
    await expect(transcript.get_by_role("listitem").filter(has_text=question)).to_be_visible()
    await staff.get_by_role("button", name="Tomar esta conversación").click()
    await expect(staff.get_by_text("Estado: Atendiendo")).to_be_visible()
    await review_page(staff, "handoff-detail")

    # A canned answer by its short code.
    await staff.get_by_label("Respuesta").fill("/saludo")
    await staff.get_by_role("button", name="Enviar", exact=True).click()
    await expect(transcript.get_by_role("listitem").filter(has_text=answer)).to_be_visible()

    # The citizen's open chat page shows the answer without reloading.
    from_agent = chat.log.locator(":scope > li.agent", has_text=answer)
    await expect(from_agent).to_be_visible(timeout=POLL_WAIT_MS)

    # Handing back to the bot tells the citizen and asks them to rate the attention.
    await staff.get_by_role("button", name="Cerrar y regresar al bot").click()
    await expect(staff).to_have_url(re.compile(r"/backoffice/canalizaciones$"))
    await expect(staff.get_by_role("row").filter(has_text=question)).to_have_count(0)
    await expect(chat.bot_message(texts.t("handoff.closed"))).to_be_visible(timeout=POLL_WAIT_MS)
    await expect_rating_question(chat, texts.t("rating.about_handoff"))
    await review_page(chat.page, "chat")


async def test_an_administrator_creates_an_agent_and_finds_it_in_the_audit_log(
    server: ServerProcess, new_page: NewPage, review_page: ReviewPage
) -> None:
    admin = await new_page()
    await log_in_as_admin(admin, server, review_page)
    await (
        admin.get_by_role("navigation", name="Secciones")
        .get_by_role("link", name="Usuarios")
        .click()
    )
    await expect(admin.get_by_role("heading", name="Cuentas del personal")).to_be_visible()
    await review_page(admin, "users")
    await admin.get_by_role("link", name="Crear una cuenta").click()
    await admin.get_by_label("Usuario", exact=True).fill("laura")
    await admin.get_by_label("Nombre completo").fill("Laura Pérez")
    await admin.get_by_label("Rol", exact=True).select_option(label=texts.label("role", "agent"))
    await admin.get_by_label("Sistema de Agua Potable").check()
    await admin.get_by_label("Contraseña inicial").fill("una-clave-larga")
    await review_page(admin, "user-new")
    await admin.get_by_role("button", name="Crear cuenta").click()
    await expect(admin.get_by_role("heading", name="Cuenta laura")).to_be_visible()
    await expect(admin.get_by_role("status")).to_have_text("Cuenta creada.")
    await review_page(admin, "user-edit")

    await admin.get_by_role("link", name="Auditoría").click()
    await admin.get_by_label("Acción").select_option(label="Alta de cuenta")
    await admin.get_by_role("button", name="Filtrar").click()
    row = admin.get_by_role("row").filter(has_text="Laura Pérez")
    await expect(row).to_contain_text("Alta de cuenta")
    await review_page(admin, "audit")


async def test_an_editor_changes_a_cost_and_the_chat_answers_with_it_once_published(
    server: ServerProcess, database_url: str, new_page: NewPage, review_page: ReviewPage
) -> None:
    acta = sample_procedure("copia-certificada-acta")
    new_cost = "$120.00 por cada copia"
    question = "¿Cuánto cuesta la copia certificada de un acta?"
    password = create_staff(database_url, "editora", "editor", "Editora del catálogo")

    chat = await ChatWindow.open(await new_page())
    replies = await chat.say(question, wait_ms=RETRAIN_WAIT_MS)
    await expect(replies.last).to_contain_text(acta["cost"])

    # The editor logs in, finds the procedure in the catalogue and edits its cost.
    staff = await new_page()
    await staff.goto("/backoffice/catalogo")
    await expect(staff).to_have_url(re.compile(r"/backoffice/login\?next=/backoffice/catalogo$"))
    await staff.get_by_label("Usuario").fill("editora")
    await staff.get_by_label("Contraseña").fill(password)
    await staff.get_by_role("button", name="Entrar").click()
    await expect(
        staff.get_by_role("heading", name="Catálogo de trámites y servicios")
    ).to_be_visible()
    await review_page(staff, "catalog-list")
    await staff.get_by_label("Buscar").fill("acta certificada")
    await staff.get_by_role("button", name="Filtrar").click()
    await staff.get_by_role("link", name=acta["name"], exact=True).click()
    await expect(
        staff.get_by_role("heading", name=f"Editar trámite: {acta['name']}")
    ).to_be_visible()
    cost = staff.get_by_label("Costo", exact=True)
    await expect(cost).to_have_value(acta["cost"])
    await cost.fill(new_cost)
    await staff.get_by_role("button", name="Guardar borrador").click()
    await expect(staff.get_by_role("status")).to_contain_text("Borrador guardado")
    await expect(staff.locator("#preview-cost")).to_have_text(
        f"Costo de {acta['name']}: {new_cost}"
    )
    await review_page(staff, "catalog-edit")

    # Saved as a draft only: the chat still answers with the published cost.
    replies = await chat.say(question, wait_ms=RETRAIN_WAIT_MS)
    await expect(replies.last).to_contain_text(acta["cost"])
    await expect(replies.last).not_to_contain_text(new_cost)

    await staff.get_by_role("button", name="Publicar", exact=True).click()
    await expect(staff.get_by_role("status")).to_contain_text("Publicado")
    replies = await chat.say(question, wait_ms=RETRAIN_WAIT_MS)
    await expect(replies.last).to_contain_text(new_cost)
    await review_page(chat.page, "chat-after-publish")

    # The history shows what changed.
    await staff.get_by_role("link", name="Historial de versiones").click()
    await staff.get_by_role("link", name="Ver cambios de la versión 2").click()
    added = staff.locator("table.diff tr.added")
    await expect(added).to_have_count(1)
    await expect(added).to_contain_text(f"cost: {new_cost}")
    await review_page(staff, "catalog-diff")
