"""The evaluators' dashboard and the public results page in a real Chromium, against the real
server process (SQLite and PostgreSQL). The history is written straight into the server's
database; the settings are the defaults (warning below 30 answers, public cells need 5)."""

import re

import pytest
from playwright.async_api import Locator, Page, expect

pytest.register_assert_rewrite("tests.browser_fixtures")
from casework.staff.accounts import create_user  # noqa: E402
from foundation.db import Database  # noqa: E402
from tests import indicator_seed as seed  # noqa: E402
from tests.browser_fixtures import NewPage, ReviewPage, ServerProcess  # noqa: E402
from tests.support import STAFF_PASSWORD  # noqa: E402

pytest_plugins = ("tests.browser_fixtures",)
pytestmark = pytest.mark.browser

CHART_IDS = ("chart-ratings", "chart-requests", "chart-distribution", "chart-lowest")
DRAWN_JS = """id => {
    const canvas = document.getElementById(id);
    const chart = canvas && Chart.getChart(canvas);
    if (!chart || canvas.width === 0 || canvas.height === 0) return false;
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) return true; }
    return false;
}"""


async def seed_server(database_url: str) -> None:
    """seed_history (pago-predial 11 ratings, constancia-residencia 3, 7 requests resolved)
    plus 30 more ratings of pago-predial, all in the latest closed month (the public page
    publishes closed months only), and an evaluator account."""
    db = Database(database_url)
    try:
        await seed.seed_history(db, seed.closed_month())
        this_month = seed.local_midnight(seed.closed_month())
        async with db.transaction() as s:
            for score in (5, 4, 3) * 10:
                await seed.rating(s, this_month, score, "pago-predial")
            await create_user(s, "evaluadora", STAFF_PASSWORD, "evaluator", "Evaluadora")
    finally:
        await db.dispose()


def tile(page: Page, metric: str) -> Locator:
    return page.locator(f'li.tile[data-metric="{metric}"]')


async def test_an_evaluator_reads_the_dashboard_and_the_public_sees_the_results(
    server: ServerProcess,
    database_url: str,
    new_page: NewPage,
    review_page: ReviewPage,
) -> None:
    await seed_server(database_url)

    # The evaluator opens the dashboard, logs in, and comes back to it.
    page = await new_page()
    await page.goto("/backoffice/evaluacion")
    await expect(page).to_have_url(re.compile(r"/backoffice/login\?next=/backoffice/evaluacion$"))
    await page.get_by_label("Usuario").fill("evaluadora")
    await page.get_by_label("Contraseña").fill(STAFF_PASSWORD)
    await page.get_by_role("button", name="Entrar").click()
    await expect(page).to_have_url(re.compile(r"/backoffice/evaluacion$"))
    await expect(
        page.get_by_role("heading", name="Evaluación de trámites y servicios")
    ).to_be_visible()
    await expect(page.get_by_role("link", name="Evaluación")).to_have_attribute(
        "aria-current", "page"
    )

    # 44 ratings: enough; 7 requests resolved: too few to trust, and it says so.
    await expect(tile(page, "ratings_answered").locator(".tile-value")).to_have_text("44")
    await expect(tile(page, "ratings_answered")).not_to_contain_text("Pocas respuestas")
    await expect(tile(page, "requests_resolved")).to_contain_text(
        "Pocas respuestas: interprételo con cautela"
    )
    for chart_id in CHART_IDS:
        await expect(page.locator(f"#{chart_id}")).to_be_visible()
        assert await page.evaluate(DRAWN_JS, chart_id), f"{chart_id} not drawn"
    distribution = "id => Chart.getChart(document.getElementById(id)).data.datasets[0].data"
    # Scores of 1..5 over the twelve months: seed_history's 4, 3, 0, 1, 6 plus 10 each of 3-5.
    assert await page.evaluate(distribution, "chart-distribution") == [4, 3, 10, 11, 16]
    # Only pago-predial (41 answers) is ranked; the procedure with 3 is left out and noted.
    await expect(page.locator(".few-note").first).to_contain_text("menos de 30 calificaciones")
    # Each chart has its data as a table too.
    await page.get_by_text("Ver los datos en una tabla").nth(2).click()
    await expect(page.get_by_role("table", name="Calificaciones por valor")).to_be_visible()
    await review_page(page, "dashboard")

    # Filtering on the small procedure changes every figure, and warns.
    await page.get_by_label("Trámite", exact=True).select_option(label="Constancia de residencia")
    await page.get_by_role("button", name="Aplicar").click()
    await expect(page).to_have_url(re.compile(r"tramite=constancia-residencia"))
    await expect(tile(page, "ratings_answered").locator(".tile-value")).to_have_text("3")
    await expect(tile(page, "ratings_answered")).to_contain_text("Pocas respuestas")
    await expect(tile(page, "csat").locator(".tile-value")).to_have_text("100.0 %")
    assert await page.evaluate(distribution, "chart-distribution") == [0, 0, 0, 0, 3]
    assert await page.evaluate(DRAWN_JS, "chart-ratings")
    await review_page(page, "dashboard-filtered")

    # Anyone, from the web chat, opens the public results.
    citizen = await new_page()
    await citizen.goto("/")
    await citizen.get_by_role("link", name="Resultados de la evaluación").click()
    await expect(citizen).to_have_url(re.compile(r"/resultados$"))
    predial = citizen.locator('tr[data-procedure="pago-predial"]')
    small = citizen.locator('tr[data-procedure="constancia-residencia"]')
    # pago-predial: 41 answers, 4 + 20 of them 4 or 5 -> 58.5 %.
    await expect(predial.locator("td.csat")).to_have_text("58.5 %")
    await expect(predial.locator("td.count")).to_have_text("41")
    await expect(small.locator("td.csat")).to_contain_text("menos de 5 respuestas")
    await expect(small).not_to_contain_text("100")
    await expect(citizen.get_by_text(seed.SECRET_COMMENT)).to_have_count(0)
    await review_page(citizen, "results")
