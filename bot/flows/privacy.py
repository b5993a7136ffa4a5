"""First contact, consent before any personal data, and what data is held."""

from bot.turn import Turn, menu_choices, yes_no
from casework import texts
from casework.citizens.erasure import erase
from casework.citizens.models import Citizen
from casework.citizens.service import mask_curp
from casework.db import utcnow
from casework.requests.service import visible_requests


def welcome(turn: Turn) -> None:
    turn.say(texts.t("welcome", municipality=turn.municipality_name))
    turn.say(texts.t("privacy_short", municipality=turn.municipality_name, url=turn.privacy_url))


def menu(turn: Turn) -> None:
    turn.say(texts.t("menu.prompt"), menu_choices())


def has_consent(turn: Turn) -> bool:
    return turn.conversation.consent_at is not None


def ask_consent(turn: Turn, then: str) -> None:
    """Ask before any personal data; `then` names what to resume once accepted."""
    turn.go("consent", after_consent=then)
    turn.say(
        texts.t("consent.ask", municipality=turn.municipality_name, url=turn.privacy_url),
        yes_no("consent.accept", "consent.decline"),
    )


def answer_consent(turn: Turn) -> str | None:
    """Record the answer; returns what to resume, or None when declined or unclear."""
    then = turn.conversation.slots.get("after_consent")
    if turn.is_yes():
        turn.conversation.consent_at = utcnow()
        turn.reset()
        turn.say(texts.t("consent.thanks"))
        return str(then) if then else None
    if turn.is_no():
        turn.reset()
        turn.say(texts.t("consent.declined"), menu_choices())
        return None
    ask_consent(turn, str(then or ""))
    return None


async def my_data(turn: Turn) -> None:
    """What data is held; or, when the citizen asks to delete it, confirmation first."""
    if set(turn.words.split()) & set(texts.t("labels.erase_words").split()):
        turn.go("erase_confirm")
        turn.say(texts.t("erase.ask"), yes_no("erase.accept", "erase.decline"))
        return
    await _show_data(turn)


async def answer_erase(turn: Turn) -> None:
    """State `erase_confirm`."""
    if turn.is_yes():
        await erase(turn.session, turn.identity, turn.conversation)
        turn.say(texts.t("erase.done"))
        return
    turn.reset()
    turn.say(texts.t("erase.kept"), menu_choices())


async def _show_data(turn: Turn) -> None:
    citizen = (
        await turn.session.get(Citizen, turn.identity.citizen_id)
        if turn.identity.citizen_id
        else None
    )
    requests = await visible_requests(turn.session, turn.identity, limit=1000)
    if citizen is None and not requests:
        turn.say(texts.t("data.none"), menu_choices())
        return
    turn.say(
        texts.t(
            "data.summary",
            curp=mask_curp(citizen.curp) if citizen and citizen.curp else "—",
            requests=len(requests),
            url=turn.privacy_url,
        ),
        menu_choices(),
    )
