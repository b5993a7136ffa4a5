"""The steps that wait for an answer, declared: what each accepts, how it is asked again, what
skipping, cancelling and correcting it do. The repair layer (bot/repair.py) reads this table;
a new step is a new row, not a new branch."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.flows import privacy, rating, request
from bot.turn import Turn, menu_choices
from foundation import texts
from nlu.understanding import Understanding

Action = Callable[[Turn], Awaitable[None]]
Take = Callable[[Turn], Awaitable[bool]]
Correct = Callable[[Turn, Understanding], Awaitable[bool]]
Subject = Callable[[Turn], Awaitable[str]]


@dataclass(frozen=True)
class Step:
    """A state in which the bot waits for one answer."""

    state: str
    take: Take  # the message as the answer; False when it is not one (nothing said yet)
    ask: Action  # ask the step's question again
    cancel: Action  # drop what is under way
    yes_no: bool = False  # the answer is yes or no ("no" answers, it does not cancel)
    free_text: bool = False  # any text that is no question, cancel or request is the answer
    skip: Action | None = None  # an optional step: go on without the answer
    correct: Correct | None = None  # "perdón, es…": change an earlier answer
    resume: Subject | None = None  # what "¿Seguimos con …?" names after a digression
    refuse: str | None = None  # text key when nothing fits (default: the step's help)
    # only a question mark makes a question: "que tardaron mucho" is an answer (a comment)
    marked_questions: bool = False


async def _cancel_request(turn: Turn) -> None:
    turn.reset()
    turn.say(texts.t("request.cancelled"), menu_choices())


async def _cancel_consent(turn: Turn) -> None:
    after = str(turn.conversation.slots.get("after_consent") or "")
    await privacy.decline(turn, after.removeprefix("request:") or None)


async def _take_consent(turn: Turn) -> bool:
    then = await privacy.answer_consent(turn)
    if then is None:
        return False
    if then.startswith("request:"):
        await request.after_consent(turn, then.removeprefix("request:") or None)
    return True


async def _keep_data(turn: Turn) -> None:
    turn.reset()
    turn.say(texts.t("erase.kept"), menu_choices())


async def _end_survey(turn: Turn) -> None:
    turn.reset()
    turn.say(texts.t("input.cancelled"), menu_choices())


async def _correct_request(turn: Turn, understanding: Understanding) -> bool:
    """A new address when the message gives one ("me equivoqué, la dirección es Hidalgo 68"),
    else what it adds to the description ("se me olvidó decir que…"), else a new report type
    when it names one, else a number beside the address."""
    if request.gives_address(turn) and request.change_address(turn):
        await request.ask(turn)
        return True
    if request.add_to_description(turn):  # "se me olvidó decir…", "agrega que…"
        await request.ask(turn)
        return True
    if await request.change_type(turn, understanding):
        return True
    if request.change_address(turn):
        await request.ask(turn)
        return True
    return False


def _request_step(
    state: str,
    take: Take,
    *,
    yes_no: bool = False,
    free_text: bool = False,
    skip: Action | None = None,
    refuse: str | None = None,
) -> Step:
    return Step(
        state,
        take,
        ask=request.ask,
        cancel=_cancel_request,
        yes_no=yes_no,
        free_text=free_text,
        skip=skip,
        correct=_correct_request,
        resume=request.subject,
        refuse=refuse,
    )


STEPS: dict[str, Step] = {
    step.state: step
    for step in (
        Step("consent", _take_consent, privacy.ask_again, _cancel_consent, yes_no=True),
        Step("erase_confirm", privacy.answer_erase, privacy.ask_erase, _keep_data, yes_no=True),
        _request_step("request_which", request.which),
        _request_step("request_description", request.description, free_text=True),
        _request_step("request_location", request.location, free_text=True),
        _request_step("request_photo", request.photo, skip=request.skip_photo),
        _request_step("request_curp", request.take_curp, refuse="request.no_curp"),
        _request_step("request_link", request.take_confirm, yes_no=True),
        _request_step("request_confirm", request.take_confirm, yes_no=True),
        Step(
            "rate_comment",
            rating.take_comment,
            rating.ask_comment,
            _end_survey,
            free_text=True,
            skip=rating.skip_comment,
            marked_questions=True,
        ),
    )
}
