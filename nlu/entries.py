"""What understanding reads of a catalogue, from its YAML file or from the database."""

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Procedure
from catalog.validate import CatalogError, validate_file
from nlu.understanding import ProcedureEntry


def entries_from_catalog(path: Path) -> list[ProcedureEntry]:
    catalog, problems = validate_file(path)
    if catalog is None:
        raise CatalogError(problems)
    return [
        ProcedureEntry(
            id=p.id,
            name=p.name,
            synonyms=tuple(p.synonyms),
            description=p.description,
            requirements=tuple(p.requirements),
            takes_requests=bool(p.request and p.request.enabled),
        )
        for p in catalog.procedures
    ]


async def entries_from_database(session: AsyncSession) -> list[ProcedureEntry]:
    rows = await session.scalars(select(Procedure).order_by(Procedure.id))
    return [
        ProcedureEntry(
            id=p.id,
            name=p.name,
            synonyms=tuple(p.synonyms or ()),
            description=p.description,
            requirements=tuple(p.requirements or ()),
            takes_requests=p.request_enabled,
        )
        for p in rows
    ]
