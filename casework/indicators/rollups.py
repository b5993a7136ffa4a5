"""Daily rollups of settled days: what the dashboard and the public page read instead of
scanning a year of ratings, bot visits and handoffs.

Three rollup tables hold one row per local day (settings.timezone) and dimension combination:

- `rating_days` (day, procedure_id, department_id, channel, subject): surveys sent, answered,
  the sum of the scores and how many of each score 1 to 5 (CSAT's "good" is scores 4 + 5).
  Ratings are counted on the day they were asked (`asked_at`), like every rating figure.
- `bot_session_days` (day, channel, procedure_id): visits, visits handed off to a person,
  messages and messages not understood, on the day the visit started (`started_at`).
- `handoff_wait_days` (day, bucket): how many handoffs created that day were claimed after a
  wait in each coarse bucket (`sql.LogBucket`, about 5 % wide); the median wait is found from
  these counts and one bucket's exact waits (casework.indicators.service._wait). No department
  or channel dimension (it would not be smaller than the handoffs themselves): a wait figure
  for one department or channel reads `handoffs` only.

**Settled days.** A day is rolled up only once nothing about it can change any more:

- ratings: a survey can be answered for `survey_days` days after it was asked; a day is settled
  once it ended more than `survey_days + 1` days ago (one day of margin for answers in flight
  and clock differences).
- bot visits: a visit is extended by a message written at most `session_gap_minutes` after its
  last one (`last_at`); a day is settled once it ended (one hour of margin for transactions in
  flight) AND no visit that started on it or earlier is still open, i.e. has
  `last_at > now - gap - 1 h` (indexed by `ix_bot_sessions_last_at`).
- handoffs: `claimed_at` is set once, when an agent takes a WAITING handoff; a day is settled
  once it ended (one hour of margin) AND no handoff created on it or earlier is still waiting
  (`ix_handoffs_status`). A handoff forgotten in the queue holds the rollup back (the figures
  stay right, read from `handoffs`, only slower) until it is taken or closed.

`indicator_rollups` keeps, per source, `upto` (the first day NOT rolled up: the rollup holds
exactly the days before it), the timezone the days were computed in, the highest row id seen
and when the rollup was last checked.

**Late rows.** Rows written with a timestamp in a rolled-up day (tests, imports, the demo
generator) or changed after their day settled (an answer arriving later than the rules above
allow, e.g. after `survey_days` was raised) are detected on every use by one indexed query:
rows with an id above the one last seen, or touched (ratings: `answered_at`, visits: `last_at`)
since the last check minus one hour. Its constants are written into the statement (see
`sql.Instant`), so PostgreSQL never reuses a generic plan that scans the whole table. The
rollup is then rewound to the earliest such day and rebuilt from there. Deleting rows is not
detected: after deleting or correcting history, run `ventanilla indicadores recalcular`.

**Refreshing** is lazy: `ensure` is called by every query that reads a rollup; when the
settled boundary moved (once a day) or late rows were found, it locks the source's watermark
row (`SELECT ... FOR UPDATE`; SQLite runs one write transaction at a time anyway), reads it
again, deletes what must be recomputed and adds the missing days with ONE
`INSERT ... SELECT ... GROUP BY` over the raw rows. A second worker waiting for the lock finds
the work done and does nothing, so concurrent refreshes leave the same rows. It runs in the
caller's transaction: if that rolls back, so does the refresh.

**Reading.** `split` cuts a scope in the days read from the rollup (settled days inside the
scope) and the days read from the raw table (the rest, at most the last `survey_days + 2` days
for ratings, a day or two for visits and handoffs). Counts are added, so the figures are
identical to those of the raw tables.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    case,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from casework.conversations.models import BotSession
from casework.handoffs.models import Handoff
from casework.indicators.scope import Scope, scope_filters
from casework.ratings.models import Rating
from foundation.db import Base, UTCDateTime, insert_ignore, table_of, utcnow
from foundation.sql import Instant, LocalDay, LogBucket, PeriodIndex, SecondsBetween

MARGIN = timedelta(hours=1)


@dataclass
class Rules:
    """How long a day can still change. Defaults of foundation.settings (casework does not
    read the settings; `configure` sets them). With other values than the installation's the
    figures stay right (the late-row check rewinds the rollup), only recomputed more often."""

    survey_days: int = 7
    session_gap_minutes: float = 30.0


RULES = Rules()


def configure(survey_days: int, session_gap_minutes: float) -> None:
    RULES.survey_days = survey_days
    RULES.session_gap_minutes = session_gap_minutes


class IndicatorRollup(Base):
    """The watermark of one rollup (`ratings` or `bot_sessions`)."""

    __tablename__ = "indicator_rollups"

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    upto: Mapped[date | None] = mapped_column(Date)  # first local day NOT rolled up
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


SCORES = (1, 2, 3, 4, 5)

rating_days = Table(
    "rating_days",
    Base.metadata,
    Column("day", Date, nullable=False),
    Column("procedure_id", String(80)),
    Column("department_id", String(80)),
    Column("channel", String(20), nullable=False),
    Column("subject", String(10), nullable=False),
    Column("sent", Integer, nullable=False),
    Column("answered", Integer, nullable=False),
    Column("score_sum", BigInteger, nullable=False),
    *(Column(f"score_{s}", Integer, nullable=False) for s in SCORES),
    Index("ix_rating_days_day", "day"),
)

handoff_wait_days = Table(
    "handoff_wait_days",
    Base.metadata,
    Column("day", Date, nullable=False),
    Column("bucket", Integer, nullable=False),
    Column("claimed", Integer, nullable=False),
    Index("ix_handoff_wait_days_day", "day"),
)

bot_session_days = Table(
    "bot_session_days",
    Base.metadata,
    Column("day", Date, nullable=False),
    Column("channel", String(20), nullable=False),
    Column("procedure_id", String(80)),
    Column("visits", Integer, nullable=False),
    Column("handed_off", Integer, nullable=False),
    Column("messages", BigInteger, nullable=False),
    Column("not_understood", BigInteger, nullable=False),
    Index("ix_bot_session_days_day", "day"),
)


@dataclass(frozen=True)
class Source:
    name: str
    model: Any
    ts: Any  # the instant whose local day a row is counted on
    touched: Any  # set when a row changes after it was written (None: never after settling)
    rollup: Table
    keys: dict[str, Any]  # rollup dimension column -> raw expression
    sums: dict[str, Any]  # rollup column -> aggregate over the raw rows
    where: tuple[Any, ...] = ()  # which raw rows are counted at all


RATINGS = Source(
    "ratings",
    Rating,
    Rating.asked_at,
    Rating.answered_at,
    rating_days,
    {k: getattr(Rating, k) for k in ("procedure_id", "department_id", "channel", "subject")},
    {
        "sent": func.count(),
        "answered": func.count(Rating.score),
        "score_sum": func.coalesce(func.sum(Rating.score), 0),
        **{f"score_{s}": func.count().filter(Rating.score == s) for s in SCORES},
    },
)

BOT_SESSIONS = Source(
    "bot_sessions",
    BotSession,
    BotSession.started_at,
    BotSession.last_at,
    bot_session_days,
    {"channel": BotSession.channel, "procedure_id": BotSession.procedure_id},
    {
        "visits": func.count(),
        "handed_off": func.count().filter(BotSession.handed_off.is_(True)),
        "messages": func.coalesce(func.sum(BotSession.messages), 0),
        "not_understood": func.coalesce(func.sum(BotSession.not_understood), 0),
    },
)

WAIT_SECONDS = SecondsBetween(Handoff.claimed_at, Handoff.created_at)
WAIT_BUCKET = LogBucket(WAIT_SECONDS)

HANDOFF_WAITS = Source(
    "handoff_waits",
    Handoff,
    Handoff.created_at,
    None,  # claimed_at is set once, while the handoff waits; waiting ones block settling
    handoff_wait_days,
    {"bucket": WAIT_BUCKET},
    {"claimed": func.count()},
    (Handoff.claimed_at.is_not(None),),
)

SOURCES = {source.name: source for source in (RATINGS, BOT_SESSIONS, HANDOFF_WAITS)}

# Refining a percentile reads the handoffs of one wait bucket through this index (PostgreSQL
# only; written as PostgreSQL shows it back, so the schema comparison finds it equal).
_handoffs = table_of(Handoff).c
Index(
    "ix_handoffs_wait_seconds",
    func.date_part(literal_column("'epoch'::text"), _handoffs.claimed_at - _handoffs.created_at),
    _table=table_of(Handoff),
).ddl_if(dialect="postgresql")

# Which visits are still open (settled_until) and which changed since the last check: declared
# here, next to its only reader, on the bot_sessions table (migration 0009).
Index("ix_bot_sessions_last_at", BotSession.__table__.c.last_at)


# --- local days ------------------------------------------------------------------------------


def midnight(day: date, timezone: str) -> datetime:
    """The UTC instant of `day`'s local midnight."""
    return datetime.combine(day, time(), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def local_day(instant: datetime, timezone: str) -> date:
    return instant.astimezone(ZoneInfo(timezone)).date()


async def settled_until(
    session: AsyncSession,
    source: Source,
    timezone: str,
    now: datetime | None = None,
) -> date:
    """The first local day that is not settled yet (every day before it is)."""
    now = now or utcnow()
    survey_days, session_gap_minutes = RULES.survey_days, RULES.session_gap_minutes
    if source is RATINGS:
        # Days that ended by now - (survey_days + 1) days: the local day holding that instant
        # starts at or before it, so every day before that one ended by then.
        return local_day(now - timedelta(days=survey_days + 1), timezone)
    boundary = local_day(now - MARGIN, timezone)
    if source is HANDOFF_WAITS:
        oldest_waiting = await session.scalar(
            # A literal: a generic plan of `status = $1` scans every handoff.
            select(func.min(Handoff.created_at)).where(
                Handoff.status == literal_column("'waiting'")
            )
        )
        if oldest_waiting is not None:
            boundary = min(boundary, local_day(oldest_waiting, timezone))
        return boundary
    cutoff = now - timedelta(minutes=session_gap_minutes) - MARGIN
    oldest_open = await session.scalar(
        select(func.min(BotSession.started_at)).where(BotSession.last_at > Instant(cutoff))
    )
    if oldest_open is not None:
        boundary = min(boundary, local_day(oldest_open, timezone))
    return boundary


# --- keeping the rollups up to date ------------------------------------------------------------


async def _state(session: AsyncSession, source: Source, lock: bool = False) -> Any:
    """The watermark row (timezone, upto, last_id, checked_at), None before the first refresh."""
    query = select(
        IndicatorRollup.timezone,
        IndicatorRollup.upto,
        IndicatorRollup.last_id,
        IndicatorRollup.checked_at,
    ).where(IndicatorRollup.name == source.name)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).one_or_none()


