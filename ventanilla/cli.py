"""The `ventanilla` command: serve, chat, db, users, catalog, encuestas, retention, test. Help
texts are for staff (Spanish)."""

import asyncio
import getpass
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from foundation.db import Database
from foundation.settings import Settings, get_settings

app = typer.Typer(
    help="Ventanilla: trámites y servicios municipales por chat.", no_args_is_help=True
)
db_app = typer.Typer(help="Base de datos.", no_args_is_help=True)
users_app = typer.Typer(help="Usuarios del personal.", no_args_is_help=True)
telegram_app = typer.Typer(help="Canal de Telegram.", no_args_is_help=True)
surveys_app = typer.Typer(help="Encuestas de satisfacción.", no_args_is_help=True)
indicators_app = typer.Typer(help="Indicadores de evaluación.", no_args_is_help=True)
retention_app = typer.Typer(help="Conservación de datos personales.", no_args_is_help=True)
test_app = typer.Typer(help="Pruebas del bot.", no_args_is_help=True)
app.add_typer(indicators_app, name="indicadores")
app.add_typer(retention_app, name="retention")
app.add_typer(telegram_app, name="telegram")
app.add_typer(surveys_app, name="encuestas")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(test_app, name="test")

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", help="URL de la base de datos (VENTANILLA_DATABASE_URL)."),
]


def _settings(database: str | None) -> Settings:
    settings = get_settings()
    return settings.model_copy(update={"database_url": database}) if database else settings


def _run(
    work: Callable[[Database], Coroutine[Any, Any, None]],
    settings: Settings,
    *,
    server: bool = False,
) -> None:
    """Run a command against the database; trouble reaching it is one clear line. A `server`
    runs on uvloop, the faster event loop uvicorn itself would pick."""

    async def main() -> None:
        db = Database(settings.database_url)
        try:
            await work(db)
        finally:
            await db.dispose()

    try:
        if server:
            import uvloop

            uvloop.run(main())
        else:
            asyncio.run(main())
    except (OSError, SQLAlchemyError) as exc:
        url = make_url(settings.database_url).render_as_string(hide_password=True)
        typer.echo(f"Error: no se pudo usar la base de datos {url}: {exc}", err=True)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        typer.echo("")


NameOption = Annotated[
    str | None,
    typer.Option(
        "--name",
        help="Nombre de este proceso de trabajo, guardado en cada mensaje que atiende "
        "(por omisión, equipo:pid).",
    ),
]


@app.command(help="Chat web, back office y API en http://HOST:PUERTO (migra y carga la muestra).")
def serve(
    host: Annotated[str | None, typer.Option(help="Dirección donde escuchar.")] = None,
    port: Annotated[int | None, typer.Option(help="Puerto.")] = None,
    database: DatabaseOption = None,
    telegram_polling: Annotated[
        bool,
        typer.Option(
            "--telegram-polling", help="Recibir Telegram por consulta periódica, sin webhook."
        ),
    ] = False,
    web_only: Annotated[
        bool,
        typer.Option(
            "--web-only",
            help="Solo HTTP: los mensajes recibidos se guardan y `ventanilla worker` los atiende.",
        ),
    ] = False,
    name: NameOption = None,
) -> None:
    import uvicorn

    from backoffice.app import create_app
    from bot.engine import Engine
    from casework.inbox.service import Inbox
    from ventanilla.setup import prepare
    from ventanilla.workers import Workers

    settings = _settings(database)
    host, port = host or settings.web.host, port or settings.web.port

    async def work(db: Database) -> None:
        ready = await prepare(db, settings)
        if ready.catalog is not None:
            typer.echo(f"Catálogo cargado. {ready.catalog.summary()}")
        url = f"http://{host}:{port}"
        if ready.admin_password:
            typer.echo(
                "\nPrimer inicio: se creó la cuenta de administración.\n"
                f"  Back office: {url}/backoffice\n  Usuario: admin\n"
                f"  Contraseña: {ready.admin_password}\n"
                "Guárdela ahora: no se volverá a mostrar.\n"
            )
        typer.echo(f"Chat web: {url}/   Back office: {url}/backoffice")
        # The web app and, unless --web-only, the workers in this process, sharing the
        # dialogue engine and the inbox (ventanilla/workers.py).
        engine, inbox = Engine(db, settings), Inbox(db)
        workers = None
        if not web_only or telegram_polling:
            workers = Workers(
                settings,
                db,
                name=name,
                engine=engine,
                inbox=inbox,
                handle_inbox=not web_only,
                deliver=not web_only,
                periodic=not web_only,
                telegram_polling=telegram_polling,
            )
        app_ = create_app(
            settings,
            db,
            ready.secret_key,
            engine=engine,
            inbox=inbox,
            background=workers.run if workers is not None else None,
        )
        # uvicorn's own X-Forwarded-For handling is off: it believes any local client. The app
        # reads the header itself, from VENTANILLA_TRUSTED_PROXIES only (bot/channels/peer.py).
        config = uvicorn.Config(app_, host=host, port=port, proxy_headers=False)
        await uvicorn.Server(config).serve()

    _run(work, settings, server=True)


