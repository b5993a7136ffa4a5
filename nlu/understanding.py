"""The contract between the dialogue engine and any understanding backend."""

from dataclasses import dataclass, field
from typing import Protocol

# The parts of a catalogue entry a citizen can ask about (re-exported: part of the contract).
from catalog.schema import ASPECTS as ASPECTS

INTENTS = (
    "greet",
    "goodbye",
    "thanks",
    "help",
    "affirm",
    "deny",
    "ask_procedure",
    "open_request",
    "request_status",
    "rate_service",
    "human_agent",
    "my_data",
    "out_of_scope",
)


@dataclass(frozen=True)
class ProcedureEntry:
    """What understanding needs to know of one catalogue procedure."""

    id: str
    name: str
    synonyms: tuple[str, ...] = ()
    description: str = ""
    requirements: tuple[str, ...] = ()
    takes_requests: bool = False


@dataclass(frozen=True)
class Candidate:
    procedure_id: str
    score: float


@dataclass(frozen=True)
class Context:
    """What the conversation knows before this message."""

    last_procedure_id: str | None = None
    state: str = "idle"


@dataclass(frozen=True)
class Understanding:
    intent: str
    procedure_id: str | None = None
    aspect: str | None = None
    confidence: float = 0.0
    entities: dict[str, str] = field(default_factory=dict)
    candidates: tuple[Candidate, ...] = ()
    # Every aspect asked, in the order asked ("requisitos y cuánto cuesta"); `aspect` is the
    # first of them. A backend that finds one aspect may leave this empty.
    aspects: tuple[str, ...] = ()
    # Plausible but not certain: the message shares words with `procedure_id` but does not
    # say enough of it. The dialogue should ask "¿Te refieres a <procedure>?" before
    # answering; an answer without it is one the understander stands by.
    confirm: bool = False

    def __post_init__(self) -> None:
        if self.aspect and not self.aspects:
            object.__setattr__(self, "aspects", (self.aspect,))


class Understander(Protocol):
    def understand(self, text: str, context: Context) -> Understanding: ...
