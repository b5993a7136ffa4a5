"""Importing the catalogue into the database and exporting it back, on SQLite and PostgreSQL."""

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import delete, select
from typer.testing import CliRunner

from catalog.models import Department, Municipality, Procedure
from catalog.schema import CatalogFile
from catalog.transfer import ImportReport, export_catalog, import_catalog, load_catalog_file
from catalog.validate import CatalogError, validate_file, validate_text
from foundation.db import Database
from ventanilla.catalog_cli import app

MIN_FILE = Path(__file__).parent / "data" / "catalog_min.yml"
SAMPLE = Path(__file__).resolve().parent.parent / "catalog" / "samples" / "acacias.yml"
DEPARTMENTS = ["tesoreria", "servicios-publicos"]
PROCEDURES = ["pago-predial", "constancia-no-adeudo", "reporte-alumbrado"]


def min_catalog(**changes: Any) -> CatalogFile:
    """The minimal fixture, optionally with a change applied to its raw data first."""
    data = yaml.safe_load(MIN_FILE.read_text(encoding="utf-8"))
    for mutate in changes.values():
        mutate(data)
    catalog, problems = validate_text(yaml.safe_dump(data, allow_unicode=True), "min.yml")
    assert problems == []
    assert catalog is not None
    return catalog


async def import_into(db: Database, catalog: CatalogFile) -> ImportReport:
    async with db.transaction() as session:
        return await import_catalog(session, catalog)


async def export_from(db: Database) -> str:
    async with db.transaction() as session:
        return await export_catalog(session)


async def test_first_import_creates_everything(db: Database) -> None:
    report = await import_into(db, min_catalog())

    assert report.municipality == "created"
    assert report.departments.created == DEPARTMENTS
    assert report.procedures.created == PROCEDURES
    assert report.summary() == (
        "Municipio: creado. Departamentos: 2 creados, 0 actualizados, 0 sin cambios. "
        "Procedimientos: 3 creados, 0 actualizados, 0 sin cambios."
    )
    async with db.transaction() as session:
        constancia = await session.get(Procedure, "constancia-no-adeudo")
        alumbrado = await session.get(Procedure, "reporte-alumbrado")
    assert constancia is not None and alumbrado is not None
    assert constancia.department_id == "tesoreria"
    assert constancia.cost_amount == Decimal("150.00")
    assert (alumbrado.request_enabled, alumbrado.request_fields) == (
        True,
        ["location", "description", "photo"],
    )
    assert (constancia.request_enabled, constancia.request_fields) == (False, [])


async def test_importing_the_same_file_twice_changes_nothing(db: Database) -> None:
    await import_into(db, min_catalog())
    async with db.transaction() as session:
        before = {p.id: p.updated_at for p in await session.scalars(select(Procedure))}

    report = await import_into(db, min_catalog())

    assert report.municipality == "unchanged"
    assert report.departments.unchanged == DEPARTMENTS
    assert report.procedures.unchanged == PROCEDURES
    assert not report.changed
    assert report.summary() == (
        "Municipio: sin cambios. Departamentos: 0 creados, 0 actualizados, 2 sin cambios. "
        "Procedimientos: 0 creados, 0 actualizados, 3 sin cambios."
    )
    async with db.transaction() as session:
        after = {p.id: p.updated_at for p in await session.scalars(select(Procedure))}
    assert after == before


async def test_changing_one_field_updates_exactly_that_entry(db: Database) -> None:
    await import_into(db, min_catalog())

    def raise_cost(data: dict[str, Any]) -> None:
        data["procedures"][1]["cost_amount"] = 175.5

    report = await import_into(db, min_catalog(cost=raise_cost))

    assert report.procedures.updated == ["constancia-no-adeudo"]
    assert report.procedures.unchanged == ["pago-predial", "reporte-alumbrado"]
    assert report.departments.unchanged == DEPARTMENTS
    assert report.municipality == "unchanged"
    assert "Procedimientos: 0 creados, 1 actualizado, 2 sin cambios." in report.summary()
    async with db.transaction() as session:
        constancia = await session.get(Procedure, "constancia-no-adeudo")
    assert constancia is not None and constancia.cost_amount == Decimal("175.50")


async def test_moving_a_procedure_and_adding_a_department(db: Database) -> None:
    await import_into(db, min_catalog())

    def add_department(data: dict[str, Any]) -> None:
        new = dict(data["departments"][0], id="catastro", name="Catastro")
        data["departments"].append(new)
        data["procedures"][0]["department"] = "catastro"
        data["municipality"]["phone"] = "443 999 9999"

    report = await import_into(db, min_catalog(add=add_department))

    assert report.municipality == "updated"
    assert report.departments.created == ["catastro"]
    assert report.procedures.updated == ["pago-predial"]
    async with db.transaction() as session:
        predial = await session.get(Procedure, "pago-predial")
        municipality = await session.get(Municipality, 1)
    assert predial is not None and predial.department_id == "catastro"
    assert municipality is not None and municipality.phone == "443 999 9999"


