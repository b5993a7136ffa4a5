"""Measuring an understander on a labelled CSV (`text,intent,procedure,aspect`).

The report follows Rasa's intent_report.json for intents (per-intent precision, recall,
f1-score, support, confused_with, plus accuracy and macro/weighted averages) and adds
procedure accuracy, aspect accuracy, out_of_scope precision/recall, confident wrong answers,
answers sent to confirmation and latency. `aspect` may hold several aspects in the order
asked (`requirements|cost`): a row counts as right only when every aspect is found, in that
order.
"""

import csv
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklearn.metrics import classification_report

from nlu.understanding import Context, Understander

HEADER = ["text", "intent", "procedure", "aspect"]
SEVERAL = "|"  # "requirements|cost": several aspects, in the order asked
ANSWERS = ("ask_procedure", "open_request")  # intents answered with a catalogue procedure


class EvaluationDataError(ValueError):
    pass


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    procedure: str | None
    aspect: str | None  # several joined by SEVERAL, in the order asked

    @property
    def aspects(self) -> tuple[str, ...]:
        return tuple(self.aspect.split(SEVERAL)) if self.aspect else ()


def read_examples(path: Path) -> list[Example]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != HEADER:
            raise EvaluationDataError(f"{path.name}: la cabecera debe ser {','.join(HEADER)}")
        return [
            Example(
                row["text"],
                row["intent"].strip(),
                row["procedure"].strip() or None,
                SEVERAL.join(a.strip() for a in row["aspect"].split(SEVERAL) if a.strip()) or None,
            )
            for row in reader
        ]


def _ratio(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index], 3)


def evaluate(understander: Understander, examples: Sequence[Example]) -> dict[str, Any]:
    predicted: list[tuple[str, str | None, str | None]] = []
    confirmed: list[bool] = []
    latencies: list[float] = []
    for example in examples:
        started = time.perf_counter()
        result = understander.understand(example.text, Context())
        latencies.append((time.perf_counter() - started) * 1000)
        aspects = result.aspects or ((result.aspect,) if result.aspect else ())
        predicted.append((result.intent, result.procedure_id, SEVERAL.join(aspects) or None))
        confirmed.append(bool(result.procedure_id) and result.confirm)

    gold_intents = [e.intent for e in examples]
    predicted_intents = [p[0] for p in predicted]
    report: dict[str, Any] = classification_report(
        gold_intents, predicted_intents, output_dict=True, zero_division=0
    )
    confusions: dict[str, Counter[str]] = {}
    for gold, guess in zip(gold_intents, predicted_intents, strict=True):
        if gold != guess:
            confusions.setdefault(gold, Counter())[guess] += 1
    intents = {
        name: {**values, "confused_with": dict(confusions.get(name, Counter()).most_common())}
        for name, values in report.items()
        if isinstance(values, dict) and name not in ("macro avg", "weighted avg")
    }
    with_procedure = [(e, p) for e, p in zip(examples, predicted, strict=True) if e.procedure]
    asked = [
        (e, p) for e, p in zip(examples, predicted, strict=True) if e.intent == "ask_procedure"
    ]
    several = [(e, p) for e, p in asked if len(e.aspects) > 1]
    rows = list(zip(examples, predicted, confirmed, strict=True))
    outside = [(p, c) for e, p, c in rows if e.intent == "out_of_scope"]
    # an out-of-scope message answered with a catalogue procedure, without asking first
    # whether that procedure is meant: worse than no answer
    wrong = sum(p[0] in ANSWERS and p[1] is not None and not c for p, c in outside)
    sure = [(e, p) for e, p, c in rows if e.procedure and not c]
    oos = intents.get("out_of_scope", {})
    return {
        "examples": len(examples),
        "intent": {
            "accuracy": round(report["accuracy"], 4),
            "macro_f1": round(report["macro avg"]["f1-score"], 4),
            "report": {
                **intents,
                "accuracy": report["accuracy"],
                "macro avg": report["macro avg"],
                "weighted avg": report["weighted avg"],
            },
        },
        "procedure_accuracy": _ratio(
            sum(e.procedure == p[1] for e, p in with_procedure), len(with_procedure)
        ),
        "procedure_rows": len(with_procedure),
        # right without asking to confirm: a confirmed right answer costs the citizen a turn
        "procedure_accuracy_unconfirmed": _ratio(
            sum(e.procedure == p[1] for e, p in sure), len(with_procedure)
        ),
        "confirm": {
            "rows": sum(confirmed),
            "share": _ratio(sum(confirmed), len(examples)),
            "right": sum(c and e.procedure == p[1] for e, p, c in rows if e.procedure),
            "out_of_scope": sum(c for _, c in outside),
        },
        "aspect_accuracy": _ratio(sum(e.aspect == p[2] for e, p in asked), len(asked)),
        "aspect_rows": len(asked),
        "multi_aspect_accuracy": _ratio(sum(e.aspect == p[2] for e, p in several), len(several)),
        "multi_aspect_rows": len(several),
        "confident_wrong": {
            "count": wrong,
            "out_of_scope_rows": len(outside),
            "share": _ratio(wrong, len(outside)),
        },
        "out_of_scope": {
            "precision": round(oos.get("precision", 0.0), 4),
            "recall": round(oos.get("recall", 0.0), 4),
        },
        "latency_ms": {"p50": _percentile(latencies, 0.5), "p99": _percentile(latencies, 0.99)},
        "errors": [
            {
                "text": e.text,
                "gold": [e.intent, e.procedure, e.aspect],
                "predicted": list(p),
                "confirm": c,
            }
            for e, p, c in rows
            if (e.intent, e.procedure, e.aspect) != p
        ],
    }
