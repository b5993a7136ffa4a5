"""Extra survey dimensions (tiempo, trato, claridad...), switched on per procedure.

The dimensions themselves (label and the question the bot asks) are in dimensions.es-MX.yml,
so a municipality can reword them; which ones a procedure's surveys ask is the
`survey_dimensions` table, kept by evaluators in the back office (Encuestas).
"""

from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.ratings.models import SurveyDimension
from casework.staff.models import StaffUser
from catalog.models import Procedure
from foundation.audit import audit

DIMENSIONS_FILE = Path(__file__).resolve().parent / "dimensions.es-MX.yml"


@dataclass(frozen=True)
class Dimension:
    code: str
    label: str
    question: str


class DimensionError(ValueError):
    """A change the back office refuses, with a Spanish explanation."""


def load_dimensions(path: Path = DIMENSIONS_FILE) -> dict[str, Dimension]:
    """The dimensions in file order (the order the bot asks them)."""
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return {
        str(code): Dimension(str(code), str(entry["label"]).strip(), str(entry["question"]).strip())
        for code, entry in data.items()
    }


DIMENSIONS: dict[str, Dimension] = load_dimensions()


def _ordered(codes: set[str]) -> list[str]:
    return [code for code in DIMENSIONS if code in codes]


async def dimensions_for(session: AsyncSession, procedure_id: str) -> list[str]:
    """The dimensions switched on for a procedure, in the order they are asked. Codes no
    longer in the file are ignored (the bot has no question for them)."""
    rows = await session.scalars(
        select(SurveyDimension.dimension).where(SurveyDimension.procedure_id == procedure_id)
    )
    return _ordered(set(rows))


async def dimensions_by_procedure(session: AsyncSession) -> dict[str, list[str]]:
    """Every procedure that has dimensions switched on -> its dimensions."""
    found: dict[str, set[str]] = {}
    rows = await session.execute(select(SurveyDimension.procedure_id, SurveyDimension.dimension))
    for procedure_id, code in rows:
        found.setdefault(procedure_id, set()).add(code)
    return {procedure_id: _ordered(codes) for procedure_id, codes in found.items()}


async def set_dimensions(
    session: AsyncSession, staff: StaffUser, procedure_id: str, codes: list[str]
) -> bool:
    """Switch on exactly `codes` for a procedure's surveys; audited with before and after.
    Returns whether anything changed. Unknown codes and unknown procedures are refused."""
    unknown = sorted(set(codes) - set(DIMENSIONS))
    if unknown:
        raise DimensionError(f"dimensión desconocida: {', '.join(unknown)}")
    locked = select(Procedure.id).where(Procedure.id == procedure_id).with_for_update()
    if await session.scalar(locked) is None:  # the lock: concurrent saves take turns
        raise DimensionError(f"trámite desconocido '{procedure_id}'")
    before = await dimensions_for(session, procedure_id)
    after = _ordered(set(codes))
    if before == after:
        return False
    await session.execute(
        delete(SurveyDimension).where(SurveyDimension.procedure_id == procedure_id)
    )
    session.add_all(SurveyDimension(procedure_id=procedure_id, dimension=c) for c in after)
    await audit(
        session,
        staff,
        "survey.dimensions",
        "procedure",
        procedure_id,
        {"dimensions": before},
        {"dimensions": after},
    )
    await session.flush()
    return True
