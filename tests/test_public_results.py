"""The public results page cannot be differenced: it publishes closed months only, and each
month of a procedure counts only with enough answers, so one new rating never moves a
published number and no two publications differ by a few people."""

import re
from datetime import date, timedelta

import httpx

from casework.indicators.public import last_closed_day, next_closing, public_results
from casework.indicators.scope import local_today
from foundation.db import Database
from tests.indicator_seed import TZ, closed_month, local_midnight, rating, request

SETTLE = 8  # the default settings: surveys answered within 7 days, a month closes 8 days on


def row(page: str, procedure: str) -> str:
    found = re.search(rf'<tr data-procedure="{procedure}">(.*?)</tr>', page, re.S)
    assert found, f"no row for {procedure}"
    return found.group(1)


async def rate(db: Database, day: date, *scores: int, procedure: str = "pago-predial") -> None:
    async with db.transaction() as session:
        for score in scores:
            await rating(session, local_midnight(day) + timedelta(hours=12), score, procedure)


def test_a_month_closes_once_its_surveys_can_no_longer_be_answered() -> None:
    assert last_closed_day(date(2026, 4, 8), SETTLE) == date(2026, 3, 31)
    assert last_closed_day(date(2026, 4, 7), SETTLE) == date(2026, 2, 28)
    assert last_closed_day(date(2026, 1, 5), SETTLE) == date(2025, 11, 30)
    assert last_closed_day(date(2026, 3, 31), 0) == date(2026, 3, 31)
    assert next_closing(date(2026, 3, 31), SETTLE) == date(2026, 5, 8)
    assert next_closing(date(2026, 1, 31), SETTLE) == date(2026, 3, 8)  # 28 February + 8


async def test_a_new_rating_never_moves_a_published_number(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    """The probe that found the leak: a procedure at 100 % on 5 answers, then a sixth person
    answers 3. Before, the page went to 83.3 % on 6 at once, telling that person's answer."""
    await rate(loaded_db, closed_month(), 5, 5, 5, 5, 5)
    before = row((await client.get("/resultados")).text, "pago-predial")
    assert "100.0 %" in before and ">5<" in before

    await rate(loaded_db, local_today(TZ), 3)  # today: a month still open
    assert row((await client.get("/resultados")).text, "pago-predial") == before


async def test_a_month_with_few_answers_never_shows_in_the_next_publication(
    loaded_db: Database,
) -> None:
    """When the month of that sixth answer closes, it is left out: alone, it would be the
    difference between two publications. A month of five or more counts whole."""
    published = closed_month()
    await rate(loaded_db, published, 5, 5, 5, 5, 5)
    following = (published + timedelta(days=32)).replace(day=1)
    await rate(loaded_db, following, 3)
    closes = next_closing(last_closed_day(local_today(TZ), SETTLE), SETTLE)

    async def predial(today: date) -> tuple[int | None, float | None]:
        async with loaded_db.transaction() as session:
            results = await public_results(session, today, TZ, 5, SETTLE)
        found = next(r for r in results.rows if r.procedure_id == "pago-predial")
        return found.ratings, found.csat

    assert await predial(local_today(TZ)) == (5, 100.0)
    assert await predial(closes - timedelta(days=1)) == (5, 100.0)  # not closed yet
    assert await predial(closes) == (5, 100.0)  # closed, but one answer: left out
    await rate(loaded_db, following, 4, 4, 1, 1)  # now five people that month
    assert await predial(closes) == (10, 70.0)  # 5 + 2 of 10 gave 4 or 5


async def test_answers_spread_thin_over_months_are_never_published(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    """Four answers in each of two months: eight in all, but no month with five."""
    month = closed_month()
    earlier = (month - timedelta(days=1)).replace(day=1)
    await rate(loaded_db, month, 5, 5, 4, 1, procedure="constancia-residencia")
    await rate(loaded_db, earlier, 5, 2, 2, 2, procedure="constancia-residencia")
    found = row((await client.get("/resultados")).text, "constancia-residencia")
    assert "menos de 5 respuestas" in found and "%" not in found


async def test_deadline_compliance_counts_only_months_with_enough_requests(
    client: httpx.AsyncClient, loaded_db: Database
) -> None:
    """Five requests resolved in the closed month (four on time) and one, late, the month
    before: the lone request is not part of the published share."""
    month = local_midnight(closed_month())
    day = timedelta(days=1)
    async with loaded_db.transaction() as session:
        for late in (False, False, False, False, True):
            due = month + (-day if late else day)
            await request(
                session, month - 9 * day, status="resolved", resolved_at=month, due_at=due
            )
        lone = month - 3 * day
        await request(session, lone - 9 * day, status="resolved", resolved_at=lone, due_at=lone)
    found = row((await client.get("/resultados")).text, "pago-predial")
    assert "80.0 %" in found


async def test_the_page_says_how_it_protects_privacy(client: httpx.AsyncClient) -> None:
    page = (await client.get("/resultados")).text
    through = last_closed_day(local_today(TZ), SETTLE)
    assert "Solo se publican meses cerrados" in page
    assert "Una calificación nueva nunca cambia una cifra publicada" in page
    assert f"al {through:%d/%m/%Y}" in page
    assert f"Próxima actualización: {next_closing(through, SETTLE):%d/%m/%Y}" in page
    assert "al menos 5 respuestas" in page
