"""Reading the catalogue from the database."""

from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Department, Municipality, Procedure


class Option(NamedTuple):
    """One entry of a form's option list. A tuple, so templates can also unpack it as
    (value, label) like the other choice lists they render."""

    value: str
    label: str


async def municipality(session: AsyncSession) -> Municipality | None:
    return await session.get(Municipality, 1)


async def get_procedure(session: AsyncSession, procedure_id: str) -> Procedure | None:
    return await session.get(Procedure, procedure_id)


async def request_procedures(session: AsyncSession) -> list[Procedure]:
    rows = await session.scalars(
        select(Procedure).where(Procedure.request_enabled.is_(True)).order_by(Procedure.name)
    )
    return list(rows)


async def get_department(session: AsyncSession, department_id: str) -> Department | None:
    return await session.get(Department, department_id)


async def first_procedure_of(session: AsyncSession, department_id: str) -> Procedure | None:
    """The department's procedure with the lowest id (an example for previews)."""
    return await session.scalar(
        select(Procedure).where(Procedure.department_id == department_id).order_by(Procedure.id)
    )


async def procedures_of(session: AsyncSession, department_id: str | None) -> list[Procedure]:
    """The procedures of one department (every department's when None), by department name
    and then procedure name."""
    query = select(Procedure).join(Department).order_by(Department.name, Procedure.name)
    if department_id:
        query = query.where(Procedure.department_id == department_id)
    return list(await session.scalars(query))


async def procedure_options(session: AsyncSession) -> list[Option]:
    """Every procedure, by name."""
    rows = await session.execute(select(Procedure.id, Procedure.name).order_by(Procedure.name))
    return [Option(value, label) for value, label in rows]


async def request_procedure_options(session: AsyncSession) -> list[Option]:
    """The procedures citizens can open a request for, by name."""
    return [Option(p.id, p.name) for p in await request_procedures(session)]


async def department_options(session: AsyncSession) -> list[Option]:
    """Every department, by name."""
    rows = await session.execute(select(Department.id, Department.name).order_by(Department.name))
    return [Option(value, label) for value, label in rows]


async def version(session: AsyncSession) -> tuple[int, str, str]:
    """Changes whenever a procedure is added or edited, or a department edited (its office,
    hours and phone are part of the answers): a cache key for what is derived from them."""
    departments = select(func.max(Department.updated_at)).scalar_subquery()
    count, latest, offices = (
        await session.execute(
            select(func.count(Procedure.id), func.max(Procedure.updated_at), departments)
        )
    ).one()
    return int(count), str(latest), str(offices)


async def all_procedures(session: AsyncSession) -> list[Procedure]:
    """Every procedure with its department, by id."""
    return list(await session.scalars(select(Procedure).order_by(Procedure.id)))