async def _late_day(
    session: AsyncSession, source: Source, state: Any, timezone: str
) -> date | None:
    """The earliest local day of rows written or changed since the rollup was last checked."""
    if state is None or state.upto is None:
        return None
    # Literals, not bound values: see sql.Instant (a generic plan scans the whole table).
    conditions = [source.model.id > literal_column(str(int(state.last_id)))]
    if state.checked_at is not None and source.touched is not None:
        conditions.append(source.touched >= Instant(state.checked_at - MARGIN))
    earliest = await session.scalar(select(func.min(source.ts)).where(or_(*conditions)))
    return None if earliest is None else local_day(earliest, timezone)


def _fresh(state: Any, timezone: str, target: date, late: date | None) -> bool:
    return (
        state is not None
        and state.timezone == timezone
        and state.upto == target
        and (late is None or late >= state.upto)
    )


async def ensure(
    session: AsyncSession,
    source: Source,
    timezone: str,
    now: datetime | None = None,
) -> date | None:
    """Bring `source`'s rollup up to the settled boundary and return that boundary: the first
    local day not rolled up (the rollup holds every earlier day, maybe none)."""
    now = now or utcnow()
    state = await _state(session, source)
    target = await settled_until(session, source, timezone, now)
    if _fresh(state, timezone, target, await _late_day(session, source, state, timezone)):
        return target
    return await _refresh(session, source, timezone, now)


