"""The evaluators' dashboard and the public results page, over HTTP."""

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from backoffice.app import create_app
from casework.citizens.models import ChannelIdentity
from casework.conversations.models import Conversation
from casework.indicators.models import IndicatorCard
from casework.indicators.scope import last_months, local_today
from casework.staff.accounts import create_user
from foundation.calendar import local_midnight
from foundation.db import Database
from foundation.settings import EvaluationSettings, Settings, WebSettings
from tests.indicator_seed import SECRET_COMMENT, closed_month, rating, seed_history
from tests.support import STAFF_PASSWORD, login

TZ = "America/Mexico_City"


@pytest.fixture
async def evaluator(loaded_db: Database, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A logged-in evaluator on an app that warns below 8 answers."""
    settings = Settings(
        database_url=database_url,
        desk_hours="",
        web=WebSettings(secret_key="test-secret"),
        evaluation=EvaluationSettings(min_reliable_count=8),
        _env_file=None,
    )
    async with loaded_db.transaction() as session:
        await create_user(session, "evaluadora", STAFF_PASSWORD, "evaluator", "Evaluadora")
    app = create_app(settings, loaded_db, settings.web.secret_key)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        await login(client, "evaluadora")
        yield client


def tile(page: str, metric: str) -> str:
    found = re.search(rf'<li class="tile[^"]*" data-metric="{metric}">(.*?)</li>', page, re.S)
    assert found, f"no tile for {metric}"
    return found.group(0)


def charts(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="evaluation-data">(.*?)</script>', page)
    assert found
    return json.loads(found.group(1))


async def test_the_dashboard_shows_every_indicator_and_warns_where_answers_are_few(
    evaluator: httpx.AsyncClient, loaded_db: Database
) -> None:
    await seed_history(loaded_db)
    response = await evaluator.get("/backoffice/evaluacion")
    assert response.status_code == 200
    page = response.text
    assert 'href="/backoffice/evaluacion"' in page  # in the menu
    for metric in ("ratings_answered", "csat", "on_time_share", "median_wait_minutes"):
        tile(page, metric)
    assert ">14<" in tile(page, "ratings_answered")  # 6 + 3 + 5, in the last 12 months
    assert "Pocas respuestas" not in tile(page, "ratings_answered")
    # 7 requests resolved: fewer than 8, so the figure is flagged.
    resolved = tile(page, "requests_resolved")
    assert ">7<" in resolved and "Pocas respuestas: interprételo con cautela" in resolved
    data = charts(page)
    assert data["distribution"]["counts"] == [4, 3, 0, 1, 6]
    assert len(data["ratings"]["labels"]) in (12, 13)  # months; 13 when today is not the 1st
    assert sum(data["ratings"]["answered"]) == 14
    assert sum(data["requests"]["resolved"]) == 7
    # pago-predial rests on 11 answers and is ranked; constancia-residencia (3) is left out.
    assert data["lowest"]["labels"] == ["Pago del impuesto predial"]
    assert "1 trámite(s) con menos de 8 calificaciones no se incluyen" in page
    assert '<script src="/static/vendor/chart.umd.js"></script>' in page
    assert "<script>" not in page  # no inline script: data travels as JSON


async def test_filters_change_the_figures(
    evaluator: httpx.AsyncClient, loaded_db: Database
) -> None:
    await seed_history(loaded_db)
    page = (await evaluator.get("/backoffice/evaluacion?tramite=constancia-residencia")).text
    answered = tile(page, "ratings_answered")
    assert ">3<" in answered and "Pocas respuestas" in answered
    assert ">100.0 %<" in tile(page, "csat")
    assert charts(page)["distribution"]["counts"] == [0, 0, 0, 0, 3]
    telegram = (await evaluator.get("/backoffice/evaluacion?canal=telegram&agrupar=semana")).text
    assert ">3<" in tile(telegram, "ratings_answered")
    assert 'value="semana" selected' in telegram
    catastro = (await evaluator.get("/backoffice/evaluacion?dependencia=catastro")).text
    assert ">11<" in tile(catastro, "ratings_answered")
    today = local_today(TZ)
    last_month = (today.replace(day=1) - timedelta(days=1)).isoformat()
    earlier = (await evaluator.get(f"/backoffice/evaluacion?hasta={last_month}")).text
    assert ">5<" in tile(earlier, "ratings_answered")  # only the ratings six months ago
    assert ">0.0 %<" in tile(earlier, "csat")


async def test_mistyped_filters_fall_back_to_defaults(evaluator: httpx.AsyncClient) -> None:
    response = await evaluator.get(
        "/backoffice/evaluacion?desde=ayer&hasta=2026-13-45&tramite=nada&canal=fax&agrupar=dia"
    )
    assert response.status_code == 200
    start, end = last_months(local_today(TZ), 12)
    assert f'value="{start.isoformat()}"' in response.text
    assert f'value="{end.isoformat()}"' in response.text
    # With nothing measured, every tile is flagged and ratios show a dash.
    assert ">—<" in tile(response.text, "csat")
    assert "Pocas respuestas" in tile(response.text, "csat")


async def test_the_public_page_shows_figures_only_where_there_are_enough_answers(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    await seed_history(loaded_db, closed_month())
    response = await client.get("/resultados")  # no login
    assert response.status_code == 200
    page = response.text
    predial = re.search(r'<tr data-procedure="pago-predial">(.*?)</tr>', page, re.S)
    residencia = re.search(r'<tr data-procedure="constancia-residencia">(.*?)</tr>', page, re.S)
    bache = re.search(r'<tr data-procedure="reporte-bache">(.*?)</tr>', page, re.S)
    assert predial and residencia and bache
    # pago-predial: 11 ratings, 4 of them 4 or 5; 3 of 5 requests on time; up from 0 % to 66.7 %.
    assert "36.4 %" in predial.group(1) and ">11<" in predial.group(1)
    assert "60.0 %" in predial.group(1)
    assert "Mejora: de 0.0 % a 66.7 %" in predial.group(1)
    # constancia-residencia: three ratings of 5 are never published, not even their number.
    row = residencia.group(1)
    assert "menos de 5 respuestas" in row and "100" not in row and ">3<" not in row
    # reporte-bache: 2 requests resolved are too few to publish compliance.
    assert "menos de 5 solicitudes" in bache.group(1) and "0.0 %" not in bache.group(1)
    assert SECRET_COMMENT not in page and "SEED-" not in page  # no comments, no folios


async def test_the_web_chat_links_to_the_results(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    assert 'href="/resultados"' in page


async def test_public_indicator_cards_show_their_light_unless_resting_on_few_answers(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    await seed_history(loaded_db, closed_month())
    year = str(closed_month().year)
    async with loaded_db.transaction() as session:
        session.add_all(
            [
                IndicatorCard(
                    code="T-PREDIAL",
                    name="Satisfacción con el predial",
                    metric="csat",
                    unit="%",
                    procedure_id="pago-predial",
                    targets={year: 80},
                    ods=["16.6"],
                    public=True,
                ),
                IndicatorCard(
                    code="T-RESIDENCIA",
                    name="Satisfacción con la constancia",
                    metric="csat",
                    unit="%",
                    procedure_id="constancia-residencia",
                    targets={year: 80},
                    public=True,
                ),
                IndicatorCard(code="T-INTERNA", name="Solo para el personal", metric="csat"),
            ]
        )
    page = (await client.get("/resultados")).text
    predial = re.search(r'<tr data-card="T-PREDIAL">(.*?)</tr>', page, re.S)
    residencia = re.search(r'<tr data-card="T-RESIDENCIA">(.*?)</tr>', page, re.S)
    assert predial and residencia and "T-INTERNA" not in page
    # Far below the target of 80 %: red, with its value; aligned with ODS 16.6.
    assert "light-rojo" in predial.group(1) and "16.6" in predial.group(1)
    assert re.search(r"\d+\.\d %", predial.group(1))
    # Three ratings of 5: neither the value (100 %) nor a light is published.
    assert "menos de 5 respuestas" in residencia.group(1)
    assert "100" not in residencia.group(1) and "light-" not in residencia.group(1)


async def test_the_ratings_list_masks_personal_data_in_comments(
    evaluator: httpx.AsyncClient, loaded_db: Database
) -> None:
    async with loaded_db.transaction() as session:
        await rating(
            session,
            local_midnight(local_today(TZ)),
            2,
            comment="Nadie contestó, márquenme al 415 987 6543 o a ana@correo.example",
        )
        named = await rating(
            session,
            local_midnight(local_today(TZ)),
            5,
            comment="Soy Rosa Martínez, CURP lomp 800101 mjcprr 06; pregunten por Teodoro",
        )
        conversation = await session.get(Conversation, named.conversation_id)
        assert conversation is not None
        await session.execute(
            update(ChannelIdentity)
            .where(ChannelIdentity.id == conversation.identity_id)
            .values(display_name="Teodoro V.")
        )
    page = (await evaluator.get("/backoffice/calificaciones")).text
    assert "Nadie contestó, márquenme al [dato personal]" in page
    assert "6543" not in page and "ana@correo.example" not in page
    # The same function as the exports: names after "Soy", spaced CURPs, the chat's name.
    assert "Soy [dato personal]" in page and "pregunten por [dato personal]" in page
    for secret in ("Rosa", "Martínez", "800101", "Teodoro"):
        assert secret not in page
