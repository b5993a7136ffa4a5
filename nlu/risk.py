"""How likely an answer the understander would give outright is wrong.

Each rule of the pipeline sees one sign of a wrong match; the signs together say more. A
small logistic model over catalogue-independent measures of the match (its score, its lead
over the next procedure, how much of the message the entry explains, how much of what sets
the procedure apart is said, whether the message is most specifically about something no
entry speaks of, and the intent classifier's belief that the message is out of scope)
turns them into one probability. Above `threshold`, the dialogue asks "¿Te refieres a…?"
instead of answering: a confirmation costs a right answer one turn, a wrong answer costs
the citizen trust.

The weights live in `nlu/data/answer_risk.json` and are fitted with `ventanilla nlu
calibrate` on labelled sets of several catalogues (only the answers the rules would give
outright are fitted). Measured across catalogues (fitted on one, tried on the other), the
shipped threshold sends to confirmation about half the wrong answers and two thirds of the
out-of-scope ones for about 4% of the right ones.
"""

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

FEATURES = ("score", "margin", "explained", "distinctive", "focus_elsewhere", "out_of_scope")
DEFAULT_PATH = Path(__file__).parent / "data" / "answer_risk.json"
THRESHOLD = 0.8  # fitted weights with classes balanced: a high bar


@dataclass(frozen=True)
class Signs:
    """What the risk is read from, each in [0, 1]."""

    score: float  # the best match's score
    margin: float  # its lead over the runner-up
    explained: float  # the share of the message's weight the entry explains
    distinctive: float  # the share of one of its titles' weight the message says
    focus_elsewhere: float  # 1 when the message's rarest word is one no entry uses
    out_of_scope: float  # the intent classifier's probability of out_of_scope

    def vector(self) -> list[float]:
        return [getattr(self, name) for name in FEATURES]


@dataclass(frozen=True)
class AnswerRisk:
    weights: tuple[float, ...]
    intercept: float
    threshold: float = THRESHOLD

    def probability(self, signs: Signs) -> float:
        z = self.intercept + sum(w * x for w, x in zip(self.weights, signs.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    def too_risky(self, signs: Signs) -> bool:
        return self.probability(signs) >= self.threshold

    def save(self, path: Path) -> None:
        data = {"features": list(FEATURES), **asdict(self)}
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def load(path: Path = DEFAULT_PATH) -> AnswerRisk:
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("features") != list(FEATURES):
        raise ValueError(f"{path.name}: features {data.get('features')} != {list(FEATURES)}")
    return AnswerRisk(tuple(data["weights"]), data["intercept"], data["threshold"])


def fit(signs: Sequence[Signs], wrong: Sequence[bool], threshold: float = THRESHOLD) -> AnswerRisk:
    """Weights that tell wrong answers from right ones, classes weighed equally (wrong
    answers are few)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(class_weight="balanced", max_iter=1000)
    model.fit([s.vector() for s in signs], list(wrong))
    return AnswerRisk(
        tuple(round(float(w), 4) for w in model.coef_[0]),
        round(float(model.intercept_[0]), 4),
        threshold,
    )
