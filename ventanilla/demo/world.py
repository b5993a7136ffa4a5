"""What every part of the demo history shares: the random sources, the catalogue with the
traits the demo gives each procedure (popularity, how well it is served), the demo staff, the
next free id of every table, and what each conversation did last."""

import random
from dataclasses import dataclass, field

import numpy as np

from foundation.settings import Settings
from ventanilla.demo import words
from ventanilla.demo.people import People
from ventanilla.demo.timeline import HOUR, MINUTE, Timeline
from ventanilla.demo.writer import Rows, Writer


@dataclass
class Catalogue:
    ids: list[str]
    department: list[str]
    response_days: list[int | None]
    fields: list[list[str]]
    requestable: np.ndarray  # indices of procedures that open requests by chat
    departments: list[str]


@dataclass
class Traits:
    """Drawn once per run: which procedures are popular and which are served badly."""

    info_weight: np.ndarray  # how often each procedure is asked about
    request_weight: np.ndarray  # over catalogue.requestable
    score_mean: np.ndarray  # per procedure: the mean rating of its requests
    slowness: np.ndarray  # per procedure: resolution time against its response time
    reject: np.ndarray
    reopen: np.ndarray
    useful: np.ndarray  # per procedure: chance an answer about it is found useful
    department_score: dict[str, float]
    department_wait: dict[str, float]  # minutes, median wait for an agent

    @classmethod
    def draw(cls, rng: np.random.Generator, catalogue: Catalogue) -> "Traits":
        count = len(catalogue.ids)
        requestable = catalogue.requestable
        order = rng.permutation(len(requestable))
        bad = set(requestable[order[: max(1, round(len(requestable) * 0.3))]].tolist())
        middling = set(requestable[order[len(bad) : len(bad) + len(requestable) // 5]].tolist())
        score = np.full(count, 4.45)
        slowness = np.full(count, 0.55)
        reject = np.full(count, 0.06)
        reopen = np.full(count, 0.025)
        for index in bad:
            score[index], slowness[index], reject[index], reopen[index] = 2.8, 1.7, 0.12, 0.1
        for index in middling:
            score[index], slowness[index] = 3.7, 1.0
        weight = rng.lognormal(0, 1.0, count)
        departments = catalogue.departments
        return cls(
            info_weight=weight / weight.sum(),
            request_weight=_normal(rng.lognormal(0, 0.8, len(requestable))),
            score_mean=score + rng.normal(0, 0.12, count),
            slowness=slowness * rng.uniform(0.85, 1.15, count),
            reject=reject,
            reopen=reopen,
            useful=rng.uniform(0.5, 0.92, count),
            department_score={d: float(rng.uniform(3.5, 4.6)) for d in departments},
            department_wait={d: float(rng.uniform(2.5, 14)) for d in departments},
        )


def _normal(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum()


@dataclass
class Conversations:
    """What each generated conversation did last, kept as arrays (a few bytes per chat)."""

    last_at: np.ndarray
    session: np.ndarray
    procedure: np.ndarray

    @classmethod
    def empty(cls, count: int) -> "Conversations":
        return cls(
            np.full(count, -1, dtype=np.int64),
            np.zeros(count, dtype=np.int64),
            np.full(count, -1, dtype=np.int64),
        )

    def saw(
        self, index: np.ndarray, last_at: np.ndarray, session: np.ndarray, procedure: np.ndarray
    ) -> None:
        order = np.lexsort((last_at, index))
        index, last_at = index[order], last_at[order]
        final = np.r_[index[1:] != index[:-1], True]  # the latest of each conversation
        index, last_at = index[final], last_at[final]
        newer = last_at > self.last_at[index]
        chosen = order[final][newer]
        self.last_at[index[newer]] = last_at[newer]
        self.session[index[newer]] = session[chosen]
        self.procedure[index[newer]] = procedure[chosen]


@dataclass
class World:
    rng: np.random.Generator
    pick: random.Random
    settings: Settings
    timeline: Timeline
    people: People
    catalogue: Catalogue
    traits: Traits
    writer: Writer
    agents: dict[str | None, list[int]]  # department (None: front desk) -> staff ids
    dimensions: set[int]  # procedures whose surveys ask the extra dimensions
    next_id: dict[str, int]
    conversations: Conversations
    ratings_left: int
    folios: dict[int, int] = field(default_factory=dict)  # year -> last number
    # Conversations with a handoff open now (state "handoff").
    open_handoffs: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))

    def ids(self, table: str, count: int) -> np.ndarray:
        first = self.next_id[table]
        self.next_id[table] = first + count
        return np.arange(first, first + count, dtype=np.int64)

    def agent(self, department: str | None) -> int:
        return self.pick.choice(self.agents.get(department) or self.agents[None])

    def procedure_ids(self, index: np.ndarray) -> list[str | None]:
        ids = self.catalogue.ids
        return [ids[i] if i >= 0 else None for i in index.tolist()]

    def channels(self, channel: np.ndarray) -> list[str]:
        from ventanilla.demo.people import CHANNELS

        return [CHANNELS[c] for c in channel.tolist()]

    # --- surveys -------------------------------------------------------------------------

    async def surveys(
        self,
        asked: np.ndarray,
        channel: np.ndarray,
        mean: np.ndarray,
        conversation: np.ndarray,
        subject: str,
        subject_ids: np.ndarray,
        procedure: np.ndarray,
        department: list[str | None],
    ) -> None:
        """Rating rows asked at `asked`: about half answered (more on WhatsApp), some after
        the one reminder, none after the survey expired; scores around `mean`; comments
        mostly from the unhappy; extra dimensions where switched on."""
        rng, now, count = self.rng, self.timeline.now, len(asked)
        reminder = int(self.settings.evaluation.survey_reminder_hours * HOUR)
        expiry = asked + self.settings.evaluation.survey_days * 24 * HOUR
        will = rng.random(count) < np.array([0.6, 0.36, 0.5])[channel]
        delay = (rng.lognormal(np.log(25), 1.7, count) * MINUTE).astype(np.int64)
        late = (delay > reminder) & (reminder > 0)
        reminded = np.where(late | ~will, asked + reminder, -1)
        sent = (reminded >= 0) & (reminded < np.minimum(now, expiry)) & (reminder > 0)
        reminded = np.where(sent, reminded, -1)
        after = reminded + (rng.lognormal(np.log(90), 1.2, count) * MINUTE).astype(np.int64)
        answered_at = np.where(late, after, asked + delay)
        answered = will & (answered_at < now) & (answered_at <= expiry) & ~(late & (reminded < 0))
        score = np.clip(np.rint(mean + rng.normal(0, 0.95, count)), 1, 5).astype(np.int64)
        ids = self.ids("ratings", count)
        comments: list[str | None] = []
        for has, value in zip(answered.tolist(), score.tolist(), strict=True):
            chance = 0.45 if value <= 2 else 0.2 if value == 3 else 0.1
            if not has or self.pick.random() >= chance:
                comments.append(None)
            else:
                pool = (
                    words.COMMENTS_BAD
                    if value <= 2
                    else words.COMMENTS_MIDDLE
                    if value == 3
                    else words.COMMENTS_GOOD
                )
                comments.append(self.pick.choice(pool))
        citizens = self.people.citizen_id(conversation)
        request_ids = subject_ids if subject == "request" else np.full(count, -1)
        handoff_ids = subject_ids if subject == "handoff" else np.full(count, -1)
        await self.writer.write(
            Rows(
                "ratings",
                {
                    "id": ids.tolist(),
                    "subject": [subject] * count,
                    "request_id": nullable(request_ids, request_ids > 0),
                    "handoff_id": nullable(handoff_ids, handoff_ids > 0),
                    "conversation_id": (conversation + self.people.conversation_base + 1).tolist(),
                    "citizen_id": nullable(citizens, citizens > 0),
                    "procedure_id": self.procedure_ids(procedure),
                    "department_id": department,
                    "channel": self.channels(channel),
                    "score": nullable(score, answered),
                    "comment": comments,
                    "asked_at": asked.tolist(),
                    "answered_at": nullable(answered_at, answered),
                    "reminded_at": nullable(reminded, reminded >= 0),
                },
                times=("asked_at", "answered_at", "reminded_at"),
            )
        )
        self.ratings_left -= count
        with_dimensions = answered & np.isin(procedure, list(self.dimensions))
        if with_dimensions.any():
            await self._dimension_scores(ids[with_dimensions], score[with_dimensions])

    async def _dimension_scores(self, ratings: np.ndarray, scores: np.ndarray) -> None:
        columns: dict[str, list[object]] = {"rating_id": [], "dimension": [], "score": []}
        for rating, score in zip(ratings.tolist(), scores.tolist(), strict=True):
            for bias, dimension in zip((-0.4, 0.3, 0.0), words.DIMENSIONS, strict=True):
                if self.pick.random() < 0.93:
                    value = round(score + bias + self.pick.gauss(0, 0.7))
                    columns["rating_id"].append(rating)
                    columns["dimension"].append(dimension)
                    columns["score"].append(min(5, max(1, value)))
        await self.writer.write(Rows("rating_dimension_scores", columns))


def nullable(values: np.ndarray, present: np.ndarray) -> list[object]:
    """The values as a list, None where not `present`."""
    out: list[object] = values.tolist()
    for index in np.flatnonzero(~present).tolist():
        out[index] = None
    return out
