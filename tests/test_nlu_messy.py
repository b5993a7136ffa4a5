"""Issue 13, the understanding side: several aspects in one message, knowing what the catalogue
lacks, basic English, and CURPs and folios written any way."""

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlu.aspects import aspects_asked, clauses
from nlu.entities import extract
from nlu.normalize import normalize
from nlu.pipeline import DefaultUnderstander
from nlu.training import load
from nlu.understanding import Context, ProcedureEntry
from ventanilla.cli import app

# A small catalogue written here, so the behaviour does not rest on a bundled one.
SMALL = (
    ProcedureEntry(
        "constancia-residencia",
        "Constancia de residencia",
        ("papel de que vivo aquí", "constancia de domicilio"),
        "Documento que acredita que una persona vive en el municipio.",
        ("Identificación oficial", "Comprobante de domicilio"),
    ),
    ProcedureEntry(
        "licencia-funcionamiento",
        "Licencia de funcionamiento",
        ("licencia de negocio", "permiso para abrir un negocio"),
        "Permiso municipal para abrir un negocio de bajo impacto.",
        ("Identificación oficial", "Uso de suelo"),
    ),
    ProcedureEntry(
        "copia-acta",
        "Copia certificada de acta de nacimiento",
        ("acta de nacimiento", "sacar mi acta"),
        "Copia certificada del acta de nacimiento del Registro Civil.",
        ("CURP", "Datos de la persona registrada"),
    ),
    ProcedureEntry(
        "pago-predial",
        "Pago del impuesto predial",
        ("predial", "impuesto de la casa"),
        "Pago anual del impuesto sobre la propiedad.",
        ("Clave catastral",),
    ),
    ProcedureEntry(
        "reporte-bache",
        "Reporte de bache",
        ("bache", "hoyo en la calle"),
        "Reporte de baches en calles del municipio.",
        takes_requests=True,
    ),
)


@pytest.fixture(scope="module")
def small() -> DefaultUnderstander:
    return DefaultUnderstander(SMALL, load())


def asked(text: str) -> list[str]:
    return aspects_asked([normalize(c) for c in clauses(text)])


@pytest.mark.parametrize(
    ("text", "aspects"),
    [
        ("requisitos y cuanto cuesta", ["requirements", "cost"]),
        ("cuanto cuesta y cuanto tarda", ["cost", "duration"]),
        ("cuanto tarda y cuanto cuesta", ["duration", "cost"]),
        ("licencia de uso de suelo donde y cuanto", ["location", "cost"]),
        ("cuanto cuesta q papeles y cuanto tardan", ["cost", "requirements", "duration"]),
        ("como se inscribe y cuanto cuesta", ["requirements", "cost"]),
        ("where and how much", ["location", "cost"]),
        ("se paga en linea o donde", ["online", "location"]),  # "o" before a question word
        ("que permiso ocupo y cuanto cuesta", ["requirements", "cost"]),  # a cue with a gap
        ("que papeles nos piden y a que hora abren", ["requirements", "hours"]),
    ],
)
def test_several_aspects_are_found_in_the_order_asked(text: str, aspects: list[str]) -> None:
    assert asked(text) == aspects


@pytest.mark.parametrize(
    "text",
    [
        "q ley dice cuanto se cobra x la multa",  # one question inside another
        "cuesta o es gratis?",  # one question asked two ways
        "se paga en el oxxo o por internet?",
        "no tengo tiempo de ir, se puede pagar por internet?",  # what the citizen lacks
        "la constancia de no adeudo cuanto cuesta",  # "no" names the paper, not a lack
    ],
)
def test_one_question_is_not_read_as_several(text: str) -> None:
    assert len(asked(text)) <= 1


def test_the_understanding_carries_every_aspect_first_one_first(
    small: DefaultUnderstander,
) -> None:
    result = small.understand(
        "la licencia de funcionamiento q requisitos y cuanto cuesta", Context()
    )
    assert (result.intent, result.procedure_id) == ("ask_procedure", "licencia-funcionamiento")
    assert result.aspects == ("requirements", "cost") and result.aspect == "requirements"
    result = small.understand("el predial cuanto cuesta y donde se paga", Context())
    assert result.aspects == ("cost", "location")
    follow_up = small.understand(
        "y cuanto tarda y donde", Context(last_procedure_id="constancia-residencia")
    )
    assert follow_up.procedure_id == "constancia-residencia"
    assert follow_up.aspects == ("duration", "location")


@pytest.mark.parametrize(
    ("text", "unlisted"),
    [
        ("cuanto cuesta la constancia de ingresos", "ingreso"),
        ("licencia de alcoholes pa vender cerveza cuanto cuesta", "alcohol"),
        ("ocupo la copia del acta de defuncion de mi papa", "defuncion"),
    ],
)
def test_another_kind_of_a_catalogue_paper_is_out_of_scope(
    small: DefaultUnderstander, text: str, unlisted: str
) -> None:
    result = small.understand(text, Context())
    assert result.intent == "out_of_scope" and result.procedure_id is None
    assert result.entities["unlisted"] == unlisted
    assert result.candidates  # the close entries stay known, for the dialogue to offer


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        ("cuanto cuesta la constancia de residencia de mi hijo", "constancia-residencia"),
        ("la constancia de domicilio donde la saco", "constancia-residencia"),
        ("el acta de nacimiento de mi mama cuanto cuesta", "copia-acta"),
        ("licencia de negocio pa mi tiendita q piden", "licencia-funcionamiento"),
    ],
)
def test_the_kinds_the_entry_names_and_the_citizens_own_stay_in_scope(
    small: DefaultUnderstander, text: str, procedure: str
) -> None:
    result = small.understand(text, Context())
    assert (result.intent, result.procedure_id) == ("ask_procedure", procedure)


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("como apostillo mi acta de nacimiento", "apostilla"),
        ("me pusieron una multa en la autopista, la pago aqui?", "CAPUFE"),
        ("cuanto cobra el camion urbano", "transporte"),
    ],
)
def test_other_authorities_business_is_out_of_scope_and_says_who(
    small: DefaultUnderstander, text: str, who: str
) -> None:
    from nlu.external import who_handles

    result = small.understand(text, Context())
    assert result.intent == "out_of_scope" and result.procedure_id is None
    assert who in (who_handles(result.entities["external"]) or "")


