"""Answering the satisfaction survey: a score 1-5, then an optional comment."""

from bot.turn import Turn, menu_choices
from casework import texts
from casework.messages import Choice
from casework.ratings.models import Rating
from casework.ratings.service import open_survey, record_score, score_choices, survey_subject

MAX_COMMENT = 1000


def score_in(turn: Turn) -> int | None:
    """The score the citizen gave: a `rate:N` choice or a bare digit 1-5."""
    if turn.value and turn.value.startswith("rate:"):
        raw = turn.value.removeprefix("rate:")
    elif turn.value is None and turn.words in {"1", "2", "3", "4", "5"}:
        raw = turn.words
    else:
        return None
    return int(raw) if raw in {"1", "2", "3", "4", "5"} else None


async def take_score(turn: Turn, score: int) -> bool:
    """Record the score on the open survey; False when there is none."""
    rating = await open_survey(turn.session, turn.conversation.id)
    if rating is None:
        return False
    record_score(rating, score)
    turn.go("rate_comment", rating=rating.id)
    turn.say(texts.t("rating.comment"), (Choice(texts.t("request.skip"), "skip"),))
    return True


async def take_comment(turn: Turn) -> None:
    rating_id = turn.conversation.slots.get("rating")
    rating = await turn.session.get(Rating, rating_id) if rating_id else None
    if rating is not None and turn.value != "skip" and turn.text:
        rating.comment = turn.text[:MAX_COMMENT]
    turn.reset()
    turn.say(texts.t("rating.thanks"), menu_choices())


async def start(turn: Turn) -> None:
    """The citizen asked to rate: offer the open survey, if any."""
    rating = await open_survey(turn.session, turn.conversation.id)
    if rating is None:
        turn.say(texts.t("rating.none"), menu_choices())
        return
    about = await survey_subject(turn.session, rating)
    turn.say(texts.t("rating.ask", about=about), score_choices())
