"""After "borra mis datos", the citizen's data is gone from every table and, on SQLite, from
the database files themselves (secure_delete, the write-ahead log truncated): checked by
reading every row on both backends and the raw bytes of the SQLite files."""

import asyncio
import re
from pathlib import Path

from sqlalchemy import select, text

from bot.channels.whatsapp.tests.test_whatsapp import WhatsAppClient, bodies, wa, wa_settings
from casework.citizens.models import ChannelIdentity, Citizen
from casework.inbox.models import InboxItem
from casework.outbox.models import OutboxMessage
from casework.privacy.retention import run_retention
from casework.requests.models import Request
from casework.schema import load_models
from foundation import texts
from foundation.db import Base, Database, utcnow
from foundation.settings import Settings
from tests.fakes.payloads import WA_ID, wa_status
from tests.fakes.whatsapp import FakeWhatsApp
from tests.support import folio_in, login, valid_curp

__all__ = [
    "wa",
    "wa_settings",
]  # WhatsApp fixtures this file uses; fake_whatsapp is in tests/support.py

CURP = valid_curp("QUZX900412MGTNRM0")
NAME = "Ximena Quintanilla"  # her WhatsApp profile name
DESCRIPTION = "Parpadea junto al porton azul de la casa Tizocatl"
WHERE = "Calle Xicotencatl 1234 colonia Zapotlan"
NOTE = "Cuadrilla 7 reviso el porton azul de Tizocatl"
COMMENT = "Arreglaron lo de Tizocatl rapido, saludos de Ximena"
# Everything that must be gone (words that appear nowhere else in the database).
SECRETS = (CURP, "Quintanilla", "Tizocatl", "Xicotencatl", "Zapotlan", "Cuadrilla 7")


async def everything(db: Database) -> str:
    """Every row of every table, as text."""
    load_models()
    dump = []
    async with db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            dump.extend(str(tuple(row)) for row in await session.execute(table.select()))
    return "\n".join(dump)


def sqlite_files(database_url: str) -> dict[str, bytes]:
    """The raw bytes of the SQLite database, its write-ahead log and shared memory."""
    path = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
    return {p.name: p.read_bytes() for p in path.parent.glob(path.name + "*")}


def found_in_files(database_url: str, *secrets: str) -> list[tuple[str, str]]:
    return [
        (secret, name)
        for name, data in sqlite_files(database_url).items()
        for secret in secrets
        if secret.encode() in data or secret.lower().encode() in data
    ]


async def a_citizen_reports_is_answered_and_rates(
    wa: WhatsAppClient, fake: FakeWhatsApp, loaded_db: Database
) -> str:
    async def say(words: str) -> None:
        await wa.say(words, name=NAME)

    await say("la lampara de mi calle no prende")
    await say("Sí, acepto")
    await say(DESCRIPTION)
    await say(WHERE)
    await say(CURP)
    await say("Sí, registrar")
    folio = folio_in("\n".join(bodies(fake)))
    await login(wa.client)
    answer = await wa.client.post(
        f"/backoffice/solicitudes/{folio}/estado", data={"status": "resolved", "note": NOTE}
    )
    assert answer.status_code in (200, 303)
    await wa.deliver()
    await say("4")
    await say(COMMENT)
    async with loaded_db.transaction() as session:  # the provider confirms it was read
        sent = await session.scalar(
            select(OutboxMessage.provider_id).where(OutboxMessage.provider_id.is_not(None))
        )
    assert sent is not None
    assert (await wa.post(wa_status(sent, "read", recipient_id=WA_ID))).status_code == 200
    return folio


async def test_erasure_leaves_nothing_of_the_citizen_in_any_table_or_file(
    wa: WhatsAppClient,
    fake_whatsapp: FakeWhatsApp,
    loaded_db: Database,
    database_url: str,
    wa_settings: Settings,
) -> None:
    folio = await a_citizen_reports_is_answered_and_rates(wa, fake_whatsapp, loaded_db)
    before = await everything(loaded_db)
    assert all(secret in before for secret in SECRETS)  # the check looks where the data is
    sqlite = database_url.startswith("sqlite")
    if sqlite:
        assert found_in_files(database_url, CURP, "Tizocatl")

    await wa.say("borra mis datos", name=NAME)
    await wa.say("Sí, borrar mis datos", name=NAME)
    assert texts.t("erase.done") in bodies(fake_whatsapp)[-1]

    if sqlite:  # once the erasure committed, the log is truncated: the files are clean
        for _ in range(300):
            if not found_in_files(database_url, CURP, DESCRIPTION, "Tizocatl", "Xicotencatl"):
                break
            await asyncio.sleep(0.1)
        assert found_in_files(database_url, CURP, "Tizocatl", "Xicotencatl", "Zapotlan") == []
    # The profile name was still in the update being handled, emptied by the next retention run.
    await run_retention(loaded_db, wa_settings.retention, utcnow())
    after = await everything(loaded_db)
    assert [secret for secret in SECRETS if secret.lower() in after.lower()] == []
    if sqlite:
        assert found_in_files(database_url, *SECRETS) == []

    # What stays is anonymous: the request's procedure and status, the score, the chat.
    async with loaded_db.transaction() as session:
        request = await session.scalar(select(Request).where(Request.folio == folio))
        identity = await session.scalar(select(ChannelIdentity))
        citizens = list(await session.scalars(select(Citizen)))
        scores = list(await session.execute(text("SELECT score, comment FROM ratings")))
        payloads = list(await session.scalars(select(InboxItem.payload)))
    assert request is not None and request.status == "resolved"
    assert request.citizen_id is None and request.description == "[eliminado]"
    assert [tuple(row) for row in scores] == [(4, None)]
    assert identity is not None and identity.display_name is None and identity.erased_at
    assert citizens == [] and payloads and all(p == {} for p in payloads)
    assert not re.search(r"QUZX", after)
