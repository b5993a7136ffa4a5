"""The daily rollups give exactly the figures of the raw tables, whatever the scope.

The data sit around the real settled boundaries (they depend on now): ratings asked on the
last settled days and the first unsettled ones, one second either side of a local midnight;
visits, one of them still open; claimed handoffs and one still waiting. Every figure is
computed twice: with the rollups, and with `split` patched to read only the raw tables.
"""

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from typer.testing import CliRunner

from casework.indicators import dashboard, public, rollups, service
from casework.indicators.rollups import (
    HANDOFF_WAITS,
    RATINGS,
    SOURCES,
    Split,
    ensure,
    settled_until,
)
from casework.indicators.scope import Scope, local_today
from casework.ratings.models import Rating
from casework.schema import upgrade
from catalog.transfer import load_catalog_file
from foundation.db import Database, utcnow
from foundation.settings import SAMPLE_CATALOG
from tests import indicator_seed as seed
from ventanilla.cli import app

TZ = seed.TZ
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def midnight(day: date) -> datetime:
    return seed.local_midnight(day)


async def _boundaries(db: Database) -> dict[str, date]:
    async with db.transaction() as s:
        return {name: await settled_until(s, src, TZ) for name, src in SOURCES.items()}


async def _seed(db: Database) -> dict[str, date]:
    """Ratings around the ratings boundary R, visits and handoffs around the bot boundary."""
    today = local_today(TZ)
    rating_edge = rollups.local_day(utcnow() - timedelta(days=8), TZ)  # first day not settled
    async with db.transaction() as s:
        for offset, score, procedure, channel in [
            (-30, 5, "pago-predial", "web"),
            (-9, 4, "constancia-residencia", "telegram"),
            (-2, 2, "pago-predial", "telegram"),
            (-1, None, "avaluo-catastral", "web"),
            (0, 5, "pago-predial", "whatsapp"),
            (0, 1, "constancia-residencia", "web"),
            (1, 3, "avaluo-catastral", "telegram"),
            (2, None, "pago-predial", "web"),
        ]:
            noon = midnight(rating_edge + offset * DAY) + timedelta(hours=12)
            await seed.rating(s, noon, score, procedure, channel)
        # One second either side of the local midnight between the last settled day and the
        # first unsettled one, and of the midnight before.
        await seed.rating(s, midnight(rating_edge) - SECOND, 5, "pago-predial", "web")
        await seed.rating(s, midnight(rating_edge), 4, "pago-predial", "web")
        await seed.rating(s, midnight(rating_edge - DAY) - SECOND, 3, "pago-predial", "web")
        await seed.rating(s, midnight(rating_edge - DAY), 2, "constancia-residencia", "web")
        for offset, channel, procedure, handed in [
            (-40, "web", "pago-predial", False),
            (-3, "telegram", "constancia-residencia", True),
            (-2, "web", None, False),
            (-1, "web", "pago-predial", True),
            (0, "telegram", "pago-predial", False),
        ]:
            start = midnight(today + offset * DAY) + timedelta(hours=1)
            await seed.visit(s, start, channel, 5, 1, handed, procedure)
        await seed.visit(s, midnight(today) - SECOND, "web", 3, 2, False, "pago-predial")
        for offset, minutes, channel, department in [
            (-20, 5, "web", "catastro"),
            (-5, 12.5, "telegram", None),
            (-3, 61, "web", "catastro"),
            (-1, 0.75, "web", None),
            (0, 30, "telegram", "catastro"),
        ]:
            created = midnight(today + offset * DAY) + timedelta(hours=2)
            await seed.handoff(s, created, minutes, channel, department)
    return {"ratings": rating_edge, "today": today}


def _scopes(edges: dict[str, date]) -> list[Scope]:
    first = min(edges.values()) - 60 * DAY
    last = edges["today"]
    r = edges["ratings"]
    return [
        Scope(first, last),
        Scope(first, last, procedure_id="pago-predial"),
        Scope(first, last, channel="telegram"),
        Scope(first, last, department_id="catastro"),
        Scope(r - 2 * DAY, r + DAY),  # starts in the rollup, ends after it
        Scope(r - DAY, r - DAY),  # one settled day
        Scope(r, last),  # only unsettled days
        Scope(first, r - 2 * DAY),  # ends inside the rollup
        Scope(last - 2 * DAY, last, channel="web"),
    ]


async def _figures(db: Database, scope: Scope) -> list[Any]:
    async with db.transaction() as s:
        found: list[Any] = [await service.measures(s, scope, TZ)]
        found.append(await dashboard.rating_trend(s, scope, TZ, "week"))
        found.append(await dashboard.rating_trend(s, scope, TZ, "month"))
        found.append(await dashboard.score_distribution(s, scope, TZ))
        found.append(await dashboard.procedure_ratings(s, scope, TZ))
        found.append(await dashboard.lowest_csat(s, scope, TZ, 1))
        found.append(await dashboard.by_procedure(s, scope, TZ))
        halves = (scope.start, scope.start + (scope.end - scope.start) / 2)
        found.append(await dashboard.by_procedure(s, scope, TZ, halves))
        found.append(await public.public_results(s, scope.end, TZ, 1, 0))
    return found


