"""Checking catalogue files: every problem on its own line, naming file, entry and field."""

import copy
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from catalog.validate import validate_file, validate_text
from ventanilla.catalog_cli import app

DATA = Path(__file__).parent / "data"
MIN_FILE = DATA / "catalog_min.yml"
SAMPLE = Path(__file__).resolve().parent.parent / "catalog" / "samples" / "acacias.yml"
F = "catalogo.yml"

Mutation = Callable[[dict[str, Any]], None]


def min_data() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(MIN_FILE.read_text(encoding="utf-8")))


def problems_after(mutate: Mutation) -> list[str]:
    data = min_data()
    mutate(data)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    catalog, problems = validate_text(text, F)
    assert catalog is None
    return problems


def proc(data: dict[str, Any], index: int) -> dict[str, Any]:
    return data["procedures"][index]


def dept(data: dict[str, Any], index: int) -> dict[str, Any]:
    return data["departments"][index]


def test_minimal_catalogue_is_valid_and_typed() -> None:
    catalog, problems = validate_file(MIN_FILE)

    assert problems == []
    assert catalog is not None
    assert [d.id for d in catalog.departments] == ["tesoreria", "servicios-publicos"]
    predial, constancia, alumbrado = catalog.procedures
    assert constancia.synonyms == []  # omitted -> empty list
    assert constancia.cost_amount == Decimal("150.00")
    assert constancia.cost_amount.as_tuple().exponent == -2
    assert predial.cost_amount is None and predial.online_url is not None
    assert predial.description.endswith("febrero.")  # block scalar's trailing newline dropped
    assert alumbrado.request is not None and alumbrado.request.enabled
    assert alumbrado.request.fields == ["location", "description", "photo"]


