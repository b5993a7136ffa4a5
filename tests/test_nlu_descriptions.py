"""Issue 13, fifth round: reports described without naming the type, civil-registry acts a
catalogue lacks, opinions, topics read from what entries are about, and several aspects.

The catalogues are small and written here, so each test reads the behaviour on whatever
catalogue it is given, not on the bundled samples' wording."""

import pytest

from nlu.aspects import aspects_asked, clauses
from nlu.normalize import normalize
from nlu.pipeline import DefaultUnderstander
from nlu.training import load
from nlu.understanding import Context, ProcedureEntry

LUMINARIA = ProcedureEntry(
    "reporte-luminaria",
    "Reporte de luminaria apagada",
    ("lámpara fundida", "poste sin luz", "foco del poste"),
    "Reporte de lámparas del alumbrado público que no encienden.",
    takes_requests=True,
)
RIESGO = ProcedureEntry(
    "reporte-riesgo",
    "Reporte de situación de riesgo",
    ("barda a punto de caer", "poste a punto de caer", "cables caídos"),
    "Reporte de bardas, postes o árboles que pueden caer.",
    takes_requests=True,
)
FUGA = ProcedureEntry(
    "reporte-fuga",
    "Reporte de fuga de agua",
    ("fuga", "tubo roto", "se está tirando el agua"),
    "Reporte de fugas en la red de agua potable.",
    takes_requests=True,
)
DRENAJE = ProcedureEntry(
    "reporte-drenaje",
    "Reporte de drenaje tapado",
    ("drenaje tapado", "coladera tapada", "registro tapado"),
    "Desazolve de drenaje, coladeras y alcantarillas tapadas.",
    takes_requests=True,
)
BACHE = ProcedureEntry(
    "reporte-bache",
    "Reporte de bache",
    ("bache", "hoyo en la calle"),
    "Reporte de baches en calles del municipio.",
    takes_requests=True,
)
PREDIAL = ProcedureEntry(
    "pago-predial",
    "Pago del impuesto predial",
    ("predial", "impuesto de la casa"),
    "Pago anual del impuesto predial.",
    ("Último recibo del predial",),
)
COPIAS = ProcedureEntry(
    "copias-actas",
    "Copias certificadas de actas",
    ("copia certificada", "sacar una copia de mi acta"),
    "Entrega de copias certificadas de actas de nacimiento, matrimonio, defunción o divorcio.",
    ("Datos del acta",),
)
DIVORCIO = ProcedureEntry(
    "divorcio-administrativo",
    "Divorcio administrativo",
    ("divorcio voluntario", "divorciarse en el registro civil"),
    "Divorcio de común acuerdo ante el registro civil.",
    ("Acta de matrimonio",),
)
DEFUNCION = ProcedureEntry(
    "registro-defuncion",
    "Registro de defunción",
    ("levantar acta de defunción", "registrar un fallecimiento"),
    "Registro del fallecimiento de una persona.",
    ("Certificado médico de defunción", "Identificación del declarante"),
)
OBRA = ProcedureEntry(
    "permiso-obra",
    "Permiso de obra menor",
    ("levantar una barda", "construir un cuarto"),
    "Permiso para construcciones pequeñas.",
    ("Croquis",),
)


def _understand(model: DefaultUnderstander, text: str) -> tuple[str, str | None]:
    result = model.understand(text, Context())
    return result.intent, result.procedure_id


@pytest.fixture(scope="module")
def reports() -> DefaultUnderstander:
    return DefaultUnderstander((LUMINARIA, RIESGO, FUGA, DRENAJE, BACHE, PREDIAL), load())


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        ("el poste de enfrente de mi casa no prende desde el viernes", "reporte-luminaria"),
        ("la lamparita de la calle se prende y se apaga toda la noche", "reporte-luminaria"),
        ("el poste de la esquina se esta cayendo encima de las casas", "reporte-riesgo"),
        ("se tapo la coladera de mi calle y se esta saliendo el agua negra", "reporte-drenaje"),
        ("se tapo el registro de la calle y sale agua negra", "reporte-drenaje"),
        ("se revento un tubo en la calle y se esta tirando el agua", "reporte-fuga"),
    ],
)
def test_a_report_described_without_its_type_opens_the_matching_one(
    reports: DefaultUnderstander, text: str, procedure: str
) -> None:
    assert _understand(reports, text) == ("open_request", procedure)


def test_an_opinion_that_asks_nothing_is_out_of_scope_but_a_sure_report_stays_one(
    reports: DefaultUnderstander,
) -> None:
    rants = (
        "el presidente municipal es un inutil las calles estan llenas de baches y no hace nada",
        "ustedes cobran el predial bien caro y ni hacen nada",
    )
    for text in rants:
        assert _understand(reports, text)[0] == "out_of_scope", text
    complaint = "hay un bache enorme en mi calle y ustedes no hacen nada"
    assert _understand(reports, complaint) == ("open_request", "reporte-bache")
    question = "son unos rateros, cuanto es el predial de este año?"
    assert _understand(reports, question) == ("ask_procedure", "pago-predial")


