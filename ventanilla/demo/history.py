"""The demo history, phase by phase: people, requests (each opened in a bot visit, surveyed
when resolved), conversations with a person (each surveyed when closed), the other visits
with their "¿Te sirvió?" questions, and the bookkeeping that lets the app carry on."""

import json
from collections.abc import Callable

import numpy as np
from sqlalchemy import text

from nlu.understanding import ASPECTS
from ventanilla.demo import words
from ventanilla.demo.people import CHANNELS, People, synthetic_curp
from ventanilla.demo.timeline import DAY, HOUR, MINUTE, due_micros, from_micros
from ventanilla.demo.world import World, nullable
from ventanilla.demo.writer import Rows, sqlite_time

Tick = Callable[[int], None]
SECOND = 1_000_000
CHUNK = 50_000


async def write_people(world: World, tick: Tick, chunk: int) -> None:
    """Citizens, their chat identities and one conversation per identity, oldest first."""
    people, pick = world.people, world.pick
    for first in range(0, people.count, chunk):
        index = np.arange(first, min(people.count, first + chunk), dtype=np.int64)
        created = world.timeline.at_position(index / people.count)
        citizens = np.arange(
            index[0] // 20 * 12, (index[-1] // 20 + 1) * 12, dtype=np.int64
        )  # the citizens whose first chat is in this piece (pieces are whole blocks)
        born = created[people.citizen_identity(citizens) - first]
        citizen_ids = citizens + people.citizen_base + 1
        await world.writer.write(
            Rows(
                "citizens",
                {
                    "id": citizen_ids.tolist(),
                    "curp": [synthetic_curp(c, pick) for c in citizen_ids.tolist()],
                    "name": [None] * len(citizens),
                    "consent_at": born.tolist(),
                    "created_at": born.tolist(),
                },
                times=("consent_at", "created_at"),
            )
        )
        identity_ids = index + people.identity_base + 1
        channels = world.channels(people.channel(index))
        citizen_of = people.citizen_id(index)
        await world.writer.write(
            Rows(
                "channel_identities",
                {
                    "id": identity_ids.tolist(),
                    "channel": channels,
                    "address": [
                        people.address(c, i, pick)
                        for c, i in zip(channels, identity_ids.tolist(), strict=True)
                    ],
                    "display_name": [People.display_name(c, pick) for c in channels],
                    "citizen_id": nullable(citizen_of, citizen_of > 0),
                    "created_at": created.tolist(),
                },
                times=("created_at",),
            )
        )
        await world.writer.write(
            Rows(
                "conversations",
                {
                    "id": (index + people.conversation_base + 1).tolist(),
                    "identity_id": identity_ids.tolist(),
                    "state": ["idle"] * len(index),
                    "slots": ["{}"] * len(index),
                    "consent_at": nullable(created, citizen_of > 0),
                    "created_at": created.tolist(),
                },
                times=("consent_at", "created_at"),
            )
        )
        tick(len(index))


async def write_sessions(
    world: World,
    conversation: np.ndarray,
    started: np.ndarray,
    last: np.ndarray,
    messages: np.ndarray,
    not_understood: np.ndarray,
    handed_off: np.ndarray,
    procedure: np.ndarray,
) -> None:
    ids = world.ids("bot_sessions", len(started))
    await world.writer.write(
        Rows(
            "bot_sessions",
            {
                "id": ids.tolist(),
                "conversation_id": (conversation + world.people.conversation_base + 1).tolist(),
                "channel": world.channels(world.people.channel(conversation)),
                "started_at": started.tolist(),
                "last_at": last.tolist(),
                "messages": messages.tolist(),
                "not_understood": not_understood.tolist(),
                "handed_off": handed_off.tolist(),
                "procedure_id": world.procedure_ids(procedure),
            },
            times=("started_at", "last_at"),
        )
    )
    world.conversations.saw(conversation, last, ids, procedure)


