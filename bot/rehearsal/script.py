"""The conversation test file: its shape (pydantic, unknown keys refused) and loading it.

The shape of Rasa's end-to-end test cases: `test_cases:`, each with `steps:` of one citizen
message and the `assertions:` checked after it. Every problem is reported in Spanish with the
file, the case and the key, and nothing runs until every file is sound.
"""

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationError,
    model_validator,
)

from bot.channels.registry import NAMES as CHANNELS
from casework.citizens.service import check_curp
from foundation import texts

DEFAULT_NOW = "2026-03-10T11:00:00-06:00"  # a Tuesday morning: offices open
# `{folio}` is the first setup request's folio, `{folio2}` the second's, `{other_folio}` the
# other person's.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
FOLIO_PLACEHOLDER = re.compile(r"folio(\d*)")


class ScriptError(Exception):
    """A conversation file that cannot be run; `problems` holds one Spanish line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _valid_curp(value: str) -> str:
    checked = check_curp(value)
    if checked.problem is not None:
        raise ValueError(texts.t("rehearsal.errors.bad_curp", curp=value))
    return checked.curp


def _valid_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(texts.t("rehearsal.errors.bad_regex", error=exc)) from exc
    return value


def _registered_channel(value: str) -> str:
    if value not in CHANNELS:
        expected = ", ".join(repr(name) for name in CHANNELS[:-1]) + f" or {CHANNELS[-1]!r}"
        raise ValueError(texts.t("rehearsal.errors.literal_error", expected=expected))
    return value


Curp = Annotated[str, AfterValidator(_valid_curp)]
Regex = Annotated[str, AfterValidator(_valid_regex)]
Channel = Annotated[str, AfterValidator(_registered_channel)]  # a registered channel's name
NonEmpty = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def _exactly_one(self, *keys: str) -> None:
        if len(self.model_fields_set & set(keys)) != 1:
            raise ValueError(texts.t("rehearsal.errors.one_of", keys=", ".join(keys)))


# --- setup ---------------------------------------------------------------------------------


class RequestSetup(_Strict):
    procedure: NonEmpty
    status: Literal["received", "in_progress", "resolved", "rejected"] = "received"


class LinkedElsewhere(_Strict):
    curp: Curp
    channel: Channel


class Setup(_Strict):
    consented: bool = False
    curp: Curp | None = None
    requests: list[RequestSetup] = []
    other_person_request: NonEmpty | None = None
    survey: NonEmpty | None = None
    linked_elsewhere: LinkedElsewhere | None = None

    def procedures(self) -> list[str]:
        """Every procedure the setup opens a request of."""
        named = [r.procedure for r in self.requests] + [self.other_person_request, self.survey]
        return [p for p in named if p]


# --- steps ---------------------------------------------------------------------------------


class LocationSent(_Strict):
    latitude: float
    longitude: float
    address: str = ""


class SlotName(_Strict):
    name: NonEmpty


class SlotValue(_Strict):
    name: NonEmpty
    value: Any = None
    contains: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        self._exactly_one("value", "contains")
        return self


class Uttered(_Strict):
    text_contains: str | None = None
    text_matches: Regex | None = None
    choice: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        self._exactly_one("text_contains", "text_matches", "choice")
        return self


class NotUttered(_Strict):
    text_contains: str | None = None
    text_matches: Regex | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        self._exactly_one("text_contains", "text_matches")
        return self


class RequestExpected(_Strict):
    procedure: str | None = None
    description_contains: str | None = None
    address_contains: str | None = None
    has_photo: bool | None = None
    has_coordinates: bool | None = None


ASSERTION_KEYS = (
    "state",
    "slot_was_set",
    "slot_was_not_set",
    "bot_uttered",
    "bot_did_not_utter",
    "requests_opened",
    "request_opened",
    "folio_given",
    "handoff_opened",
)


class Assertion(_Strict):
    """One item of `assertions:`, a mapping of exactly one key."""

    state: NonEmpty | None = None
    slot_was_set: SlotValue | None = None
    slot_was_not_set: SlotName | None = None
    bot_uttered: Uttered | None = None
    bot_did_not_utter: NotUttered | None = None
    requests_opened: NonNegativeInt | None = None
    request_opened: RequestExpected | None = None
    folio_given: bool | None = None
    handoff_opened: bool | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        self._exactly_one(*ASSERTION_KEYS)
        return self

    @property
    def kind(self) -> str:
        [key] = self.model_fields_set
        return key

    @property
    def expected(self) -> Any:
        return getattr(self, self.kind)

    def describe(self) -> str:
        """As written in the file, e.g. `state: idle` or `bot_uttered: {text_contains: $85}`."""
        value = self.expected
        if isinstance(value, BaseModel):
            value = value.model_dump(exclude_unset=True)
        shown = yaml.safe_dump(
            value, allow_unicode=True, default_flow_style=True, sort_keys=False, width=1000
        )
        return f"{self.kind}: {shown.strip().removesuffix('...').strip()}"


class Step(_Strict):
    user: str | None = None
    user_choice: NonEmpty | None = None
    user_photo: NonEmpty | None = None
    user_location: LocationSent | None = None
    assertions: list[Assertion] = []

    @model_validator(mode="after")
    def _one(self) -> Self:
        self._exactly_one("user", "user_choice", "user_photo", "user_location")
        return self

    def shown(self) -> str:
        """What the citizen sent, for the report."""
        if self.user_choice is not None:
            return f"[opción] {self.user_choice}"
        if self.user_photo is not None:
            return f"[foto] {self.user_photo}"
        if self.user_location is not None:
            where = self.user_location
            return f"[ubicación] {where.latitude}, {where.longitude} {where.address}".strip()
        return self.user or ""


class Case(_Strict):
    test_case: NonEmpty
    description: str = ""
    channel: Channel = "web"
    setup: Setup = Setup()
    steps: Annotated[list[Step], Field(min_length=1)]

    def placeholder_problems(self) -> list[tuple[str, str]]:
        """(where, problem) for every placeholder of a citizen text the setup cannot fill."""
        problems = []
        for n, step in enumerate(self.steps, start=1):
            for name in PLACEHOLDER.findall(step.user or ""):
                problem = self._placeholder_problem(name)
                if problem is not None:
                    problems.append((f"steps[{n}].user", problem))
        return problems

    def _placeholder_problem(self, name: str) -> str | None:
        if name == "other_folio":
            if self.setup.other_person_request is None:
                return texts.t("rehearsal.errors.placeholder_without_other")
            return None
        found = FOLIO_PLACEHOLDER.fullmatch(name)
        if found is None:
            return texts.t("rehearsal.errors.unknown_placeholder", placeholder="{" + name + "}")
        count = int(found.group(1) or 1)
        if count < 1 or len(self.setup.requests) < count:
            return texts.t(
                "rehearsal.errors.placeholder_without_request",
                placeholder="{" + name + "}",
                count=count,
            )
        return None


class ScriptFile(_Strict):
    catalog: NonEmpty | None = None
    now: AwareDatetime = datetime.fromisoformat(DEFAULT_NOW)
    faq: NonEmpty | None = None
    test_cases: Annotated[list[Case], Field(min_length=1)]


# --- loading -------------------------------------------------------------------------------


class Script:
    """A loaded conversation file: its cases, the catalogue they run on and their clock."""

    def __init__(self, path: Path, catalog: Path, now: datetime, cases: list[Case]) -> None:
        self.path, self.catalog, self.now, self.cases = path, catalog, now, cases


def load(path: Path, catalog: Path | None = None) -> Script:
    """Read and check `path`; `catalog` (the --catalog option) overrides the file's own.
    ScriptError lists every problem found."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError:
        raise ScriptError([_line(path, texts.t("rehearsal.errors.not_found"))]) from None
    except yaml.YAMLError as exc:
        problem = texts.t("rehearsal.errors.not_yaml", error=exc)
        raise ScriptError([_line(path, problem)]) from None
    try:
        parsed = ScriptFile.model_validate(data)
    except ValidationError as exc:
        raise ScriptError([_problem(path, data, error) for error in exc.errors()]) from None
    problems = []
    if parsed.faq is not None:
        problems.append(texts.t("rehearsal.faq_not_supported", file=path))
    if catalog is None and parsed.catalog is None:
        problems.append(_line(path, texts.t("rehearsal.errors.no_catalog")))
    for case in parsed.test_cases:
        for path_in_case, problem in case.placeholder_problems():
            where = texts.t("rehearsal.in_case", case=case.test_case, path=path_in_case)
            problems.append(texts.t("rehearsal.where", file=path, where=where, problem=problem))
    names = [case.test_case for case in parsed.test_cases]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(_line(path, texts.t("rehearsal.errors.repeated_case", case=name)))
    if problems:
        raise ScriptError(problems)
    chosen = catalog or path.parent / str(parsed.catalog)
    return Script(path, chosen, parsed.now, parsed.test_cases)


