"""Checking a catalogue file and explaining every problem to the staff member who edits it.

Each problem is one line naming the file, the entry and the field::

    catalogo.yml: procedures[4] (licencia-uso-suelo).department: departamento desconocido 'obras'
    catalogo.yml: municipality.website: URL inválida 'www.acacias.gob.mx': ...
    catalogo.yml: línea 12, columna 3: falta ':' después de la clave

All problems are reported at once, not just the first. The texts staff read are in ``MESSAGES``.
"""

import difflib
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from catalog.schema import CatalogFile

MESSAGES = {
    # Pydantic's error types.
    "missing": "falta este campo obligatorio",
    "extra_forbidden": "campo desconocido",
    "string_type": (
        "se esperaba texto (si es un número, una fecha o una hora, escríbalo entre comillas)"
    ),
    "string_too_short": "no puede quedar vacío",
    "string_too_long": "es demasiado largo (máximo {max_length} caracteres)",
    "string_pattern_mismatch": (
        "id inválido {input}: use solo minúsculas sin acentos, números y guiones "
        "(por ejemplo 'licencia-de-construccion')"
    ),
    "list_type": "se esperaba una lista",
    "too_short": "la lista no puede quedar vacía",
    "model_type": "se esperaba una sección con campos (clave: valor)",
    "dict_type": "se esperaba una sección con campos (clave: valor)",
    "bool_type": "se esperaba true o false",
    "int_type": "se esperaba un número entero",
    "greater_than_equal": "debe ser mayor o igual a {ge}",
    "literal_error": "valor no permitido {input}; valores válidos: {expected}",
    # Raised by catalog.schema.
    "url_invalid": "URL inválida '{url}': debe empezar con http:// o https:// e incluir el dominio",
    "email_invalid": "correo electrónico inválido '{email}'",
    "number_type": "se esperaba un número (sin signo de pesos ni comas)",
    "money_negative": "debe ser mayor o igual a 0",
    "money_decimals": "se permiten como máximo dos decimales",
    "money_too_large": "es demasiado grande (máximo {max})",
    "duplicate_item": "valor repetido '{item}'",
    "online_url_required": "falta este campo: la modalidad incluye 'en_linea'",
    # Checked here.
    "invalid": "valor inválido ({detail})",
    "did_you_mean": "{message}; ¿quiso decir '{match}'?",
    "valid_fields": "{message}; campos válidos: {fields}",
    "duplicate_id": "id duplicado '{id}' (también en {other})",
    "unknown_department": "departamento desconocido '{id}'",
    "duplicate_key": "línea {line}, columna {column}: clave repetida '{key}'",
    "yaml_error": "línea {line}, columna {column}: {problem}",
    "bad_character": "carácter no permitido ({code}); bórrelo o vuelva a escribir el texto",
    "see_line": " (revise también la línea {line})",
    "yaml_other": "error de sintaxis YAML: {problem}",
    "yaml_unmarked": "el archivo no se puede leer como YAML: {problem}",
    "empty_file": "el archivo está vacío",
    "not_mapping": (
        "el archivo debe contener las secciones municipality, departments y procedures "
        "(clave: valor); se encontró {found}"
    ),
    "not_found": "no existe el archivo",
    "is_directory": "es una carpeta, no un archivo",
    "unreadable": "no se pudo leer el archivo: {error}",
    "not_utf8": "el archivo no está en UTF-8 (guárdelo con codificación UTF-8)",
    "list_item": "renglón {n}: {message}",
    "ok": (
        "{filename}: catálogo válido — {departments} departamentos, {procedures} procedimientos "
        "({requests} con solicitud por chat)"
    ),
}

