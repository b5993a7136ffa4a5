"""Understanding citizens' Spanish: intents, catalogue procedures, aspects and entities."""

from nlu.understanding import (
    ASPECTS,
    INTENTS,
    Candidate,
    Context,
    ProcedureEntry,
    Understander,
    Understanding,
)

__all__ = [
    "ASPECTS",
    "INTENTS",
    "Candidate",
    "Context",
    "ProcedureEntry",
    "Understander",
    "Understanding",
]