@pytest.mark.parametrize(
    "text",
    [
        "el presidente municipal es un ratero, nomas llego a robar",
        "los del ayuntamiento son unos flojos, nunca hacen nada",
        "jajaja q buena onda",
        "cuentame un chiste",
    ],
)
def test_rants_insults_and_jokes_are_out_of_scope(small: DefaultUnderstander, text: str) -> None:
    result = small.understand(text, Context())
    assert result.intent == "out_of_scope" and result.procedure_id is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("can i talk to a real person please", "human_agent"),
        ("human please", "human_agent"),
        ("i want to speak with someone", "human_agent"),
        ("hello", "greet"),
        ("thank you so much", "thanks"),
        ("show me my data", "my_data"),
        ("status of my request", "request_status"),
    ],
)
def test_basic_english_conversation_intents(
    small: DefaultUnderstander, text: str, intent: str
) -> None:
    assert small.understand(text, Context()).intent == intent


@pytest.mark.parametrize(
    ("text", "procedure", "aspects"),
    [
        ("how much is the property tax this year", "pago-predial", ("cost",)),
        ("where can i pay the predial", "pago-predial", ("location",)),
        ("what documents do i need for the business license", "licencia-funcionamiento", None),
        ("how long does the proof of residence take", "constancia-residencia", ("duration",)),
    ],
)
def test_basic_english_questions_find_procedure_and_aspect(
    small: DefaultUnderstander, text: str, procedure: str, aspects: tuple[str, ...] | None
) -> None:
    result = small.understand(text, Context())
    assert (result.intent, result.procedure_id) == ("ask_procedure", procedure)
    assert result.aspects == (aspects or ("requirements",))


def test_an_english_report_opens_a_request(small: DefaultUnderstander) -> None:
    result = small.understand("there is a big pothole on my street", Context())
    assert (result.intent, result.procedure_id) == ("open_request", "reporte-bache")


@pytest.mark.parametrize(
    "text",
    [
        "perdon es gode 561231 hdfrrn00",
        "mi curp GODE-561231-HDFRRN00 gracias",
        "curp: Gode561231hdfrrn00.",
        "es GODE 561231 H DF RRN 00",
    ],
)
def test_a_curp_is_found_anywhere_in_any_case_with_spaces_or_dashes(text: str) -> None:
    assert extract(text)["curp"] == "GODE561231HDFRRN00"


@pytest.mark.parametrize(
    "text",
    [
        "estado sma 2026 000001",
        "como va el SMA 2026 000001?",
        "folio sma-2026-000001",
        "SMA2026000001",
        "mi reporte es el sma.2026.000001",
    ],
)
def test_a_folio_is_found_anywhere_in_any_case_with_spaces(
    small: DefaultUnderstander, text: str
) -> None:
    assert extract(text)["folio"] == "SMA-2026-000001"
    result = small.understand(text, Context())
    assert result.intent == "request_status"
    assert result.entities["folio"] == "SMA-2026-000001"


def test_words_before_a_folio_are_not_its_prefix() -> None:
    assert "folio" not in extract("mi folio 2026 000123")
    assert "curp" not in extract("mi curp es gode561231")  # too short to be one


def test_evaluate_counts_several_aspects_only_in_order_and_confident_wrong_answers(
    tmp_path: Path,
) -> None:
    rows = [
        ("cuanto cuesta la constancia de no adeudo y q requisitos", "cost|requirements"),
        ("q requisitos y cuanto cuesta la constancia de no adeudo", "cost|requirements"),
    ]
    data = tmp_path / "set.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "intent", "procedure", "aspect"])
        for text, aspect in rows:
            writer.writerow([text, "ask_procedure", "constancia-no-adeudo", aspect])
        writer.writerow(["cuanto cuesta la constancia de no adeudo", "out_of_scope", "", ""])
        writer.writerow(["cuentame un chiste", "out_of_scope", "", ""])
    catalog = Path(__file__).parent / "data" / "catalog_min.yml"
    result = CliRunner().invoke(
        app, ["nlu", "evaluate", "--catalog", str(catalog), str(data), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["default"]
    assert report["multi_aspect_rows"] == 2
    assert report["multi_aspect_accuracy"] == 0.5  # the second row asks them the other way
    assert report["aspect_accuracy"] == 0.5
    # the first out-of-scope row (labelled so on purpose) is answered with a procedure
    assert report["confident_wrong"] == {"count": 1, "out_of_scope_rows": 2, "share": 0.5}
    text = CliRunner().invoke(app, ["nlu", "evaluate", "--catalog", str(catalog), str(data)])
    assert "varios" in text.output and "malconf" in text.output and "(1 de 2)" in text.output