CASES: list[tuple[str, Mutation, list[str]]] = [
    (
        "unknown department",
        lambda d: proc(d, 1).update(department="obras"),
        [f"{F}: procedures[1] (constancia-no-adeudo).department: departamento desconocido 'obras'"],
    ),
    (
        "unknown department close to a known one",
        lambda d: proc(d, 1).update(department="tesorería"),
        [
            f"{F}: procedures[1] (constancia-no-adeudo).department: id inválido 'tesorería': use "
            "solo minúsculas sin acentos, números y guiones (por ejemplo "
            "'licencia-de-construccion')",
            f"{F}: procedures[1] (constancia-no-adeudo).department: departamento desconocido "
            "'tesorería'; ¿quiso decir 'tesoreria'?",
        ],
    ),
    (
        "duplicate department id",
        lambda d: dept(d, 1).update(id="tesoreria"),
        [
            f"{F}: departments[1] (tesoreria).id: id duplicado 'tesoreria' "
            "(también en departments[0])",
            f"{F}: procedures[2] (reporte-alumbrado).department: departamento desconocido "
            "'servicios-publicos'",
        ],
    ),
    (
        "duplicate procedure id",
        lambda d: proc(d, 2).update(id="pago-predial"),
        [
            f"{F}: procedures[2] (pago-predial).id: id duplicado 'pago-predial' "
            "(también en procedures[0])"
        ],
    ),
    (
        "missing procedure field",
        lambda d: proc(d, 0).pop("cost"),
        [f"{F}: procedures[0] (pago-predial).cost: falta este campo obligatorio"],
    ),
    (
        "missing municipality field",
        lambda d: d["municipality"].pop("website"),
        [f"{F}: municipality.website: falta este campo obligatorio"],
    ),
    (
        "missing section",
        lambda d: d.pop("departments"),
        [f"{F}: departments: falta este campo obligatorio"],
    ),
    (
        "entry without id is named by index only",
        lambda d: proc(d, 1).pop("id"),
        [f"{F}: procedures[1].id: falta este campo obligatorio"],
    ),
    (
        "misspelt key",
        lambda d: proc(d, 1).update(requirments=proc(d, 1).pop("requirements")),
        [
            f"{F}: procedures[1] (constancia-no-adeudo).requirements: falta este campo obligatorio",
            f"{F}: procedures[1] (constancia-no-adeudo).requirments: campo desconocido; "
            "¿quiso decir 'requirements'?",
        ],
    ),
    (
        "unknown top-level section",
        lambda d: d.update(procedimientos=[]),
        [f"{F}: procedimientos: campo desconocido; ¿quiso decir 'procedures'?"],
    ),
    (
        "string where a list is expected",
        lambda d: proc(d, 0).update(legal_basis="Ley de Hacienda Municipal"),
        [f"{F}: procedures[0] (pago-predial).legal_basis: se esperaba una lista"],
    ),
    (
        "list where a number is expected",
        lambda d: proc(d, 1).update(cost_amount=[150]),
        [
            f"{F}: procedures[1] (constancia-no-adeudo).cost_amount: se esperaba un número "
            "(sin signo de pesos ni comas)"
        ],
    ),
    (
        "text where a number is expected",
        lambda d: proc(d, 1).update(cost_amount="$150"),
        [
            f"{F}: procedures[1] (constancia-no-adeudo).cost_amount: se esperaba un número "
            "(sin signo de pesos ni comas)"
        ],
    ),
    (
        "boolean is not an amount",
        lambda d: proc(d, 1).update(cost_amount=True),
        [
            f"{F}: procedures[1] (constancia-no-adeudo).cost_amount: se esperaba un número "
            "(sin signo de pesos ni comas)"
        ],
    ),
    (
        "boolean is not a number of days",
        lambda d: proc(d, 1).update(response_days=True),
        [f"{F}: procedures[1] (constancia-no-adeudo).response_days: se esperaba un número entero"],
    ),
    (
        "negative days",
        lambda d: proc(d, 1).update(response_days=-1),
        [f"{F}: procedures[1] (constancia-no-adeudo).response_days: debe ser mayor o igual a 0"],
    ),
    (
        "negative amount",
        lambda d: proc(d, 1).update(cost_amount=-5),
        [f"{F}: procedures[1] (constancia-no-adeudo).cost_amount: debe ser mayor o igual a 0"],
    ),
    (
        "fractions of a centavo",
        lambda d: proc(d, 1).update(cost_amount=150.005),
        [
            f"{F}: procedures[1] (constancia-no-adeudo).cost_amount: se permiten como máximo "
            "dos decimales"
        ],
    ),
    (
        "number where text is expected",
        lambda d: dept(d, 0).update(phone=4430000001),
        [
            f"{F}: departments[0] (tesoreria).phone: se esperaba texto (si es un número, una "
            "fecha o una hora, escríbalo entre comillas)"
        ],
    ),
    (
        "empty text",
        lambda d: proc(d, 2).update(name="  "),
        [f"{F}: procedures[2] (reporte-alumbrado).name: no puede quedar vacío"],
    ),
    (
        "website without scheme",
        lambda d: d["municipality"].update(website="www.prueba.gob.mx"),
        [
            f"{F}: municipality.website: URL inválida 'www.prueba.gob.mx': debe empezar con "
            "http:// o https:// e incluir el dominio"
        ],
    ),
    (
        "online url without host",
        lambda d: proc(d, 0).update(online_url="https://"),
        [
            f"{F}: procedures[0] (pago-predial).online_url: URL inválida 'https://': debe "
            "empezar con http:// o https:// e incluir el dominio"
        ],
    ),
    (
        "online url with another scheme",
        lambda d: proc(d, 0).update(online_url="ftp://pagos.prueba.gob.mx"),
        [
            f"{F}: procedures[0] (pago-predial).online_url: URL inválida "
            "'ftp://pagos.prueba.gob.mx': debe empezar con http:// o https:// e incluir el dominio"
        ],
    ),
    (
        "en_linea without online_url",
        lambda d: proc(d, 0).pop("online_url"),
        [
            f"{F}: procedures[0] (pago-predial).online_url: falta este campo: la modalidad "
            "incluye 'en_linea'"
        ],
    ),
    (
        "bad email",
        lambda d: dept(d, 1).update(email="servicios.prueba.gob.mx"),
        [
            f"{F}: departments[1] (servicios-publicos).email: correo electrónico inválido "
            "'servicios.prueba.gob.mx'"
        ],
    ),
    (
        "bad kind",
        lambda d: proc(d, 0).update(kind="Trámite"),
        [
            f"{F}: procedures[0] (pago-predial).kind: valor no permitido 'Trámite'; valores "
            "válidos: 'tramite', 'servicio'"
        ],
    ),
    (
        "empty modality",
        lambda d: proc(d, 1).update(modality=[]),
        [f"{F}: procedures[1] (constancia-no-adeudo).modality: la lista no puede quedar vacía"],
    ),
    (
        "repeated modality",
        lambda d: proc(d, 1).update(modality=["presencial", "presencial"]),
        [f"{F}: procedures[1] (constancia-no-adeudo).modality: valor repetido 'presencial'"],
    ),
    (
        "unknown request field, nested path",
        lambda d: proc(d, 2)["request"].update(fields=["location", "foto"]),
        [
            f"{F}: procedures[2] (reporte-alumbrado).request.fields[1]: valor no permitido "
            "'foto'; valores válidos: 'location', 'description', 'photo'"
        ],
    ),
    (
        "request enabled is not a boolean",
        lambda d: proc(d, 2)["request"].update(enabled="sí"),
        [f"{F}: procedures[2] (reporte-alumbrado).request.enabled: se esperaba true o false"],
    ),
    (
        "bad slug",
        lambda d: proc(d, 1).update(id="Constancia No Adeudo"),
        [
            f"{F}: procedures[1] (Constancia No Adeudo).id: id inválido 'Constancia No Adeudo': "
            "use solo minúsculas sin acentos, números y guiones (por ejemplo "
            "'licencia-de-construccion')"
        ],
    ),
    (
        "entry that is not a mapping",
        lambda d: d["procedures"].__setitem__(1, "constancia-no-adeudo"),
        [f"{F}: procedures[1]: se esperaba una sección con campos (clave: valor)"],
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_problem_is_reported_with_file_entry_and_field(
    mutate: Mutation, expected: list[str]
) -> None:
    assert problems_after(mutate) == expected


def test_all_problems_are_reported_at_once_in_file_order() -> None:
    def mutate(d: dict[str, Any]) -> None:
        proc(d, 2).update(department="obras")
        d["municipality"]["website"] = "prueba.gob.mx"
        proc(d, 0).pop("online_url")
        proc(d, 0)["legal_basis"] = "Ley"
        dept(d, 1)["email"] = "nadie"

    assert problems_after(mutate) == [
        f"{F}: municipality.website: URL inválida 'prueba.gob.mx': debe empezar con http:// o "
        "https:// e incluir el dominio",
        f"{F}: departments[1] (servicios-publicos).email: correo electrónico inválido 'nadie'",
        f"{F}: procedures[0] (pago-predial).legal_basis: se esperaba una lista",
        f"{F}: procedures[0] (pago-predial).online_url: falta este campo: la modalidad incluye "
        "'en_linea'",
        f"{F}: procedures[2] (reporte-alumbrado).department: departamento desconocido 'obras'",
    ]


def test_yaml_syntax_error_gives_line_and_column() -> None:
    text = "municipality:\n  name: Prueba\n  state: [Michoacán\ndepartments: []\n"

    catalog, problems = validate_text(text, F)

    assert catalog is None
    assert problems == [
        f"{F}: línea 4, columna 12: falta ',' o ']' en la lista entre corchetes "
        "(revise también la línea 3)"
    ]


def test_missing_colon_points_at_both_lines() -> None:
    text = MIN_FILE.read_text(encoding="utf-8").replace("cost: Gratuito", "cost Gratuito")
    line = text.splitlines().index("    cost Gratuito") + 1

    _, problems = validate_text(text, F)

    assert problems == [
        f"{F}: línea {line + 1}, columna 5: falta ':' después de la clave "
        f"(revise también la línea {line})"
    ]


def test_tab_indentation_is_a_syntax_error_with_line() -> None:
    text = "municipality:\n\tname: Prueba\n"

    assert validate_text(text, F)[1] == [
        f"{F}: línea 2, columna 1: no se permiten tabuladores; use espacios para sangrar"
    ]


def test_repeated_key_is_reported_with_its_line() -> None:
    text = MIN_FILE.read_text(encoding="utf-8").replace(
        "    cost: Gratuito\n", "    cost: Gratuito\n    cost: $10\n"
    )
    line = text.splitlines().index("    cost: $10") + 1

    catalog, problems = validate_text(text, F)

    assert catalog is None
    assert problems == [f"{F}: línea {line}, columna 5: clave repetida 'cost'"]


def test_unquoted_time_is_not_silently_turned_into_a_number() -> None:
    text = MIN_FILE.read_text(encoding="utf-8").replace(
        'hours: "Lunes a viernes, 9:00 a 15:00"', "hours: 9:00"
    )

    assert validate_text(text, F)[1] == [
        f"{F}: departments[0] (tesoreria).hours: se esperaba texto (si es un número, una fecha "
        "o una hora, escríbalo entre comillas)"
    ]


def test_yes_no_style_keys_stay_text_and_are_unknown_fields() -> None:
    text = MIN_FILE.read_text(encoding="utf-8").replace(
        "  state: Michoacán\n", "  state: Michoacán\n  on: true\n"
    )

    assert validate_text(text, F)[1] == [
        f"{F}: municipality.on: campo desconocido; campos válidos: name, state, phone, website, "
        "privacy_notice_url"
    ]


@pytest.mark.parametrize(
    ("text", "found"),
    [("- a\n- b\n", "una lista"), ("solo texto\n", "un texto"), ("42\n", "un número")],
)
def test_top_level_that_is_not_a_mapping_is_one_clear_error(text: str, found: str) -> None:
    assert validate_text(text, F) == (
        None,
        [
            f"{F}: el archivo debe contener las secciones municipality, departments y procedures "
            f"(clave: valor); se encontró {found}"
        ],
    )


def test_empty_file_is_an_error() -> None:
    assert validate_text("# nada\n", F) == (None, [f"{F}: el archivo está vacío"])


def test_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "no-existe.yml"

    assert validate_file(path) == (None, [f"{path}: no existe el archivo"])


def test_cli_validate_prints_one_ok_line_and_exits_0() -> None:
    result = CliRunner().invoke(app, ["validate", str(MIN_FILE)])

    assert result.exit_code == 0
    assert result.stdout == (
        f"{MIN_FILE}: catálogo válido — 2 departamentos, 3 procedimientos "
        "(1 con solicitud por chat)\n"
    )


def test_cli_validate_prints_every_problem_to_stderr_and_exits_1(tmp_path: Path) -> None:
    data = min_data()
    proc(data, 1)["department"] = "obras"
    data["municipality"]["website"] = "prueba"
    path = tmp_path / "catalogo.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    result = CliRunner().invoke(app, ["validate", str(path)])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}: municipality.website: URL inválida 'prueba': debe empezar con http:// o "
        "https:// e incluir el dominio",
        f"{path}: procedures[1] (constancia-no-adeudo).department: departamento desconocido "
        "'obras'",
    ]


@pytest.mark.skipif(not SAMPLE.exists(), reason="catalog/samples/acacias.yml not written yet")
def test_sample_catalogue_validates_and_is_substantial() -> None:
    catalog, problems = validate_file(SAMPLE)

    assert problems == []
    assert catalog is not None
    assert len(catalog.procedures) >= 30
    assert len(catalog.departments) >= 8
    assert sum(1 for p in catalog.procedures if p.request and p.request.enabled) >= 5
