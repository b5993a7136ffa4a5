"""Knowing what a catalogue lacks (issue 13, second round): topics no entry covers, answers
to confirm, real words told from typos, and the faster matching giving the same answers."""

import csv
import random
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import random as sparse_random
from typer.testing import CliRunner

from nlu import frequency
from nlu.evaluate import Example, evaluate
from nlu.lexicon import Lexicon
from nlu.pipeline import DefaultUnderstander, Thresholds
from nlu.procedures import _similarity
from nlu.training import load, parse
from nlu.understanding import Context, ProcedureEntry, Understanding
from nlu.vectors import SparseVector
from ventanilla.cli import app

# Small catalogues written here: the behaviour reads whichever catalogue it is given.
NO_ADEUDO = ProcedureEntry(
    "carta-no-adeudo",
    "Carta de no adeudo municipal",
    ("constancia de no adeudo",),
    "Documento que acredita que no se deben contribuciones municipales.",
    ("Identificación oficial",),
)
BACHE = ProcedureEntry(
    "reporte-bache",
    "Reporte de bache",
    ("bache", "hoyo en la calle"),
    "Reporte de baches en calles del municipio.",
    takes_requests=True,
)
LAMPARA = ProcedureEntry(
    "reporte-lampara",
    "Reporte de lámpara fundida",
    ("arbotante apagado", "foco del poste", "alumbrado público"),
    "Reporte de lámparas de alumbrado público apagadas o que parpadean.",
    takes_requests=True,
)
AMBULANTE = ProcedureEntry(
    "venta-ambulante",
    "Permiso para venta ambulante",
    ("vendedor ambulante", "vender en la calle"),
    "Permiso para vender productos en la vía pública.",
    ("Identificación oficial",),
)
RESIDENCIA = ProcedureEntry(
    "constancia-residencia",
    "Constancia de residencia",
    ("papel de que vivo aquí", "comprobar que vivo en el municipio"),
    "Documento que acredita que una persona vive en el municipio.",
    ("Identificación oficial", "Comprobante de domicilio"),
)
ALIMENTARIO = ProcedureEntry(
    "apoyo-alimentario",
    "Apoyo alimentario del DIF Municipal",
    ("despensa del DIF", "despensas"),
    "Despensas para familias vulnerables, personas mayores o con discapacidad.",
    ("Estudio socioeconómico",),
)
FOSA = ProcedureEntry(
    "refrendo-fosa",
    "Refrendo de fosa en panteón municipal",
    ("pago de la fosa", "refrendo del panteón"),
    "Pago anual por el uso de una fosa en los panteones municipales.",
    ("Título de la fosa",),
)
SEMAFORO = ProcedureEntry(
    "reporte-semaforo",
    "Reporte de semáforo dañado",
    ("semáforo apagado", "semáforo descompuesto"),
    "Reporte de semáforos y señales de tránsito dañados.",
    takes_requests=True,
)
WITHOUT = (NO_ADEUDO, BACHE, LAMPARA, AMBULANTE, RESIDENCIA, ALIMENTARIO)


@pytest.fixture(scope="module")
def without() -> DefaultUnderstander:
    """A catalogue with no cemetery, no traffic lights, no wheelchairs, no alcohol."""
    return DefaultUnderstander(WITHOUT, load())


@pytest.fixture(scope="module")
def with_them() -> DefaultUnderstander:
    """The same catalogue plus a cemetery and traffic lights."""
    return DefaultUnderstander((*WITHOUT, FOSA, SEMAFORO), load())


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("cuanto cuesta una fosa en el panteon municipal", "fosa"),
        ("el semaforo de la juarez y la hidalgo esta apagado", "semaforo"),
        ("el dif presta sillas de ruedas?", "silla de ruedas"),
        ("quiero un permiso pa vender cerveza en mi tienda", "cerveza"),
    ],
)
def test_a_topic_no_entry_covers_is_out_of_scope_though_it_shares_words_with_one(
    without: DefaultUnderstander, text: str, keyword: str
) -> None:
    result = without.understand(text, Context())
    assert result.intent == "out_of_scope"
    assert result.procedure_id is None
    assert result.entities["unlisted"] == keyword
    assert result.candidates  # the close entries, for the dialogue to offer


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        ("cuanto cuesta una fosa en el panteon municipal", "refrendo-fosa"),
        ("el semaforo de la juarez y la hidalgo esta apagado", "reporte-semaforo"),
    ],
)
def test_the_same_topic_is_answered_where_the_catalogue_covers_it(
    with_them: DefaultUnderstander, text: str, procedure: str
) -> None:
    result = with_them.understand(text, Context())
    assert result.procedure_id == procedure
    assert not result.confirm


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        # where something is, not what the message is about
        ("hay un bache enorme enfrente del panteon", "reporte-bache"),
        ("el arbotante de la esquina del semaforo esta apagado", "reporte-lampara"),
        # what the paper is for, not what it is
        ("pa la beca me piden comprobar que vivo en el municipio", "constancia-residencia"),
    ],
)
def test_a_topic_said_as_a_place_or_a_purpose_does_not_make_a_message_out_of_scope(
    without: DefaultUnderstander, text: str, procedure: str
) -> None:
    result = without.understand(text, Context())
    assert result.procedure_id == procedure
    assert "unlisted" not in result.entities


