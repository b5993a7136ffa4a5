"""`ventanilla test conversations`: conversation files written here, run on the Acacias sample
catalogue. The cases go through the menu's buttons where they can, so that they test the
runner rather than how well the bot understands free text.

The runner always works on its own SQLite files (a template copied per case), whatever
database the installation uses, so these tests are not parametrised over PostgreSQL.
"""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.rehearsal import report
from bot.rehearsal.runner import CaseResult, SharedModel, run
from foundation.settings import SAMPLE_CATALOG, EvaluationSettings, Settings
from ventanilla.cli import app

CURP = "GODE561231HDFRRN00"
OTHER_CURP = "NUBA770418HDFXRL06"


@pytest.fixture(scope="module")
def model() -> SharedModel:
    """One understanding model for every test of this module (built on first use)."""
    return SharedModel()


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None)


def write(folder: Path, body: str, name: str = "pruebas.conversations.yml") -> Path:
    path = folder / name
    path.write_text(f"catalog: {SAMPLE_CATALOG}\n{body}", encoding="utf-8")
    return path


async def run_one(
    folder: Path, body: str, settings: Settings, model: SharedModel
) -> list[CaseResult]:
    return await run([write(folder, body)], settings, model=model)


# A report opened through the buttons, checked at every step.
REPORT_BY_BUTTONS = f"""
test_cases:
  - test_case: reporte_por_botones
    channel: whatsapp
    setup: {{curp: {CURP}}}
    steps:
      - user: "hola"
        assertions:
          - state: idle
          - bot_uttered: {{choice: "levantar un REPORTE"}}
          - folio_given: false
          - handoff_opened: false
      - user_choice: "levantar un reporte"
        assertions:
          - state: request_which
          - bot_uttered: {{choice: "bache"}}
          - slot_was_not_set: {{name: request.procedure}}
      - user_choice: "Reporte de bache"
        assertions:
          - state: request_description
          - slot_was_set: {{name: request.procedure, value: reporte-bache}}
      - user: "Hay un hoyo enorme frente a la escuela primaria"
        assertions:
          - state: request_location
          - slot_was_set: {{name: request.description, contains: "HOYO ENORME"}}
      - user_location: {{latitude: 21.0186, longitude: -101.2591, address: "Calle Hidalgo 30"}}
        assertions:
          - state: request_photo
          - slot_was_set: {{name: request.location.address, contains: "hidalgo 30"}}
          - requests_opened: 0
      - user_photo: "foto-bache-1"
        assertions:
          - state: request_confirm
          - slot_was_set: {{name: request.photo, value: foto-bache-1}}
          - bot_did_not_utter: {{text_matches: 'SMA-\\d{{4}}-\\d{{6}}'}}
      - user: "sí"
        assertions:
          - state: idle
          - folio_given: true
          - bot_uttered: {{text_matches: 'SMA-2025-0+1\\b'}}
          - requests_opened: 1
          - request_opened:
              procedure: reporte-bache
              description_contains: "escuela primaria"
              address_contains: "HIDALGO"
              has_photo: true
              has_coordinates: true
"""


async def test_a_case_that_holds_passes_and_runs_on_the_files_clock(
    tmp_path: Path, settings: Settings, model: SharedModel
) -> None:
    # The folio's year is the file's clock (2025), not the machine's.
    body = 'now: "2025-06-03T11:00:00-06:00"\n' + REPORT_BY_BUTTONS
    [result] = await run_one(tmp_path, body, settings, model)
    assert result.passed, report.text([result])
    assert (result.file, result.case) == (
        str(tmp_path / "pruebas.conversations.yml"),
        "reporte_por_botones",
    )


async def test_each_case_starts_from_a_fresh_database(
    tmp_path: Path, settings: Settings, model: SharedModel
) -> None:
    # The same chat opens a request in both cases: both get the year's first folio and
    # neither sees a request opened before.
    body = 'now: "2025-06-03T11:00:00-06:00"\n' + REPORT_BY_BUTTONS
    body += REPORT_BY_BUTTONS.split("test_cases:\n", 1)[1].replace(
        "reporte_por_botones", "otra_vez_por_botones"
    )
    results = await run_one(tmp_path, body, settings, model)
    assert [r.case for r in results] == ["reporte_por_botones", "otra_vez_por_botones"]
    assert all(r.passed for r in results), report.text(results)