def test_a_report_on_a_topic_no_report_covers_is_out_of_scope() -> None:
    text = "la barda del vecino esta a punto de caerse encima de mi casa"
    without = DefaultUnderstander((LUMINARIA, BACHE, PREDIAL), load())
    assert _understand(without, text)[0] == "out_of_scope"
    with_risks = DefaultUnderstander((LUMINARIA, BACHE, PREDIAL, RIESGO), load())
    assert _understand(with_risks, text) == ("open_request", "reporte-riesgo")


def test_divorcing_is_not_a_copy_of_a_divorce_act() -> None:
    """A copies entry that lists divorce acts does not make the catalogue divorce anyone."""
    text = "cuanto cuesta divorciarse en el registro civil?"
    copies_only = DefaultUnderstander((COPIAS, PREDIAL), load())
    assert _understand(copies_only, text)[0] == "out_of_scope"
    assert _understand(copies_only, "ocupo una copia certificada del acta de divorcio") == (
        "ask_procedure",
        "copias-actas",
    )
    with_divorce = DefaultUnderstander((COPIAS, PREDIAL, DIVORCIO), load())
    assert _understand(with_divorce, text) == ("ask_procedure", "divorcio-administrativo")


def test_registering_a_death_is_out_of_scope_where_only_copies_are_listed() -> None:
    text = "mi papa fallecio anoche q se hace pa levantar el acta de defuncion"
    copies_only = DefaultUnderstander((COPIAS, PREDIAL), load())
    assert _understand(copies_only, text)[0] == "out_of_scope"
    with_registry = DefaultUnderstander((COPIAS, PREDIAL, DEFUNCION), load())
    assert _understand(with_registry, text) == ("ask_procedure", "registro-defuncion")


def test_a_topic_is_covered_by_what_an_entry_is_about_not_by_what_it_asks_for() -> None:
    """Registering a death asks for a medical certificate; it does not issue them."""
    model = DefaultUnderstander((COPIAS, PREDIAL, DEFUNCION), load())
    health = model.topics.mentioned("el certificado medico pa la escuela donde lo dan")
    assert health and not any(model.topics.covered(m.topic) for m in health)
    death = model.topics.mentioned("quiero registrar un fallecimiento")
    assert death and all(model.topics.covered(m.topic) for m in death)


def test_whose_paper_it_is_names_no_other_kind() -> None:
    demolicion = ProcedureEntry(
        "permiso-demolicion",
        "Permiso de demolición",
        ("tumbar una construcción", "demoler casa"),
        "Permiso para demoler construcciones.",
    )
    model = DefaultUnderstander((demolicion, OBRA, PREDIAL), load())
    text = "vamos a tumbar la casa vieja pa construir otra ocupamos permiso de ustedes q requisitos"
    assert _understand(model, text) == ("ask_procedure", "permiso-demolicion")


def _asked(text: str) -> list[str]:
    return aspects_asked([normalize(c) for c in clauses(text)])


@pytest.mark.parametrize(
    ("text", "aspects"),
    [
        ("la carta de no adeudo cuantos dias es valida", ["validity"]),
        ("la constancia cuanto tiempo me dura", ["validity"]),
        (
            "el permiso cuanto tardan en darlo y por cuanto tiempo me sirve",
            ["duration", "validity"],
        ),
        ("cuantos dias tardan en darme la constancia", ["duration"]),
        ("no se que papeles piden ni cuanto cuesta la boda", ["requirements", "cost"]),
        ("no tenemos hijos que piden pa el divorcio y cuanto sale", ["requirements", "cost"]),
        ("no tengo pa pagar", []),
        ("buenas noches perdon la hora donde esta el corralon", ["location"]),
        ("cobran por registrarlo y en cuanto me dan la acta", ["cost", "duration"]),
    ],
)
def test_every_aspect_asked_is_found_in_order(text: str, aspects: list[str]) -> None:
    assert _asked(text) == aspects


def test_a_copy_of_an_act_and_registering_one_are_told_apart() -> None:
    nacimiento = ProcedureEntry(
        "registro-nacimiento",
        "Registro de nacimiento",
        ("registrar a mi bebé", "primera acta del bebé"),
        "Registro del nacimiento de un niño ante el registro civil.",
        ("Certificado de nacimiento",),
    )
    model = DefaultUnderstander((COPIAS, nacimiento, DEFUNCION, PREDIAL), load())
    assert _understand(model, "el acta de nacimiento cuanto cuesta") == (
        "ask_procedure",
        "copias-actas",
    )
    assert _understand(model, "nacio mi bebe el sabado q papeles llevo pa el acta") == (
        "ask_procedure",
        "registro-nacimiento",
    )
    assert _understand(model, "fallecio mi suegra ayer, donde levantamos el acta") == (
        "ask_procedure",
        "registro-defuncion",
    )
    assert _understand(model, "pa sacar el acta de mi jefa q ya fallecio cuanto sale") == (
        "ask_procedure",
        "copias-actas",
    )
