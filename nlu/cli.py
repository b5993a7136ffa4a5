"""`ventanilla nlu ...`: evaluate understanding on a labelled set, train with Rasa data."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from catalog.validate import CatalogError
from foundation.settings import amended, get_settings
from nlu.entries import entries_from_catalog
from nlu.evaluate import EvaluationDataError, evaluate, read_examples
from nlu.risk import DEFAULT_PATH as DEFAULT_RISK
from nlu.training import TrainingDataError, load

app = typer.Typer(help="Comprensión del lenguaje: evaluar y entrenar.", no_args_is_help=True)

DataOption = Annotated[
    list[Path] | None,
    typer.Option("--data", help="Archivo nlu.yml (formato Rasa) adicional; se puede repetir."),
]


def _fail(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(1)


def _row(name: str, r: dict[str, Any]) -> str:
    def fmt(value: float | None) -> str:
        return "   —  " if value is None else f"{value:6.3f}"

    return (
        f"{name:<10} {fmt(r['intent']['accuracy'])} {fmt(r['intent']['macro_f1'])} "
        f"{fmt(r['procedure_accuracy'])} {fmt(r['aspect_accuracy'])} "
        f"{fmt(r['multi_aspect_accuracy'])} "
        f"{fmt(r['out_of_scope']['precision'])} {fmt(r['out_of_scope']['recall'])} "
        f"{fmt(r['confident_wrong']['share'])} {fmt(r['confirm']['share'])} "
        f"{r['latency_ms']['p50']:7.2f} {r['latency_ms']['p99']:7.2f}"
    )


@app.command("evaluate", help="Medir la comprensión con un CSV text,intent,procedure,aspect.")
def evaluate_command(
    test: Annotated[Path, typer.Argument(help="CSV de prueba.")],
    catalog: Annotated[Path, typer.Option("--catalog", help="Catálogo YAML de la prueba.")],
    as_json: Annotated[bool, typer.Option("--json", help="Imprimir el informe como JSON.")] = False,
    data: DataOption = None,
    errors: Annotated[int, typer.Option(help="Mostrar hasta N errores.")] = 0,
) -> None:
    from nlu import factory

    try:
        procedures = entries_from_catalog(catalog)
        examples = read_examples(test)
        settings = amended(get_settings(), nlu={"data": list(data or [])})
        results = {
            "default": evaluate(factory.build(settings, procedures), examples),
            "baseline": evaluate(
                factory.build(amended(settings, nlu={"backend": "baseline"}), procedures),
                examples,
            ),
        }
    except CatalogError as exc:
        _fail(exc.problems)
    except (EvaluationDataError, TrainingDataError, OSError) as exc:
        _fail([str(exc)])
    report = {"catalog": catalog.name, "test": test.name, **results}
    if as_json:
        for result in results.values():
            result["errors"] = result["errors"][:errors]
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    typer.echo(f"{test.name} ({results['default']['examples']} ejemplos) con {catalog.name}")
    typer.echo(
        "modelo     intent macroF1  proced aspecto  varios oos-P  oos-R  malconf confirma"
        "   p50ms   p99ms"
    )
    for name, result in results.items():
        typer.echo(_row(name, result))
    default = results["default"]
    wrong, confirm = default["confident_wrong"], default["confirm"]
    typer.echo(
        f"varios = preguntas con varios aspectos ({default['multi_aspect_rows']}), "
        f"todos en orden; malconf = fuera de alcance respondidos con un trámite del catálogo "
        f"sin pedir confirmación ({wrong['count']} de {wrong['out_of_scope_rows']}); "
        f"confirma = respuestas que piden confirmar el trámite ({confirm['rows']}: "
        f"{confirm['right']} con el trámite correcto, {confirm['out_of_scope']} fuera de "
        f"alcance); trámite correcto sin pedir confirmación: "
        f"{default['procedure_accuracy_unconfirmed']}"
    )
    for error in default["errors"][:errors]:
        asks = " (pide confirmar)" if error["confirm"] else ""
        typer.echo(
            f"  ✗ {error['text']!r}: esperado {error['gold']}, obtenido {error['predicted']}{asks}"
        )


@app.command("calibrate", help="Ajustar el modelo de riesgo de las respuestas con CSV etiquetados.")
def calibrate_command(
    pairs: Annotated[
        list[str],
        typer.Argument(help="CATALOGO.yml=PRUEBA.csv, uno o más (mejor de varios catálogos)."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Dónde escribir los pesos.")] = DEFAULT_RISK,
    data: DataOption = None,
) -> None:
    from nlu.calibration import CalibrationError, calibrate

    parsed = [tuple(Path(part) for part in pair.split("=", 1)) for pair in pairs]
    if any(len(pair) != 2 for pair in parsed):
        _fail(["Cada argumento es CATALOGO.yml=PRUEBA.csv."])
    try:
        risk, answers, wrong = calibrate([(c, t) for c, t in parsed], load(list(data or [])))
    except CatalogError as exc:
        _fail(exc.problems)
    except (CalibrationError, EvaluationDataError, TrainingDataError, OSError) as exc:
        _fail([str(exc)])
    risk.save(out)
    typer.echo(f"Ajustado con {answers} respuestas directas ({wrong} equivocadas); pesos en {out}.")


@app.command("train", help="Entrenar con datos en formato Rasa (nlu.yml) y un catálogo.")
def train_command(
    catalog: Annotated[Path, typer.Option("--catalog", help="Catálogo YAML.")],
    data: DataOption = None,
) -> None:
    import time

    from nlu.pipeline import DefaultUnderstander

    try:
        training = load(list(data or []))
        procedures = entries_from_catalog(catalog)
    except CatalogError as exc:
        _fail(exc.problems)
    except (TrainingDataError, OSError) as exc:
        _fail([str(exc)])
    started = time.perf_counter()
    DefaultUnderstander(procedures, training)
    seconds = time.perf_counter() - started
    typer.echo(f"Datos: {training.summary()}.")
    typer.echo(f"Modelo construido para {len(procedures)} procedimientos en {seconds:.2f} s.")
    typer.echo("Para usarlos al servir: VENTANILLA_NLU_DATA='[\"ruta/nlu.yml\"]'.")
