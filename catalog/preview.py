"""What the bot would answer for a procedure that is not published yet.

The answers come from ``catalog.answers``, the code the bot itself uses, applied to transient
copies of the draft and of its published department that are never added to a session, so a
preview can never leak into the catalogue the bot reads.
"""

from dataclasses import dataclass

from catalog import answers
from catalog.models import Department, Procedure
from catalog.schema import ASPECTS, DepartmentEntry, ProcedureEntry
from catalog.transfer import department_entry, procedure_values
from foundation import texts

MESSAGES = {"summary": "Respuesta general"}


@dataclass(frozen=True)
class PreviewAnswer:
    aspect: str  # an aspect code, or "summary"
    label: str
    text: str


def procedure_answers(entry: ProcedureEntry, department: Department) -> list[PreviewAnswer]:
    """The general answer and one answer per aspect, as the bot would word them."""
    copy = Department(**department_entry(department))
    procedure = Procedure(id=entry.id, **procedure_values(entry, {department.id: copy}))
    shown = [PreviewAnswer("summary", MESSAGES["summary"], answers.summary(procedure))]
    for aspect in ASPECTS:
        label = texts.t(f"info.aspect.{aspect}")
        shown.append(PreviewAnswer(aspect, label, answers.aspect(procedure, aspect)))
    return shown


def department_answers(entry: DepartmentEntry, procedure: Procedure) -> list[PreviewAnswer]:
    """Where and when, as the bot would say it about ``procedure`` once ``entry`` is live."""
    copy = Department(**entry.model_dump())
    values = {name: getattr(procedure, name) for name in ("id", "name")}
    shown_procedure = Procedure(**values, department=copy)
    shown = []
    for aspect in ("hours", "location"):
        label = texts.t(f"info.aspect.{aspect}")
        shown.append(PreviewAnswer(aspect, label, answers.aspect(shown_procedure, aspect)))
    return shown
