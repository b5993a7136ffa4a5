"""Drafts, publishing and the version history of departments and procedures.

The ``departments`` and ``procedures`` tables are the published catalogue: the bot reads only
them. Staff edits are saved as a *draft* version in ``catalog_versions`` and reach those tables
only when published. Every version keeps the entry in the catalogue file format, so any two can
be compared, and an old one can be restored: restoring makes it the draft (it is previewed and
published like any edit, never live at once).

Entries loaded before the editor existed, or changed by ``ventanilla catalog import``, get a
published version recorded the first time the editor touches them, so history starts from what
citizens were actually told. Every change is written to the audit log with before and after.
"""

import difflib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.forms import MODELS, Kind
from catalog.models import CatalogVersion, Department, Municipality, Procedure
from catalog.schema import CatalogFile, DepartmentEntry, ProcedureEntry
from catalog.transfer import (
    Changes,
    ImportReport,
    apply_department,
    apply_procedure,
    department_entry,
    dump_entry,
    import_catalog,
    municipality_entry,
    procedure_entry,
)
from catalog.validate import MESSAGES as VALIDATE_MESSAGES
from catalog.validate import validate_entry
from foundation.audit import Actor, audit
from foundation.db import utcnow

Entry = DepartmentEntry | ProcedureEntry
Data = dict[str, Any]

MESSAGES = {
    "baseline": "Versión publicada antes de editarse aquí (catálogo cargado).",
    "outside": "Cambio publicado fuera del editor (importación por línea de comandos).",
    "imported": "Importado del archivo {filename}.",
    "restored": "Restaurada de la versión {number}.",
    "duplicate_id": "ya existe una entrada con el id '{id}'",
    "unknown_department": VALIDATE_MESSAGES["unknown_department"]
    + "; publique primero la dependencia",
    "no_draft": "No hay un borrador que publicar.",
    "no_version": "No existe esa versión.",
    "invalid_version": "La versión {number} ya no cumple las reglas del catálogo: {problems}",
}
STATES = ("draft", "published", "superseded", "discarded")


