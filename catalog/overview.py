"""The catalogue as staff see it in the list: published entries and drafts, searchable."""

import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import CatalogVersion, Department, Procedure
from catalog.versions import drafts

# published: live, no pending edit · edited: live, with a draft · new: a draft never published
STATES = ("published", "edited", "new")


@dataclass(frozen=True)
class Row:
    id: str
    name: str
    state: str
    department_id: str = ""
    department_name: str = ""
    kind: str = ""
    words: str = ""  # what the search looks in, folded

    def matches(self, query: str) -> bool:
        return all(word in self.words for word in fold(query).split())


def fold(text: str) -> str:
    """Lower case without accents, so "tramite" finds "Trámite"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _state(published: bool, draft: CatalogVersion | None) -> str:
    if not published:
        return "new"
    return "edited" if draft is not None else "published"


async def departments(session: AsyncSession) -> list[Row]:
    """Every department, published or drafted, by name."""
    pending = await drafts(session, "department")
    rows = []
    for row in await session.scalars(select(Department)):
        draft = pending.pop(row.id, None)
        words = fold(f"{row.id} {row.name}")
        rows.append(Row(row.id, row.name, _state(True, draft), words=words))
    for entry_id, draft in pending.items():
        name = str(draft.data.get("name", entry_id))
        rows.append(Row(entry_id, name, "new", words=fold(f"{entry_id} {name}")))
    return sorted(rows, key=lambda r: fold(r.name))


async def procedures(
    session: AsyncSession, query: str = "", department: str = "", state: str = ""
) -> list[Row]:
    """Procedures, published or drafted, by name; filtered by words in the id, name or
    synonyms, by department id and by state."""
    names = {d.id: d.name for d in await session.scalars(select(Department))}
    pending = await drafts(session, "procedure")
    rows = []
    for p in await session.scalars(select(Procedure)):
        draft = pending.pop(p.id, None)
        words = fold(" ".join([p.id, p.name, *p.synonyms]))
        dep = p.department_id
        state_ = _state(True, draft)
        rows.append(Row(p.id, p.name, state_, dep, names.get(dep, dep), p.kind, words))
    for entry_id, draft in pending.items():
        data = draft.data
        name, dep = str(data.get("name", entry_id)), str(data.get("department", ""))
        words = fold(" ".join([entry_id, name, *data.get("synonyms", [])]))
        rows.append(Row(entry_id, name, "new", dep, names.get(dep, dep), data["kind"], words))
    shown = [
        r
        for r in rows
        if (not query or r.matches(query))
        and (not department or r.department_id == department)
        and (not state or r.state == state)
    ]
    return sorted(shown, key=lambda r: fold(r.name))
