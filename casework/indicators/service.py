"""The indicators Ventanilla computes: ratings, requests and the bot, over a `Scope`.

Each figure group is aggregated in the database over an indexed timestamp range (UTC bounds
computed here from local days); nothing is loaded row by row. Ratings, bot visits and the
median wait read the daily rollups of settled days (casework.indicators.rollups) plus the raw
rows of the last days, with identical results. The resolution-time percentiles stay one
percentile_cont over the period's resolved requests (about 100,000 a year: fast enough once
the durations are doubles, see sql.days_between). `metric_value` answers one metric;
`measures` answers several, running each group's query once.
"""

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.citizens.models import ChannelIdentity
from casework.conversations.models import Conversation
from casework.handoffs.models import Handoff
from casework.indicators.rollups import (
    HANDOFF_WAITS,
    WAIT_BUCKET,
    WAIT_SECONDS,
    RatingTally,
    bot_tally,
    handoff_wait_days,
    rating_tallies,
    split,
)
from casework.indicators.scope import Scope, scope_filters
from casework.ratings.models import AnswerFeedback
from casework.requests.models import CLOSED_STATUSES, Request
from foundation.sql import (
    Instant,
    Percentile,
    days_between,
    log_bucket_range,
    percentile_ranks,
)


@dataclass(frozen=True)
class Measure:
    value: float | None  # None when there is nothing to measure (count 0); counts give 0.0
    count: int  # how many observations the value rests on (for "too few" warnings)


@dataclass(frozen=True)
class MetricInfo:
    label: str
    unit: str
    formula: str
    higher_is_better: bool


METRICS: dict[str, MetricInfo] = {
    # ratings
    "ratings_answered": MetricInfo(
        "Calificaciones respondidas",
        "calificaciones",
        "Encuestas enviadas en el periodo que recibieron una calificación de 1 a 5",
        True,
    ),
    "mean_score": MetricInfo(
        "Calificación promedio",
        "puntos (1 a 5)",
        "Suma de las calificaciones / calificaciones respondidas",
        True,
    ),
    "csat": MetricInfo(
        "Satisfacción (CSAT)",
        "%",
        "Calificaciones 4 y 5 / calificaciones respondidas × 100",
        True,
    ),
    "response_rate": MetricInfo(
        "Tasa de respuesta",
        "%",
        "Encuestas respondidas / encuestas enviadas × 100",
        True,
    ),
    "usefulness": MetricInfo(
        "Utilidad de las respuestas",
        "%",
        "Respuestas «Sí» / respuestas a «¿Te sirvió esta respuesta?» × 100",
        True,
    ),
    # requests
    "requests_opened": MetricInfo(
        "Solicitudes recibidas", "solicitudes", "Solicitudes creadas en el periodo", True
    ),
    "requests_resolved": MetricInfo(
        "Solicitudes resueltas",
        "solicitudes",
        "Solicitudes en estado resuelta cuya resolución cae en el periodo",
        True,
    ),
    "backlog": MetricInfo(
        "Solicitudes pendientes al cierre",
        "solicitudes",
        "Solicitudes creadas antes del fin del periodo que no estaban resueltas ni "
        "rechazadas al fin del periodo (según su estado actual)",
        False,
    ),
    "median_resolution_days": MetricInfo(
        "Tiempo de resolución (mediana)",
        "días",
        "Mediana de (fecha de resolución − fecha de recepción) de las solicitudes resueltas "
        "en el periodo",
        False,
    ),
    "p90_resolution_days": MetricInfo(
        "Tiempo de resolución (percentil 90)",
        "días",
        "Percentil 90 de (fecha de resolución − fecha de recepción) de las solicitudes "
        "resueltas en el periodo",
        False,
    ),
    "on_time_share": MetricInfo(
        "Resueltas en plazo",
        "%",
        "Solicitudes resueltas en el periodo dentro del plazo de respuesta del catálogo / "
        "solicitudes resueltas en el periodo que tenían plazo × 100",
        True,
    ),
    "reopened_share": MetricInfo(
        "Solicitudes reabiertas",
        "%",
        "Solicitudes resueltas en el periodo que se reabrieron alguna vez / solicitudes "
        "resueltas en el periodo × 100",
        False,
    ),
    # bot
    "conversations": MetricInfo(
        "Conversaciones", "conversaciones", "Visitas al asistente iniciadas en el periodo", True
    ),
    "containment": MetricInfo(
        "Contención del asistente",
        "%",
        "Visitas que terminaron sin canalizarse a una persona / visitas × 100",
        True,
    ),
    "handoff_rate": MetricInfo(
        "Canalización a una persona",
        "%",
        "Visitas canalizadas a una persona / visitas × 100",
        False,
    ),
    "not_understood_rate": MetricInfo(
        "Mensajes no entendidos",
        "%",
        "Mensajes que el asistente no entendió / mensajes recibidos × 100",
        False,
    ),
    "median_wait_minutes": MetricInfo(
        "Espera hasta la atención (mediana)",
        "minutos",
        "Mediana de (hora en que una persona toma la conversación − hora de la canalización), "
        "canalizaciones del periodo ya atendidas",
        False,
    ),
}