async def test_a_failed_assertion_names_the_turn_and_what_was_found(
    tmp_path: Path, settings: Settings, model: SharedModel
) -> None:
    body = """
test_cases:
  - test_case: espera_otra_cosa
    setup: {consented: true}
    steps:
      - user: "hola"
        assertions: [{state: idle}]
      - user_choice: "levantar un reporte"
        assertions:
          - state: request_which
          - state: request_confirm
          - bot_uttered: {text_contains: "esto no lo dice"}
      - user: "nunca se envía"
        assertions: [{state: idle}]
"""
    [result] = await run_one(tmp_path, body, settings, model)
    assert not result.passed
    assert (result.turn, result.text) == (2, "[opción] levantar un reporte")
    assert [f.assertion for f in result.failures] == [
        "state: request_confirm",
        "bot_uttered: {text_contains: esto no lo dice}",
    ]
    assert result.failures[0].problem == "el estado es request_which"
    assert result.state == "request_which"
    shown = report.text([result])
    assert shown.splitlines()[0].startswith("FALLA")
    assert "Turno 2: «[opción] levantar un reporte»" in shown
    assert "✗ state: request_confirm: el estado es request_which" in shown
    assert "Reporte de bache" in shown  # the choices the bot offered in that turn
    assert shown.splitlines()[-1] == "1 casos: 0 pasan, 1 fallan."


async def test_a_choice_that_was_not_offered_fails_the_step(
    tmp_path: Path, settings: Settings, model: SharedModel
) -> None:
    body = """
test_cases:
  - test_case: opcion_inexistente
    steps:
      - user: "hola"
        assertions: [{state: idle}]
      - user_choice: "bailar"
"""
    [result] = await run_one(tmp_path, body, settings, model)
    assert result.turn == 2 and len(result.failures) == 1
    assert result.failures[0].assertion == "user_choice: bailar"
    assert "«bailar»" in result.failures[0].problem
    assert "Hablar con una persona" in result.failures[0].problem


async def test_consent_setup_and_its_absence(
    tmp_path: Path, settings: Settings, model: SharedModel
) -> None:
    body = """
test_cases:
  - test_case: con_consentimiento
    setup: {consented: true}
    steps:
      - user: "hola"
      - user_choice: "levantar un reporte"
        assertions: [{state: request_which}]
  - test_case: sin_consentimiento
    steps:
      - user: "hola"
      - user_choice: "levantar un reporte"
        assertions: [{state: consent}]
"""
    results = await run_one(tmp_path, body, settings, model)
    assert all(r.passed for r in results), report.text(results)


async def test_requests_setup_gives_folios_in_order_and_hides_another_persons(
    tmp_path: Path, settings: Settings, model: SharedModel
) -> None:
    body = f"""
test_cases:
  - test_case: folios
    setup:
      curp: {CURP}
      requests:
        - {{procedure: reporte-bache, status: in_progress}}
        - {{procedure: reporte-luminaria, status: received}}
      other_person_request: reporte-basura
    steps:
      - user: "estado {{folio}}"
        assertions:
          - folio_given: true
          - bot_uttered: {{text_contains: "SMA-2026-000001"}}
          - bot_uttered: {{text_contains: "en proceso"}}
          - requests_opened: 0
      - user: "estado {{folio2}}"
        assertions:
          - bot_uttered: {{text_contains: "SMA-2026-000002"}}
          - bot_uttered: {{text_contains: "luminaria"}}
      - user: "estado {{other_folio}}"
        assertions:
          - bot_did_not_utter: {{text_contains: "recolección de basura"}}
"""
    [result] = await run_one(tmp_path, body, settings, model)
    assert result.passed, report.text([result])


async def test_survey_setup_leaves_the_rating_question_asked(
    tmp_path: Path, settings: Settings, model: SharedModel
) -> None:
    body = f"""
test_cases:
  - test_case: encuesta
    setup: {{curp: {CURP}, survey: reporte-bache}}
    steps:
      - user_choice: "excelente"
        assertions:
          - bot_did_not_utter: {{text_contains: "Eso no lo atiende el municipio"}}
          - slot_was_not_set: {{name: request}}
"""
    [result] = await run_one(tmp_path, body, settings, model)
    assert result.passed, report.text([result])
    assert result.state is None  # a passing case keeps no details


async def test_linked_elsewhere_setup_asks_for_the_code(
    tmp_path: Path, settings: Settings, model: SharedModel
) -> None:
    body = f"""
test_cases:
  - test_case: codigo
    setup:
      consented: true
      linked_elsewhere: {{curp: {OTHER_CURP}, channel: telegram}}
    steps:
      - user: "hola"
      - user_choice: "levantar un reporte"
      - user_choice: "luminaria"
        assertions: [{{state: request_description}}]
      - user: "La lámpara del callejón no prende desde el lunes"
        assertions: [{{state: request_location}}]
      - user: "Callejón del Beso 3, Zona Centro"
        assertions: [{{state: request_curp}}]
      - user: "{OTHER_CURP}"
        assertions:
          - state: request_link
          - slot_was_set: {{name: request.curp, value: {OTHER_CURP}}}
      - user: "sí"
        assertions: [{{requests_opened: 1}}, {{folio_given: true}}]
      - user: "hola"
        assertions: [{{handoff_opened: false}}]
      - user_choice: "hablar con una persona"
        assertions:
          - handoff_opened: true
          - state: handoff
"""
    [result] = await run_one(tmp_path, body, settings, model)
    assert result.passed, report.text([result])