# The YAML parser's most frequent complaints, in words an editor understands.
YAML_PROBLEMS = {
    "could not find expected ':'": "falta ':' después de la clave",
    "mapping values are not allowed here": (
        "aquí no se permite ':' (¿falta un espacio después de ':' o comillas alrededor del texto?)"
    ),
    "found character '\\t' that cannot start any token": (
        "no se permiten tabuladores; use espacios para sangrar"
    ),
    "expected <block end>, but found '-'": "la sangría de esta lista no coincide con la anterior",
    "found undefined alias": "alias no definido",
    "but found another document": "el archivo debe contener un solo documento (sobra '---')",
    "expected the node content": "falta un valor (¿el archivo termina antes de tiempo?)",
    "found unexpected end of stream": "faltan comillas de cierre",
    "expected ',' or ']'": "falta ',' o ']' en la lista entre corchetes",
    "expected ',' or '}'": "falta ',' o '}' en la sección entre llaves",
    "found unknown escape character": "secuencia de escape desconocida entre comillas dobles",
}

TYPE_NAMES = {list: "una lista", str: "un texto", int: "un número", float: "un número"}
SECTION_ORDER = {"municipality": 0, "departments": 1, "procedures": 2}

Loc = tuple[int | str, ...]
E = TypeVar("E", bound=BaseModel)


class CatalogError(Exception):
    """A catalogue that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class _Problem:
    """A problem at a place in the data (``loc``) or at a line of the text (``line``)."""

    message: str
    loc: Loc = ()
    line: int = 0

    def sort_key(self) -> tuple[int, int]:
        """Text-level problems by line first, then by section and entry (stable within one)."""
        if not self.loc:
            return (-1, self.line)
        section = SECTION_ORDER.get(str(self.loc[0]), 3)
        index = self.loc[1] if len(self.loc) > 1 and isinstance(self.loc[1], int) else -1
        return (section, index)


def validate_file(path: str | Path) -> tuple[CatalogFile | None, list[str]]:
    """Read and check a catalogue file; see ``validate_text``."""
    filename = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, [f"{filename}: {MESSAGES['not_utf8']}"]
    except FileNotFoundError:
        return None, [f"{filename}: {MESSAGES['not_found']}"]
    except IsADirectoryError:
        return None, [f"{filename}: {MESSAGES['is_directory']}"]
    except OSError as exc:
        error = exc.strerror or str(exc)
        return None, [f"{filename}: {MESSAGES['unreadable'].format(error=error)}"]
    return validate_text(text, filename)


def validate_text(text: str, filename: str) -> tuple[CatalogFile | None, list[str]]:
    """Check catalogue YAML. Returns the catalogue and no problems, or None and every problem."""
    data, problems = _parse(text)
    if data is None:
        return None, _render(problems or [_Problem(MESSAGES["empty_file"])], filename, data)
    if not isinstance(data, dict):
        found = TYPE_NAMES.get(type(data), "un valor suelto")
        return None, [f"{filename}: {MESSAGES['not_mapping'].format(found=found)}"]
    catalog: CatalogFile | None = None
    try:
        catalog = CatalogFile.model_validate(data)
    except ValidationError as exc:
        problems += [_from_pydantic(error) for error in exc.errors()]
    problems += _cross_reference_problems(data)
    if problems:
        return None, _render(problems, filename, data)
    return catalog, []


def problems_from_validation_error(exc: ValidationError, data: Any, filename: str) -> list[str]:
    """Render a ``CatalogFile`` validation error of ``data`` as problem lines."""
    return _render([_from_pydantic(error) for error in exc.errors()], filename, data)


def validate_entry(model: type[E], data: dict[str, Any]) -> tuple[E | None, dict[str, list[str]]]:
    """Check one department or procedure (as edited in a form) with the catalogue file's rules.

    Returns the entry and no problems, or None and the problems keyed by top-level field name
    (``request.fields`` under ``request``); problems in a list name the item's line, counted
    from 1, as the list is edited one item per line. Cross-entry rules (unique ids, known
    departments) are the caller's, as they depend on what is stored."""
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        problems: dict[str, list[str]] = {}
        for error in exc.errors():
            problem = _from_pydantic(error, model)
            loc = problem.loc or ("",)
            message = problem.message
            if len(loc) > 1 and isinstance(loc[1], int):
                message = MESSAGES["list_item"].format(n=loc[1] + 1, message=message)
            problems.setdefault(str(loc[0]), []).append(message)
        return None, problems


