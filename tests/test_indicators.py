"""Indicators over hand-built data: every expected figure is worked out by hand below.

March 2026 in America/Mexico_City is UTC-6 all month (Mexico dropped daylight saving in 2022),
so the period [2026-03-01, 2026-03-31] local is [03-01 06:00, 04-01 06:00) UTC.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from casework.indicators.dashboard import (
    by_procedure,
    lowest_csat,
    rating_trend,
    request_trend,
    score_distribution,
    worst_compliance,
)
from casework.indicators.scope import Scope, last_months
from casework.indicators.service import METRICS, Measure, measures, metric_value
from foundation.db import Database
from tests import indicator_seed as seed

TZ = "America/Mexico_City"
MARCH = Scope(date(2026, 3, 1), date(2026, 3, 31))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


async def _value(db: Database, metric: str, scope: Scope = MARCH) -> Measure:
    async with db.transaction() as session:
        return await metric_value(session, metric, scope, TZ)


def test_scope_bounds_are_local_midnights_in_utc_daylight_saving_included() -> None:
    assert MARCH.bounds(TZ) == (utc(2026, 3, 1, 6), utc(2026, 4, 1, 6))
    # In 2021 Mexico City still kept summer time (UTC-5) from 4 April to 31 October.
    summer = Scope(date(2021, 7, 1), date(2021, 7, 31))
    assert summer.bounds(TZ) == (utc(2021, 7, 1, 5), utc(2021, 8, 1, 5))
    across = Scope(date(2021, 10, 1), date(2021, 10, 31))
    assert across.bounds(TZ) == (utc(2021, 10, 1, 5), utc(2021, 11, 1, 6))


def test_last_twelve_months_start_on_the_first_of_the_month_eleven_months_back() -> None:
    assert last_months(date(2026, 3, 15)) == (date(2025, 4, 1), date(2026, 3, 15))
    assert last_months(date(2026, 12, 31), 6) == (date(2026, 7, 1), date(2026, 12, 31))


def test_metrics_are_the_agreed_keys_in_order_each_described_in_spanish() -> None:
    assert list(METRICS) == [
        "ratings_answered",
        "mean_score",
        "csat",
        "response_rate",
        "usefulness",
        "requests_opened",
        "requests_resolved",
        "backlog",
        "median_resolution_days",
        "p90_resolution_days",
        "on_time_share",
        "reopened_share",
        "conversations",
        "containment",
        "handoff_rate",
        "not_understood_rate",
        "median_wait_minutes",
    ]
    for info in METRICS.values():
        assert info.label and info.unit and info.formula


async def _seed_ratings(db: Database) -> None:
    async with db.transaction() as s:
        await seed.rating(s, utc(2026, 3, 10, 12), 5)  # pago-predial, catastro, web
        await seed.rating(s, utc(2026, 3, 11, 12), 4)
        await seed.rating(s, utc(2026, 3, 12, 12), 2, channel="telegram")
        await seed.rating(s, utc(2026, 3, 13, 12), None)  # sent, never answered
        await seed.rating(s, utc(2026, 3, 14, 12), 3, "constancia-residencia", "whatsapp")
        # The first and the last instants of the local month are in; one second out, not.
        await seed.rating(s, utc(2026, 3, 1, 6), 5, "avaluo-catastral")
        await seed.rating(s, utc(2026, 4, 1, 5, 59, 59), 1, "constancia-residencia", "telegram")
        await seed.rating(s, utc(2026, 3, 1, 5, 59, 59), 5)  # 28 Feb, 23:59:59 local
        await seed.rating(s, utc(2026, 4, 1, 6), 5)  # 1 April, 00:00 local


async def test_rating_figures_count_mean_csat_and_response_rate(loaded_db: Database) -> None:
    db = loaded_db
    await _seed_ratings(db)
    # In March: scores 5, 4, 2, 3, 5, 1 answered (sum 20) and one unanswered of 7 sent.
    assert await _value(db, "ratings_answered") == Measure(6.0, 6)
    mean = await _value(db, "mean_score")
    assert mean.count == 6 and mean.value == pytest.approx(20 / 6)
    assert await _value(db, "csat") == Measure(50.0, 6)  # 5, 4, 5 of six
    rate = await _value(db, "response_rate")
    assert rate.count == 7 and rate.value == pytest.approx(600 / 7)


async def test_rating_figures_follow_procedure_department_and_channel(
    loaded_db: Database,
) -> None:
    db = loaded_db
    await _seed_ratings(db)
    predial = Scope(MARCH.start, MARCH.end, procedure_id="pago-predial")
    assert await _value(db, "ratings_answered", predial) == Measure(3.0, 3)  # 5, 4, 2
    assert (await _value(db, "csat", predial)).value == pytest.approx(200 / 3)
    assert await _value(db, "response_rate", predial) == Measure(75.0, 4)
    catastro = Scope(MARCH.start, MARCH.end, department_id="catastro")
    assert await _value(db, "mean_score", catastro) == Measure(4.0, 4)  # 5, 4, 2, 5
    assert await _value(db, "csat", catastro) == Measure(75.0, 4)
    telegram = Scope(MARCH.start, MARCH.end, channel="telegram")
    assert await _value(db, "mean_score", telegram) == Measure(1.5, 2)  # 2, 1
    assert await _value(db, "csat", telegram) == Measure(0.0, 2)


async def test_nothing_to_measure_gives_none_and_counts_give_zero(
    loaded_db: Database,
) -> None:
    empty = Scope(date(2025, 1, 1), date(2025, 1, 31))
    async with loaded_db.transaction() as session:
        found = await measures(session, empty, TZ)
    assert list(found) == list(METRICS)
    for metric, measure in found.items():
        assert measure.count == 0, metric
        if METRICS[metric].unit in ("calificaciones", "solicitudes", "conversaciones"):
            assert measure.value == 0.0, metric
        else:
            assert measure.value is None, metric


async def test_usefulness_is_the_share_of_yes_among_answered(loaded_db: Database) -> None:
    db = loaded_db
    async with db.transaction() as s:
        await seed.feedback(s, utc(2026, 3, 5, 12), True)
        await seed.feedback(s, utc(2026, 3, 5, 13), False)
        await seed.feedback(s, utc(2026, 3, 5, 14), True, "constancia-residencia")
        await seed.feedback(s, utc(2026, 3, 5, 15), None)  # asked, not answered
        await seed.feedback(s, utc(2026, 2, 5, 15), False)  # February
    assert (await _value(db, "usefulness")).value == pytest.approx(200 / 3)
    assert (await _value(db, "usefulness")).count == 3
    predial = Scope(MARCH.start, MARCH.end, procedure_id="pago-predial")
    assert await _value(db, "usefulness", predial) == Measure(50.0, 2)


async def _seed_requests(db: Database) -> None:
    created = utc(2026, 3, 5, 12)
    day = timedelta(days=1)
    async with db.transaction() as s:
        # Resolved in March after 1, 2, 3, 4 and 10 days. Due dates: 2 (on time), 1 (late),
        # none, 5 (on time), 5 (late). The 4-day one had been reopened once.
        for days, due, reopened, channel in (
            (1, 2, 0, "web"),
            (2, 1, 0, "web"),
            (3, None, 0, "web"),
            (4, 5, 1, "web"),
            (10, 5, 0, "telegram"),
        ):
            await seed.request(
                s,
                created,
                channel=channel,
                status="resolved",
                resolved_at=created + days * day,
                due_at=created + due * day if due is not None else None,
                reopened=reopened,
            )
        await seed.request(s, utc(2026, 3, 20, 12))  # open: opened and pending
        await seed.request(s, utc(2026, 2, 10, 12), status="in_progress")  # pending only
        await seed.request(s, utc(2026, 4, 2, 12))  # after the period: nothing
        # Rejected in March: opened, neither resolved nor pending.
        await seed.request(
            s, utc(2026, 3, 2, 12), "reporte-bache", status="rejected", resolved_at=utc(2026, 3, 3)
        )
        # Resolved in February: nothing in March.
        await seed.request(
            s, utc(2026, 2, 1, 12), status="resolved", resolved_at=utc(2026, 2, 3, 12)
        )
        # Opened in March, resolved in April: opened, and still pending at the end of March.
        await seed.request(
            s, utc(2026, 3, 25, 12), "reporte-bache", status="resolved", resolved_at=utc(2026, 4, 5)
        )


async def test_request_figures_opened_resolved_backlog_times_on_time_and_reopened(
    loaded_db: Database,
) -> None:
    db = loaded_db
    await _seed_requests(db)
    async with db.transaction() as session:
        found = await measures(session, MARCH, TZ)
    assert found["requests_opened"] == Measure(8.0, 8)  # five resolved, open, rejected, April
    assert found["requests_resolved"] == Measure(5.0, 5)
    assert found["backlog"] == Measure(3.0, 3)  # the open one, February's, April's resolution
    assert found["median_resolution_days"].value == pytest.approx(3.0)
    # percentile_cont(0.9) of 1, 2, 3, 4, 10: rank 3.6 -> 4 + 0.6 × (10 − 4) = 7.6
    assert found["p90_resolution_days"].value == pytest.approx(7.6)
    assert found["p90_resolution_days"].count == 5
    assert found["on_time_share"] == Measure(50.0, 4)  # 2 of the 4 with a due date
    assert found["reopened_share"] == Measure(20.0, 5)


async def test_request_figures_follow_the_filters(loaded_db: Database) -> None:
    db = loaded_db
    await _seed_requests(db)
    telegram = Scope(MARCH.start, MARCH.end, channel="telegram")
    assert await _value(db, "requests_resolved", telegram) == Measure(1.0, 1)
    assert (await _value(db, "median_resolution_days", telegram)).value == pytest.approx(10)
    assert await _value(db, "on_time_share", telegram) == Measure(0.0, 1)
    bache = Scope(MARCH.start, MARCH.end, procedure_id="reporte-bache")
    assert await _value(db, "requests_opened", bache) == Measure(2.0, 2)
    assert await _value(db, "backlog", bache) == Measure(1.0, 1)
    assert await _value(db, "requests_resolved", bache) == Measure(0.0, 0)
    obras = Scope(MARCH.start, MARCH.end, department_id="obras-publicas")
    assert await _value(db, "requests_opened", obras) == Measure(2.0, 2)
    catastro = Scope(MARCH.start, MARCH.end, department_id="catastro")
    assert await _value(db, "requests_resolved", catastro) == Measure(5.0, 5)


async def _seed_bot(db: Database) -> None:
    async with db.transaction() as s:
        await seed.visit(s, utc(2026, 3, 3, 12), "web", 10, 1, False, "pago-predial")
        await seed.visit(s, utc(2026, 3, 4, 12), "web", 4, 2, True)
        await seed.visit(s, utc(2026, 3, 5, 12), "telegram", 6, 0, False, "constancia-residencia")
        await seed.visit(s, utc(2026, 2, 5, 12), "web", 9, 9, True)  # February
        # Waits of 5, 15 and 40 minutes; one never claimed; one in February.
        await seed.handoff(s, utc(2026, 3, 10, 10), 5, "web", "catastro")
        await seed.handoff(s, utc(2026, 3, 11, 10), 15, "telegram")
        await seed.handoff(s, utc(2026, 3, 12, 10), 40, "web")
        await seed.handoff(s, utc(2026, 3, 13, 10), None, "web")
        await seed.handoff(s, utc(2026, 2, 13, 10), 100, "web")


async def test_bot_figures_containment_handoffs_not_understood_and_wait(
    loaded_db: Database,
) -> None:
    db = loaded_db
    await _seed_bot(db)
    async with db.transaction() as session:
        found = await measures(session, MARCH, TZ)
    assert found["conversations"] == Measure(3.0, 3)
    assert found["containment"].value == pytest.approx(200 / 3)
    assert found["handoff_rate"].value == pytest.approx(100 / 3)
    assert found["not_understood_rate"] == Measure(15.0, 20)  # 3 of 20 messages
    assert found["median_wait_minutes"].value == pytest.approx(15.0)
    assert found["median_wait_minutes"].count == 3


async def test_bot_figures_follow_channel_procedure_and_department(
    loaded_db: Database,
) -> None:
    db = loaded_db
    await _seed_bot(db)
    web = Scope(MARCH.start, MARCH.end, channel="web")
    assert await _value(db, "containment", web) == Measure(50.0, 2)
    assert (await _value(db, "not_understood_rate", web)).value == pytest.approx(300 / 14)
    assert (await _value(db, "median_wait_minutes", web)).value == pytest.approx(22.5)
    catastro = Scope(MARCH.start, MARCH.end, department_id="catastro")
    assert await _value(db, "conversations", catastro) == Measure(1.0, 1)
    assert await _value(db, "not_understood_rate", catastro) == Measure(10.0, 10)
    assert (await _value(db, "median_wait_minutes", catastro)).value == pytest.approx(5.0)
    residencia = Scope(MARCH.start, MARCH.end, procedure_id="constancia-residencia")
    assert await _value(db, "containment", residencia) == Measure(100.0, 1)
    # Handoffs carry no procedure: the procedure filter leaves the wait alone.
    assert (await _value(db, "median_wait_minutes", residencia)).count == 3


async def test_an_unknown_metric_is_refused(loaded_db: Database) -> None:
    with pytest.raises(KeyError):
        await _value(loaded_db, "happiness")


# --- the dashboard's grouped figures --------------------------------------------------------


async def test_trend_groups_by_local_week_and_month_across_daylight_saving(
    loaded_db: Database,
) -> None:
    async with loaded_db.transaction() as s:
        # Sunday 8 March 23:00 local (UTC-6) is in the week of Monday 2 March, though in UTC
        # it is already Monday 9 March; 00:30 on the 9th local opens the next week.
        await seed.rating(s, utc(2026, 3, 9, 5), 5)
        await seed.rating(s, utc(2026, 3, 9, 6, 30), 2)
        await seed.rating(s, utc(2026, 3, 9, 7), None)
        # Summer time 2021 (UTC-5): 05:30 UTC on 1 July is 00:30 local on 1 July. A fixed
        # UTC-6 offset would put it in June.
        await seed.rating(s, utc(2021, 7, 1, 5, 30), 4)
        await seed.rating(s, utc(2021, 7, 1, 4, 30), 1)  # 23:30 on 30 June local
    async with loaded_db.transaction() as session:
        weeks = await rating_trend(session, MARCH, TZ, "week")
        months = await rating_trend(
            session, Scope(date(2021, 6, 1), date(2021, 7, 31)), TZ, "month"
        )
    assert [p.period for p in weeks] == [
        date(2026, 2, 23),
        date(2026, 3, 2),
        date(2026, 3, 9),
        date(2026, 3, 16),
        date(2026, 3, 23),
        date(2026, 3, 30),
    ]
    by_week = {p.period: (p.answered, p.csat) for p in weeks}
    assert by_week[date(2026, 3, 2)] == (1, 100.0)
    assert by_week[date(2026, 3, 9)] == (1, 0.0)
    assert by_week[date(2026, 3, 16)] == (0, None)
    assert [(p.period, p.answered, p.good) for p in months] == [
        (date(2021, 6, 1), 1, 0),
        (date(2021, 7, 1), 1, 1),
    ]


async def test_request_trend_counts_openings_and_resolutions_in_their_own_months(
    loaded_db: Database,
) -> None:
    async with loaded_db.transaction() as s:
        await seed.request(s, utc(2026, 1, 20, 12), status="resolved", resolved_at=utc(2026, 2, 3))
        await seed.request(s, utc(2026, 2, 10, 12))
        await seed.request(s, utc(2026, 3, 1, 5))  # 28 February, 23:00 local
        await seed.request(s, utc(2026, 3, 2, 12), status="rejected", resolved_at=utc(2026, 3, 4))
    async with loaded_db.transaction() as session:
        trend = await request_trend(
            session, Scope(date(2026, 1, 1), date(2026, 3, 31)), TZ, "month"
        )
    assert [(p.period.month, p.opened, p.resolved) for p in trend] == [
        (1, 1, 0),
        (2, 2, 1),
        (3, 1, 0),  # the rejection is not a resolution
    ]


async def test_distribution_and_rankings_by_procedure(loaded_db: Database) -> None:
    day = timedelta(days=1)
    async with loaded_db.transaction() as s:
        for score in (5, 5, 4, 2):  # pago-predial: CSAT 75 % on 4
            await seed.rating(s, utc(2026, 3, 10, 12), score)
        for score in (1, 2, 4):  # constancia-residencia: CSAT 33 % on 3
            await seed.rating(s, utc(2026, 3, 10, 12), score, "constancia-residencia")
        await seed.rating(s, utc(2026, 3, 10, 12), 1, "avaluo-catastral")  # 0 % on 1
        await seed.rating(s, utc(2026, 3, 10, 12), None, "avaluo-catastral")
        start = utc(2026, 3, 3, 12)
        for late in (False, False, True):  # pago-predial: 2 of 3 on time
            await seed.request(
                s,
                start,
                status="resolved",
                resolved_at=start + 2 * day,
                due_at=start + (day if late else 3 * day),
            )
        for late in (True, True, False):  # reporte-bache: 1 of 3 on time
            await seed.request(
                s,
                start,
                "reporte-bache",
                status="resolved",
                resolved_at=start + 2 * day,
                due_at=start + (day if late else 3 * day),
            )
        await seed.request(  # reporte-luminaria: 0 of 1
            s,
            start,
            "reporte-luminaria",
            status="resolved",
            resolved_at=start + 2 * day,
            due_at=start + day,
        )
    async with loaded_db.transaction() as session:
        distribution = await score_distribution(session, MARCH, TZ)
        lowest = await lowest_csat(session, MARCH, TZ, min_count=3)
        worst = await worst_compliance(session, MARCH, TZ, min_count=3)
        table = await by_procedure(session, MARCH, TZ)
        halves = await by_procedure(session, MARCH, TZ, (date(2026, 3, 5), date(2026, 3, 10)))
        only_predial = await score_distribution(
            session, Scope(MARCH.start, MARCH.end, procedure_id="pago-predial"), TZ
        )
    assert distribution == {1: 2, 2: 2, 3: 0, 4: 2, 5: 2}
    assert only_predial == {1: 0, 2: 1, 3: 0, 4: 1, 5: 2}
    assert [(r.procedure_id, r.answered) for r in lowest.rows] == [
        ("constancia-residencia", 3),
        ("pago-predial", 4),
    ]
    assert lowest.left_out == 1  # avaluo-catastral, one answer
    assert [(r.procedure_id, r.on_time, r.with_due) for r in worst.rows] == [
        ("reporte-bache", 1, 3),
        ("pago-predial", 2, 3),
    ]
    assert worst.left_out == 1
    rows = {r.procedure_id: r for r in table}
    assert set(rows) == {
        "pago-predial",
        "constancia-residencia",
        "avaluo-catastral",
        "reporte-bache",
        "reporte-luminaria",
    }
    assert (rows["pago-predial"].answered, rows["pago-predial"].csat) == (4, 75.0)
    assert rows["pago-predial"].on_time_share == pytest.approx(200 / 3)
    assert (rows["reporte-bache"].answered, rows["reporte-bache"].csat) == (0, None)
    assert rows["avaluo-catastral"].with_due == 0
    # 12:00 UTC on 10 March is 06:00 local: the later half, from 10 March on.
    # The requests were resolved on 5 March (the middle part), the ratings given on the 10th.
    split = {r.procedure_id: r for r in halves}["pago-predial"]
    assert [(p.answered, p.good, p.with_due, p.on_time) for p in split.parts] == [
        (0, 0, 0, 0),
        (0, 0, 3, 2),
        (4, 3, 0, 0),
    ]
    assert (split.answered, split.with_due, split.on_time) == (4, 3, 2)
