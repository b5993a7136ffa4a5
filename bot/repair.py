"""Conversation repair: before a message is taken as the answer to the step the bot waits on,
see whether the citizen is cancelling, asking for a person, correcting an earlier answer,
skipping an optional step, asking for help, asking about something else, or just being polite.

The reference behaviour is Rasa CALM's conversation-repair patterns (cancel, correction,
digression, clarification, chit-chat, human handoff, cannot handle, skip question); the steps
and what each accepts are declared in bot/steps.py.
"""

from collections.abc import Awaitable, Callable

from bot import cues
from bot.flows import handoff
from bot.steps import Step
from bot.turn import Turn, yes_no
from casework.conversations.service import set_slots
from foundation import texts
from nlu.normalize import normalize
from nlu.procedures import STOPWORDS
from nlu.understanding import Understanding

Elsewhere = Callable[[Turn, Understanding], Awaitable[None]]

# What a question in the middle of a step may be about and still be answered there (then the
# step is offered again); any other question gets the step's help.
DIGRESSIONS = ("ask_procedure", "request_status", "out_of_scope")


async def pending(turn: Turn, step: Step, elsewhere: Elsewhere) -> None:
    """Handle a message in `step`; `elsewhere` answers a message as if nothing were pending
    (a digression), leaving the step where it was."""
    if await _resuming(turn, step):
        return
    if turn.value is not None:
        await _button(turn, step, elsewhere)
        return
    if turn.inbound.kind != "text":
        if not await step.take(turn):
            await _refuse(turn, step)
        return
    words = turn.words
    asked = cues.asks(turn.text)
    if step.marked_questions and "?" not in turn.text and "¿" not in turn.text:
        asked = False  # "que tardaron mucho": a comment, not a question
    if not asked and cues.drops(turn.text):
        await step.cancel(turn)  # before a correction ("ah no, ya no hace falta") or a skip
        return
    if cues.has("wait", words) and cues.is_only_of(words, "wait", "courtesy"):
        turn.say(texts.t("repair.wait"))  # "ahorita se la mando": the step stays as it is
        return
    if chitchat(turn):
        turn.say(texts.t("repair.chitchat", municipality=turn.municipality_name))
        await step.ask(turn)
        return
    if not words.strip():  # an emoji, a sticker's text, punctuation: like "ok"
        turn.say(texts.t("repair.courtesy"))
        await step.ask(turn)
        return
    correcting = cues.has("correction", cues.first_words(words, 5))
    if correcting and step.correct and await step.correct(turn, await turn.understand()):
        return
    if step.yes_no and not asked and await step.take(turn):
        return
    if step.skip and not asked and cues.has("skip", cues.first_words(words, 6)):
        await step.skip(turn)
        return
    if not asked and cues.cancels(turn.text):
        await step.cancel(turn)
        return
    understanding = await turn.understand()
    if understanding.intent == "human_agent":
        turn.reset()
        await handoff.to_person(turn)
        return
    if not step.free_text and not step.yes_no and await step.take(turn):
        return
    asked = asked or _asks_about_another(turn, understanding)
    if cues.starts_with("help", words) or cues.is_only("help", words):
        _help(turn, step)
        await step.ask(turn)
        return
    about_step = not _says_anything(turn, step)  # "¿qué código?", "¿qué se borra?"
    vague = understanding.intent == "out_of_scope" or not understanding.aspects
    if asked and about_step and (vague or _names_anything(turn)):
        _help(turn, step)  # "¿qué más ocupan?", "¿cómo que aviso?": about this step
        await step.ask(turn)
        return
    if asked and understanding.intent in DIGRESSIONS:
        await _digress(turn, step, understanding, elsewhere)
        return
    if asked:
        _help(turn, step)
        await step.ask(turn)
        return
    if cues.is_only("courtesy", words):
        if step.skip:
            await step.skip(turn)
            return
        turn.say(texts.t("repair.courtesy"))
        await step.ask(turn)
        return
    if step.free_text and await step.take(turn):
        return
    await _refuse(turn, step)


def chitchat(turn: Turn) -> bool:
    """Small talk about the bot ("jaja oye eres robot verdad", "¿cómo estás?"), with at most
    one word besides ("verdad")."""
    return cues.has("chitchat", turn.words) and len(cues.rest_of(turn.words).split()) <= 1


STEM = 5  # "borra" and "borras", "aviso" and "avisos": the same word for a question


def _says_anything(turn: Turn, step: Step) -> bool:
    """Whether a question names something ("¿a qué hora pasa el camión?"), not only asks
    ("¿qué más ocupan?") or asks about what the step itself said ("¿cómo que aviso?", "¿qué
    se borra?": words of the step's help)."""
    own = {w[:STEM] for w in normalize(texts.t(f"repair.help.{step.state}")).split()}
    return any(
        w not in STOPWORDS and not cues.has("question", w) and w[:STEM] not in own
        for w in turn.words.split()
    )


def _names_anything(turn: Turn) -> bool:
    return any(w not in STOPWORDS and not cues.has("question", w) for w in turn.words.split())


def _asks_about_another(turn: Turn, understanding: Understanding) -> bool:
    """A question without a question mark or a question word first ("oiga y la carta de no
    adeudo cuánto cuesta"): an aspect of a procedure other than the one under way, named
    with certainty."""
    return (
        understanding.intent == "ask_procedure"
        and bool(understanding.aspects)
        and understanding.procedure_id not in (None, turn.conversation.last_procedure_id)
        and not understanding.confirm
    )


async def _resuming(turn: Turn, step: Step) -> bool:
    """After a digression the bot asked "¿Seguimos con …?": yes asks the step again, no
    cancels; anything else is read as usual (answering the step resumes it too)."""
    if not turn.conversation.slots.get("resume"):
        return False
    set_slots(turn.conversation, resume=None)
    answer = turn.yes_or_no()
    if answer is None or "?" in turn.text:
        return False
    await (step.ask if answer else step.cancel)(turn)
    return True


async def _button(turn: Turn, step: Step, elsewhere: Elsewhere) -> None:
    value = turn.value or ""
    if value == "skip" and step.skip:
        await step.skip(turn)
    elif value in ("yes", "no") or (value.startswith("open:") and step.state == "request_which"):
        if not await step.take(turn):
            await step.ask(turn)
    elif ":" in value:
        # a button of an earlier message: an aspect, a procedure, the menu
        await _digress(turn, step, None, elsewhere)
    else:
        await step.ask(turn)


async def _digress(
    turn: Turn, step: Step, understanding: Understanding | None, elsewhere: Elsewhere
) -> None:
    """Answer the question, then offer to go on with the step (still pending)."""
    state = turn.conversation.state
    understood = understanding or await turn.understand()
    await elsewhere(turn, understood)
    if turn.conversation.state != state:
        return  # the citizen went somewhere else on purpose (a menu option)
    if understanding is not None and understood.confirm and understood.intent == "ask_procedure":
        # the answer was "¿Te refieres a…?": one question at a time; its buttons come back
        # here, and the step is offered again after the answer
        return
    if step.resume is None:
        await step.ask(turn)
        return
    subject = await step.resume(turn)
    set_slots(turn.conversation, resume=True)
    choices = yes_no("repair.resume_yes", "repair.resume_no")
    turn.say(texts.t("repair.resume", subject=subject), choices)


def _help(turn: Turn, step: Step) -> None:
    turn.say(texts.t(f"repair.help.{step.state}"))


async def _refuse(turn: Turn, step: Step) -> None:
    if step.refuse:
        turn.say(texts.t(step.refuse))
        return
    _help(turn, step)
    await step.ask(turn)