def ok_line(catalog: CatalogFile, filename: str) -> str:
    """The one-line summary of a valid catalogue."""
    requests = sum(1 for p in catalog.procedures if p.request and p.request.enabled)
    return MESSAGES["ok"].format(
        filename=filename,
        departments=len(catalog.departments),
        procedures=len(catalog.procedures),
        requests=requests,
    )


# --- YAML -----------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader that reports repeated keys and keeps keys such as ``on:`` or ``1:`` as text
    (plain YAML would turn them into True and 1, hiding the typo)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.problems: list[_Problem] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _value in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            key_node.tag = "tag:yaml.org,2002:str"
            if key_node.value in seen:
                self._duplicate(key_node)
            seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)

    def _duplicate(self, key_node: yaml.ScalarNode) -> None:
        mark = key_node.start_mark
        message = MESSAGES["duplicate_key"].format(
            line=mark.line + 1, column=mark.column + 1, key=key_node.value
        )
        self.problems.append(_Problem(message, line=mark.line + 1))


def _parse(text: str) -> tuple[Any, list[_Problem]]:
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        return None, [_reader_problem(text, exc)]
    try:
        return loader.get_single_data(), loader.problems
    except yaml.reader.ReaderError as exc:
        return None, [_reader_problem(text, exc)]
    except yaml.MarkedYAMLError as exc:
        return None, [_yaml_problem(exc)]
    except yaml.YAMLError as exc:
        return None, [_Problem(MESSAGES["yaml_unmarked"].format(problem=exc))]
    finally:
        loader.dispose()


def _reader_problem(text: str, exc: yaml.reader.ReaderError) -> _Problem:
    """A character YAML does not allow (control characters and the like)."""
    before = text[: exc.position]
    line, column = before.count("\n") + 1, exc.position - before.rfind("\n")
    problem = MESSAGES["bad_character"].format(code=f"U+{exc.character:04X}")
    message = MESSAGES["yaml_error"].format(line=line, column=column, problem=problem)
    return _Problem(message, line=line)


def _yaml_problem(exc: yaml.MarkedYAMLError) -> _Problem:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "error de sintaxis"
    fallback = MESSAGES["yaml_other"].format(problem=problem)
    problem = next((es for en, es in YAML_PROBLEMS.items() if problem.startswith(en)), fallback)
    if mark is None:
        return _Problem(problem)
    line, column = mark.line + 1, mark.column + 1
    context = exc.context_mark
    if context is not None and context.line != mark.line:
        problem += MESSAGES["see_line"].format(line=context.line + 1)
    message = MESSAGES["yaml_error"].format(line=line, column=column, problem=problem)
    return _Problem(message, line=line)


# --- Pydantic errors ------------------------------------------------------------------------


def _from_pydantic(error: ErrorDetails, root: type[BaseModel] = CatalogFile) -> _Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return _Problem(_unknown_field_message(loc, root), loc)
    template = MESSAGES.get(kind)
    if template is None:
        return _Problem(MESSAGES["invalid"].format(detail=error["msg"]), loc)
    context = {k: _show(v) if k == "input" else v for k, v in (error.get("ctx") or {}).items()}
    context["input"] = _show(error.get("input"))
    if "expected" in context:
        context["expected"] = str(context["expected"]).replace(" or ", ", ")
    return _Problem(template.format(**context), loc)


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _unknown_field_message(loc: Loc, root: type[BaseModel] = CatalogFile) -> str:
    message = MESSAGES["extra_forbidden"]
    model = _model_at(loc[:-1], root)
    if model is None:
        return message
    fields = list(model.model_fields)
    match = difflib.get_close_matches(str(loc[-1]), fields, n=1, cutoff=0.6)
    if match:
        return MESSAGES["did_you_mean"].format(message=message, match=match[0])
    return MESSAGES["valid_fields"].format(message=message, fields=", ".join(fields))