async def write_requests(world: World, count: int, tick: Tick, chunk: int) -> None:
    """`count` requests over the request-enabled procedures, each opened in a visit; their
    status history, and a survey for each one resolved (until the ratings run out)."""
    rng, timeline, catalogue, traits = world.rng, world.timeline, world.catalogue, world.traits
    now = timeline.now
    expected_resolved = max(1.0, count * 0.8)
    survey_share = min(1.0, world.ratings_left / expected_resolved * 0.97)
    for created, position in timeline.sorted_times(rng, count, chunk):
        n = len(created)
        procedure = catalogue.requestable[
            rng.choice(len(catalogue.requestable), n, p=traits.request_weight)
        ]
        conversation = world.people.pick(rng, position, citizen=True)
        messages = 6 + rng.poisson(4, n)
        await write_sessions(
            world,
            conversation,
            created - (rng.uniform(2, 9, n) * MINUTE).astype(np.int64),
            created + (rng.uniform(0.5, 3, n) * MINUTE).astype(np.int64),
            messages,
            rng.binomial(messages, 0.04),
            np.zeros(n, dtype=bool),
            procedure,
        )
        days = np.array(
            [catalogue.response_days[p] for p in procedure.tolist()], dtype=object
        )  # None: no deadline
        target = np.array([5 if d is None else max(d, 0.4) for d in days.tolist()])
        rejected = rng.random(n) < traits.reject[procedure]
        duration = (
            target
            * 1.45
            * traits.slowness[procedure]
            * rng.lognormal(0, 0.6, n)
            * np.where(rejected, 0.5, 1.0)
            * DAY
        ).astype(np.int64) + 2 * HOUR
        stuck = rng.random(n) < 0.01  # forgotten: never closed
        progress_at = timeline.in_office(rng, created + np.maximum(duration // 4, 30 * MINUTE))
        closed_at = timeline.in_office(rng, created + duration)
        closed_at = np.maximum(closed_at, progress_at + 20 * MINUTE)
        reopen = ~rejected & (rng.random(n) < traits.reopen[procedure])
        reopen_at = timeline.in_office(
            rng, closed_at + (rng.lognormal(np.log(2), 0.7, n) * DAY).astype(np.int64)
        )
        final_at = timeline.in_office(rng, reopen_at + duration // 2 + HOUR)
        closed = (closed_at < now) & ~stuck
        progressed = progress_at < now
        reopened = reopen & closed & (reopen_at < now)
        closed_again = reopened & (final_at < now)
        surveyed = closed & ~rejected & (rng.random(n) < survey_share)
        over = np.cumsum(surveyed) > world.ratings_left
        surveyed &= ~over
        ids = world.ids("requests", n)
        assigned = await _request_rows(
            world, ids, procedure, conversation, created, days, rejected, progressed,
            closed, progress_at, closed_at, reopened, reopen_at, closed_again, final_at,
        )  # fmt: skip
        await _request_events(
            world, ids, assigned, created, rejected, progressed, closed, progress_at,
            closed_at, reopened, reopen_at, closed_again, final_at,
        )  # fmt: skip
        if surveyed.any():
            due = np.array([d if d is not None else -1 for d in _due_list(created, days)])
            late = (due >= 0) & (closed_at > due)
            mean = traits.score_mean[procedure] - 0.5 * late - 1.0 * reopened
            departments = [catalogue.department[p] for p in procedure[surveyed].tolist()]
            await world.surveys(
                closed_at[surveyed] + SECOND,
                world.people.channel(conversation[surveyed]),
                mean[surveyed],
                conversation[surveyed],
                "request",
                ids[surveyed],
                procedure[surveyed],
                departments,
            )
        tick(n)


def _due_list(created: np.ndarray, days: np.ndarray) -> list[int | None]:
    return [
        None if d is None else due_micros(c, d)
        for c, d in zip(created.tolist(), days.tolist(), strict=True)
    ]


async def _request_rows(
    world: World,
    ids: np.ndarray,
    procedure: np.ndarray,
    conversation: np.ndarray,
    created: np.ndarray,
    days: np.ndarray,
    rejected: np.ndarray,
    progressed: np.ndarray,
    closed: np.ndarray,
    progress_at: np.ndarray,
    closed_at: np.ndarray,
    reopened: np.ndarray,
    reopen_at: np.ndarray,
    closed_again: np.ndarray,
    final_at: np.ndarray,
) -> list[int | None]:
    """The request rows; returns who each was assigned to."""
    catalogue, pick, prefix = world.catalogue, world.pick, world.settings.folio_prefix
    locations: list[str | None]
    folios, descriptions, locations, statuses, updated, resolved, assigned = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    for i, p in enumerate(procedure.tolist()):
        year = from_micros(int(created[i])).year
        number = world.folios.get(year, 0) + 1
        world.folios[year] = number
        folios.append(f"{prefix}-{year}-{number:06d}")
        kind = words.description_kind(catalogue.ids[p])
        descriptions.append(pick.choice(words.DESCRIPTIONS[kind] if kind else words.GENERIC))
        if "location" in catalogue.fields[p]:
            street = f"{pick.choice(words.STREETS)} {pick.randrange(1, 400)}"
            address = f"Calle {street}, col. {pick.choice(words.NEIGHBOURHOODS)}"
            locations.append(json.dumps({"address": address}, ensure_ascii=False))
        else:
            locations.append(None)
        if reopened[i]:
            status = "resolved" if closed_again[i] else "in_progress"
            last = final_at[i] if closed_again[i] else reopen_at[i]
            resolved.append(int(final_at[i]) if closed_again[i] else None)
        elif closed[i]:
            status = "rejected" if rejected[i] else "resolved"
            last = closed_at[i]
            resolved.append(int(closed_at[i]))
        elif progressed[i]:
            status, last = "in_progress", progress_at[i]
            resolved.append(None)
        else:
            status, last = "received", created[i]
            resolved.append(None)
        statuses.append(status)
        updated.append(int(last))
        department = catalogue.department[p]
        assigned.append(world.agent(department) if progressed[i] else None)
    citizens = world.people.citizen_id(conversation)
    await world.writer.write(
        Rows(
            "requests",
            {
                "id": ids.tolist(),
                "folio": folios,
                "procedure_id": world.procedure_ids(procedure),
                "department_id": [catalogue.department[p] for p in procedure.tolist()],
                "citizen_id": citizens.tolist(),
                "identity_id": (conversation + world.people.identity_base + 1).tolist(),
                "status": statuses,
                "description": descriptions,
                "location": locations,
                "channel": world.channels(world.people.channel(conversation)),
                "created_at": created.tolist(),
                "updated_at": updated,
                "due_at": _due_list(created, days),
                "resolved_at": resolved,
                "reopened": reopened.astype(np.int64).tolist(),
                "assigned_to_id": assigned,
            },
            times=("created_at", "updated_at", "due_at", "resolved_at"),
        )
    )
    return assigned


async def _request_events(
    world: World,
    ids: np.ndarray,
    assigned: list[int | None],
    created: np.ndarray,
    rejected: np.ndarray,
    progressed: np.ndarray,
    closed: np.ndarray,
    progress_at: np.ndarray,
    closed_at: np.ndarray,
    reopened: np.ndarray,
    reopen_at: np.ndarray,
    closed_again: np.ndarray,
    final_at: np.ndarray,
) -> None:
    """received → (assigned) → in_progress → resolved | rejected (→ in_progress → resolved),
    as the back office records them."""
    pick = world.pick
    cols: dict[str, list[object]] = {
        k: []
        for k in (
            "id", "request_id", "at", "from_status", "to_status", "note", "public",
            "staff_user_id", "assigned_to_id",
        )
    }  # fmt: skip

    def event(request: int, at: int, before: str | None, after: str | None, note: str,
              public: bool, staff: int | None, assignee: int | None = None) -> None:  # fmt: skip
        for key, value in zip(
            cols, (0, request, at, before, after, note, public, staff, assignee), strict=True
        ):
            cols[key].append(value)

    for i, request in enumerate(ids.tolist()):
        event(request, int(created[i]), None, "received", "", True, None)
        if not progressed[i]:
            continue
        agent = assigned[i]
        start = int(progress_at[i])
        event(request, start - 5 * MINUTE, None, None, "", False, agent, agent)
        event(request, start, "received", "in_progress", pick.choice(words.NOTES_PROGRESS),
              True, agent)  # fmt: skip
        if not closed[i]:
            continue
        end = "rejected" if rejected[i] else "resolved"
        note = pick.choice(words.NOTES_REJECTED if rejected[i] else words.NOTES_RESOLVED)
        event(request, int(closed_at[i]), "in_progress", end, note, True, agent)
        if reopened[i]:
            event(request, int(reopen_at[i]), "resolved", "in_progress", words.NOTE_REOPENED,
                  True, agent)  # fmt: skip
            if closed_again[i]:
                event(request, int(final_at[i]), "in_progress", "resolved",
                      pick.choice(words.NOTES_RESOLVED), True, agent)  # fmt: skip
    cols["id"] = world.ids("request_events", len(cols["id"])).tolist()
    await world.writer.write(Rows("request_events", cols, times=("at",)))


async def write_handoffs(world: World, closed_count: int, open_count: int, tick: Tick,
                         chunk: int) -> None:  # fmt: skip
    """Conversations handed to a person: `closed_count` closed and surveyed, spread over the
    history, and `open_count` still waiting or being attended right now."""
    rng, timeline, now = world.rng, world.timeline, world.timeline.now
    for created, position in timeline.sorted_times(rng, closed_count, chunk):
        n = len(created)
        claimed, closed, unclaimed, department, procedure = _attend(world, created)
        moved = np.zeros(n, dtype=bool)
        for _ in range(60):  # what would still be open now happened a week earlier
            week = np.where(closed >= now, 7 * DAY, 0)
            if not week.any():
                break
            moved |= week > 0
            created, claimed, closed = created - week, claimed - week, closed - week
        hour = np.clip((created - timeline.start) // HOUR, 0, timeline.hours - 1)
        position = np.where(moved, timeline.cdf[hour], position)
        conversation = world.people.pick(rng, position, citizen=False)
        ids = world.ids("handoffs", n)
        agents = [world.agent(d) for d in department]
        await world.writer.write(
            Rows(
                "handoffs",
                {
                    "id": ids.tolist(),
                    "conversation_id": (conversation + world.people.conversation_base + 1).tolist(),
                    "status": ["closed"] * n,
                    "reason": [world.pick.choice(words.REASONS) for _ in range(n)],
                    "department_id": department,
                    "agent_id": agents,
                    "created_at": created.tolist(),
                    "claimed_at": nullable(claimed, ~unclaimed),
                    "closed_at": closed.tolist(),
                },
                times=("created_at", "claimed_at", "closed_at"),
            )
        )
        messages = 4 + rng.poisson(7, n)
        await write_sessions(
            world, conversation, created - (rng.uniform(1, 6, n) * MINUTE).astype(np.int64),
            closed, messages, rng.binomial(messages, 0.18), np.ones(n, dtype=bool), procedure,
        )  # fmt: skip
        wait = (claimed - created) / MINUTE
        mean = np.array([world.traits.department_score.get(d or "", 3.9) for d in department])
        mean = mean - 0.5 * (wait > 45) - 0.5 * unclaimed
        await world.surveys(
            closed + SECOND, world.people.channel(conversation), mean, conversation,
            "handoff", ids, np.full(n, -1), department,
        )  # fmt: skip
        tick(n)
    if open_count:
        await _open_handoffs(world, open_count)
        tick(open_count)


def _attend(
    world: World, created: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str | None], np.ndarray]:
    rng, timeline, catalogue, traits = world.rng, world.timeline, world.catalogue, world.traits
    n = len(created)
    about = rng.random(n) < 0.55
    procedure = np.where(about, rng.choice(len(catalogue.ids), n, p=traits.info_weight), -1).astype(
        np.int64
    )
    department = [catalogue.department[p] if p >= 0 else None for p in procedure.tolist()]
    median = np.array([traits.department_wait.get(d or "", 6.0) for d in department])
    wait = (rng.lognormal(np.log(median), 0.9) * MINUTE).astype(np.int64)
    claimed = timeline.in_office(rng, created) + wait
    unclaimed = rng.random(n) < 0.03
    talk = (rng.lognormal(np.log(9), 0.7, n) * MINUTE).astype(np.int64)
    closed = np.where(unclaimed, claimed, claimed + talk)
    return claimed, closed, unclaimed, department, procedure


async def _open_handoffs(world: World, count: int) -> None:
    """A few conversations waiting for a person or being attended now, with a transcript."""
    rng, now, people = world.rng, world.timeline.now, world.people
    older = max(1, int(people.count * 0.98))  # chats that began before these handoffs
    conversation = np.sort(rng.choice(older, min(count, older), replace=False))
    n = len(conversation)
    created = now - (rng.uniform(3, 80, n) * MINUTE).astype(np.int64)
    active = rng.random(n) < 0.4
    claimed = np.minimum(created + (rng.uniform(1, 3, n) * MINUTE).astype(np.int64), now - 1)
    ids = world.ids("handoffs", n)
    agents = [world.agent(None) if a else None for a in active.tolist()]
    reasons = [world.pick.choice(words.REASONS) for _ in range(n)]
    await world.writer.write(
        Rows(
            "handoffs",
            {
                "id": ids.tolist(),
                "conversation_id": (conversation + people.conversation_base + 1).tolist(),
                "status": ["active" if a else "waiting" for a in active.tolist()],
                "reason": reasons,
                "department_id": [None] * n,
                "agent_id": agents,
                "created_at": created.tolist(),
                "claimed_at": nullable(claimed, active),
                "closed_at": [None] * n,
            },
            times=("created_at", "claimed_at", "closed_at"),
        )
    )
    started = created - 2 * MINUTE
    await write_sessions(
        world, conversation, started, np.maximum(created, now - MINUTE), np.full(n, 3),
        np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool), np.full(n, -1),
    )  # fmt: skip
    cols: dict[str, list[object]] = {
        k: [] for k in ("conversation_id", "direction", "sender", "text", "payload",
                        "staff_user_id", "created_at", "kind")
    }  # fmt: skip
    for i in range(n):
        lines: list[tuple[str, str, str, int | None, int]] = [
            ("in", "citizen", "Hola", None, int(started[i])),
            ("in", "citizen", reasons[i], None, int(created[i])),
            ("out", "bot", "Le comunico con una persona del equipo; en un momento le atienden.",
             None, int(created[i]) + SECOND),
        ]  # fmt: skip
        if active[i]:
            lines.append(("out", "agent", "Buen día, ¿en qué le puedo ayudar?", agents[i],
                          int(claimed[i])))  # fmt: skip
        for direction, sender, said, staff, at in lines:
            for key, value in zip(
                cols,
                (int(conversation[i]) + people.conversation_base + 1, direction, sender, said,
                 "{}", staff, at, "text"),
                strict=True,
            ):  # fmt: skip
                cols[key].append(value)
    cols = {"id": world.ids("messages", len(cols["text"])).tolist(), **cols}
    await world.writer.write(Rows("messages", cols, times=("created_at",)))
    world.open_handoffs = conversation


async def write_visits(world: World, count: int, tick: Tick, chunk: int) -> None:
    """Visits the bot handled alone, and the "¿Te sirvió?" asked after some answers."""
    rng, timeline, catalogue, traits = world.rng, world.timeline, world.catalogue, world.traits
    rate = min(1.0, world.settings.evaluation.usefulness_rate * 1.25)
    for started, position in timeline.sorted_times(rng, count, chunk):
        n = len(started)
        conversation = world.people.pick(rng, position, citizen=False)
        channel = world.people.channel(conversation)
        about = rng.random(n) < 0.7
        procedure = np.where(
            about, rng.choice(len(catalogue.ids), n, p=traits.info_weight), -1
        ).astype(np.int64)
        messages = 1 + rng.geometric(0.3, n)
        not_understood = rng.binomial(
            messages, np.where(channel == CHANNELS.index("web"), 0.1, 0.07)
        )
        pace = (rng.lognormal(np.log(40), 0.6, n) * SECOND).astype(np.int64)
        last = np.minimum(started + messages * pace, timeline.now - 1)
        await write_sessions(
            world, conversation, started, last, messages, not_understood,
            np.zeros(n, dtype=bool), procedure,
        )  # fmt: skip
        asked_mask = about & (rng.random(n) < rate)
        if asked_mask.any():
            await _feedback(world, conversation[asked_mask], started[asked_mask],
                            procedure[asked_mask])  # fmt: skip
        tick(n)


async def _feedback(world: World, conversation: np.ndarray, started: np.ndarray,
                    procedure: np.ndarray) -> None:  # fmt: skip
    rng, n, now = world.rng, len(started), world.timeline.now
    asked = started + (rng.uniform(15, 60, n) * SECOND).astype(np.int64)
    answered_at = asked + (rng.lognormal(np.log(30), 0.8, n) * SECOND).astype(np.int64)
    answered = (rng.random(n) < 0.6) & (answered_at < now)
    useful = rng.random(n) < world.traits.useful[procedure]
    citizens = world.people.citizen_id(conversation)
    aspects = [world.pick.choice((None, *ASPECTS)) for _ in range(n)]
    await world.writer.write(
        Rows(
            "answer_feedback",
            {
                "id": world.ids("answer_feedback", n).tolist(),
                "conversation_id": (conversation + world.people.conversation_base + 1).tolist(),
                "citizen_id": nullable(citizens, citizens > 0),
                "procedure_id": world.procedure_ids(procedure),
                "department_id": [world.catalogue.department[p] for p in procedure.tolist()],
                "aspect": aspects,
                "channel": world.channels(world.people.channel(conversation)),
                "asked_at": asked.tolist(),
                "answered_at": nullable(answered_at, answered),
                "useful": nullable(useful, answered),
            },
            times=("asked_at", "answered_at"),
        )
    )


async def finish(world: World) -> None:
    """Conversations remember their last visit; folio counters continue after the last folio
    given; serial ids continue after the largest one written."""
    writer, conv, people = world.writer, world.conversations, world.people
    sql = writer.conn
    waiting = set(world.open_handoffs.tolist())
    if writer.postgresql:
        await sql.execute(
            text(
                "CREATE TEMPORARY TABLE demo_conversation_updates (id integer, "
                "last_inbound_at timestamptz, bot_session_id integer, "
                "last_procedure_id varchar(80), state varchar(40)) ON COMMIT DROP"
            )
        )
    seen_all = np.flatnonzero(conv.last_at >= 0)
    for first in range(0, len(seen_all), CHUNK):
        seen = seen_all[first : first + CHUNK]
        columns = {
            "id": (seen + people.conversation_base + 1).tolist(),
            "last_inbound_at": conv.last_at[seen].tolist(),
            "bot_session_id": conv.session[seen].tolist(),
            "last_procedure_id": world.procedure_ids(conv.procedure[seen]),
            "state": ["handoff" if i in waiting else "idle" for i in seen.tolist()],
        }
        if writer.postgresql:
            rows = Rows("demo_conversation_updates", columns, times=("last_inbound_at",))
            await writer.write(rows)
        else:
            await sql.exec_driver_sql(
                "UPDATE conversations SET last_inbound_at = ?, bot_session_id = ?, "
                "last_procedure_id = ?, state = ? WHERE id = ?",
                [
                    (sqlite_time(at), session, procedure, state, conversation)
                    for conversation, at, session, procedure, state in zip(
                        *columns.values(), strict=True
                    )
                ],
            )
    if writer.postgresql:
        await sql.execute(
            text(
                "UPDATE conversations AS c SET last_inbound_at = u.last_inbound_at, "
                "bot_session_id = u.bot_session_id, last_procedure_id = u.last_procedure_id, "
                "state = u.state FROM demo_conversation_updates AS u WHERE c.id = u.id"
            )
        )
        writer.counts.pop("demo_conversation_updates", None)
    greatest = "GREATEST" if writer.postgresql else "MAX"
    for year, last in sorted(world.folios.items()):
        await sql.execute(
            text(
                "INSERT INTO folio_counters (year, last) VALUES (:year, :last) "
                f"ON CONFLICT (year) DO UPDATE SET last = {greatest}(folio_counters.last, "
                "excluded.last)"
            ),
            {"year": year, "last": last},
        )
