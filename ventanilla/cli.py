"""The `ventanilla` command: serve, chat, db, users, catalog."""

import asyncio
import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

from casework.db import Database
from ventanilla.settings import Settings, get_settings

app = typer.Typer(
    help="Ventanilla: trámites y servicios municipales por chat.", no_args_is_help=True
)
db_app = typer.Typer(help="Base de datos.", no_args_is_help=True)
users_app = typer.Typer(help="Usuarios del personal.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", help="URL de la base de datos (VENTANILLA_DATABASE_URL)."),
]


def _settings(database: str | None) -> Settings:
    settings = get_settings()
    return settings.model_copy(update={"database_url": database}) if database else settings


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Dirección donde escuchar.")] = None,
    port: Annotated[int | None, typer.Option(help="Puerto.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Back office, web chat and API on http://HOST:PORT (migrations and sample data first)."""
    import uvicorn

    from backoffice.app import create_app
    from ventanilla.setup import prepare

    settings = _settings(database)

    async def run() -> None:
        db = Database(settings.database_url)
        ready = await prepare(db, settings)
        if ready.catalog is not None:
            typer.echo(f"Catálogo cargado. {ready.catalog.summary()}")
        url = f"http://{host or settings.host}:{port or settings.port}"
        if ready.admin_password:
            typer.echo(
                "\nPrimer inicio: se creó la cuenta de administración.\n"
                f"  Back office: {url}/backoffice\n  Usuario: admin\n"
                f"  Contraseña: {ready.admin_password}\n"
                "Guárdela ahora: no se volverá a mostrar.\n"
            )
        typer.echo(f"Chat web: {url}/   Back office: {url}/backoffice")
        config = uvicorn.Config(
            create_app(settings, db, ready.secret_key),
            host=host or settings.host,
            port=port or settings.port,
            log_level="info",
        )
        try:
            await uvicorn.Server(config).serve()
        finally:
            await db.dispose()

    asyncio.run(run())


@app.command()
def chat(
    catalog: Annotated[
        Path | None, typer.Option("--catalog", help="Cargar este catálogo antes de empezar.")
    ] = None,
    database: DatabaseOption = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help="Identidad de quien escribe (por omisión, tu usuario)."),
    ] = None,
) -> None:
    """Talk to the bot in the terminal; each input line is one message."""
    from bot.channels import terminal
    from bot.engine import Engine
    from catalog.validate import CatalogError
    from ventanilla.setup import prepare

    settings = _settings(database)

    async def run() -> None:
        db = Database(settings.database_url)
        try:
            await prepare(db, settings, catalog, first_user=False)
            await terminal.run(
                Engine(db, settings),
                user or getpass.getuser(),
                sys.stdin,
                sys.stdout,
                prompt=sys.stdin.isatty(),
            )
        finally:
            await db.dispose()

    try:
        asyncio.run(run())
    except CatalogError as exc:
        for line in exc.problems:
            typer.echo(line, err=True)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        typer.echo("")


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOption = None) -> None:
    """Apply pending migrations."""
    from casework.schema import upgrade

    async def run() -> None:
        db = Database(_settings(database).database_url)
        try:
            await upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(run())
    typer.echo("Base de datos actualizada.")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Nombre de usuario.")],
    role: Annotated[str, typer.Option(help="admin, editor, agent o evaluator.")] = "agent",
    name: Annotated[str, typer.Option("--name", help="Nombre completo.")] = "",
    password: Annotated[
        str | None, typer.Option(help="Contraseña; si se omite se genera una y se muestra.")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Create a staff account."""
    from casework.schema import upgrade
    from casework.staff.service import StaffError, create_user, generate_password

    chosen = password or generate_password()

    async def run() -> None:
        db = Database(_settings(database).database_url)
        try:
            await upgrade(db)
            async with db.transaction() as session:
                await create_user(session, username, chosen, role, name)
        finally:
            await db.dispose()

    try:
        asyncio.run(run())
    except StaffError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Usuario '{username}' creado con rol {role}.")
    if password is None:
        typer.echo(f"Contraseña generada: {chosen}")


def _add_catalog_commands() -> None:
    from catalog.cli import app as catalog_app

    app.add_typer(catalog_app, name="catalog")


_add_catalog_commands()


def main() -> None:
    app()