def _model_at(loc: Loc, root: type[BaseModel] = CatalogFile) -> type[BaseModel] | None:
    """The schema model that describes the mapping at ``loc`` (list indexes skipped)."""
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if model else None
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


# --- Cross-references -----------------------------------------------------------------------


def _cross_reference_problems(data: dict[str, Any]) -> list[_Problem]:
    """Duplicate ids and unknown departments, checked on the raw data so they are reported even
    when other fields of the same entries are wrong."""
    departments = _entries(data.get("departments"))
    procedures = _entries(data.get("procedures"))
    problems = _duplicate_ids("departments", departments)
    problems += _duplicate_ids("procedures", procedures)
    if isinstance(data.get("departments"), list):
        known = {entry_id for _, entry_id in _ids(departments)}
        problems += _unknown_departments(procedures, known)
    return problems


def _entries(section: Any) -> list[tuple[int, dict[str, Any]]]:
    if not isinstance(section, list):
        return []
    return [(index, entry) for index, entry in enumerate(section) if isinstance(entry, dict)]


def _ids(entries: Iterable[tuple[int, dict[str, Any]]]) -> list[tuple[int, str]]:
    return [(index, entry["id"]) for index, entry in entries if isinstance(entry.get("id"), str)]


def _duplicate_ids(section: str, entries: list[tuple[int, dict[str, Any]]]) -> list[_Problem]:
    first: dict[str, int] = {}
    problems = []
    for index, entry_id in _ids(entries):
        if entry_id in first:
            other = f"{section}[{first[entry_id]}]"
            message = MESSAGES["duplicate_id"].format(id=entry_id, other=other)
            problems.append(_Problem(message, (section, index, "id")))
        else:
            first[entry_id] = index
    return problems


def _unknown_departments(
    procedures: list[tuple[int, dict[str, Any]]], known: set[str]
) -> list[_Problem]:
    problems = []
    for index, entry in procedures:
        department = entry.get("department")
        if not isinstance(department, str) or department in known:
            continue
        message = MESSAGES["unknown_department"].format(id=department)
        match = difflib.get_close_matches(department, sorted(known), n=1, cutoff=0.6)
        if match:
            message = MESSAGES["did_you_mean"].format(message=message, match=match[0])
        problems.append(_Problem(message, ("procedures", index, "department")))
    return problems


# --- Rendering ------------------------------------------------------------------------------


def _render(problems: list[_Problem], filename: str, data: Any) -> list[str]:
    ordered = sorted(problems, key=_Problem.sort_key)
    return [_line(problem, filename, data) for problem in ordered]


def _line(problem: _Problem, filename: str, data: Any) -> str:
    if not problem.loc:
        return f"{filename}: {problem.message}"
    return f"{filename}: {_path(problem.loc, data)}: {problem.message}"


def _path(loc: Loc, data: Any) -> str:
    """``procedures[4] (licencia-uso-suelo).request.fields[1]`` for a pydantic-style loc."""
    head, rest = str(loc[0]), loc[1:]
    if rest and isinstance(rest[0], int):
        index, rest = rest[0], rest[1:]
        head += f"[{index}]" + _id_part(data, str(loc[0]), index)
    for part in rest:
        head += f"[{part}]" if isinstance(part, int) else f".{part}"
    return head


def _id_part(data: Any, section: str, index: int) -> str:
    try:
        entry_id = data[section][index]["id"]
    except (KeyError, IndexError, TypeError):
        return ""
    if not isinstance(entry_id, str) or not entry_id.strip() or "\n" in entry_id:
        return ""
    return f" ({entry_id.strip()})"
