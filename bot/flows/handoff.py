"""Asking for a person: the conversation is handed to staff and the bot goes quiet.

Outside the office hours of the department that handles the procedure being discussed (or the
chat desk's hours, `desk_hours`), the citizen is told so and offered to leave a request instead.
"""

from bot.turn import Turn
from casework.handoffs.service import place_in_queue, request_person
from casework.hours import parse_hours
from catalog.models import Department
from foundation import texts
from foundation.db import utcnow
from foundation.messages import Choice


async def to_person(turn: Turn, *, even_if_closed: bool = False) -> None:
    department = None
    if turn.conversation.last_procedure_id:
        procedure = turn.procedure(turn.conversation.last_procedure_id)
        if procedure is not None:
            department = await turn.session.get(Department, procedure.department_id)
    hours = department.hours if department else turn.settings.desk_hours
    opening = parse_hours(hours)
    if not even_if_closed and opening is not None and not opening.is_open(utcnow()):
        turn.say(
            texts.t("handoff.after_hours", hours=hours),
            (
                Choice(texts.t("handoff.leave_request"), "menu:open"),
                Choice(texts.t("handoff.wait"), "menu:person_wait"),
            ),
        )
        return
    department_id = department.id if department else None
    handoff = await request_person(turn.session, turn.conversation, turn.text, department_id)
    place = await place_in_queue(turn.session, handoff)
    turn.say(f"{texts.t('handoff.requested')} {texts.t('handoff.place', place=place)}")
