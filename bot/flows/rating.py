"""Answering the satisfaction survey: a score 1-5, the procedure's extra dimensions (if
evaluators switched any on), then an optional comment.

A handoff survey has no procedure, so it asks only the overall score and the comment. A score
given when no survey is open (it expired, or was already answered) is declined politely.
"""

from bot import cues
from bot.turn import Turn, menu_choices
from casework.conversations.service import set_slots
from casework.ratings.dimensions import DIMENSIONS, dimensions_for
from casework.ratings.models import Rating
from casework.ratings.service import (
    latest_survey,
    open_survey,
    record_dimension_score,
    record_score,
    score_choices,
    survey_subject,
)
from foundation import texts
from foundation.messages import Choice

MAX_COMMENT = 1000


SCORES = {
    **{str(n): n for n in range(1, 6)},
    **{word: n for n, word in enumerate(("uno", "dos", "tres", "cuatro", "cinco"), start=1)},
}
MAX_SCORE_WORDS = 6  # "le doy un 4", "un 5 de calificacion": short, with one number


def score_in(turn: Turn) -> int | None:
    """The score the citizen gave: a `rate:N` choice, or one number 1-5 in a short message
    ("5", "le doy un 4", "cinco estrellas"), or, right after the bot asked for a score, the
    score's words ("excelente", "mal, muy mal", "regular")."""
    if turn.value is not None:
        raw = turn.value.removeprefix("rate:") if turn.value.startswith("rate:") else ""
        return SCORES.get(raw) if raw.isascii() and raw.isdigit() else None
    words = turn.words.split()
    numbers = [w for w in words if w in SCORES or (w.isascii() and w.isdigit())]
    if len(words) > MAX_SCORE_WORDS:
        return None
    if len(numbers) == 1:
        return SCORES.get(numbers[0])
    return _score_in_words(turn) if not numbers and asked_score(turn) else None


def asked_score(turn: Turn) -> bool:
    """Whether the bot's last message offered the scores 1-5 (a survey question), read from
    the conversation, not the database."""
    offered = turn.conversation.slots.get("choices") or []
    return any(str(c.get("value", "")).startswith("rate:") for c in offered)


def _score_in_words(turn: Turn) -> int | None:
    words = cues.strip_fillers(turn.words)
    if cues.starts_with("deny", words):  # "no muy bien": not a score to guess
        return None
    found = [
        (len(match), score)
        for score in range(1, 6)
        if (match := cues.found(f"score_{score}", words)) is not None
    ]
    return max(found)[1] if found else None


def declines(turn: Turn) -> bool:
    """Whether the answer to a survey question is "no thanks" ("no quiero calificar", "mejor
    luego", "ahorita no puedo"): a short cancel, or one about the survey; not "ya no quiero
    que tengan nada mío, quítenme de su sistema", which asks for something else."""
    if not asked_score(turn) or turn.value is not None or cues.asks(turn.text):
        return False
    if cues.plain_answer(turn.text) is False:
        return True
    about = len(turn.words.split()) <= MAX_SCORE_WORDS or cues.has("rating", turn.words)
    return about and (cues.drops(turn.text) or cues.cancels(turn.text))


def decline(turn: Turn) -> None:
    """No score now: the survey stays open until it closes; the menu."""
    turn.say(texts.t("rating.declined"), menu_choices())


async def take_score(turn: Turn, score: int) -> bool:
    """Record the score on the open survey, or decline it politely when the conversation's
    survey expired or was answered; False when it has never had one (not a survey answer)."""
    rating = await open_survey(
        turn.session, turn.conversation.id, turn.settings.evaluation.survey_days
    )
    if rating is None:
        return await _decline(turn)
    record_score(rating, score)
    pending = await dimensions_for(turn.session, rating.procedure_id) if rating.procedure_id else []
    if pending:
        turn.go("rate_dimension", rating=rating.id, dimensions=pending)
        _ask_dimension(turn, pending[0])
        return True
    _ask_comment(turn, rating)
    return True


async def _decline(turn: Turn) -> bool:
    last = await latest_survey(turn.session, turn.conversation.id)
    if last is None:
        return False
    turn.reset()
    if last.answered_at is not None:
        turn.say(texts.t("rating.already_answered"), menu_choices())
    else:
        turn.say(
            texts.t("rating.closed", days=turn.settings.evaluation.survey_days), menu_choices()
        )
    return True


def _dimension_choices() -> tuple[Choice, ...]:
    return (*score_choices(), Choice(texts.t("rating.dimension_skip"), "skip"))


def _ask_dimension(turn: Turn, code: str) -> None:
    turn.say(DIMENSIONS[code].question, _dimension_choices())


def _ask_comment(turn: Turn, rating: Rating) -> None:
    set_slots(turn.conversation, dimensions=None)
    turn.go("rate_comment", rating=rating.id)
    _say_comment_prompt(turn)


async def ask_comment(turn: Turn) -> None:
    """Ask for the comment again (the step's re-ask after a repair move)."""
    _say_comment_prompt(turn)


def _say_comment_prompt(turn: Turn) -> None:
    turn.say(texts.t("rating.comment"), (Choice(texts.t("request.skip"), "skip"),))


async def take_dimension(turn: Turn, score: int | None) -> bool:
    """The answer to the current dimension question: a score, or "Omitir" for this one.
    Anything else ends the questions (the scores given so far are kept) and returns False,
    so the message is handled like any other."""
    rating_id = turn.conversation.slots.get("rating")
    rating = await turn.session.get(Rating, rating_id) if rating_id else None
    pending = [c for c in turn.conversation.slots.get("dimensions") or [] if c in DIMENSIONS]
    if rating is None or not pending:
        set_slots(turn.conversation, dimensions=None)
        turn.reset()
        return False
    if score is None and turn.value != "skip":
        set_slots(turn.conversation, dimensions=None)
        turn.reset()
        return False
    if score is not None:
        await record_dimension_score(turn.session, rating, pending[0], score)
    pending = pending[1:]
    if pending:
        set_slots(turn.conversation, dimensions=pending)
        _ask_dimension(turn, pending[0])
    else:
        _ask_comment(turn, rating)
    return True


async def take_comment(turn: Turn) -> bool:
    """The optional comment, then thanks and the link to the public results. A button from
    an earlier message (an aspect, a menu option) is not a comment: False says the message is
    still to be handled."""
    if turn.value is not None and turn.value != "skip":
        return False
    rating_id = turn.conversation.slots.get("rating")
    rating = await turn.session.get(Rating, rating_id) if rating_id else None
    if rating is not None and turn.value != "skip" and turn.text:
        rating.comment = turn.text[:MAX_COMMENT]
    _thank(turn)
    return True


async def skip_comment(turn: Turn) -> None:
    _thank(turn)


def _thank(turn: Turn) -> None:
    turn.reset()
    results = f"{turn.settings.web.public_url.rstrip('/')}/resultados"
    thanks = f"{texts.t('rating.thanks')}\n{texts.t('rating.results', url=results)}"
    turn.say(thanks, menu_choices())


async def start(turn: Turn) -> None:
    """The citizen asked to rate: offer the open survey, if any."""
    rating = await open_survey(
        turn.session, turn.conversation.id, turn.settings.evaluation.survey_days
    )
    if rating is None:
        turn.say(texts.t("rating.none"), menu_choices())
        return
    about = await survey_subject(turn.session, rating)
    turn.say(texts.t("rating.ask", about=about), score_choices())
