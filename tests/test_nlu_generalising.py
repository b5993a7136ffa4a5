"""Issue 13, fourth round: rules that generalise across catalogues (topics a weak match names,
other agencies that only ask, aspects in any person of the verb, where a reported problem is)."""

from pathlib import Path

import pytest

from nlu.entries import entries_from_catalog
from nlu.pipeline import DefaultUnderstander
from nlu.training import load
from nlu.understanding import Context

SAMPLES = Path(__file__).resolve().parents[1] / "catalog" / "samples"


@pytest.fixture(scope="module")
def acacias() -> DefaultUnderstander:
    return DefaultUnderstander(entries_from_catalog(SAMPLES / "acacias.yml"), load([]))


@pytest.fixture(scope="module")
def valle_verde() -> DefaultUnderstander:
    return DefaultUnderstander(entries_from_catalog(SAMPLES / "valle-verde.yml"), load([]))


def test_a_weak_match_naming_a_covered_topic_is_that_topic_to_confirm(
    acacias: DefaultUnderstander,
) -> None:
    result = acacias.understand("voy a echar un segundo piso q requisitos", Context())
    assert (result.intent, result.procedure_id) == ("ask_procedure", "licencia-construccion")
    assert result.confirm and result.aspects == ("requirements",)


def test_a_kind_that_is_a_topic_the_entry_covers_stays_in_scope(
    valle_verde: DefaultUnderstander,
) -> None:
    result = valle_verde.understand("se puede apuntar uno a los cursos de rcp en linea", Context())
    assert result.procedure_id == "curso-primeros-auxilios"
    assert result.aspects == ("online",)


@pytest.mark.parametrize(
    "text",
    ["huele a gas en la cocina q hago", "a q hora pasa la pipa del gas", "se fue el internet"],
)
def test_gas_and_internet_are_other_agencies_business(
    acacias: DefaultUnderstander, text: str
) -> None:
    result = acacias.understand(text, Context())
    assert result.intent == "out_of_scope" and "external" in result.entities


def test_another_agencys_records_are_not_the_bots_data(acacias: DefaultUnderstander) -> None:
    assert acacias.understand("como retiro mi afore", Context()).intent == "out_of_scope"
    erase = acacias.understand("borren todo lo mio, mis datos y mi curp", Context())
    assert erase.intent == "my_data"


def test_the_other_agency_that_only_asks_does_not_take_the_question_away(
    valle_verde: DefaultUnderstander,
) -> None:
    result = valle_verde.understand(
        "el notario dice q falta pagar el impuesto de la compra de la casa, cuanto es", Context()
    )
    assert result.intent == "ask_procedure" and "external" not in result.entities


@pytest.mark.parametrize(
    ("text", "aspects"),
    [
        ("se murio mi abuelo q necesitamos pa su acta de defuncion", ("requirements",)),
        ("no tenemos hijos, q ocupamos pa divorciarnos", ("requirements",)),
        ("la constancia de residencia cuantos meses me sirve", ("validity",)),
    ],
)
def test_aspects_in_any_person_and_past_a_far_negation(
    acacias: DefaultUnderstander, text: str, aspects: tuple[str, ...]
) -> None:
    assert acacias.understand(text, Context()).aspects == aspects


def test_a_stated_need_is_not_a_requirements_question(acacias: DefaultUnderstander) -> None:
    result = acacias.understand(
        "fijese q mi papa ocupa su acta de nacimiento nueva cuanto cuesta", Context()
    )
    assert result.aspects == ("cost",)


def test_where_the_reported_problem_is_does_not_make_it_a_question(
    acacias: DefaultUnderstander,
) -> None:
    report = acacias.understand(
        "hay un hoyo enorme en la calle hidalgo donde pasan los niños a la escuela", Context()
    )
    assert (report.intent, report.procedure_id) == ("open_request", "reporte-bache")
    question = acacias.understand("donde reporto un bache en mi calle", Context())
    assert question.intent == "ask_procedure" and question.aspects == ("location",)
