"""`ventanilla demo-data`: a realistic synthetic history for demos and benchmarks.

How the counts relate (every number below is exact unless marked "about"):

- `ratings` is the number of rows in `ratings`: surveys *sent*, answered or not (about half
  are answered, more on WhatsApp than on the web chat).
- `requests` (default ratings / 5) requests are opened over the request-enabled procedures.
  Each one resolved before today is surveyed (about 97 % of them, and never more than
  `ratings`), at the moment it was first resolved.
- The rest of the ratings are surveys of conversations handed to a person: exactly
  `ratings - request surveys` closed handoffs, plus a few still waiting or being attended now
  (not surveyed yet).
- `visits` (`--conversations`, default 4 × ratings + requests) rows in `bot_sessions`: one
  per request, one per handoff, the rest visits the bot handled alone; with the defaults about
  one visit in five ends with a person. It must be at least requests + ratings + 8.
- About a quarter of the visits about a procedure get a "¿Te sirvió esta respuesta?"
  (`answer_feedback`), 60 % answered. Chat identities: about one per four visits
  (`conversations` has one row per identity); 70 % of them gave a CURP.
"""

import random
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

import numpy as np
from argon2 import PasswordHasher
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from casework.conversations.models import BotSession
from casework.handoffs.models import Handoff
from casework.indicators.rollups import invalidate
from casework.ratings.models import Rating, SurveyDimension
from casework.requests.models import FolioCounter, Request
from casework.staff.models import StaffUser, staff_departments
from catalog.models import Department, Procedure
from foundation.db import Database, utcnow
from foundation.settings import Settings
from ventanilla.demo import history, words
from ventanilla.demo.people import People
from ventanilla.demo.timeline import Timeline
from ventanilla.demo.world import Catalogue, Conversations, Traits, World
from ventanilla.demo.writer import Writer

CHUNK = 50_000
OPEN_HANDOFFS_MAX = 8
DEMO_STAFF_PREFIX = "demo-"
# Tables whose serial ids are given here, so their sequences must continue after them.
ID_TABLES = (
    "citizens", "channel_identities", "conversations", "bot_sessions", "requests",
    "request_events", "handoffs", "ratings", "answer_feedback", "messages",
)  # fmt: skip


@dataclass(frozen=True)
class DemoOptions:
    ratings: int = 20_000
    requests: int | None = None  # default ratings // 5
    visits: int | None = None  # default 4 × ratings + requests
    months: int = 24
    seed: int = 1
    append: bool = False

    @property
    def request_count(self) -> int:
        return self.ratings // 5 if self.requests is None else self.requests

    @property
    def visit_count(self) -> int:
        return 4 * self.ratings + self.request_count if self.visits is None else self.visits

    @property
    def minimum_visits(self) -> int:
        return self.request_count + self.ratings + OPEN_HANDOFFS_MAX

    def problems(self) -> list[str]:
        """What is wrong with the options, in Spanish, for the command line."""
        found = []
        if self.ratings < 0 or self.request_count < 0:
            found.append("--ratings y --requests no pueden ser negativos.")
        if self.months < 1:
            found.append("--months debe ser al menos 1.")
        if self.visit_count < self.minimum_visits:
            found.append(
                f"--conversations debe ser al menos {self.minimum_visits}: cada solicitud y "
                "cada conversación con una persona empiezan en una visita al bot."
            )
        return found


class DemoRefused(Exception):
    """The database already has a history and --append was not given."""

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__(counts)
        self.counts = counts


class Progress:
    """Where the generator reports its advance; the command line draws bars from it."""

    def phase(self, label: str, total: int) -> AbstractContextManager[Callable[[int], None]]:
        return _silent()


@contextmanager
def _silent() -> Iterator[Callable[[int], None]]:
    yield lambda _: None


@dataclass
class DemoSummary:
    counts: dict[str, int]
    seconds: float
    staff_created: list[str] = field(default_factory=list)


async def existing_history(db: Database) -> dict[str, int]:
    """How many requests, ratings, visits and handoffs the database holds."""
    async with db.sessions() as session:
        return {
            "solicitudes": await _count(session, Request),
            "calificaciones": await _count(session, Rating),
            "visitas": await _count(session, BotSession),
            "canalizaciones": await _count(session, Handoff),
        }


async def _count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def generate(
    db: Database, settings: Settings, options: DemoOptions, progress: Progress | None = None
) -> DemoSummary:
    """Write the demo history in one transaction (all of it or nothing). The schema must be
    up to date and a catalogue loaded (ventanilla.setup.prepare does both)."""
    progress = progress or Progress()
    existing = await existing_history(db)
    if any(existing.values()) and not options.append:
        raise DemoRefused(existing)
    began = time.perf_counter()
    async with db.engine.begin() as conn:
        writer = Writer(conn)
        world, staff_created = await _world(conn, writer, settings, options)
        await writer.start()
        try:
            await _phases(world, options, progress)
        finally:
            await writer.finish()
        await writer.reset_sequences(list(ID_TABLES))
    async with db.transaction() as session:  # the history changed: rebuilt on the next query
        await invalidate(session)
    if db.engine.dialect.name == "postgresql":  # fresh planner statistics for benchmarks
        async with db.engine.begin() as conn:
            await conn.execute(text(f"ANALYZE {', '.join(ID_TABLES)}"))
    return DemoSummary(dict(writer.counts), time.perf_counter() - began, staff_created)


