"""`ventanilla nlu evaluate` reports what the issue asks, in text and JSON."""

import json
from pathlib import Path

from typer.testing import CliRunner

from ventanilla.cli import app

DATA = Path(__file__).parent / "data"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["nlu", *args])
    return result.exit_code, result.output


def test_evaluate_json_has_every_measure_for_both_models() -> None:
    code, output = run(
        "evaluate",
        "--catalog",
        str(DATA / "catalog_min.yml"),
        str(DATA / "nlu_small.csv"),
        "--json",
    )
    assert code == 0, output
    report = json.loads(output)
    for model in ("default", "baseline"):
        result = report[model]
        assert result["examples"] == 4
        assert set(result["intent"]["report"]["greet"]) >= {
            "precision",
            "recall",
            "f1-score",
            "support",
            "confused_with",
        }
        assert 0 <= result["intent"]["macro_f1"] <= 1
        assert result["procedure_rows"] == 1 and result["aspect_rows"] == 1
        assert set(result["out_of_scope"]) == {"precision", "recall"}
        assert result["latency_ms"]["p99"] >= result["latency_ms"]["p50"] > 0
    assert report["default"]["intent"]["accuracy"] == 1.0
    assert report["default"]["procedure_accuracy"] == 1.0


def test_evaluate_text_report_and_bad_inputs(tmp_path: Path) -> None:
    code, output = run(
        "evaluate", "--catalog", str(DATA / "catalog_min.yml"), str(DATA / "nlu_small.csv")
    )
    assert code == 0 and "default" in output and "baseline" in output
    bad = tmp_path / "bad.csv"
    bad.write_text("texto,intencion\nhola,greet\n", encoding="utf-8")
    code, output = run("evaluate", "--catalog", str(DATA / "catalog_min.yml"), str(bad))
    assert code == 1 and "la cabecera debe ser text,intent,procedure,aspect" in output


def test_train_reports_the_rasa_data_used(tmp_path: Path) -> None:
    own = tmp_path / "nlu.yml"
    own.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - quiubo\n', encoding="utf-8"
    )
    code, output = run("train", "--catalog", str(DATA / "catalog_min.yml"), "--data", str(own))
    assert code == 0, output
    assert "13 intenciones" in output and "3 procedimientos" in output
