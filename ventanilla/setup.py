"""What `serve` and `chat` do before they start: migrate, load a catalogue, first user."""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from bot.channels.registry import NAMES
from casework.indicators.cards import load_sample_cards
from casework.schema import upgrade
from casework.staff.accounts import count_users, create_user, generate_password
from casework.staff.instance_secrets import instance_secret
from catalog.models import Procedure
from catalog.transfer import ImportReport, load_catalog_file
from foundation.db import Database
from foundation.settings import Settings


@dataclass
class Prepared:
    secret_key: str
    catalog: ImportReport | None = None
    admin_password: str | None = None  # set only when the first user was just created
    sample_cards: int = 0  # indicator cards loaded from the sample set (first run only)


async def prepare(
    db: Database, settings: Settings, catalog: Path | None = None, first_user: bool = True
) -> Prepared:
    """Bring the schema up to date; load `catalog`, or the sample one into an empty database;
    create the first administrator with a generated password when there is no staff yet; on
    the first run, load the sample indicator cards."""
    await upgrade(db)
    async with db.transaction() as session:
        empty = not await session.scalar(select(func.count()).select_from(Procedure))
    report = None
    if catalog is not None or empty:
        report = await load_catalog_file(db, catalog or settings.sample_catalog)
    async with db.transaction() as session:
        secret = settings.web.secret_key or await instance_secret(session, "session_key")
        password = None
        if first_user and await count_users(session) == 0:
            password = generate_password()
            await create_user(session, "admin", password, "admin", "Administración")
        cards = await load_sample_cards(session, NAMES)
    return Prepared(secret, report, password, cards)