@app.command(
    help="Trabajos de fondo sin servidor web (junto a `serve --web-only`): atiende los "
    "mensajes recibidos, entrega las respuestas y envía los recordatorios de encuestas. "
    "Pueden correr varios a la vez, cada uno con su --name."
)
def worker(database: DatabaseOption = None, name: NameOption = None) -> None:
    import signal

    from casework.inbox.drain import default_name
    from ventanilla import workers
    from ventanilla.setup import prepare

    settings = _settings(database)
    name = name or default_name()

    async def work(db: Database) -> None:
        await prepare(db, settings, first_user=False)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):  # the turns under way end first
            loop.add_signal_handler(sig, stop.set)
        typer.echo(f"Trabajos de fondo en marcha como {name} (Ctrl+C para terminar).")
        await workers.run(settings, db, stop, name=name)

    _run(work, settings, server=True)


@app.command(help="Conversar con el bot en la terminal; cada línea es un mensaje.")
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
    from bot.channels.terminal import chat as terminal
    from bot.engine import Engine
    from catalog.validate import CatalogError
    from ventanilla.setup import prepare

    settings = _settings(database)

    async def work(db: Database) -> None:
        await prepare(db, settings, catalog, first_user=False)
        engine = Engine(db, settings)
        address = user or getpass.getuser()
        await terminal.run(engine, address, sys.stdin, sys.stdout, prompt=sys.stdin.isatty())

    try:
        _run(work, settings)
    except CatalogError as exc:
        for line in exc.problems:
            typer.echo(line, err=True)
        raise typer.Exit(1) from exc


@db_app.command("upgrade", help="Aplicar las migraciones pendientes.")
def db_upgrade(database: DatabaseOption = None) -> None:
    from casework.schema import upgrade

    _run(upgrade, _settings(database))
    typer.echo("Base de datos actualizada.")


@indicators_app.command(
    "recalcular",
    help="Reconstruir los resúmenes diarios de los indicadores (calificaciones, visitas al bot "
    "y esperas) a partir de los datos. Úselo tras borrar o corregir historial.",
)
def indicators_rebuild(database: DatabaseOption = None) -> None:
    from casework.indicators.rollups import configure, rebuild
    from casework.schema import upgrade

    settings = _settings(database)

    async def work(db: Database) -> None:
        await upgrade(db)
        configure(settings.evaluation.survey_days, settings.evaluation.session_gap_minutes)
        async with db.transaction() as session:
            done = await rebuild(session, settings.timezone)
        for name, upto in done.items():
            typer.echo(f"  {name:<14} días hasta el {upto:%Y-%m-%d} (sin incluirlo)")

    _run(work, settings)
    typer.echo("Resúmenes de indicadores recalculados.")


