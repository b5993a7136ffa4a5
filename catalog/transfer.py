"""Moving the catalogue between its YAML file and the database, in both directions."""

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Department, Municipality, Procedure
from catalog.schema import CatalogFile, DepartmentEntry, ProcedureEntry
from catalog.validate import CatalogError, problems_from_validation_error, validate_file
from foundation import texts
from foundation.db import Database

Status = Literal["created", "updated", "unchanged"]
_STATUSES: tuple[Status, ...] = ("created", "updated", "unchanged")


@dataclass
class Changes:
    """Ids of the entries of one kind that an import created, updated or left unchanged."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def add(self, status: Status, entry_id: str) -> None:
        getattr(self, status).append(entry_id)

    def summary(self, label: str) -> str:
        counts = {status: _count(status, len(getattr(self, status))) for status in _STATUSES}
        return texts.t("catalog_import.entity", label=label, **counts)


@dataclass
class ImportReport:
    """What ``import_catalog`` did, per entity."""

    municipality: Status = "unchanged"
    departments: Changes = field(default_factory=Changes)
    procedures: Changes = field(default_factory=Changes)

    @property
    def changed(self) -> bool:
        entities = (self.departments, self.procedures)
        return self.municipality != "unchanged" or any(c.created or c.updated for c in entities)

    def summary(self) -> str:
        """E.g. "Municipio: sin cambios. Departamentos: 2 creados, 0 actualizados, 8 sin
        cambios. Procedimientos: ..."."""
        status = texts.t(f"catalog_import.municipality_status.{self.municipality}")
        return " ".join(
            [
                texts.t("catalog_import.municipality", status=status),
                self.departments.summary(texts.t("catalog_import.departments")),
                self.procedures.summary(texts.t("catalog_import.procedures")),
            ]
        )


def _count(status: Status, n: int) -> str:
    return texts.t(f"catalog_import.count.{status}.{'one' if n == 1 else 'many'}", n=n)


# --- Import ---------------------------------------------------------------------------------


async def import_catalog(session: AsyncSession, catalog: CatalogFile) -> ImportReport:
    """Create or update the municipality, departments and procedures of ``catalog`` by id.

    Idempotent: importing the same catalogue again changes nothing and reports every entry as
    unchanged (rows are only written, and ``updated_at`` only moves, when a value differs).
    Entries in the database but absent from the file are NOT deleted: removing a procedure is a
    deliberate act done in the back office. Runs in the caller's transaction; does not commit.
    """
    report = ImportReport()
    report.municipality = await _import_municipality(session, catalog)
    departments = await _import_departments(session, catalog, report.departments)
    await _import_procedures(session, catalog.procedures, departments, report.procedures)
    await session.flush()
    return report


async def load_catalog_file(db: Database, path: str | Path) -> ImportReport:
    """Validate the file at ``path`` and import it in one transaction.

    Raises ``CatalogError`` with one line per problem when the file is not valid. The schema
    must already exist (``casework.schema.upgrade``).
    """
    catalog, problems = validate_file(path)
    if catalog is None:
        raise CatalogError(problems)
    async with db.transaction() as session:
        return await import_catalog(session, catalog)


async def _import_municipality(session: AsyncSession, catalog: CatalogFile) -> Status:
    row = await session.get(Municipality, 1)
    values = catalog.municipality.model_dump()
    if row is None:
        session.add(Municipality(id=1, **values))
        return "created"
    return _update(row, values)


async def _import_departments(
    session: AsyncSession, catalog: CatalogFile, changes: Changes
) -> dict[str, Department]:
    """Upsert the departments; returns every department known afterwards, by id."""
    rows = {row.id: row for row in (await session.scalars(select(Department))).all()}
    for entry in catalog.departments:
        rows[entry.id], status = apply_department(session, entry, rows.get(entry.id))
        changes.add(status, entry.id)
    return rows


def apply_department(
    session: AsyncSession, entry: DepartmentEntry, row: Department | None
) -> tuple[Department, Status]:
    """Create the department row for ``entry``, or bring ``row`` in line with it."""
    values = entry.model_dump(exclude={"id"})
    if row is None:
        row = Department(id=entry.id, **values)
        session.add(row)
        return row, "created"
    return row, _update(row, values)


