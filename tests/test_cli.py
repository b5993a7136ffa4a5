"""The `ventanilla` command as staff and developers use it."""

import subprocess
import sys
from pathlib import Path

import yaml

from casework.staff.accounts import authenticate
from foundation.db import Database

DATA = Path(__file__).parent / "data"


def ventanilla(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ventanilla", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_users_create_prints_a_generated_password_that_logs_in(database_url: str) -> None:
    result = ventanilla("users", "create", "laura", "--role", "agent", "--database", database_url)
    assert result.returncode == 0, result.stderr
    password = result.stdout.split("Contraseña generada:", 1)[1].strip()
    assert len(password) >= 12
    db = Database(database_url)
    async with db.transaction() as session:
        assert await authenticate(session, "laura", password) is not None
        assert await authenticate(session, "laura", "otra-contraseña") is None
    await db.dispose()


def test_users_create_refuses_an_unknown_role(database_url: str) -> None:
    result = ventanilla("users", "create", "pepe", "--role", "jefe", "--database", database_url)
    assert result.returncode == 1
    assert "rol desconocido 'jefe'" in result.stderr


def test_chat_loads_the_catalogue_it_is_given(database_url: str) -> None:
    catalogue = yaml.safe_load((DATA / "catalog_min.yml").read_text(encoding="utf-8"))
    no_debt = next(p for p in catalogue["procedures"] if p["id"] == "constancia-no-adeudo")
    result = ventanilla(
        "chat",
        "--catalog",
        str(DATA / "catalog_min.yml"),
        "--database",
        database_url,
        stdin="cuánto cuesta la constancia de no adeudo\n",
    )
    assert result.returncode == 0, result.stderr
    assert catalogue["municipality"]["name"] in result.stdout
    assert no_debt["cost"] in result.stdout


def test_chat_refuses_an_invalid_catalogue_with_every_problem(
    database_url: str, tmp_path: Path
) -> None:
    broken = tmp_path / "roto.yml"
    text = (DATA / "catalog_min.yml").read_text(encoding="utf-8")
    broken.write_text(text.replace("department: tesoreria", "department: obras", 1), "utf-8")
    result = ventanilla("chat", "--catalog", str(broken), "--database", database_url)
    assert result.returncode == 1
    assert "roto.yml: procedures[0] (pago-predial).department" in result.stderr


def test_db_upgrade_is_idempotent(database_url: str) -> None:
    for _ in range(2):
        result = ventanilla("db", "upgrade", "--database", database_url)
        assert result.returncode == 0, result.stderr


def test_an_unreachable_database_is_one_clear_line_without_the_password() -> None:
    url = "postgresql+asyncpg://postgres:secreto@127.0.0.1:5432/ventanilla_no_existe"
    result = ventanilla("chat", "--database", url)
    assert result.returncode == 1
    assert "no se pudo usar la base de datos" in result.stderr
    assert "secreto" not in result.stderr and "Traceback" not in result.stderr