async def test_answers_are_not_followed_by_the_random_usefulness_question(
    tmp_path: Path, model: SharedModel
) -> None:
    body = """
test_cases:
  - test_case: sin_te_sirvio
    steps:
      - user: "cuánto cuesta el predial"
        assertions:
          - bot_uttered: {text_contains: "predial"}
          - bot_did_not_utter: {text_contains: "¿Te sirvió"}
"""
    always = Settings(
        _env_file=None, evaluation=EvaluationSettings(usefulness_rate=1.0)
    )  # the runner turns it off
    [result] = await run_one(tmp_path, body, always, model)
    assert result.passed, report.text([result])


def test_the_command_exits_1_on_a_failure_and_prints_json(tmp_path: Path) -> None:
    body = """
test_cases:
  - test_case: pasa
    steps:
      - user: "hola"
        assertions: [{state: idle}]
  - test_case: falla
    steps:
      - user: "hola"
        assertions: [{handoff_opened: true}]
"""
    path = write(tmp_path, body)
    outcome = CliRunner().invoke(app, ["test", "conversations", str(path), "--json"])
    assert outcome.exit_code == 1, outcome.output
    shown = json.loads(outcome.stdout)
    assert (shown["cases"], shown["passed"], shown["failed"]) == (2, 1, 1)
    passing, failing = shown["results"]
    assert passing["case"] == "pasa" and passing["passed"] is True
    assert failing["case"] == "falla" and failing["passed"] is False
    assert failing["turn"] == 1 and failing["text"] == "hola"
    assert failing["failures"] == [
        {
            "assertion": "handoff_opened: true",
            "problem": "no hay una canalización abierta para este chat",
        }
    ]
    assert failing["state"] == "idle" and failing["replies"][0]["text"]


def test_the_command_exits_0_when_every_case_passes(tmp_path: Path) -> None:
    body = """
test_cases:
  - test_case: saludo
    steps:
      - user: "hola"
        assertions: [{state: idle}, {requests_opened: 0}]
"""
    path = write(tmp_path, body)
    outcome = CliRunner().invoke(app, ["test", "conversations", str(path)])
    assert outcome.exit_code == 0, outcome.output
    assert outcome.stdout.splitlines()[0].startswith("PASA")
    assert outcome.stdout.splitlines()[-1] == "1 casos: 1 pasan, 0 fallan."


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "test_cases:\n  - test_case: mal_escrito\n    steps:\n      - user: hola\n"
            "        assertions: [{bot_utered: {text_contains: x}}]\n",
            "caso «mal_escrito», steps[1].assertions[1].bot_utered: clave desconocida",
        ),
        (
            "test_cases:\n  - test_case: dos_claves\n    steps:\n      - user: hola\n"
            "        assertions: [{state: idle, folio_given: true}]\n",
            "caso «dos_claves», steps[1].assertions[1]: lleva exactamente una de estas claves",
        ),
        (
            "test_cases:\n  - test_case: sin_pasos\n    steps: []\n",
            "caso «sin_pasos», steps: no puede estar vacía",
        ),
        (
            "test_cases:\n  - test_case: canal\n    channel: fax\n    steps: [{user: hola}]\n",
            "caso «canal», channel: valor no válido",
        ),
        (
            "test_cases:\n  - test_case: curp\n    setup: {curp: ABCD123456HCHXXX00}\n"
            "    steps: [{user: hola}]\n",
            "caso «curp», setup.curp: CURP no válida",
        ),
        (
            "test_cases:\n  - test_case: marcador\n    steps: [{user: 'estado {folio}'}]\n",
            "caso «marcador», steps[1].user: {folio} necesita al menos 1 solicitud(es)",
        ),
        (
            "test_cases:\n  - test_case: tramite\n    setup: {survey: no-existe}\n"
            "    steps: [{user: hola}]\n",
            "caso «tramite», setup: el catálogo no tiene el trámite no-existe",
        ),
        (
            'now: "2026-03-10T11:00:00"\ntest_cases:\n  - test_case: x\n'
            "    steps: [{user: hola}]\n",
            "now: falta la zona horaria",
        ),
        (
            "faq: acacias.faq.yml\ntest_cases:\n  - test_case: x\n    steps: [{user: hola}]\n",
            "las preguntas frecuentes (clave faq) todavía no se pueden probar",
        ),
    ],
)
def test_a_bad_file_exits_2_naming_the_file_case_and_key(
    tmp_path: Path, body: str, expected: str
) -> None:
    path = write(tmp_path, body)
    outcome = CliRunner().invoke(app, ["test", "conversations", str(path)])
    assert outcome.exit_code == 2, outcome.output
    assert str(path) in outcome.stderr
    assert expected in outcome.stderr, outcome.stderr
    assert outcome.stdout == ""  # nothing ran


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "no-existe.yml"
    outcome = CliRunner().invoke(app, ["test", "conversations", str(missing)])
    assert outcome.exit_code == 2
    assert f"{missing}: no existe o no se puede leer" in outcome.stderr
