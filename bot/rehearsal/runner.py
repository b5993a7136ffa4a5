"""Running conversation files: each case on a fresh database, driving the real engine.

A template SQLite database per catalogue (migrated, catalogue loaded, the setups' agent added)
is built once in a temporary folder and copied for every case; the understanding model is
built once per catalogue and shared by the cases' engines. Everything runs on the file's
fixed clock.
"""

import re
import shutil
import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine import Engine
from bot.rehearsal import setup
from bot.rehearsal.checks import Observed, Reply, check, fold
from bot.rehearsal.script import PLACEHOLDER, Case, Script, ScriptError, Step, load
from casework.citizens.service import identity_at
from casework.conversations.models import Conversation
from casework.handoffs.service import open_for
from casework.requests.models import Request
from casework.schema import upgrade
from catalog.service import get_procedure
from catalog.transfer import load_catalog_file
from catalog.validate import CatalogError
from foundation import texts
from foundation.db import Database, fixed_clock
from foundation.messages import Inbound, Location
from foundation.settings import Settings, amended
from nlu import factory
from nlu.understanding import ProcedureEntry, Understander


@dataclass(frozen=True)
class Failure:
    assertion: str  # as written in the file
    problem: str  # what was found instead


@dataclass
class CaseResult:
    file: str
    case: str
    turn: int | None = None  # the failing turn, counting from 1
    text: str | None = None  # what the citizen sent in it
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None  # the case could not run to the end (a bug, a crash)
    state: str | None = None
    slots: dict[str, Any] | None = None
    replies: list[Reply] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None


class SharedModel:
    """Builds the understanding model once for a catalogue's procedures and hands the same
    model to every engine given the same procedures (use one per set of NLU settings)."""

    def __init__(self) -> None:
        self._built: list[tuple[list[ProcedureEntry], Understander]] = []

    def __call__(self, settings: Settings, entries: Sequence[ProcedureEntry]) -> Understander:
        for known, model in self._built:
            if known == list(entries):
                return model
        model = factory.build(settings, entries)
        self._built.append((list(entries), model))
        return model


def load_all(paths: Sequence[Path], catalog: Path | None = None) -> list[Script]:
    """Every file loaded, or ScriptError with the problems of all of them."""
    scripts, problems = [], []
    for path in paths:
        try:
            scripts.append(load(path, catalog))
        except ScriptError as exc:
            problems += exc.problems
    if problems:
        raise ScriptError(problems)
    return scripts


class Rehearsal:
    """The template databases and models the cases of several files share, in `folder`."""

    def __init__(self, settings: Settings, folder: Path, model: SharedModel | None = None) -> None:
        self.settings = settings
        self.folder = folder
        self.model = model or SharedModel()
        self._templates: dict[tuple[Path, datetime], Path] = {}

    async def prepare(self, scripts: Sequence[Script]) -> None:
        """Build the templates the scripts need; ScriptError when a catalogue, or a
        procedure a setup names, is not usable."""
        problems = []
        for script in scripts:
            key = _template_key(script)
            if key not in self._templates:
                path = self.folder / f"plantilla-{len(self._templates)}.db"
                await _template(script, path)
                self._templates[key] = path
            problems += await _check_setups(script, self._templates[key])
        if problems:
            raise ScriptError(problems)

    async def run_case(self, script: Script, case: Case) -> CaseResult:
        """One case on a copy of its template (`prepare` first)."""
        place = Path(tempfile.mkdtemp(prefix="caso-", dir=self.folder))
        try:
            copy = place / "ventanilla.db"
            shutil.copyfile(self._templates[_template_key(script)], copy)
            return await _run_case(script, case, copy, self.settings, self.model)
        finally:
            shutil.rmtree(place)


async def run(
    paths: Sequence[Path],
    settings: Settings,
    catalog: Path | None = None,
    model: SharedModel | None = None,
) -> list[CaseResult]:
    """Every case of every file, in order. ScriptError (nothing run) when a file, its
    catalogue or a setup's procedure is not usable."""
    scripts = load_all(paths, catalog)
    with tempfile.TemporaryDirectory(prefix="ventanilla-conversaciones-") as folder:
        rehearsal = Rehearsal(settings, Path(folder), model)
        await rehearsal.prepare(scripts)
        return [await rehearsal.run_case(s, case) for s in scripts for case in s.cases]


def _template_key(script: Script) -> tuple[Path, datetime]:
    return script.catalog.resolve(), script.now


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def _template(script: Script, path: Path) -> None:
    """Migrated, the catalogue loaded and the setups' agent added, on the script's clock."""
    db = Database(_url(path))
    try:
        with fixed_clock(script.now):
            await upgrade(db)
            try:
                await load_catalog_file(db, script.catalog)
            except CatalogError as exc:
                heading = texts.t(
                    "rehearsal.catalog_problem", file=script.path, catalog=script.catalog
                )
                raise ScriptError([heading, *exc.problems]) from None
            async with db.transaction() as session:
                await setup.add_staff(session)
        await db.scrub()  # everything in the one file that is copied
    finally:
        await db.dispose()


