"""Reading the catalogue from the database."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Municipality, Procedure
from nlu.understanding import ProcedureEntry


async def municipality(session: AsyncSession) -> Municipality | None:
    return await session.get(Municipality, 1)


async def get_procedure(session: AsyncSession, procedure_id: str) -> Procedure | None:
    return await session.get(Procedure, procedure_id)


async def request_procedures(session: AsyncSession) -> list[Procedure]:
    rows = await session.scalars(
        select(Procedure).where(Procedure.request_enabled.is_(True)).order_by(Procedure.name)
    )
    return list(rows)


async def version(session: AsyncSession) -> tuple[int, str]:
    """Changes whenever a procedure is added or edited: a cache key for derived models."""
    count, latest = (
        await session.execute(select(func.count(Procedure.id), func.max(Procedure.updated_at)))
    ).one()
    return int(count), str(latest)


async def entries(session: AsyncSession) -> list[ProcedureEntry]:
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
