"""Where a message goes: the step the conversation waits on (through conversation repair), a
survey answer, or the idle dialogue that reads what the citizen wants."""

from bot import cues, repair
from bot.flows import handoff, info, privacy, rating, request, status
from bot.steps import STEPS
from bot.turn import Turn, menu_choices
from foundation import texts
from nlu.external import who_handles
from nlu.understanding import Understanding


async def route(turn: Turn, first_contact: bool = False) -> None:
    state = turn.conversation.state
    if turn.inbound.kind not in ("text", "location", "photo") or (
        turn.inbound.kind != "text" and not state.startswith("request_")
    ):
        turn.say(texts.t("input.not_text"), menu_choices())
        return
    if turn.inbound.kind == "text" and not turn.text:
        turn.say(texts.t("input.empty"), menu_choices())
        return
    score = rating.score_in(turn)
    if state == "rate_dimension":
        if await rating.take_dimension(turn, score):
            return
        state = turn.conversation.state  # not an answer: the questions end, the text is read
    if (
        score is not None
        and state in ("idle", "rate_comment")
        and await rating.take_score(turn, score)
    ):
        return
    if state in STEPS:
        await repair.pending(turn, STEPS[state], answer)
        return
    if state == "idle" and rating.declines(turn):
        rating.decline(turn)  # "no quiero calificar" to the survey question
        return
    if turn.value is None and len(turn.text) > turn.settings.limits.max_message_chars:
        turn.say(texts.t("input.too_long", length=len(turn.text)))
        return
    if turn.value is None and cues.is_only("cancel_alone", turn.words):
        privacy.menu(turn)  # "nada", "ya no": nothing to cancel, the menu
        return
    await idle(turn, first_contact)


async def idle(turn: Turn, first_contact: bool) -> None:
    value = turn.value or ""
    if value.startswith("menu:"):
        await _menu_pick(turn, value.removeprefix("menu:"))
    elif value.startswith(("proc:", "aspect:")):
        await info.picked(turn, value)
    elif value.startswith("open:"):
        await request.start(turn, value.removeprefix("open:"))
    elif value.startswith("useful:"):
        await info.useful(turn, value)
    else:
        await answer(turn, await turn.understand(), first_contact)


async def answer(turn: Turn, understanding: Understanding, first_contact: bool = False) -> None:
    """Act on what the citizen wants; also answers a question asked in the middle of a step."""
    if turn.value is not None:
        await idle(turn, first_contact)
        return
    match understanding.intent:
        case _ if privacy.asks_erasure(turn, understanding):
            await privacy.ask_erase(turn)
        case "ask_procedure" | "open_request" | "rate_service" if _reporting(turn, understanding):
            await request.report(turn, understanding)
        case "ask_procedure":
            await info.ask(turn, understanding)
        case "request_status":
            folio = understanding.entities.get("folio")
            await (status.by_folio(turn, folio) if folio else status.mine(turn))
        case "human_agent":
            await handoff.to_person(turn)
        case "rate_service":
            await rating.start(turn)
        case "my_data":
            await privacy.my_data(turn)
        case "thanks":
            turn.say(texts.t("thanks"))
        case "goodbye":
            turn.say(texts.t("goodbye", municipality=turn.municipality_name))
        case "greet" | "help" | "affirm" | "deny":
            privacy.menu(turn)
        case "out_of_scope" if repair.chitchat(turn):  # "¿eres un robot?"
            turn.say(
                texts.t("repair.chitchat", municipality=turn.municipality_name), menu_choices()
            )
        case "out_of_scope" if "external" in understanding.entities:
            who = who_handles(understanding.entities["external"]) or texts.t("another_agency")
            turn.say(texts.t("out_of_scope_external", who=who), menu_choices())
        case "out_of_scope" if not first_contact:
            turn.not_understood(texts.t("out_of_scope"))
        case _:
            turn.not_understood(texts.t("fallback"))


def _reporting(turn: Turn, understanding: Understanding) -> bool:
    """A report ("quiero levantar un reporte", "se fundió la lámpara"), not a question."""
    if understanding.aspects or "?" in turn.text:
        return False
    return understanding.intent == "open_request" or cues.has("report", turn.words)


async def _menu_pick(turn: Turn, option: str) -> None:
    match option:
        case "ask":
            turn.say(texts.t("info.ask_which"))
        case "not_it":  # "No, es otra cosa" to «¿Te refieres a…?»: maybe not in the catalogue
            info.not_it(turn)
        case "open":
            await request.start(turn, None)
        case "status":
            await status.mine(turn)
        case "person":
            await handoff.to_person(turn)
        case "person_wait":
            await handoff.to_person(turn, even_if_closed=True)
        case _:
            privacy.menu(turn)