async def _phases(world: World, options: DemoOptions, progress: Progress) -> None:
    people = world.people
    with progress.phase("Ciudadanos, identidades y conversaciones", people.count) as tick:
        await history.write_people(world, tick, CHUNK // 20 * 20)
    requests = options.request_count
    with progress.phase("Solicitudes, su historial y sus encuestas", requests) as tick:
        await history.write_requests(world, requests, tick, CHUNK)
    closed = world.ratings_left
    opened = min(OPEN_HANDOFFS_MAX, 1 + closed // 20_000)
    with progress.phase("Canalizaciones a una persona y sus encuestas", closed + opened) as tick:
        await history.write_handoffs(world, closed, opened, tick, CHUNK)
    alone = options.visit_count - requests - closed - opened
    with progress.phase("Visitas atendidas por el bot y «¿Te sirvió?»", alone) as tick:
        await history.write_visits(world, alone, tick, CHUNK)
    with progress.phase("Últimas visitas, folios y secuencias", 1) as tick:
        await history.finish(world)
        tick(1)


async def _world(
    conn: AsyncConnection, writer: Writer, settings: Settings, options: DemoOptions
) -> tuple[World, list[str]]:
    rng = np.random.default_rng(options.seed)
    pick = random.Random(options.seed)
    procedures = (await conn.execute(select(Procedure).order_by(Procedure.id))).all()
    if not procedures:
        raise ValueError("no catalogue loaded")
    rows = [row._mapping for row in procedures]
    requestable = [i for i, row in enumerate(rows) if row["request_enabled"]]
    if options.request_count and not requestable:
        raise ValueError("no procedure of the catalogue takes requests")
    departments = list(await conn.scalars(select(Department.id).order_by(Department.id)))
    catalogue = Catalogue(
        ids=[row["id"] for row in rows],
        department=[row["department_id"] for row in rows],
        response_days=[row["response_days"] for row in rows],
        fields=[list(row["request_fields"] or []) for row in rows],
        requestable=np.array(requestable or [0], dtype=np.int64),
        departments=departments,
    )
    traits = Traits.draw(rng, catalogue)
    agents, created = await _demo_staff(conn, departments)
    dimensions = await _switch_on_dimensions(conn, catalogue, traits)
    next_id = {table: await writer.max_id(table) + 1 for table in ID_TABLES}
    visits = options.visit_count
    people = People.sized(
        max(1, visits // 4),
        next_id["channel_identities"] - 1,
        next_id["conversations"] - 1,
        next_id["citizens"] - 1,
    )
    next_id["channel_identities"] += people.count
    next_id["conversations"] += people.count
    next_id["citizens"] += people.citizens
    folios = {
        int(year): int(last)
        for year, last in (await conn.execute(select(FolioCounter.year, FolioCounter.last))).all()
    }
    world = World(
        rng=rng,
        pick=pick,
        settings=settings,
        timeline=Timeline.build(utcnow(), options.months),
        people=people,
        catalogue=catalogue,
        traits=traits,
        writer=writer,
        agents=agents,
        dimensions=dimensions,
        next_id=next_id,
        conversations=Conversations.empty(people.count),
        ratings_left=options.ratings,
        folios=folios,
    )
    return world, created


async def _demo_staff(
    conn: AsyncConnection, departments: list[str]
) -> tuple[dict[str | None, list[int]], list[str]]:
    """Two agents per department and two at the front desk who work the demo requests and
    conversations. They are inactive, with an unknown password: nobody logs in as them
    unless an administrator activates them and sets one."""
    wanted: dict[str, str | None] = {f"{DEMO_STAFF_PREFIX}mesa-{n}": None for n in (1, 2)}
    for department in departments:
        for n in (1, 2):
            wanted[f"{DEMO_STAFF_PREFIX}{department}-{n}"[:80]] = department
    existing = dict(
        (await conn.execute(
            select(StaffUser.username, StaffUser.id).where(StaffUser.username.in_(wanted))
        )).all()
    )  # fmt: skip
    missing = [name for name in wanted if name not in existing]
    if missing:
        hashed = PasswordHasher().hash(secrets.token_urlsafe(32))
        for name in missing:
            home = wanted[name]
            full_name = f"Agente de demostración ({home or 'mesa de atención'})"
            inserted = await conn.execute(
                insert(StaffUser)
                .values(
                    username=name, full_name=full_name, role="agent", password_hash=hashed,
                    active=False, created_at=utcnow(),
                )
                .returning(StaffUser.id)
            )  # fmt: skip
            staff_id: int = inserted.scalar_one()
            existing[name] = staff_id
            if home:
                await conn.execute(
                    insert(staff_departments).values(staff_user_id=staff_id, department_id=home)
                )
    agents: dict[str | None, list[int]] = {}
    for name, home in wanted.items():
        agents.setdefault(home, []).append(existing[name])
    return agents, missing


async def _switch_on_dimensions(
    conn: AsyncConnection, catalogue: Catalogue, traits: Traits
) -> set[int]:
    """The extra survey dimensions on for three request procedures (the most requested, and
    the best and worst served), as an evaluator would switch them on."""
    requestable = catalogue.requestable.tolist()
    by_demand = [requestable[i] for i in np.argsort(-traits.request_weight).tolist()]
    by_score = sorted(requestable, key=lambda p: traits.score_mean[p])
    chosen = {by_demand[0], by_score[0], by_score[-1]}
    present = set(
        (await conn.execute(select(SurveyDimension.procedure_id, SurveyDimension.dimension))).all()
    )
    for index in sorted(chosen):
        for dimension in words.DIMENSIONS:
            if (catalogue.ids[index], dimension) not in present:
                await conn.execute(
                    insert(SurveyDimension).values(
                        procedure_id=catalogue.ids[index], dimension=dimension
                    )
                )
    index_of = {procedure: i for i, procedure in enumerate(catalogue.ids)}
    return chosen | {index_of[p] for p, _ in present if p in index_of}


__all__ = ["DemoOptions", "DemoRefused", "DemoSummary", "Progress", "existing_history", "generate"]
