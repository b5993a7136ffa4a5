"""Department and procedure edit forms: what a form shows, and the catalogue entry it submits.

A form holds text exactly as typed; lists (synonyms, requirements, legal basis) are one item per
line; modality and request fields are checkboxes. ``entry_data`` turns the form into catalogue
data and checks it with the catalogue file's own rules (``catalog.validate.validate_entry``), so
the back office accepts exactly what ``ventanilla catalog validate`` accepts.
"""

from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from catalog.schema import DepartmentEntry, ProcedureEntry
from catalog.validate import validate_entry

Kind = Literal["department", "procedure"]
MODELS: dict[Kind, type[DepartmentEntry] | type[ProcedureEntry]] = {
    "department": DepartmentEntry,
    "procedure": ProcedureEntry,
}
LINES = ("synonyms", "requirements", "legal_basis")
CHECKBOXES = ("modality", "request_fields")
OPTIONAL = ("cost_amount", "response_days", "online_url")
DEPARTMENT_FIELDS = ("id", "name", "address", "hours", "phone", "email")
PROCEDURE_FIELDS = (
    "id",
    "kind",
    "name",
    "synonyms",
    "description",
    "department",
    "requirements",
    "cost",
    "cost_amount",
    "response_time",
    "response_days",
    "validity",
    "legal_basis",
    "modality",
    "online_url",
    "request_enabled",
    "request_fields",
)
FIELDS: dict[Kind, tuple[str, ...]] = {
    "department": DEPARTMENT_FIELDS,
    "procedure": PROCEDURE_FIELDS,
}

FormValues = dict[str, Any]  # field name -> str, or list[str] for checkboxes


class SubmittedForm(Protocol):
    """What a submitted HTML form offers (Starlette's ``FormData``)."""

    def get(self, key: str, /) -> Any: ...

    def getlist(self, key: str, /) -> list[Any]: ...


def from_submission(kind: Kind, form: SubmittedForm) -> FormValues:
    """The form's values as typed; the id only matters for new entries."""
    values: FormValues = {}
    for name in FIELDS[kind]:
        if name in CHECKBOXES:
            values[name] = [str(v) for v in form.getlist(name)]
        elif name == "request_enabled":
            values[name] = form.get(name) is not None
        else:
            value = form.get(name)
            values[name] = value if isinstance(value, str) else ""  # absent, or a file
    return values


def from_entry(kind: Kind, entry: BaseModel | None) -> FormValues:
    """The form for a stored entry (or an empty form for a new one)."""
    data = entry.model_dump() if entry is not None else {}
    values: FormValues = {}
    for name in FIELDS[kind]:
        if name == "request_enabled":
            values[name] = bool(data.get("request") and data["request"]["enabled"])
        elif name == "request_fields":
            values[name] = list(data["request"]["fields"]) if data.get("request") else []
        elif name in CHECKBOXES:
            values[name] = list(data.get(name) or [])
        elif name in LINES:
            values[name] = "\n".join(data.get(name) or [])
        else:
            value = data.get(name)
            values[name] = "" if value is None else str(value)
    return values


def entry_data(kind: Kind, values: FormValues, entry_id: str | None = None) -> dict[str, Any]:
    """Catalogue data for the form (``entry_id`` for an existing entry, else the typed id).
    Values that cannot be read (a cost amount that is not a number) are passed on as typed, so
    the catalogue rules report them in their own words."""
    data: dict[str, Any] = {}
    for name in FIELDS[kind]:
        value = values.get(name)
        if name in ("request_enabled", "request_fields"):
            continue
        if name in LINES:
            data[name] = _lines(value)
        elif name in CHECKBOXES:
            data[name] = list(value or [])
        elif name in OPTIONAL:
            text = (value or "").strip()
            if text:
                data[name] = _number(name, text)
        else:
            data[name] = (value or "").strip()
    if entry_id is not None:
        data["id"] = entry_id
    if kind == "procedure":
        enabled, fields = bool(values.get("request_enabled")), values.get("request_fields") or []
        if enabled or fields:
            data["request"] = {"enabled": enabled, "fields": list(fields)}
    return data


def check(
    kind: Kind, values: FormValues, entry_id: str | None = None
) -> tuple[DepartmentEntry | ProcedureEntry | None, dict[str, list[str]]]:
    """The entry the form describes, or None and the problems keyed by form field name."""
    entry, problems = validate_entry(MODELS[kind], entry_data(kind, values, entry_id))
    if "request" in problems:
        problems["request_fields"] = problems.pop("request")
    return entry, problems


def _lines(value: Any) -> list[str]:
    text = value if isinstance(value, str) else ""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _number(name: str, text: str) -> Any:
    if name == "cost_amount":
        try:
            return Decimal(text)
        except InvalidOperation:
            return text
    if name == "response_days":
        try:
            return int(text)
        except ValueError:
            return text
    return text