def share(part: int, whole: int) -> float | None:
    """part / whole as a percentage, None for an empty whole."""
    return 100.0 * part / whole if whole else None


def _count(n: int | None) -> Measure:
    n = int(n or 0)
    return Measure(float(n), n)


def request_filters(scope: Scope) -> list[ColumnElement[bool]]:
    return scope_filters(
        scope,
        procedure=Request.procedure_id,
        department=Request.department_id,
        channel=Request.channel,
    )


def resolved_filters(scope: Scope, timezone: str) -> list[ColumnElement[bool]]:
    """Requests resolved (status resolved) within the period."""
    low, high = scope.bounds(timezone)
    return [
        Request.status == "resolved",
        Request.resolved_at >= low,
        Request.resolved_at < high,
        *request_filters(scope),
    ]


RESOLUTION_DAYS = days_between(Request.resolved_at, Request.created_at)


# --- figure groups: one query each ---------------------------------------------------------


async def _ratings(session: AsyncSession, scope: Scope, timezone: str) -> dict[str, Measure]:
    """Settled days from the `rating_days` rollup, the recent ones from `ratings`."""
    tally = (await rating_tallies(session, scope, timezone)).get((), RatingTally())
    answered = tally.answered
    return {
        "ratings_answered": _count(answered),
        "mean_score": Measure(tally.score_sum / answered if answered else None, answered),
        "csat": Measure(share(tally.good, answered), answered),
        "response_rate": Measure(share(answered, tally.sent), tally.sent),
    }


async def _usefulness(session: AsyncSession, scope: Scope, timezone: str) -> dict[str, Measure]:
    low, high = scope.bounds(timezone)
    row = (
        await session.execute(
            select(
                func.count(AnswerFeedback.useful).label("answered"),
                func.count().filter(AnswerFeedback.useful.is_(True)).label("yes"),
            ).where(
                AnswerFeedback.asked_at >= low,
                AnswerFeedback.asked_at < high,
                *scope_filters(
                    scope,
                    procedure=AnswerFeedback.procedure_id,
                    department=AnswerFeedback.department_id,
                    channel=AnswerFeedback.channel,
                ),
            )
        )
    ).one()
    return {"usefulness": Measure(share(int(row.yes), int(row.answered)), int(row.answered))}


async def _opened(session: AsyncSession, scope: Scope, timezone: str) -> dict[str, Measure]:
    low, high = scope.bounds(timezone)
    opened = await session.scalar(
        select(func.count()).where(
            Request.created_at >= low, Request.created_at < high, *request_filters(scope)
        )
    )
    return {"requests_opened": _count(opened)}


