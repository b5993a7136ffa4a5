"""The catalogue file format (YAML), described once as Pydantic models.

A catalogue file has three top-level sections::

    municipality: {name, state, phone, website, privacy_notice_url?}
    departments:  [{id, name, address, hours, phone, email}, ...]
    procedures:   [{id, kind, name, synonyms?, description, department, requirements, cost,
                    cost_amount?, response_time, response_days?, validity, legal_basis,
                    modality, online_url?, request?: {enabled, fields?}}, ...]

Keys marked ``?`` are optional; every other key is required and unknown keys are rejected so a
typo never passes silently. Fields are declared in the documented order, which is also the order
``catalog.transfer.export_catalog`` writes them in.

The models check one entry at a time. Rules that span entries (duplicate ids, references to
departments) live in ``catalog.validate``, which is the way to turn a file into a ``CatalogFile``.
Errors raised here carry a stable ``type`` (e.g. ``url_invalid``) that ``catalog.validate``
translates into Spanish for staff; the English templates are for developers only.
"""

import re
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

# The parts of an entry a citizen can ask about, one by one ("¿cuánto cuesta?").
ASPECTS = (
    "requirements",
    "cost",
    "hours",
    "location",
    "duration",
    "validity",
    "online",
    "legal_basis",
)

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")  # Numeric(12, 2) in catalog.models

Kind = Literal["tramite", "servicio"]
Modality = Literal["presencial", "en_linea"]
RequestField = Literal["location", "description", "photo"]


def _check_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid or any(ch.isspace() for ch in value):
        raise PydanticCustomError("url_invalid", "invalid URL {url}", {"url": value})
    return value


def _check_email(value: str) -> str:
    if not EMAIL_PATTERN.match(value):
        raise PydanticCustomError("email_invalid", "invalid email {email}", {"email": value})
    return value


def _to_money(value: Any) -> Any:
    """YAML numbers (int or float, never bool) to a Decimal with two places, MXN."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise PydanticCustomError("number_type", "a number is expected")
    amount = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not amount.is_finite():
        raise PydanticCustomError("number_type", "a number is expected")
    if amount < 0:
        raise PydanticCustomError("money_negative", "must be >= 0")
    if amount != amount.quantize(CENT):
        raise PydanticCustomError("money_decimals", "at most two decimal places")
    if amount > MAX_AMOUNT:
        raise PydanticCustomError("money_too_large", "at most {max}", {"max": str(MAX_AMOUNT)})
    return amount.quantize(CENT)


def _no_repeats(items: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    for item in items:
        if item in seen:
            raise PydanticCustomError("duplicate_item", "repeated value {item}", {"item": item})
        seen.add(item)
    return items


def _none_as_empty(value: Any) -> Any:
    return [] if value is None else value


# A non-empty string with surrounding whitespace removed; lengths follow catalog.models.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=80)]
Url = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_check_url)
]
Email = Annotated[Text, Field(max_length=200), AfterValidator(_check_email)]
Money = Annotated[Decimal, BeforeValidator(_to_money)]


class _Strict(BaseModel):
    """Strict types (no "5" for 5, no true for 1) and no unknown keys."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class MunicipalityEntry(_Strict):
    name: Text = Field(max_length=200)
    state: Text = Field(max_length=100)
    phone: Text = Field(max_length=50)
    website: Url
    privacy_notice_url: Url | None = None


class DepartmentEntry(_Strict):
    id: Slug
    name: Text = Field(max_length=200)
    address: Text
    hours: Text = Field(max_length=300)
    phone: Text = Field(max_length=50)
    email: Email


class RequestSettings(_Strict):
    """Whether citizens may open a request for the procedure by chat, and what it asks for."""

    enabled: bool
    fields: Annotated[
        list[RequestField], BeforeValidator(_none_as_empty), AfterValidator(_no_repeats)
    ] = Field(default_factory=list)


class ProcedureEntry(_Strict):
    id: Slug
    kind: Kind
    name: Text = Field(max_length=300)
    synonyms: Annotated[list[Text], BeforeValidator(_none_as_empty)] = Field(default_factory=list)
    description: Text
    department: Slug
    requirements: list[Text]
    cost: Text
    cost_amount: Money | None = None
    response_time: Text = Field(max_length=300)
    response_days: Annotated[int, Field(ge=0)] | None = None
    validity: Text = Field(max_length=300)
    legal_basis: list[Text]
    modality: Annotated[list[Modality], Field(min_length=1), AfterValidator(_no_repeats)]
    online_url: Url | None = Field(default=None, validate_default=True)
    request: RequestSettings | None = None

    @field_validator("online_url")
    @classmethod
    def _online_needs_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and "en_linea" in info.data.get("modality", ()):
            raise PydanticCustomError("online_url_required", "required when modality is en_linea")
        return value


class CatalogFile(_Strict):
    """A whole catalogue file. Obtain one through ``catalog.validate`` so cross-references
    (unique ids, known departments) are checked too."""

    municipality: MunicipalityEntry
    departments: list[DepartmentEntry]
    procedures: list[ProcedureEntry]