@users_app.command("create", help="Crear una cuenta del personal.")
def users_create(
    username: Annotated[str, typer.Argument(help="Nombre de usuario.")],
    role: Annotated[str, typer.Option(help="admin, editor, agent o evaluator.")] = "agent",
    name: Annotated[str, typer.Option("--name", help="Nombre completo.")] = "",
    password: Annotated[
        str | None, typer.Option(help="Contraseña; si se omite se genera una y se muestra.")
    ] = None,
    department: Annotated[
        list[str] | None,
        typer.Option(help="Dependencia que atiende (id del catálogo); se puede repetir."),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    from casework.schema import upgrade
    from casework.staff.accounts import StaffError, create_user, generate_password

    chosen = password or generate_password()

    async def work(db: Database) -> None:
        await upgrade(db)
        async with db.transaction() as session:
            await create_user(session, username, chosen, role, name, department or [])

    try:
        _run(work, _settings(database))
    except StaffError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Usuario '{username}' creado con rol {role}.")
    if password is None:
        typer.echo(f"Contraseña generada: {chosen}")


@app.command(
    "demo-data",
    help="Generar un historial sintético (visitas, solicitudes, canalizaciones y "
    "calificaciones) para demostraciones y pruebas de rendimiento. Migra y carga el catálogo "
    "de muestra si la base está vacía.",
)
def demo_data(
    ratings: Annotated[
        int, typer.Option(help="Encuestas enviadas (filas de ratings), respondidas o no.")
    ] = 20_000,
    requests: Annotated[
        int | None, typer.Option(help="Solicitudes (por omisión, ratings / 5).")
    ] = None,
    conversations: Annotated[
        int | None,
        typer.Option(
            help="Visitas al bot (bot_sessions; por omisión 4 × ratings + requests: "
            "una de cada cinco termina con una persona)."
        ),
    ] = None,
    months: Annotated[int, typer.Option(help="Meses de historia, hasta hoy.")] = 24,
    seed: Annotated[int, typer.Option(help="Semilla: la misma semilla da los mismos datos.")] = 1,
    append: Annotated[
        bool, typer.Option("--append", help="Añadir aunque la base ya tenga historial.")
    ] = False,
    database: DatabaseOption = None,
) -> None:
    from ventanilla.demo import DemoOptions, DemoRefused, Progress, generate
    from ventanilla.setup import prepare

    options = DemoOptions(ratings, requests, conversations, months, seed, append)
    for problem in options.problems():
        typer.echo(f"Error: {problem}", err=True)
    if options.problems():
        raise typer.Exit(2)
    settings = _settings(database)

    class Bars(Progress):
        def phase(self, label: str, total: int) -> AbstractContextManager[Callable[[int], None]]:
            return _bar(label, total)

    async def work(db: Database) -> None:
        ready = await prepare(db, settings)
        if ready.catalog is not None:
            typer.echo(f"Catálogo cargado. {ready.catalog.summary()}")
        if ready.admin_password:
            typer.echo(f"Cuenta de administración: admin / {ready.admin_password}")
        summary = await generate(db, settings, options, Bars())
        typer.echo(f"Historial de demostración generado en {summary.seconds:.1f} s:")
        for table, count in sorted(summary.counts.items()):
            typer.echo(f"  {table:<26} {count:>12,}".replace(",", " "))
        if summary.staff_created:
            typer.echo(
                f"Se crearon {len(summary.staff_created)} cuentas de agente de demostración "
                "(inactivas, sin contraseña conocida)."
            )

    try:
        _run(work, settings)
    except DemoRefused as refused:
        held = ", ".join(
            f"{count:,} {what}".replace(",", " ") for what, count in refused.counts.items()
        )
        typer.echo(
            f"Error: la base de datos ya tiene historial ({held}). No se generó nada. "
            "Use --append para añadir datos de demostración a lo que ya hay.",
            err=True,
        )
        raise typer.Exit(1) from None


@contextmanager
def _bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar that the generator advances with tick(n)."""
    with typer.progressbar(length=max(total, 1), label=f"{label:<46}") as progress:
        yield progress.update


@telegram_app.command("set-webhook", help="Registrar en Telegram la URL HTTPS del webhook.")
def telegram_set_webhook(
    url: Annotated[str, typer.Argument(help="https://su-dominio/telegram/webhook")],
    database: DatabaseOption = None,
) -> None:
    from bot.channels.telegram.client import make_bot
    from bot.channels.telegram.webhook import webhook_secret
    from casework.schema import upgrade

    settings = _settings(database)
    if not settings.telegram.token:
        typer.echo("Error: falta VENTANILLA_TELEGRAM_TOKEN.", err=True)
        raise typer.Exit(1)

    async def work(db: Database) -> None:
        await upgrade(db)
        bot = make_bot(settings.telegram)
        try:
            await bot.set_webhook(
                url,
                secret_token=await webhook_secret(db, settings),
                allowed_updates=["message", "callback_query"],
            )
        finally:
            await bot.session.close()

    _run(work, settings)
    typer.echo(f"Webhook registrado: {url}")


@surveys_app.command(
    "recordar",
    help="Enviar el único recordatorio de las encuestas sin responder (para cron); "
    "seguro aunque el servidor también los envíe.",
)
def surveys_remind(database: DatabaseOption = None) -> None:
    from casework.ratings.reminders import send_reminders
    from casework.schema import upgrade
    from foundation.db import utcnow

    settings = _settings(database)
    sent = 0

    async def work(db: Database) -> None:
        nonlocal sent
        await upgrade(db)
        async with db.transaction() as session:
            sent = await send_reminders(session, settings.evaluation, utcnow())

    _run(work, settings)
    typer.echo(f"Recordatorios de encuesta en cola: {sent}.")


@retention_app.command(
    "run",
    help="Borrar lo que venció su plazo de conservación (para cron); seguro aunque el servidor "
    "también lo haga.",
)
def retention_run(database: DatabaseOption = None) -> None:
    from casework.privacy.retention import run_retention
    from casework.schema import upgrade
    from foundation.db import utcnow

    settings = _settings(database)
    done = []

    async def work(db: Database) -> None:
        await upgrade(db)
        done.append(await run_retention(db, settings.retention, utcnow()))

    _run(work, settings)
    [report] = done
    typer.echo(
        f"Mensajes recibidos de las aplicaciones borrados (atendidos hace más de "
        f"{settings.retention.inbox_retention_days} días): {report.inbox_deleted}.\n"
        f"Mensajes de chats que pidieron borrar sus datos, vaciados: {report.erased_cleared}.\n"
        f"Líneas de conversación y respuestas borradas (más de "
        f"{settings.retention.transcript_retention_months} meses): {report.messages_deleted} y "
        f"{report.replies_deleted}."
    )


@test_app.command(
    "conversations",
    help="Correr conversaciones de prueba (YAML con test_cases) contra el bot, cada caso en una "
    "base de datos nueva, y revisar lo que se espera tras cada mensaje. Sale con 0 si todo pasa, "
    "1 si algún caso falla y 2 si un archivo no es válido.",
)
def test_conversations(
    files: Annotated[list[Path], typer.Argument(help="Archivos de conversaciones de prueba.")],
    catalog: Annotated[
        Path | None,
        typer.Option("--catalog", help="Usar este catálogo en lugar del que indica cada archivo."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Imprimir el resultado como un objeto JSON.")
    ] = False,
) -> None:
    from bot.rehearsal import report
    from bot.rehearsal.runner import run
    from bot.rehearsal.script import ScriptError
    from foundation import texts

    try:
        results = asyncio.run(run(files, get_settings(), catalog))
    except ScriptError as exc:
        typer.echo(texts.t("rehearsal.bad_file"), err=True)
        for line in exc.problems:
            typer.echo(line, err=True)
        raise typer.Exit(2) from None
    typer.echo(report.as_json(results) if as_json else report.text(results))
    if not all(result.passed for result in results):
        raise typer.Exit(1)


def _add_subcommands() -> None:
    from nlu.cli import app as nlu_app
    from ventanilla.catalog_cli import app as catalog_app

    app.add_typer(catalog_app, name="catalog")
    app.add_typer(nlu_app, name="nlu")


_add_subcommands()


def main() -> None:
    app()