class EditError(ValueError):
    """An edit that cannot be done; the message is for staff, in Spanish, about ``field``."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# --- entries and their stored form ----------------------------------------------------------


def to_data(entry: Entry) -> Data:
    """The JSON kept in a version (and in the audit log): money as a string such as "150.00"."""
    return entry.model_dump(mode="json", exclude_none=True)


def to_entry(kind: Kind, data: Data) -> Entry:
    return MODELS[kind].model_validate(_loadable(data))


def _loadable(data: Data) -> Data:
    values = dict(data)
    if isinstance(values.get("cost_amount"), str):
        values["cost_amount"] = Decimal(values["cost_amount"])
    return values


def to_yaml(kind: Kind, data: Data | None) -> str:
    """The entry as it reads in a catalogue file; empty for no entry. A version the rules no
    longer accept is still shown, as stored."""
    if not data:
        return ""
    try:
        return dump_entry(to_entry(kind, data))
    except (ValidationError, ArithmeticError):
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def row_entry(row: Department | Procedure) -> Entry:
    """The catalogue entry a published row holds."""
    if isinstance(row, Procedure):
        return ProcedureEntry.model_validate(procedure_entry(row))
    return DepartmentEntry.model_validate(department_entry(row))


async def live_entry(session: AsyncSession, kind: Kind, entry_id: str) -> Entry | None:
    """The published entry, read from the table the bot reads."""
    row = await _published_row(session, kind, entry_id)
    return row_entry(row) if row is not None else None


async def _published_row(
    session: AsyncSession, kind: Kind, entry_id: str
) -> Department | Procedure | None:
    if kind == "procedure":
        return await session.get(Procedure, entry_id, populate_existing=True)
    return await session.get(Department, entry_id, populate_existing=True)


async def live_data(session: AsyncSession, kind: Kind, entry_id: str) -> Data | None:
    entry = await live_entry(session, kind, entry_id)
    return to_data(entry) if entry is not None else None


# --- versions -------------------------------------------------------------------------------


async def history(session: AsyncSession, kind: Kind, entry_id: str) -> list[CatalogVersion]:
    """Every version of the entry, newest first."""
    rows = await session.scalars(
        select(CatalogVersion)
        .where(CatalogVersion.entity == kind, CatalogVersion.entity_id == entry_id)
        .order_by(CatalogVersion.number.desc())
    )
    return list(rows)


async def version(
    session: AsyncSession, kind: Kind, entry_id: str, number: int
) -> CatalogVersion | None:
    return await session.scalar(
        select(CatalogVersion).where(
            CatalogVersion.entity == kind,
            CatalogVersion.entity_id == entry_id,
            CatalogVersion.number == number,
        )
    )


async def in_state(
    session: AsyncSession, kind: Kind, entry_id: str, state: str
) -> CatalogVersion | None:
    return await session.scalar(
        select(CatalogVersion).where(
            CatalogVersion.entity == kind,
            CatalogVersion.entity_id == entry_id,
            CatalogVersion.state == state,
        )
    )


async def drafts(session: AsyncSession, kind: Kind) -> dict[str, CatalogVersion]:
    """The open drafts of one kind of entry, by entry id."""
    rows = await session.scalars(
        select(CatalogVersion).where(CatalogVersion.entity == kind, CatalogVersion.state == "draft")
    )
    return {row.entity_id: row for row in rows}


async def _add(
    session: AsyncSession,
    kind: Kind,
    entry_id: str,
    data: Data,
    state: str,
    staff: Actor | None,
    note: str = "",
    based_on: int | None = None,
) -> CatalogVersion:
    latest = await session.scalar(
        select(func.max(CatalogVersion.number)).where(
            CatalogVersion.entity == kind, CatalogVersion.entity_id == entry_id
        )
    )
    row = CatalogVersion(
        entity=kind,
        entity_id=entry_id,
        number=(latest or 0) + 1,
        state=state,
        based_on=based_on,
        data=data,
        staff_user_id=staff.id if staff else None,
        note=note,
        published_at=utcnow() if state == "published" else None,
    )
    session.add(row)
    await session.flush()
    return row


async def _record_live(
    session: AsyncSession, kind: Kind, entry_id: str, live: Data | None
) -> CatalogVersion | None:
    """The published version matching the live row ``live``; one is recorded (superseding an
    older one) when the row was loaded or changed outside the editor."""
    current = await in_state(session, kind, entry_id, "published")
    if live is None or (current is not None and current.data == live):
        return current
    note = MESSAGES["outside"] if current is not None else MESSAGES["baseline"]
    if current is not None:
        current.state = "superseded"
    based_on = current.number if current else None
    return await _add(session, kind, entry_id, live, "published", None, note, based_on)


async def published(session: AsyncSession, kind: Kind, entry_id: str) -> CatalogVersion | None:
    """The published version of the entry, in step with the table the bot reads."""
    return await _record_live(session, kind, entry_id, await live_data(session, kind, entry_id))


# --- editing --------------------------------------------------------------------------------


async def save_draft(
    session: AsyncSession,
    staff: Actor,
    kind: Kind,
    entry: Entry,
    *,
    new: bool = False,
    note: str = "",
) -> CatalogVersion | None:
    """Save ``entry`` as the entry's draft (creating or replacing it). Returns the draft, or
    None when the entry is the same as the published one (any draft is then discarded).

    With ``new``, the id must not be taken. A procedure's department must be published."""
    if new and (
        await _published_row(session, kind, entry.id) is not None
        or await in_state(session, kind, entry.id, "draft") is not None
    ):
        raise EditError(MESSAGES["duplicate_id"].format(id=entry.id), "id")
    if isinstance(entry, ProcedureEntry):
        await _check_department(session, entry)
    live = await published(session, kind, entry.id)
    draft = await in_state(session, kind, entry.id, "draft")
    data = to_data(entry)
    before = draft.data if draft else (live.data if live else None)
    if live is not None and live.data == data:
        if draft is not None:
            await discard(session, staff, kind, entry.id)
        return None
    if draft is not None:
        if draft.data == data and not note:
            return draft
        draft.data = data
        draft.staff_user_id = staff.id
        draft.note = note
    else:
        number = live.number if live else None
        draft = await _add(session, kind, entry.id, data, "draft", staff, note, number)
    await audit(session, staff, "catalog.save_draft", kind, entry.id, before, data)
    return draft


async def publish(session: AsyncSession, staff: Actor, kind: Kind, entry_id: str) -> CatalogVersion:
    """Make the draft what the bot answers with."""
    draft = await in_state(session, kind, entry_id, "draft")
    if draft is None:
        raise EditError(MESSAGES["no_draft"])
    entry = to_entry(kind, draft.data)
    live = await published(session, kind, entry_id)
    if isinstance(entry, ProcedureEntry):
        department = await _check_department(session, entry)
        row = await session.get(Procedure, entry_id)
        apply_procedure(session, entry, row, {department.id: department})
    else:
        assert isinstance(entry, DepartmentEntry)
        apply_department(session, entry, await session.get(Department, entry_id))
    if live is not None:
        live.state = "superseded"
    draft.state = "published"
    draft.published_at = utcnow()
    draft.staff_user_id = staff.id
    await session.flush()
    before = live.data if live else None
    await audit(session, staff, "catalog.publish", kind, entry_id, before, draft.data)
    return draft


