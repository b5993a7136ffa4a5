"""``ventanilla catalog ...``: check, import and export the catalogue file."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from casework.schema import upgrade
from catalog.schema import CatalogFile
from catalog.transfer import ImportReport, export_catalog, import_catalog
from catalog.validate import CatalogError, ok_line, validate_file
from foundation.db import Database
from foundation.settings import get_settings

MESSAGES = {
    "help": "Catálogo de trámites y servicios: validar, importar y exportar el archivo YAML.",
    "validate_help": "Revisa un archivo de catálogo y muestra todos sus problemas.",
    "import_help": (
        "Valida e importa un archivo de catálogo (crea o actualiza por id; no borra nada)."
    ),
    "export_help": "Escribe el catálogo de la base de datos como YAML.",
    "file_help": "Archivo de catálogo (YAML).",
    "output_help": "Archivo de salida; si se omite, se escribe en la salida estándar.",
    "database_help": "URL de la base de datos; por omisión, VENTANILLA_DATABASE_URL.",
    "exported": "Catálogo exportado a {path}.",
    "database_error": "error de base de datos: {error}",
}

T = TypeVar("T")

app = typer.Typer(help=MESSAGES["help"], no_args_is_help=True)

FileArg = Annotated[
    Path, typer.Argument(help=MESSAGES["file_help"], dir_okay=False, show_default=False)
]
DatabaseOpt = Annotated[
    str | None, typer.Option("--database", help=MESSAGES["database_help"], show_default=False)
]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help=MESSAGES["output_help"], dir_okay=False),
]


@app.command("validate", help=MESSAGES["validate_help"])
def validate_command(file: FileArg) -> None:
    catalog = _valid_catalog(file)
    typer.echo(ok_line(catalog, str(file)))


@app.command("import", help=MESSAGES["import_help"])
def import_command(file: FileArg, database: DatabaseOpt = None) -> None:
    catalog = _valid_catalog(file)

    async def run(session: AsyncSession) -> ImportReport:
        return await import_catalog(session, catalog)

    report = _with_database(database, run)
    typer.echo(report.summary())


@app.command("export", help=MESSAGES["export_help"])
def export_command(output: OutputOpt = None, database: DatabaseOpt = None) -> None:
    text = _with_database(database, export_catalog)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(MESSAGES["exported"].format(path=output))


def _valid_catalog(file: Path) -> CatalogFile:
    catalog, problems = validate_file(file)
    if catalog is None:
        _fail(problems)
    return catalog


def _with_database(url: str | None, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction on the database (schema brought up to date first)."""

    async def run() -> T:
        db = Database(url or get_settings().database_url)
        try:
            await upgrade(db)
            async with db.transaction() as session:
                return await work(session)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except CatalogError as exc:
        _fail(exc.problems)
    except (SQLAlchemyError, OSError) as exc:
        _fail([MESSAGES["database_error"].format(error=exc)])


def _fail(lines: list[str]) -> NoReturn:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(code=1)
