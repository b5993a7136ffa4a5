"""First contact, consent before any personal data, and what data is held."""

from bot import cues
from bot.turn import Turn, menu_choices, yes_no
from casework.citizens.erasure import erase
from casework.citizens.models import Citizen
from casework.citizens.service import mask_curp
from casework.requests.service import visible_requests
from catalog import answers
from foundation import texts
from foundation.db import utcnow
from nlu.understanding import Understanding


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


async def answer_consent(turn: Turn) -> str | None:
    """State `consent`: on yes, returns what to resume ("request:<id>"), keeping what the
    citizen already said; on no, drops it and says where the procedure is done in person
    (returns ""). None when the message is neither."""
    then = str(turn.conversation.slots.get("after_consent") or "")
    answer = turn.yes_or_no()
    if answer is None:
        return None
    if answer:
        turn.conversation.consent_at = utcnow()
        turn.go("idle", after_consent=None)
        turn.say(texts.t("consent.thanks"))
        return then
    await decline(turn, then.removeprefix("request:"))
    return ""


async def decline(turn: Turn, procedure_id: str | None) -> None:
    """Consent refused or the request dropped at consent: nothing is kept, and the citizen
    learns where to do it in person (or online) so this is no dead end."""
    turn.reset()
    procedure = turn.procedure(procedure_id)
    where = answers.office(procedure) if procedure else answers.town_hall(turn.municipality)
    turn.say(f"{texts.t('consent.declined')}\n{where}", menu_choices())


async def ask_again(turn: Turn) -> None:
    ask_consent(turn, str(turn.conversation.slots.get("after_consent") or ""))


def asks_erasure(turn: Turn, understanding: Understanding) -> bool:
    """ "Bórrenlos todos", "eliminen mi curp": an erasure request, in any wording."""
    if not cues.has_stem("erase_stems", turn.words) or understanding.procedure_id:
        return False
    return understanding.intent == "my_data" or cues.has("personal", turn.words)


async def my_data(turn: Turn) -> None:
    """What data is held; or, when the citizen asks to delete it, confirmation first."""
    if cues.has_stem("erase_stems", turn.words):
        await ask_erase(turn)
        return
    await _show_data(turn)


async def answer_erase(turn: Turn) -> bool:
    """State `erase_confirm`: yes erases, no keeps; False when the message is neither."""
    answer = turn.yes_or_no()
    if answer is None:
        return False
    if answer:
        await erase(turn.session, turn.identity, turn.conversation)
        turn.say(texts.t("erase.done"))
        return True
    turn.reset()
    turn.say(texts.t("erase.kept"), menu_choices())
    return True


async def ask_erase(turn: Turn) -> None:
    turn.go("erase_confirm")
    turn.say(texts.t("erase.ask"), yes_no("erase.accept", "erase.decline"))


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