async def _resolved(session: AsyncSession, scope: Scope, timezone: str) -> dict[str, Measure]:
    row = (
        await session.execute(
            select(
                func.count().label("resolved"),
                Percentile(0.5, RESOLUTION_DAYS).label("median"),
                Percentile(0.9, RESOLUTION_DAYS).label("p90"),
                func.count(Request.due_at).label("with_due"),
                func.count().filter(Request.resolved_at <= Request.due_at).label("on_time"),
                func.count().filter(Request.reopened > 0).label("reopened"),
            ).where(*resolved_filters(scope, timezone))
        )
    ).one()
    resolved = int(row.resolved)
    return {
        "requests_resolved": _count(resolved),
        "median_resolution_days": Measure(_float(row.median), resolved),
        "p90_resolution_days": Measure(_float(row.p90), resolved),
        "on_time_share": Measure(share(int(row.on_time), int(row.with_due)), int(row.with_due)),
        "reopened_share": Measure(share(int(row.reopened), resolved), resolved),
    }


async def _backlog(session: AsyncSession, scope: Scope, timezone: str) -> dict[str, Measure]:
    _low, high = scope.bounds(timezone)
    pending = await session.scalar(
        select(func.count()).where(
            Request.created_at < high,
            or_(Request.status.not_in(CLOSED_STATUSES), Request.resolved_at >= high),
            *request_filters(scope),
        )
    )
    return {"backlog": _count(pending)}


async def _bot(session: AsyncSession, scope: Scope, timezone: str) -> dict[str, Measure]:
    """Settled days from the `bot_session_days` rollup, the recent ones from `bot_sessions`."""
    tally = await bot_tally(session, scope, timezone)
    sessions, handed_off, messages = tally.visits, tally.handed_off, tally.messages
    return {
        "conversations": _count(sessions),
        "containment": Measure(share(sessions - handed_off, sessions), sessions),
        "handoff_rate": Measure(share(handed_off, sessions), sessions),
        "not_understood_rate": Measure(share(tally.not_understood, messages), messages),
    }


def handoff_filters(
    scope: Scope, timezone: str, literal: bool = False
) -> list[ColumnElement[bool]]:
    """Claimed handoffs of the period (handoffs carry no procedure: that filter is ignored).
    `literal`: the bounds written into the statement (see sql.Instant)."""
    low, high = scope.bounds(timezone)
    filters = [
        Handoff.created_at >= (Instant(low) if literal else low),
        Handoff.created_at < (Instant(high) if literal else high),
        Handoff.claimed_at.is_not(None),
        *scope_filters(scope, department=Handoff.department_id),
    ]
    if scope.channel is not None:
        filters.append(
            Handoff.conversation_id.in_(
                select(Conversation.id)
                .join(ChannelIdentity, ChannelIdentity.id == Conversation.identity_id)
                .where(ChannelIdentity.channel == scope.channel)
            )
        )
    return filters


async def _wait(session: AsyncSession, scope: Scope, timezone: str) -> dict[str, Measure]:
    """The median wait, exactly percentile_cont(0.5) of the waits in seconds, without sorting
    them all: how many waits fall in each coarse bucket (`sql.LogBucket`, about 5 % wide;
    settled days from the `handoff_wait_days` rollup when no department or channel is chosen,
    the rest grouped from `handoffs`) says which bucket holds the middle ranks; only that
    bucket's waits are then read, in order (PostgreSQL: through `ix_handoffs_wait_seconds`)."""
    counts: dict[int, int] = {}
    raw: Scope | None = scope
    if scope.department_id is None and scope.channel is None:
        parts = await split(session, HANDOFF_WAITS, scope, timezone)
        raw = parts.raw
        if parts.rolled is not None:
            days = handoff_wait_days.c
            for bucket, claimed in await session.execute(
                select(days.bucket, func.sum(days.claimed))
                .where(days.day >= parts.rolled[0], days.day <= parts.rolled[1])
                .group_by(days.bucket)
            ):
                counts[int(bucket)] = counts.get(int(bucket), 0) + int(claimed)
    if raw is not None:
        for bucket, claimed in await session.execute(
            select(WAIT_BUCKET, func.count())
            .where(*handoff_filters(raw, timezone))
            .group_by(WAIT_BUCKET)
        ):
            counts[int(bucket)] = counts.get(int(bucket), 0) + int(claimed)
    total = sum(counts.values())
    median = await _bucket_percentile(session, scope, timezone, counts, 0.5)
    return {"median_wait_minutes": Measure(None if median is None else median / 60, total)}