async def _refresh(
    session: AsyncSession, source: Source, timezone: str, now: datetime
) -> date | None:
    await insert_ignore(session, IndicatorRollup, {"name": source.name, "last_id": 0})
    state = await _state(session, source, lock=True)  # a second worker waits here
    target = await settled_until(session, source, timezone, now)
    late = await _late_day(session, source, state, timezone)
    if _fresh(state, timezone, target, late):
        return target
    upto = state.upto if state.timezone == timezone else None
    if upto is not None and late is not None:
        upto = min(upto, late)
    if upto is not None and upto > target:  # e.g. a visit still open on a rolled-up day
        upto = target
    # Read before the rows are summed: a row added in between is summed AND found late next
    # time (recomputed once), never missed.
    last_id = int(await session.scalar(select(func.coalesce(func.max(source.model.id), 0))))
    table = source.rollup
    if upto is None:
        await session.execute(delete(table))
    else:
        await session.execute(delete(table).where(table.c.day >= upto))
    low = None if upto is None else midnight(upto, timezone)
    high = midnight(target, timezone)
    if low is None or low < high:
        day = LocalDay(source.ts, timezone)
        keys = list(source.keys.values())
        window = [source.ts < high] if low is None else [source.ts >= low, source.ts < high]
        summed = (
            select(day, *keys, *source.sums.values())
            .where(*window, *source.where)
            .group_by(day, *keys)
        )
        await session.execute(
            insert(table).from_select(["day", *source.keys, *source.sums], summed)
        )
    await session.execute(
        update(IndicatorRollup)
        .where(IndicatorRollup.name == source.name)
        .values(
            timezone=timezone,
            upto=target,
            last_id=last_id,
            checked_at=now,
        )
    )
    return target