def apply_procedure(
    session: AsyncSession,
    entry: ProcedureEntry,
    row: Procedure | None,
    departments: dict[str, Department],
) -> Status:
    """Create the procedure row for ``entry``, or bring ``row`` in line with it. Raises
    ``CatalogError`` when its department is not among ``departments``."""
    values = procedure_values(entry, departments)
    if row is None:
        session.add(Procedure(id=entry.id, **values))
        return "created"
    return _update(row, values)


async def _import_procedures(
    session: AsyncSession,
    entries: list[ProcedureEntry],
    departments: dict[str, Department],
    changes: Changes,
) -> None:
    rows = {row.id: row for row in (await session.scalars(select(Procedure))).all()}
    for entry in entries:
        changes.add(apply_procedure(session, entry, rows.get(entry.id), departments), entry.id)


def procedure_values(entry: ProcedureEntry, departments: dict[str, Department]) -> dict[str, Any]:
    """ORM attribute values for a procedure entry (the ORM names some fields differently)."""
    department = departments.get(entry.department)
    if department is None:
        message = texts.t(
            "catalog_import.unknown_department", id=entry.id, department=entry.department
        )
        raise CatalogError([message])
    values = entry.model_dump(exclude={"id", "department", "request"})
    values["department"] = department  # the relationship, so the loaded object stays in step
    values["request_enabled"] = bool(entry.request and entry.request.enabled)
    values["request_fields"] = list(entry.request.fields) if entry.request else []
    return values


def _update(row: Any, values: dict[str, Any]) -> Status:
    """Set the attributes that differ; say whether anything did."""
    changed = {name: value for name, value in values.items() if getattr(row, name) != value}
    for name, value in changed.items():
        setattr(row, name, value)
    return "updated" if changed else "unchanged"


# --- Export ---------------------------------------------------------------------------------


async def export_catalog(session: AsyncSession) -> str:
    """The catalogue in the database as catalogue YAML that validates and imports back to the
    same catalogue. Departments are ordered by id, procedures by department then id; optional
    keys without a value are left out. Raises ``CatalogError`` when there is nothing to export
    or the stored data would not make a valid file."""
    municipality = await session.get(Municipality, 1)
    if municipality is None:
        raise CatalogError([texts.t("catalog_import.no_municipality")])
    departments = await session.scalars(select(Department).order_by(Department.id))
    procedures = await session.scalars(
        select(Procedure).order_by(Procedure.department_id, Procedure.id)
    )
    data = {
        "municipality": municipality_entry(municipality),
        "departments": [department_entry(row) for row in departments.all()],
        "procedures": [procedure_entry(row) for row in procedures.all()],
    }
    try:
        catalog = CatalogFile.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(
            problems_from_validation_error(exc, data, texts.t("catalog_import.database"))
        ) from exc
    return dump_catalog(catalog)


def dump_catalog(catalog: CatalogFile) -> str:
    """Catalogue YAML for ``catalog``: documented key order, a blank line between sections."""
    data = catalog.model_dump(exclude_none=True)
    sections = [
        yaml.dump({key: value}, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
        for key, value in data.items()
    ]
    return "\n".join(sections)


def dump_entry(entry: BaseModel) -> str:
    """One department or procedure as it reads in a catalogue file (for diffs and previews)."""
    data = entry.model_dump(exclude_none=True)
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def municipality_entry(row: Municipality) -> dict[str, Any]:
    names = ("name", "state", "phone", "website", "privacy_notice_url")
    return {name: getattr(row, name) for name in names}


def department_entry(row: Department) -> dict[str, Any]:
    names = ("id", "name", "address", "hours", "phone", "email")
    return {name: getattr(row, name) for name in names}


def procedure_entry(row: Procedure) -> dict[str, Any]:
    names = [name for name in ProcedureEntry.model_fields if name not in ("department", "request")]
    entry = {name: getattr(row, name) for name in names}
    entry["department"] = row.department_id
    if row.request_enabled or row.request_fields:
        entry["request"] = {"enabled": row.request_enabled, "fields": list(row.request_fields)}
    return entry


class _Dumper(yaml.SafeDumper):
    """Indented lists, multi-line text as ``|`` blocks, money as plain numbers (150.00)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:float", f"{value:.2f}")


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Decimal, _represent_decimal)