def test_a_topic_another_entry_covers_makes_the_best_match_one_to_confirm() -> None:
    copia = ProcedureEntry(
        "copia-acta",
        "Copia certificada de acta",
        ("copia certificada", "acta de nacimiento"),
        "Copias certificadas de actas del Registro Civil.",
        ("CURP",),
    )
    traslado = ProcedureEntry(
        "traslado-dominio",
        "Traslado de dominio",
        ("compra de terreno",),
        "Impuesto que se paga al comprar un inmueble, con la escritura ante notario.",
        ("Escritura",),
    )
    model = DefaultUnderstander((copia, traslado, BACHE), load())
    # a certified copy, but of a deed: the copy entry names acts, another entry deeds
    deed = model.understand("copias certificadas de mi escritura, las dan aqui?", Context())
    assert deed.procedure_id == "copia-acta"
    assert deed.confirm
    act = model.understand("copias certificadas de mi acta de nacimiento", Context())
    assert act.procedure_id == "copia-acta"
    assert not act.confirm


def test_a_clear_match_is_answered_without_asking_to_confirm(
    without: DefaultUnderstander,
) -> None:
    result = without.understand("cuanto cuesta la constancia de residencia", Context())
    assert result.procedure_id == "constancia-residencia"
    assert result.confirm is False


def test_a_lead_over_weak_matches_is_answered_only_after_confirming() -> None:
    # with the recognition threshold raised, this match is only a lead over the others
    model = DefaultUnderstander((RESIDENCIA, NO_ADEUDO, BACHE), load(), Thresholds(procedure=0.95))
    text = "en la escuela me piden un papel que diga que vivo aqui"
    result = model.understand(text, Context())
    assert result.procedure_id == "constancia-residencia"
    assert result.candidates[0].score < 0.95
    assert result.confirm
    sure = DefaultUnderstander((RESIDENCIA, NO_ADEUDO, BACHE), load())
    assert not sure.understand(text, Context()).confirm


MATRIMONIO = ProcedureEntry(
    "matrimonio",
    "Celebración de matrimonio civil",
    ("boda civil", "casarse por el civil"),
    "Ceremonia de matrimonio civil en el Registro Civil.",
    ("Actas de nacimiento",),
)
DEMOLICION = ProcedureEntry(
    "permiso-demolicion",
    "Permiso de demolición",
    ("tumbar una construcción",),
    "Permiso para demoler una construcción.",
    ("Croquis",),
)


@pytest.fixture(scope="module")
def papers() -> DefaultUnderstander:
    """The catalogue without a cemetery, plus a wedding and a demolition permit."""
    return DefaultUnderstander((*WITHOUT, MATRIMONIO, DEMOLICION), load())


def test_a_permit_for_an_activity_the_entry_never_mentions_is_out_of_scope(
    papers: DefaultUnderstander,
) -> None:
    fireworks = papers.understand("ocupo permiso pa quemar cuetes en la boda", Context())
    assert fireworks.intent == "out_of_scope"
    assert fireworks.entities["unlisted"] == "quemar"
    # the entry's own kind of paper, in everyday words, is still that entry
    shed = papers.understand("permiso pa tirar un cuartito", Context())
    assert (shed.procedure_id, shed.confirm) == ("permiso-demolicion", False)
    street = papers.understand("permiso pa vender en la calle", Context())
    assert (street.procedure_id, street.confirm) == ("venta-ambulante", False)


def test_a_match_is_confirmed_when_the_message_is_about_what_no_entry_mentions() -> None:
    cartilla = ProcedureEntry(
        "cartilla-militar",
        "Cartilla del Servicio Militar Nacional",
        ("inscripción al servicio militar", "precartilla"),
        "Trámite de la cartilla del servicio militar para jóvenes de 18 años.",
        ("Acta de nacimiento",),
    )
    model = DefaultUnderstander((*WITHOUT, cartilla), load())
    text = "inscripciones pa el kinder cuando son"
    assert model.index.focus_elsewhere("cartilla-militar", text) == "kinder"
    assert model.index.distinctive("cartilla-militar", text) < 0.35
    school = model.understand(text, Context())
    assert school.procedure_id == "cartilla-militar"
    assert school.confirm  # the bot asks "¿Te refieres a...?" instead of answering
    # the procedure said outright is answered, and a verb is no topic of its own
    military = model.understand("inscripciones pal servicio militar cuando son", Context())
    assert (military.procedure_id, military.confirm) == ("cartilla-militar", False)
    assert model.index.focus_elsewhere("constancia-residencia", "pa derrumbar") is None