async def _check_setups(script: Script, template: Path) -> list[str]:
    """Every procedure a setup opens a request of exists and takes requests."""
    problems = []
    db = Database(_url(template))
    try:
        async with db.transaction() as session:
            for case in script.cases:
                for procedure_id in case.setup.procedures():
                    procedure = await get_procedure(session, procedure_id)
                    if procedure is None:
                        problem = texts.t(
                            "rehearsal.errors.unknown_procedure", procedure=procedure_id
                        )
                    elif not procedure.request_enabled:
                        problem = texts.t(
                            "rehearsal.errors.not_requestable", procedure=procedure_id
                        )
                    else:
                        continue
                    where = texts.t("rehearsal.in_case", case=case.test_case, path="setup")
                    problems.append(
                        texts.t("rehearsal.where", file=script.path, where=where, problem=problem)
                    )
    finally:
        await db.dispose()
    return problems


async def _run_case(
    script: Script, case: Case, path: Path, settings: Settings, model: SharedModel
) -> CaseResult:
    result = CaseResult(file=str(script.path), case=case.test_case)
    db = Database(_url(path))
    # No «¿Te sirvió esta respuesta?» after answers: it is asked at random, and runs repeat.
    quiet = amended(settings, database_url=db.url, evaluation={"usefulness_rate": 0.0})
    engine = Engine(db, quiet, model)
    try:
        with fixed_clock(script.now):
            async with db.transaction() as session:
                prepared = await setup.apply(session, engine.settings, case)
                choices = await _offered(session, case.channel)
            for turn, step in enumerate(case.steps, start=1):
                result.turn, result.text = turn, step.shown()
                picked = None
                if step.user_choice is not None:
                    picked = _pick(step.user_choice, choices)
                    if picked is None:
                        labels = ", ".join(c["label"] for c in choices) or "—"
                        unpicked = texts.t(
                            "rehearsal.checks.no_choice_to_pick",
                            text=step.user_choice,
                            labels=labels,
                        )
                        result.failures.append(
                            Failure(f"user_choice: {step.user_choice}", unpicked)
                        )
                        break
                inbound = _inbound(step, case.channel, prepared, picked)
                replies = tuple(
                    Reply(item.text, tuple(item.choices)) for item in await engine.handle(inbound)
                )
                if replies:
                    choices = replies[-1].choices
                seen = await _observe(db, case.channel, replies, prepared.last_request_id)
                result.state, result.slots, result.replies = seen.state, seen.slots, list(replies)
                for assertion in step.assertions:
                    problem = check(assertion, seen)
                    if problem is not None:
                        result.failures.append(Failure(assertion.describe(), problem))
                if result.failures:
                    break
    except Exception as exc:  # a crash fails this case only; the others still run
        result.error = "".join(traceback.format_exception_only(exc)).strip()
    finally:
        await db.dispose()
    if result.passed:
        result.turn = result.text = result.state = result.slots = None
        result.replies = []
    return result


async def _offered(session: AsyncSession, channel: str) -> tuple[dict[str, str], ...]:
    """The choices the chat was last offered (a survey asked in the setup)."""
    identity = await identity_at(session, channel, setup.CHAT)
    if identity is None:
        return ()
    conversation = await session.scalar(
        select(Conversation).where(Conversation.identity_id == identity.id)
    )
    return tuple(conversation.slots.get("choices") or ()) if conversation else ()


def _pick(wanted: str, choices: tuple[dict[str, str], ...]) -> str | None:
    """The value of the first offered choice whose label contains `wanted`."""
    for choice in choices:
        if fold(wanted) in fold(choice["label"]):
            return choice["value"]
    return None


def _inbound(step: Step, channel: str, prepared: setup.Prepared, picked: str | None) -> Inbound:
    """The message the step sends; a picked choice goes as its value, like a button press."""
    if step.user_photo is not None:
        return Inbound(channel, setup.CHAT, kind="photo", media=step.user_photo)
    if step.user_location is not None:
        where = step.user_location
        place = Location(where.latitude, where.longitude, where.address)
        return Inbound(channel, setup.CHAT, kind="location", location=place)
    if picked is not None:
        return Inbound(channel, setup.CHAT, text=picked)
    return Inbound(channel, setup.CHAT, text=_filled(step.user or "", prepared))


def _filled(text: str, prepared: setup.Prepared) -> str:
    """`{folio}`, `{folio2}`... and `{other_folio}` replaced by the setup's folios."""

    def folio(found: re.Match[str]) -> str:
        name = found.group(1)
        if name == "other_folio":
            return prepared.other_folio or found.group(0)
        return prepared.folios[int(name.removeprefix("folio") or 1) - 1]

    return PLACEHOLDER.sub(folio, text)


async def _observe(
    db: Database, channel: str, replies: tuple[Reply, ...], setup_upto: int
) -> Observed:
    async with db.transaction() as session:
        identity = await identity_at(session, channel, setup.CHAT)
        assert identity is not None  # the engine created it on the first message
        conversation = await session.scalar(
            select(Conversation).where(Conversation.identity_id == identity.id)
        )
        assert conversation is not None
        opened = await session.scalars(
            select(Request).where(Request.id > setup_upto).order_by(Request.id)
        )
        return Observed(
            state=conversation.state,
            slots=dict(conversation.slots or {}),
            replies=replies,
            opened=tuple(opened),
            handoff_open=await open_for(session, conversation.id) is not None,
        )
