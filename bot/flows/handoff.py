"""Asking for a person: the conversation is handed to staff and the bot goes quiet."""

from bot.turn import Turn
from casework import texts
from casework.handoffs.service import request_person
from catalog.service import get_procedure


async def to_person(turn: Turn) -> None:
    department_id = None
    if turn.conversation.last_procedure_id:
        procedure = await get_procedure(turn.session, turn.conversation.last_procedure_id)
        department_id = procedure.department_id if procedure else None
    await request_person(turn.session, turn.conversation, turn.text, department_id)
    turn.say(texts.t("handoff.requested"))