@pytest.fixture
def raw_only(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Within `with raw_only():`, every figure reads the raw tables only."""
    from contextlib import contextmanager

    @contextmanager
    def patched() -> Any:
        async def _raw(session: Any, source: Any, scope: Scope, timezone: str) -> Split:
            return Split(None, scope)

        with monkeypatch.context() as m:
            m.setattr(rollups, "split", _raw)
            m.setattr(service, "split", _raw)
            yield

    return patched


async def _rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    async with db.transaction() as s:
        found = {}
        for name, source in SOURCES.items():
            table = source.rollup
            rows = await s.execute(select(table))
            found[name] = sorted((tuple(row) for row in rows), key=repr)
        marks = await s.execute(select(rollups.IndicatorRollup.name, rollups.IndicatorRollup.upto))
        found["marks"] = sorted(tuple(row) for row in marks)
        return found


async def test_figures_with_rollups_equal_the_raw_figures_for_every_scope(
    loaded_db: Database, raw_only: Any
) -> None:
    edges = await _seed(loaded_db)
    for scope in _scopes(edges):
        with raw_only():
            expected = await _figures(loaded_db, scope)
        assert await _figures(loaded_db, scope) == expected, scope
    rows = await _rows(loaded_db)
    # The rollups were really read: settled days are in them, unsettled ones are not.
    rated_days = {row[0] for row in rows["ratings"]}
    assert edges["ratings"] - DAY in rated_days
    assert edges["ratings"] - 2 * DAY in rated_days
    assert all(day < edges["ratings"] for day in rated_days)
    assert rows["bot_sessions"] and rows["handoff_waits"]


async def test_the_seconds_around_local_midnight_fall_on_their_local_days(
    loaded_db: Database,
) -> None:
    edges = await _seed(loaded_db)
    last = edges["ratings"] - DAY
    async with loaded_db.transaction() as s:
        await ensure(s, RATINGS, TZ)
        day = rollups.rating_days.c
        rows = await s.execute(
            select(day.day, func.sum(day.sent)).where(day.day >= last - DAY).group_by(day.day)
        )
        sent = {row[0]: int(row[1]) for row in rows}
    # The day before: its noon and the second before the midnight that ends it. The last
    # settled day: its midnight, its noon, the second before its end; not the next midnight.
    assert sent == {last - DAY: 2, last: 3}


async def test_an_open_visit_or_a_waiting_handoff_holds_its_day_back(loaded_db: Database) -> None:
    edges = await _seed(loaded_db)
    today = edges["today"]
    assert (await _boundaries(loaded_db))["bot_sessions"] <= today
    open_since = midnight(today - 3 * DAY) + timedelta(hours=5)
    async with loaded_db.transaction() as s:
        await seed.visit(s, open_since, "web", 40)
        await s.execute(
            update(rollups.BotSession)
            .where(rollups.BotSession.started_at == open_since)
            .values(last_at=utcnow() - timedelta(minutes=10))
        )
        await seed.handoff(s, midnight(today - 4 * DAY) + timedelta(hours=3), None)
    found = await _boundaries(loaded_db)
    assert found["bot_sessions"] == today - 3 * DAY
    assert found["handoff_waits"] == today - 4 * DAY
    assert found["ratings"] == edges["ratings"]


async def test_a_refresh_twice_changes_nothing(loaded_db: Database) -> None:
    await _seed(loaded_db)
    async with loaded_db.transaction() as s:
        for source in SOURCES.values():
            await ensure(s, source, TZ)
    first = await _rows(loaded_db)
    async with loaded_db.transaction() as s:
        for source in SOURCES.values():
            await ensure(s, source, TZ)
            await rollups._refresh(s, source, TZ, utcnow())  # forced: finds nothing to do
    assert await _rows(loaded_db) == first
    assert first["ratings"] and first["bot_sessions"] and first["handoff_waits"]


async def test_two_concurrent_refreshes_give_the_same_rows(
    loaded_db: Database, database_url: str
) -> None:
    await _seed(loaded_db)
    async with loaded_db.transaction() as s:
        await rollups.rebuild(s, TZ)
    expected = await _rows(loaded_db)
    async with loaded_db.transaction() as s:
        await rollups.invalidate(s)
    other = Database(database_url)

    async def refresh(db: Database) -> None:
        async with db.transaction() as s:
            for source in SOURCES.values():
                await ensure(s, source, TZ)

    try:
        await asyncio.gather(refresh(loaded_db), refresh(other))
    finally:
        await other.dispose()
    assert await _rows(loaded_db) == expected


async def test_rows_written_or_answered_late_in_a_settled_day_are_counted(
    loaded_db: Database, raw_only: Any
) -> None:
    edges = await _seed(loaded_db)
    scope = _scopes(edges)[0]
    await _figures(loaded_db, scope)  # rollups built
    old = midnight(edges["ratings"] - 10 * DAY)
    async with loaded_db.transaction() as s:
        await seed.rating(s, old, 1, "pago-predial", "web")
        await seed.visit(s, midnight(edges["today"] - 9 * DAY), "web", 7, 7, True)
        await seed.handoff(s, midnight(edges["today"] - 9 * DAY), 240)
        # An answer long after the survey closed (the rules changed, or a clock was wrong).
        await s.execute(
            update(Rating)
            .where(Rating.score.is_(None), Rating.asked_at < midnight(edges["ratings"]))
            .values(score=5, answered_at=utcnow())
        )
    with raw_only():
        expected = await _figures(loaded_db, scope)
    assert await _figures(loaded_db, scope) == expected
    measures = expected[0]
    assert measures["median_wait_minutes"].count == 6


async def test_a_timezone_change_rebuilds_the_days(loaded_db: Database, raw_only: Any) -> None:
    edges = await _seed(loaded_db)
    scope = _scopes(edges)[0]
    async with loaded_db.transaction() as s:
        await rollups.rebuild(s, "UTC")
    with raw_only():
        expected = await _figures(loaded_db, scope)
    assert await _figures(loaded_db, scope) == expected
    async with loaded_db.transaction() as s:
        zones = await s.scalars(select(rollups.IndicatorRollup.timezone))
        assert set(zones) == {TZ}


def test_recalcular_rebuilds_the_rollups_from_the_raw_rows(database_url: str) -> None:
    async def prepare() -> dict[str, list[tuple[Any, ...]]]:
        db = Database(database_url)
        await upgrade(db)
        await load_catalog_file(db, SAMPLE_CATALOG)
        await _seed(db)
        async with db.transaction() as s:
            await rollups.rebuild(s, TZ)
        rows = await _rows(db)
        async with db.transaction() as s:  # spoil them, as a bad import would
            await s.execute(update(rollups.rating_days).values(sent=999))
            await s.execute(text("DELETE FROM bot_session_days"))
        await db.dispose()
        return rows

    async def current() -> dict[str, list[tuple[Any, ...]]]:
        db = Database(database_url)
        try:
            return await _rows(db)
        finally:
            await db.dispose()

    expected = asyncio.run(prepare())
    assert asyncio.run(current()) != expected
    result = CliRunner().invoke(app, ["indicadores", "recalcular", "--database", database_url])
    assert result.exit_code == 0, result.output
    assert "recalculados" in result.output
    assert asyncio.run(current()) == expected


def test_local_days_of_stored_instants_follow_the_zone_rules() -> None:
    from foundation.sql import _local_day_sql

    # 2021-04-04: Mexico City moved to summer time (UTC-5) at 02:00 local.
    assert _local_day_sql("2021-04-04 04:59:59.000000", TZ) == "2021-04-03"
    assert _local_day_sql("2021-04-04 06:00:00.000000", TZ) == "2021-04-04"
    assert _local_day_sql("2021-07-01 04:59:59.999999", TZ) == "2021-06-30"
    assert _local_day_sql("2021-07-01 05:00:00", TZ) == "2021-07-01"
    assert rollups.local_day(datetime(2026, 3, 1, 6, tzinfo=UTC), TZ) == date(2026, 3, 1)


async def test_a_wait_edited_under_a_settled_day_still_gives_the_exact_median(
    loaded_db: Database, raw_only: Any
) -> None:
    edges = await _seed(loaded_db)
    scope = Scope(edges["today"] - 30 * DAY, edges["today"])
    async with loaded_db.transaction() as s:
        await ensure(s, HANDOFF_WAITS, TZ)
        # History corrected by hand: a settled wait of 12.5 minutes becomes 2 hours.
        edited = await s.scalars(
            select(rollups.Handoff).where(
                rollups.Handoff.created_at < midnight(edges["today"] - 4 * DAY),
                rollups.Handoff.department_id.is_(None),
            )
        )
        for handoff in edited:
            handoff.claimed_at = handoff.created_at + timedelta(hours=2)
    with raw_only():
        expected = await _value_wait(loaded_db, scope)
    assert await _value_wait(loaded_db, scope) == expected
    # 0.75, 5, 30, 61 and 120 minutes: the middle one. The rollup still counts 12.5 minutes
    # (the middle rank), whose bucket is now empty: the exact query answers instead.
    assert expected.value == pytest.approx(30)


async def _value_wait(db: Database, scope: Scope) -> Any:
    async with db.transaction() as s:
        return await service.metric_value(s, "median_wait_minutes", scope, TZ)
