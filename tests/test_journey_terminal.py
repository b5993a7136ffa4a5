"""The whole citizen journey on the terminal chat (`ventanilla chat` with piped input)."""

import subprocess
import sys

import httpx
from sqlalchemy import select

from casework.ratings.models import Rating
from catalog.models import Procedure
from foundation.db import Database
from tests.support import folio_in, login, valid_curp


def chat(database_url: str, *lines: str, user: str = "ana") -> str:
    """Run `ventanilla chat` as a citizen would, one input line per message."""
    result = subprocess.run(
        [sys.executable, "-m", "ventanilla", "chat", "--database", database_url, "--user", user],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def option_number(output: str, label: str) -> str:
    """The number printed before a choice label in the last menu that offered it."""
    for line in reversed(output.splitlines()):
        number, _, text = line.strip().partition(". ")
        if text == label and number.isdigit():
            return number
    raise AssertionError(f"no choice {label!r} in:\n{output}")


async def test_citizen_journey_on_terminal_chat(
    client: httpx.AsyncClient,
    loaded_db: Database,
    database_url: str,
    staff_of_every_role: dict[str, str],
) -> None:
    async with loaded_db.transaction() as session:
        acta = await session.get(Procedure, "copia-certificada-acta")
    assert acta is not None

    first = chat(database_url, "hola", "cuanto cuesta la copia certificada de acta de nacimiento")
    assert acta.cost in first
    assert "1. Consultar un trámite" in first  # choices are numbered

    opening = chat(
        database_url,
        "quiero reportar un bache",
        "1",  # Sí, acepto
        "Bache de medio metro frente a la escuela primaria, es peligroso.",
        "Av. Juárez esquina con Morelos, colonia San Juan",
        "1",  # Omitir la foto
        valid_curp("LOMP800101MJCPRR0"),
        "1",  # Sí, registrar
    )
    folio = folio_in(opening.split("Tu folio es", 1)[1])

    await login(client)
    response = await client.post(
        f"/backoffice/solicitudes/{folio}/estado",
        data={
            "status": "resolved",
            "note": "Reparado con mezcla asfáltica.",
            "visibility": "public",
        },
    )
    assert response.status_code == 303

    # The next time the citizen opens the chat, the notice and the survey are waiting.
    later = chat(database_url, "5", "Muy buen trabajo")
    notice = later.split("Bot:", 2)[1]
    assert folio in notice and "Resuelta" in notice and "Reparado con mezcla asfáltica." in notice
    assert option_number(later, "5 - Excelente") == "5"

    async with loaded_db.transaction() as session:
        rating = await session.scalar(select(Rating).where(Rating.channel == "terminal"))
    assert rating is not None
    assert (rating.score, rating.comment) == (5, "Muy buen trabajo")
    await login(client, staff_of_every_role["evaluator"])  # ratings are the evaluators' section
    listing = await client.get("/backoffice/calificaciones")
    assert "Muy buen trabajo" in listing.text and folio not in listing.text