async def test_entries_missing_from_the_file_are_kept(db: Database) -> None:
    await import_into(db, min_catalog())

    def drop_last(data: dict[str, Any]) -> None:
        data["procedures"].pop()

    report = await import_into(db, min_catalog(drop=drop_last))

    assert report.procedures.unchanged == ["pago-predial", "constancia-no-adeudo"]
    async with db.transaction() as session:
        ids = sorted(await session.scalars(select(Procedure.id)))
    assert ids == sorted(PROCEDURES)


async def test_export_round_trips_exactly(db: Database) -> None:
    await import_into(db, min_catalog())
    exported = await export_from(db)

    catalog, problems = validate_text(exported, "export.yml")
    assert problems == []
    assert catalog is not None
    again = await import_into(db, catalog)
    assert not again.changed  # the export describes the source database exactly

    async with db.transaction() as session:
        for model in (Procedure, Department, Municipality):
            await session.execute(delete(model))
    await import_into(db, catalog)

    assert await export_from(db) == exported


async def test_export_writes_documented_key_order_and_omits_empty_optionals(db: Database) -> None:
    await import_into(db, min_catalog())

    data = yaml.safe_load(await export_from(db))

    assert list(data) == ["municipality", "departments", "procedures"]
    by_id = {p["id"]: p for p in data["procedures"]}
    assert list(by_id["constancia-no-adeudo"]) == [
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
    ]
    assert "cost_amount" not in by_id["pago-predial"]
    assert by_id["reporte-alumbrado"]["request"] == {
        "enabled": True,
        "fields": ["location", "description", "photo"],
    }


async def test_export_writes_money_with_two_decimals_and_keeps_accents(db: Database) -> None:
    await import_into(db, min_catalog())

    text = await export_from(db)

    assert "    cost_amount: 150.00\n" in text
    assert "name: Tesorería Municipal" in text
    assert "description: |-\n      Pago anual del impuesto" in text


async def test_export_of_an_empty_database_is_a_catalog_error(db: Database) -> None:
    with pytest.raises(CatalogError) as caught:
        await export_from(db)

    assert caught.value.problems == [
        "la base de datos no tiene datos del municipio; importe primero un catálogo"
    ]


async def test_load_catalog_file_imports_a_valid_file(db: Database) -> None:
    report = await load_catalog_file(db, MIN_FILE)

    assert report.procedures.created == PROCEDURES


async def test_load_catalog_file_rejects_an_invalid_file_and_writes_nothing(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "catalogo.yml"
    text = MIN_FILE.read_text(encoding="utf-8")
    path.write_text(text.replace("department: tesoreria", "department: obras"), encoding="utf-8")

    with pytest.raises(CatalogError) as caught:
        await load_catalog_file(db, path)

    assert len(caught.value.problems) == 2
    assert all("departamento desconocido 'obras'" in line for line in caught.value.problems)
    async with db.transaction() as session:
        assert (await session.scalars(select(Department))).all() == []


def test_cli_import_then_export_round_trips(database_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    output = tmp_path / "exportado.yml"

    imported = runner.invoke(app, ["import", str(MIN_FILE), "--database", database_url])
    exported = runner.invoke(app, ["export", "--database", database_url, "--output", str(output)])
    stdout = runner.invoke(app, ["export", "--database", database_url])
    again = runner.invoke(app, ["import", str(output), "--database", database_url])

    assert imported.exit_code == 0, imported.stderr
    assert imported.stdout.startswith("Municipio: creado. Departamentos: 2 creados")
    assert exported.exit_code == 0
    assert exported.stdout == f"Catálogo exportado a {output}.\n"
    assert stdout.exit_code == 0
    assert stdout.stdout == output.read_text(encoding="utf-8")
    assert validate_file(output)[1] == []
    assert again.exit_code == 0
    assert again.stdout == (
        "Municipio: sin cambios. Departamentos: 0 creados, 0 actualizados, 2 sin cambios. "
        "Procedimientos: 0 creados, 0 actualizados, 3 sin cambios.\n"
    )


def test_cli_import_of_an_invalid_file_exits_1_and_imports_nothing(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "catalogo.yml"
    path.write_text("municipality: []\n", encoding="utf-8")
    runner = CliRunner()

    result = runner.invoke(app, ["import", str(path), "--database", database_url])
    export = runner.invoke(app, ["export", "--database", database_url])

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}: municipality: se esperaba una sección con campos (clave: valor)",
        f"{path}: departments: falta este campo obligatorio",
        f"{path}: procedures: falta este campo obligatorio",
    ]
    assert export.exit_code == 1
    assert "no tiene datos del municipio" in export.stderr


def test_cli_reports_an_unreachable_database_and_exits_1() -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/nada"

    result = CliRunner().invoke(app, ["import", str(MIN_FILE), "--database", url])

    assert result.exit_code == 1
    assert result.stderr.startswith("error de base de datos: ")


@pytest.mark.skipif(not SAMPLE.exists(), reason="catalog/samples/acacias.yml not written yet")
async def test_sample_catalogue_imports_and_round_trips(db: Database) -> None:
    report = await load_catalog_file(db, SAMPLE)
    exported = await export_from(db)
    catalog, problems = validate_text(exported, "export.yml")

    assert problems == []
    assert catalog is not None
    assert len(report.procedures.created) == len(catalog.procedures)
    assert not (await import_into(db, catalog)).changed