def test_understanding_stands_by_its_answer_unless_told_otherwise() -> None:
    assert Understanding("ask_procedure", "x").confirm is False


def test_a_word_list_tells_real_words_from_typos_and_slang() -> None:
    for real in ("panteon", "semaforo", "cerveza", "fosa", "wheelchair"):
        assert frequency.zipf(real) >= 2.3, real
    for typo in ("nesesito", "divorsio", "recidencia", "xqzlw"):
        assert frequency.zipf(typo) == 0.0, typo
    assert frequency.zipf("casa") > frequency.zipf("panteon")  # common words weigh less


def test_rare_real_words_an_entry_does_not_use_weigh_against_it_and_typos_do_not() -> None:
    model = DefaultUnderstander((NO_ADEUDO, BACHE, RESIDENCIA), load())
    share, missing = model.index.explained(
        "carta-no-adeudo", "la carta municipal pa la excursion del zoologico"
    )
    assert share < 0.5  # "carta" and "municipal" are explained, the rest weighs more
    assert {"excursion", "zoologico"} <= set(missing)
    typo_share, typo_missing = model.index.explained(
        "carta-no-adeudo", "la carta municipal pa la excursoin del zoolgico"
    )
    assert typo_missing == []  # misspelt, they are no real words: they say little
    assert typo_share > share


def test_synonyms_are_replaced_longest_first_and_through_a_second_pass() -> None:
    data = parse(
        """
version: "3.1"
nlu:
- synonym: arbol
  examples: |
    - alamo
- synonym: derribo de arbol
  examples: |
    - tumbar un arbol
- synonym: luminaria
  examples: |
    - lampara
    - lampara del poste
"""
    )
    lexicon = Lexicon(data)
    assert lexicon.canonical("se fundio la lampara del poste") == "se fundio la luminaria"
    assert lexicon.canonical("la lampara") == "la luminaria"
    assert lexicon.canonical("quiero tumbar un alamo") == "quiero derribo de arbol"
    assert lexicon.canonical("nada que cambiar") == "nada que cambiar"


def test_title_similarity_gathered_from_the_sparse_arrays_equals_the_matrix_product() -> None:
    rng = np.random.default_rng(13)
    matrix = sparse_random(300, 40, density=0.05, format="csr", random_state=13)
    for _ in range(20):
        indices = np.sort(rng.choice(300, size=random.Random(1).randint(1, 30), replace=False))
        query = SparseVector(indices.astype(np.int64), rng.random(indices.size))
        expected = np.asarray(matrix[query.indices].T @ query.values).ravel()
        assert np.allclose(_similarity(matrix, query), expected)
    empty = SparseVector(np.zeros(0, dtype=np.int64), np.zeros(0))
    assert not _similarity(matrix, empty).any()


def test_evaluate_counts_a_confirmed_answer_apart_from_a_confident_wrong_one(
    tmp_path: Path,
) -> None:
    # with the recognition threshold raised, a described procedure is only a lead: confirmed
    model = DefaultUnderstander((RESIDENCIA, NO_ADEUDO, BACHE), load(), Thresholds(procedure=0.95))
    examples = [
        Example(
            "en la escuela me piden un papel que diga que vivo aqui", "out_of_scope", None, None
        ),
        Example("necesito comprobar que vivo aqui", "out_of_scope", None, None),
        Example(
            "en la escuela me piden un papel que diga que vivo aqui",
            "ask_procedure",
            "constancia-residencia",
            None,
        ),
    ]
    report = evaluate(model, examples)
    assert report["confirm"] == {"rows": 2, "share": 0.6667, "right": 1, "out_of_scope": 1}
    # only the second row was answered outright
    assert report["confident_wrong"]["count"] == 1
    assert report["procedure_accuracy"] == 1.0  # the top procedure, confirmed or not
    assert report["procedure_accuracy_unconfirmed"] == 0.0
    data = tmp_path / "set.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "intent", "procedure", "aspect"])
        writer.writerow(["cuanto cuesta la constancia de residencia", "out_of_scope", "", ""])
    catalog = Path(__file__).parent / "data" / "catalog_min.yml"
    text = CliRunner().invoke(app, ["nlu", "evaluate", "--catalog", str(catalog), str(data)])
    assert text.exit_code == 0, text.output
    assert "confirma" in text.output and "sin pedir confirmación" in text.output