async def invalidate(session: AsyncSession) -> None:
    """Forget every rollup; the next query rebuilds what it needs."""
    for source in SOURCES.values():
        await session.execute(delete(source.rollup))
    await session.execute(delete(IndicatorRollup))


async def rebuild(
    session: AsyncSession, timezone: str, now: datetime | None = None
) -> dict[str, date | None]:
    """Recompute every rollup from the raw tables (`ventanilla indicadores recalcular`)."""
    await invalidate(session)
    return {name: await ensure(session, source, timezone, now) for name, source in SOURCES.items()}


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    rolled: tuple[date, date] | None  # local days read from the rollup, inclusive
    raw: Scope | None  # the scope's remaining days, read from the raw table


async def split(session: AsyncSession, source: Source, scope: Scope, timezone: str) -> Split:
    upto = await ensure(session, source, timezone)
    if upto is None or scope.start >= upto:
        return Split(None, scope)
    last = min(scope.end, upto - timedelta(days=1))
    raw = replace(scope, start=upto) if scope.end >= upto else None
    return Split((scope.start, last), raw)


@dataclass
class RatingTally:
    sent: int = 0
    answered: int = 0
    score_sum: int = 0
    scores: dict[int, int] = field(default_factory=lambda: dict.fromkeys(SCORES, 0))

    @property
    def good(self) -> int:
        return self.scores[4] + self.scores[5]

    def add(self, sent: int, answered: int, score_sum: int, scores: Sequence[int]) -> None:
        self.sent += int(sent or 0)
        self.answered += int(answered or 0)
        self.score_sum += int(score_sum or 0)
        for s, n in zip(SCORES, scores, strict=True):
            self.scores[s] += int(n or 0)


def _day_edges(scope: Scope, timezone: str) -> list[datetime]:
    days = [scope.start + timedelta(days=i) for i in range((scope.end - scope.start).days + 2)]
    return [midnight(d, timezone) for d in days]