async def discard(session: AsyncSession, staff: Actor, kind: Kind, entry_id: str) -> None:
    """Throw the draft away (it stays in the history as discarded)."""
    draft = await in_state(session, kind, entry_id, "draft")
    if draft is None:
        return
    draft.state = "discarded"
    await audit(session, staff, "catalog.discard_draft", kind, entry_id, draft.data, None)


async def restore(
    session: AsyncSession, staff: Actor, kind: Kind, entry_id: str, number: int
) -> CatalogVersion | None:
    """Make an earlier version the draft; it is published like any other edit."""
    old = await version(session, kind, entry_id, number)
    if old is None:
        raise EditError(MESSAGES["no_version"])
    entry, problems = validate_entry(MODELS[kind], _loadable(old.data))
    if entry is None:
        found = "; ".join(f"{field}: {', '.join(lines)}" for field, lines in problems.items())
        raise EditError(MESSAGES["invalid_version"].format(number=number, problems=found))
    note = MESSAGES["restored"].format(number=number)
    draft = await save_draft(session, staff, kind, entry, note=note)
    await audit(session, staff, "catalog.restore", kind, entry_id, {"version": number}, None)
    return draft


async def _check_department(session: AsyncSession, entry: ProcedureEntry) -> Department:
    department = await session.get(Department, entry.department)
    if department is None:
        message = MESSAGES["unknown_department"].format(id=entry.department)
        raise EditError(message, "department")
    return department


# --- comparing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffLine:
    """One line of a comparison: ``sign`` is "+" (added), "-" (removed) or " " (same)."""

    sign: str
    text: str
    old: int | None
    new: int | None


def diff(old_text: str, new_text: str) -> list[DiffLine]:
    """Line by line, every line shown, removed lines before the lines that replace them."""
    old, new = old_text.splitlines(), new_text.splitlines()
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            lines += [DiffLine(" ", old[i], i + 1, j1 + i - i1 + 1) for i in range(i1, i2)]
            continue
        lines += [DiffLine("-", old[i], i + 1, None) for i in range(i1, i2)]
        lines += [DiffLine("+", new[j], None, j + 1) for j in range(j1, j2)]
    return lines


def compared_with(versions: list[CatalogVersion], chosen: CatalogVersion) -> int | None:
    """The version ``chosen`` is compared with by default: a draft with what it started from
    (or what is published now), any other with the version published before it."""
    if chosen.state == "draft" and chosen.based_on is not None:
        return chosen.based_on
    live = [v.number for v in versions if v.state in ("published", "superseded")]
    earlier = [n for n in live if n < chosen.number]
    return max(earlier) if earlier else None


# --- importing a whole file -----------------------------------------------------------------


async def import_file(
    session: AsyncSession, staff: Actor, catalog: CatalogFile, filename: str
) -> ImportReport:
    """Import a validated catalogue file the way ``ventanilla catalog import`` does (create or
    update by id, delete nothing) and publish it at once: each created or updated entry gets a
    published version and an audit entry. Open drafts are kept, and shown as based on an older
    version."""
    before: dict[tuple[Kind, str], Data] = {}
    for department in await session.scalars(select(Department)):
        before[("department", department.id)] = to_data(row_entry(department))
    for procedure in await session.scalars(select(Procedure)):
        before[("procedure", procedure.id)] = to_data(row_entry(procedure))
    municipality = await session.get(Municipality, 1)
    old_municipality = municipality_entry(municipality) if municipality else None

    report = await import_catalog(session, catalog)
    note = MESSAGES["imported"].format(filename=filename)
    changed: tuple[tuple[Kind, Changes], ...] = (
        ("department", report.departments),
        ("procedure", report.procedures),
    )
    for kind, changes in changed:
        for entry_id in changes.created + changes.updated:
            old = before.get((kind, entry_id))
            current = await _record_live(session, kind, entry_id, old)
            new = await live_data(session, kind, entry_id)
            assert new is not None
            if current is not None:
                current.state = "superseded"
            based_on = current.number if current else None
            await _add(session, kind, entry_id, new, "published", staff, note, based_on)
            await audit(session, staff, "catalog.import", kind, entry_id, old, new)
    if report.municipality != "unchanged":
        municipality = await session.get(Municipality, 1)
        assert municipality is not None
        new_municipality = municipality_entry(municipality)
        await audit(
            session, staff, "catalog.import", "municipality", 1, old_municipality, new_municipality
        )
    return report
