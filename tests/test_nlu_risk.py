"""The answer-risk model: the signs of a match weighed together send a likely wrong answer to
confirmation ("¿Te refieres a…?"), fitted with `ventanilla nlu calibrate`."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlu.pipeline import DefaultUnderstander
from nlu.risk import FEATURES, AnswerRisk, Signs, fit, load
from nlu.training import load as load_training
from nlu.understanding import Context, ProcedureEntry
from tests.test_nlu_scope import BACHE
from ventanilla.cli import app

CATALOG = Path("catalog/samples/acacias.yml")
ACTA = ProcedureEntry(
    "acta-nacimiento",
    "Copia certificada de acta de nacimiento",
    ("acta de nacimiento",),
    "Copia certificada del acta de nacimiento registrada en el municipio.",
    ("Identificación oficial",),
)
CLEAR = Signs(
    score=0.95, margin=0.6, explained=1.0, distinctive=1.0, focus_elsewhere=0.0, out_of_scope=0.0
)
DOUBTFUL = Signs(
    score=0.45, margin=0.01, explained=0.2, distinctive=0.4, focus_elsewhere=1.0, out_of_scope=0.6
)


def test_the_shipped_weights_doubt_a_weak_close_match_and_trust_a_clear_one() -> None:
    risk = load()
    assert risk.too_risky(DOUBTFUL)
    assert not risk.too_risky(CLEAR)
    # each sign moves the risk the way it should: a smaller lead, less of the message
    # explained, a stronger belief that it is out of scope
    assert risk.probability(replace(CLEAR, margin=0.05)) > risk.probability(CLEAR)
    assert risk.probability(replace(CLEAR, explained=0.2)) > risk.probability(CLEAR)
    assert risk.probability(replace(CLEAR, out_of_scope=0.9)) > risk.probability(CLEAR)


def test_an_answer_the_model_doubts_is_asked_to_confirm_and_only_then() -> None:
    data = load_training([])
    text = "cuanto cuesta el acta de nacimiento"
    plain = DefaultUnderstander([ACTA, BACHE], data, calibrated=False)
    trusted = plain.understand(text, Context())
    assert trusted.procedure_id == "acta-nacimiento" and not trusted.confirm

    doubting = DefaultUnderstander([ACTA, BACHE], data, calibrated=False)
    doubting.risk = AnswerRisk((0.0,) * len(FEATURES), intercept=5.0)
    doubted = doubting.understand(text, Context())
    assert doubted.procedure_id == "acta-nacimiento" and doubted.confirm

    shipped = DefaultUnderstander([ACTA, BACHE], data).understand(text, Context())
    assert not shipped.confirm  # a clear question keeps its outright answer


def test_fit_learns_which_signs_mark_wrong_answers() -> None:
    right = [replace(CLEAR, margin=0.3 + i / 100) for i in range(30)]
    wrong = [replace(DOUBTFUL, margin=i / 200) for i in range(10)]
    risk = fit(right + wrong, [False] * 30 + [True] * 10)
    assert all(risk.too_risky(s) for s in wrong)
    assert not any(risk.too_risky(s) for s in right)


def test_weights_for_other_signs_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "risk.json"
    AnswerRisk((1.0,) * len(FEATURES), 0.0).save(path)
    assert load(path).weights == (1.0,) * len(FEATURES)
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "features": ["score"]}))
    with pytest.raises(ValueError, match="features"):
        load(path)


def test_calibrate_writes_weights_fitted_on_a_labelled_set(tmp_path: Path) -> None:
    out = tmp_path / "risk.json"
    labelled = Path("nlu/eval/acacias_messy_dev2.csv")
    result = CliRunner().invoke(
        app, ["nlu", "calibrate", f"{CATALOG}={labelled}", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "respuestas directas" in result.output
    assert len(load(out).weights) == len(FEATURES)


def test_calibrate_refuses_what_it_cannot_fit(tmp_path: Path) -> None:
    out = tmp_path / "risk.json"
    examples = tmp_path / "only-right.csv"
    rows = [
        "text,intent,procedure,aspect",
        "cuanto cuesta la constancia de residencia,ask_procedure,constancia-residencia,cost",
    ]
    examples.write_text("\n".join(rows) + "\n", encoding="utf-8")
    only_right = CliRunner().invoke(
        app, ["nlu", "calibrate", f"{CATALOG}={examples}", "--out", str(out)]
    )
    assert only_right.exit_code == 1
    assert "correctas y equivocadas" in only_right.output
    no_pair = CliRunner().invoke(app, ["nlu", "calibrate", str(examples), "--out", str(out)])
    assert no_pair.exit_code == 1
    assert "CATALOGO.yml=PRUEBA.csv" in no_pair.output
    assert not out.exists()