async def _bucket_percentile(
    session: AsyncSession, scope: Scope, timezone: str, counts: dict[int, int], q: float
) -> float | None:
    """percentile_cont(q) of the scope's waits in seconds, from their count per bucket."""
    total = sum(counts.values())
    if not total:
        return None
    low, high, fraction = percentile_ranks(total, q)
    wanted: dict[int, float] = {}
    before = 0
    for bucket in sorted(counts):
        inside = counts[bucket]
        ranks = [r for r in (low, high) if before <= r < before + inside]
        if ranks:
            lower, upper = log_bucket_range(bucket)
            # Literals: planned for this bucket and period; a generic plan would read the
            # whole period through ix_handoffs_created_at (see sql.Instant).
            values = list(
                await session.scalars(
                    select(WAIT_SECONDS)
                    .where(
                        *handoff_filters(scope, timezone),
                        literal_column(repr(lower)) <= WAIT_SECONDS,
                        literal_column(repr(upper)) > WAIT_SECONDS,
                        literal_column(str(bucket)) == WAIT_BUCKET,
                    )
                    .order_by(WAIT_SECONDS)
                )
            )
            if len(values) != inside:
                # The counts and this read disagree (a handoff claimed between the two
                # statements, or history edited under a settled day): one exact query instead.
                return await _raw_percentile(session, scope, timezone, q)
            for r in ranks:
                wanted[r] = float(values[r - before])
        before += inside
    return wanted[low] + (wanted[high] - wanted[low]) * fraction


async def _raw_percentile(
    session: AsyncSession, scope: Scope, timezone: str, q: float
) -> float | None:
    return _float(
        await session.scalar(
            select(Percentile(q, WAIT_SECONDS)).where(*handoff_filters(scope, timezone))
        )
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


Group = Callable[[AsyncSession, Scope, str], Awaitable[dict[str, Measure]]]
GROUPS: dict[str, Group] = {
    "ratings": _ratings,
    "usefulness": _usefulness,
    "requests_opened": _opened,
    "requests_resolved": _resolved,
    "backlog": _backlog,
    "bot": _bot,
    "wait": _wait,
}
GROUP_OF: dict[str, str] = {
    "ratings_answered": "ratings",
    "mean_score": "ratings",
    "csat": "ratings",
    "response_rate": "ratings",
    "usefulness": "usefulness",
    "requests_opened": "requests_opened",
    "requests_resolved": "requests_resolved",
    "backlog": "backlog",
    "median_resolution_days": "requests_resolved",
    "p90_resolution_days": "requests_resolved",
    "on_time_share": "requests_resolved",
    "reopened_share": "requests_resolved",
    "conversations": "bot",
    "containment": "bot",
    "handoff_rate": "bot",
    "not_understood_rate": "bot",
    "median_wait_minutes": "wait",
}


async def metric_value(session: AsyncSession, metric: str, scope: Scope, timezone: str) -> Measure:
    """One indicator over the scope. Raises KeyError for an unknown metric."""
    if metric not in METRICS:
        raise KeyError(metric)
    return (await GROUPS[GROUP_OF[metric]](session, scope, timezone))[metric]


async def measures(
    session: AsyncSession, scope: Scope, timezone: str, metrics: Iterable[str] | None = None
) -> dict[str, Measure]:
    """Several indicators (all of METRICS by default, in its order), each group's query run
    once."""
    wanted = list(METRICS if metrics is None else metrics)
    found: dict[str, Measure] = {}
    for group in dict.fromkeys(GROUP_OF[m] for m in wanted):
        found.update(await GROUPS[group](session, scope, timezone))
    return {m: found[m] for m in wanted}