def _line(path: Path, problem: str) -> str:
    return f"{path}: {problem}"


def _problem(path: Path, data: Any, error: Any) -> str:
    """One pydantic error as a Spanish line naming the file, the case and the key."""
    loc = list(error["loc"])
    where = _path(loc)
    if len(loc) >= 2 and loc[0] == "test_cases" and isinstance(loc[1], int):
        where = texts.t(
            "rehearsal.in_case", case=_case_name(data, loc[1]), path=_path(loc[2:]) or "—"
        )
    return texts.t("rehearsal.where", file=path, where=where or "—", problem=_message(error))


def _case_name(data: Any, index: int) -> str:
    try:
        return str(data["test_cases"][index]["test_case"])
    except (KeyError, IndexError, TypeError):
        return f"#{index + 1}"


def _path(loc: list[Any]) -> str:
    """`steps[2].assertions[1].bot_uttered`, counting from 1 as people do."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        elif not _is_union_tag(part):
            text += f".{part}" if text else str(part)
    return text


def _is_union_tag(part: str) -> bool:
    """Pydantic names the member of an optional field it tried (`str`, `function-after[...]`);
    not a key of the file."""
    return part in ("str", "int", "float", "bool") or "[" in part


def _message(error: Any) -> str:
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind == "value_error":
        return str(context.get("error", error["msg"]))
    try:
        return texts.t(f"rehearsal.errors.{kind}", **context)
    except KeyError:
        return texts.t("rehearsal.errors.other", message=error["msg"])
