"""What understanding reads of a catalogue, from its YAML file or from the database."""

from collections.abc import Iterable
from pathlib import Path

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


def entries_from_procedures(procedures: Iterable[Procedure]) -> list[ProcedureEntry]:
    """The entries of procedures read from the database."""
    return [
        ProcedureEntry(
            id=p.id,
            name=p.name,
            synonyms=tuple(p.synonyms or ()),
            description=p.description,
            requirements=tuple(p.requirements or ()),
            takes_requests=p.request_enabled,
        )
        for p in procedures
    ]
