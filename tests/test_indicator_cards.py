"""Indicator cards: evaluators create, edit and delete them (checked, in Spanish, audited), and
each gets a traffic light from its year-to-date value against this year's target."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, select

from backoffice.app import create_app
from bot.channels.registry import NAMES
from casework.citizens.models import ChannelIdentity
from casework.conversations.models import Conversation
from casework.indicators.cards import (
    SAMPLE_CARDS,
    CardError,
    card_status,
    create_card,
    public_cards,
    read_cards_file,
    traffic_light,
    validate_card,
)
from casework.indicators.models import IndicatorCard
from casework.indicators.service import METRICS
from casework.ratings.models import Rating
from foundation.audit import AuditEntry
from foundation.db import Database
from foundation.settings import Settings
from tests.indicator_seed import rating
from tests.support import login
from ventanilla.setup import prepare

TODAY = date(2026, 4, 30)
ZONE = "America/Mexico_City"
VALID = {
    "code": "EVAL-01",
    "name": "Satisfacción ciudadana",
    "metric": "csat",
    "targets": "2026: 85\n2027: 88",
    "ods": "16.6, 16.7",
    "tolerance": "10",
    "frequency": "mensual",
}


@pytest.fixture
async def app(
    loaded_db: Database, settings: Settings, staff_of_every_role: dict[str, str]
) -> FastAPI:
    return create_app(settings, loaded_db, settings.web.secret_key)


@pytest.fixture
async def evaluator(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        await login(client, "evaluadora")
        yield client


async def _cards(db: Database) -> list[IndicatorCard]:
    async with db.transaction() as session:
        return list(await session.scalars(select(IndicatorCard).order_by(IndicatorCard.code)))


async def _audit(db: Database, action: str) -> list[AuditEntry]:
    async with db.transaction() as session:
        found = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return list(found)


@pytest.fixture
async def csat_80(loaded_db: Database) -> None:
    """Ten answered surveys on WhatsApp in April 2026, eight of them 4 or 5: CSAT 80 %."""
    async with loaded_db.transaction() as session:
        identity = ChannelIdentity(channel="whatsapp", address="5214150000000")
        session.add(identity)
        await session.flush()
        conversation = Conversation(identity_id=identity.id)
        session.add(conversation)
        await session.flush()
        for n, score in enumerate((5, 5, 4, 4, 4, 5, 4, 5, 2, 1)):
            at = datetime(2026, 4, 1 + n, 17, 0, tzinfo=UTC)
            session.add(
                Rating(
                    subject="request",
                    conversation_id=conversation.id,
                    procedure_id="pago-predial",
                    department_id="catastro",
                    channel="whatsapp",
                    score=score,
                    asked_at=at,
                    answered_at=at,
                )
            )


# --- the light ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "target", "higher", "tolerance", "light"),
    [
        (90, 85, True, 0.10, "verde"),
        (85, 85, True, 0.10, "verde"),
        (80, 85, True, 0.10, "amarillo"),
        (76.5, 85, True, 0.10, "amarillo"),  # the edge of the band: 85 - 8.5
        (76.4, 85, True, 0.10, "rojo"),
        (84.9, 85, True, 0.0, "rojo"),  # no tolerance: no yellow
        (12, 15, False, 0.20, "verde"),
        (15, 15, False, 0.20, "verde"),
        (18, 15, False, 0.20, "amarillo"),  # 15 + 3
        (18.1, 15, False, 0.20, "rojo"),
        (None, 85, True, 0.10, "gris"),
        (90, None, True, 0.10, "gris"),
    ],
)
def test_the_traffic_light_follows_direction_and_tolerance(
    value: float | None, target: float | None, higher: bool, tolerance: float, light: str
) -> None:
    assert traffic_light(value, target, higher, tolerance) == light


async def test_a_card_is_lit_by_its_year_to_date_value(loaded_db: Database, csat_80: None) -> None:
    async with loaded_db.transaction() as session:
        card = await create_card(session, None, VALID, channels=NAMES)
        status = await card_status(session, card, TODAY, ZONE)
        assert (status.value, status.count, status.target) == (80.0, 10, 85.0)
        assert (status.start, status.end) == (date(2026, 1, 1), TODAY)
        assert status.light == "amarillo" and status.light_label == "Cerca de la meta"

        card.targets = {"2026": 75}
        assert (await card_status(session, card, TODAY, ZONE)).light == "verde"
        card.targets, card.tolerance = {"2026": 85}, Decimal("0.05")
        assert (await card_status(session, card, TODAY, ZONE)).light == "rojo"
        card.higher_is_better = False  # "less is better" turns 80 against 85 green
        assert (await card_status(session, card, TODAY, ZONE)).light == "verde"
        card.higher_is_better = True
        # No target for the year, no light; another channel, no data.
        next_year = await card_status(session, card, date(2027, 2, 1), ZONE)
        assert (next_year.value, next_year.light) == (None, "gris")
        card.targets = {"2026": 85}
        card.channel = "telegram"
        assert (await card_status(session, card, TODAY, ZONE)).light == "gris"
        card.channel, card.procedure_id = None, "pago-predial"
        assert (await card_status(session, card, TODAY, ZONE)).value == 80.0
        card.procedure_id = "reporte-bache"
        assert (await card_status(session, card, TODAY, ZONE)).count == 0


async def test_only_public_cards_go_to_the_public_page(loaded_db: Database, csat_80: None) -> None:
    async with loaded_db.transaction() as session:
        await create_card(session, None, {**VALID, "public": True}, channels=NAMES)
        await create_card(
            session, None, {**VALID, "code": "INTERNO", "metric": "containment"}, channels=NAMES
        )
        shown = await public_cards(session, TODAY, ZONE, 5)
    assert [s.card.code for s in shown] == ["EVAL-01"]
    assert shown[0].value == 80.0 and not shown[0].thin_month


async def test_a_public_card_with_a_month_of_few_answers_is_not_published(
    loaded_db: Database, csat_80: None
) -> None:
    """Ten answers in April and two in March: the year's value could be told from March's
    (two people) by comparing publications, so it is marked and the page hides it."""
    async with loaded_db.transaction() as session:
        await create_card(session, None, {**VALID, "public": True}, channels=NAMES)
        for day in (3, 4):
            await rating(session, datetime(2026, 3, day, 17, 0, tzinfo=UTC), 1, channel="whatsapp")
    async with loaded_db.transaction() as session:
        [thin] = await public_cards(session, TODAY, ZONE, 5)
        [march_only] = await public_cards(session, date(2026, 3, 31), ZONE, 2)
    assert thin.count == 12 and thin.thin_month
    assert march_only.count == 2 and not march_only.thin_month  # two is enough here


# --- validation --------------------------------------------------------------------------


async def test_every_problem_of_a_card_is_explained_in_spanish(loaded_db: Database) -> None:
    async with loaded_db.transaction() as session:
        await create_card(session, None, VALID, channels=NAMES)
        with pytest.raises(CardError) as caught:
            await validate_card(
                session,
                {
                    "code": "EVAL-01",
                    "name": "",
                    "metric": "felicidad",
                    "frequency": "diaria",
                    "baseline": "setenta",
                    "baseline_year": "1999",
                    "targets": "2026: ochenta\n2026: 85\n3000: 1\nsin meta",
                    "ods": "16.6, 18.1, 16.a, abc",
                    "tolerance": "150",
                    "procedure_id": "no-existe",
                    "department_id": "tampoco",
                    "channel": "fax",
                },
                channels=NAMES,
            )
    problems = caught.value.problems
    assert set(problems) == {
        "code",
        "name",
        "metric",
        "frequency",
        "baseline",
        "baseline_year",
        "targets",
        "ods",
        "tolerance",
        "procedure_id",
        "department_id",
        "channel",
    }
    assert problems["code"] == ["ya hay una ficha con la clave «EVAL-01»"]
    assert problems["targets"] == [
        "«sin meta»: escriba año y meta, por ejemplo «2026: 85»",
        "la meta de 2026 («ochenta») no es un número",
        "«3000» no es un año entre 2000 y 2100",
    ]
    assert problems["ods"] == [
        "«18.1» no es una meta ODS como «16.6» o «16.a» (objetivos 1 a 17)",
        "«abc» no es una meta ODS como «16.6» o «16.a» (objetivos 1 a 17)",
    ]


async def test_empty_fields_take_the_metrics_own_definition(loaded_db: Database) -> None:
    async with loaded_db.transaction() as session:
        values = await validate_card(
            session,
            {
                "code": "ESPERA",
                "name": "Espera",
                "metric": "median_wait_minutes",
                "baseline": "1,5",
                "baseline_year": "2025",
                "targets": {2026: 15},
                "ods": ["16.6"],
            },
            channels=NAMES,
        )
    info = METRICS["median_wait_minutes"]
    assert (values["unit"], values["formula"]) == (info.unit, info.formula)
    assert values["higher_is_better"] is False and values["tolerance"] == Decimal("0.1")
    assert values["baseline"] == Decimal("1.5") and values["targets"] == {"2026": 15.0}


# --- the back office ---------------------------------------------------------------------


async def test_evaluators_create_edit_and_delete_cards_and_each_change_is_audited(
    evaluator: httpx.AsyncClient, loaded_db: Database, csat_80: None
) -> None:
    form = await evaluator.get("/backoffice/indicadores/nueva")
    assert form.status_code == 200 and 'value="csat"' in form.text

    refused = await evaluator.post(
        "/backoffice/indicadores/nueva", data={**VALID, "ods": "16.6, 99.9"}
    )
    assert refused.status_code == 422
    assert "«99.9» no es una meta ODS" in refused.text
    assert 'value="Satisfacción ciudadana"' in refused.text  # what was typed is kept
    assert await _cards(loaded_db) == []

    created = await evaluator.post(
        "/backoffice/indicadores/nueva",
        data={
            **VALID,
            "description": "Calificaciones 4 y 5",
            "public": "1",
            "baseline": "78",
            "baseline_year": "2025",
            "source": "Encuesta",
        },
    )
    assert created.status_code == 303
    (card,) = await _cards(loaded_db)
    assert card.targets == {"2026": 85.0, "2027": 88.0} and card.ods == ["16.6", "16.7"]
    assert card.public and card.tolerance == Decimal("0.1") and card.baseline == 78
    assert "Ficha creada" in (await evaluator.get(created.headers["location"])).text
    (audited,) = await _audit(loaded_db, "indicator_card.create")
    assert audited.after is not None and audited.after["code"] == "EVAL-01"

    listing = await evaluator.get("/backoffice/indicadores")
    assert "EVAL-01" in listing.text and "16.6, 16.7" in listing.text
    assert "light-" in listing.text

    page = await evaluator.get(f"/backoffice/indicadores/{card.id}")
    assert page.status_code == 200 and "2026: 85" in page.text
    edited = await evaluator.post(
        f"/backoffice/indicadores/{card.id}",
        data={
            **VALID,
            "targets": "2026: 90\n2027: 92",
            "description": "Calificaciones 4 y 5",
            "public": "1",
            "baseline": "78",
            "baseline_year": "2025",
            "source": "Encuesta",
        },
    )
    assert edited.status_code == 303
    (changed,) = await _audit(loaded_db, "indicator_card.update")
    assert changed.before == {"targets": {"2026": 85.0, "2027": 88.0}}
    assert changed.after == {"targets": {"2026": 90.0, "2027": 92.0}}

    removed = await evaluator.post(f"/backoffice/indicadores/{card.id}/eliminar")
    assert removed.status_code == 303
    assert await _cards(loaded_db) == []
    (deleted,) = await _audit(loaded_db, "indicator_card.delete")
    assert deleted.before is not None and deleted.before["name"] == "Satisfacción ciudadana"
    assert (await evaluator.get(f"/backoffice/indicadores/{card.id}")).status_code == 404


async def test_changing_a_cards_code_to_one_taken_is_refused(
    evaluator: httpx.AsyncClient, loaded_db: Database
) -> None:
    async with loaded_db.transaction() as session:
        await create_card(session, None, VALID, channels=NAMES)
        other = await create_card(session, None, {**VALID, "code": "EVAL-02"}, channels=NAMES)
    response = await evaluator.post(f"/backoffice/indicadores/{other.id}", data=VALID)
    assert response.status_code == 422
    assert "ya hay una ficha con la clave «EVAL-01»" in response.text
    assert [c.code for c in await _cards(loaded_db)] == ["EVAL-01", "EVAL-02"]


# --- the sample set ----------------------------------------------------------------------


async def test_the_sample_cards_are_loaded_on_the_first_run_only(
    db: Database, settings: Settings
) -> None:
    assert (await prepare(db, settings)).sample_cards == len(read_cards_file(SAMPLE_CARDS))
    cards = await _cards(db)
    assert {c.metric for c in cards} == {
        "csat",
        "on_time_share",
        "response_rate",
        "containment",
        "median_wait_minutes",
    }
    assert all(c.targets and c.ods for c in cards)
    assert {"16.6", "16.7"} <= {o for c in cards for o in c.ods}
    wait = next(c for c in cards if c.metric == "median_wait_minutes")
    assert wait.higher_is_better is False
    # An evaluator's deletions stand: the samples do not come back at the next start.
    async with db.transaction() as session:
        await session.execute(delete(IndicatorCard))
    assert (await prepare(db, settings)).sample_cards == 0
    assert await _cards(db) == []