async def rating_tallies(
    session: AsyncSession,
    scope: Scope,
    timezone: str,
    by: tuple[str, ...] = (),
    spans: Sequence[date] = (),
) -> dict[tuple[Any, ...], RatingTally]:
    """Ratings of the scope counted per key: `by` is a subset of ("day", "procedure_id",
    "span"); the key is the tuple of those values (() for the whole scope). "span" is which
    part of the scope `spans` (ascending local days) cut it in: 0 before spans[0], i from
    spans[i-1] to the day before spans[i], len(spans) from the last one on. Settled days come
    from `rating_days`, the others from `ratings`, grouped alike."""
    if "span" in by and (not spans or list(spans) != sorted(spans)):
        raise ValueError("spans must be ascending days")
    parts = await split(session, RATINGS, scope, timezone)
    found: dict[tuple[Any, ...], RatingTally] = {}

    def fold(key: tuple[Any, ...], values: Sequence[Any]) -> None:
        found.setdefault(key, RatingTally()).add(values[0], values[1], values[2], values[3:])

    if parts.rolled is not None:
        table = rating_days.c
        span = case(*((table.day < start, i) for i, start in enumerate(spans)), else_=len(spans))
        keys = [span if k == "span" else getattr(table, k) for k in by]
        rows = await session.execute(
            select(
                *keys,
                func.sum(table.sent),
                func.sum(table.answered),
                func.sum(table.score_sum),
                *(func.sum(getattr(table, f"score_{s}")) for s in SCORES),
            )
            .where(
                table.day >= parts.rolled[0],
                table.day <= parts.rolled[1],
                *scope_filters(
                    scope,
                    procedure=table.procedure_id,
                    department=table.department_id,
                    channel=table.channel,
                ),
            )
            .group_by(*keys)
        )
        for row in rows:
            fold(tuple(row[: len(by)]), row[len(by) :])
    if parts.raw is not None:
        raw = parts.raw
        low, high = raw.bounds(timezone)
        edges = _day_edges(raw, timezone)
        raw_keys = {
            "day": lambda: PeriodIndex(Rating.asked_at, edges),
            "span": lambda: PeriodIndex(Rating.asked_at, [midnight(d, timezone) for d in spans]),
        }
        keys = [raw_keys[k]() if k in raw_keys else getattr(Rating, k) for k in by]
        rows = await session.execute(
            select(*keys, *RATINGS.sums.values())
            .where(
                Rating.asked_at >= low,
                Rating.asked_at < high,
                *scope_filters(
                    raw,
                    procedure=Rating.procedure_id,
                    department=Rating.department_id,
                    channel=Rating.channel,
                ),
            )
            .group_by(*keys)
        )
        for row in rows:
            key = tuple(
                raw.start + timedelta(days=int(v) - 1)
                if k == "day"
                else int(v)
                if k == "span"
                else v
                for k, v in zip(by, row[: len(by)], strict=True)
            )
            fold(key, row[len(by) :])
    return found


@dataclass
class BotTally:
    visits: int = 0
    handed_off: int = 0
    messages: int = 0
    not_understood: int = 0


async def bot_tally(session: AsyncSession, scope: Scope, timezone: str) -> BotTally:
    """The scope's visits (a department means its procedures' visits)."""
    parts = await split(session, BOT_SESSIONS, scope, timezone)
    tally = BotTally()
    queries = []
    if parts.rolled is not None:
        table = bot_session_days.c
        queries.append(
            select(
                func.sum(table.visits),
                func.sum(table.handed_off),
                func.sum(table.messages),
                func.sum(table.not_understood),
            ).where(
                table.day >= parts.rolled[0],
                table.day <= parts.rolled[1],
                *scope_filters(
                    scope,
                    procedure=table.procedure_id,
                    channel=table.channel,
                    department_via_procedure=True,
                ),
            )
        )
    if parts.raw is not None:
        low, high = parts.raw.bounds(timezone)
        queries.append(
            select(*BOT_SESSIONS.sums.values()).where(
                BotSession.started_at >= low,
                BotSession.started_at < high,
                *scope_filters(
                    parts.raw,
                    procedure=BotSession.procedure_id,
                    channel=BotSession.channel,
                    department_via_procedure=True,
                ),
            )
        )
    for query in queries:
        row = (await session.execute(query)).one()
        tally.visits += int(row[0] or 0)
        tally.handed_off += int(row[1] or 0)
        tally.messages += int(row[2] or 0)
        tally.not_understood += int(row[3] or 0)
    return tally
