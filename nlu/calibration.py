"""Fitting the answer-risk model (nlu/risk.py) on labelled sets of several catalogues."""

from collections.abc import Sequence
from pathlib import Path

from nlu.entries import entries_from_catalog
from nlu.evaluate import ANSWERS, read_examples
from nlu.pipeline import DefaultUnderstander
from nlu.risk import AnswerRisk, Signs, fit
from nlu.training import TrainingData
from nlu.understanding import Context


class CalibrationError(ValueError):
    pass


def outright_answers(
    catalog: Path, examples_path: Path, data: TrainingData
) -> tuple[list[Signs], list[bool]]:
    """The signs of every answer the rules alone would give without asking to confirm, and
    whether each is wrong (another procedure, or none: out of scope)."""
    understander = DefaultUnderstander(entries_from_catalog(catalog), data, calibrated=False)
    signs: list[Signs] = []
    wrong: list[bool] = []
    for example in read_examples(examples_path):
        result = understander.understand(example.text, Context())
        if result.intent in ANSWERS and result.procedure_id and not result.confirm:
            signs.append(understander.signs(example.text, result))
            wrong.append(result.procedure_id != example.procedure)
    return signs, wrong


def calibrate(
    pairs: Sequence[tuple[Path, Path]], data: TrainingData
) -> tuple[AnswerRisk, int, int]:
    """The model fitted on every (catalogue, labelled set) pair; with the number of outright
    answers it was fitted on and how many of them were wrong."""
    signs: list[Signs] = []
    wrong: list[bool] = []
    for catalog, examples in pairs:
        more_signs, more_wrong = outright_answers(catalog, examples, data)
        signs += more_signs
        wrong += more_wrong
    if all(wrong) or not any(wrong):
        raise CalibrationError(
            f"Se necesitan respuestas correctas y equivocadas; hubo {len(wrong)} respuestas "
            f"directas y {sum(wrong)} equivocadas. Use más ejemplos, de varios catálogos."
        )
    return fit(signs, wrong), len(signs), sum(wrong)
