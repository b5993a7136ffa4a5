"""Answering questions about a procedure from the catalogue, and sometimes asking whether
the answer helped ("¿Te sirvió esta respuesta?", at `settings.evaluation.usefulness_rate`)."""

import random
from collections.abc import Sequence

from bot.turn import Turn, menu_choices
from casework.ratings.service import ask_usefulness, record_usefulness
from catalog import answers
from catalog.models import Procedure
from foundation import texts
from foundation.db import MAX_ROW_ID
from foundation.messages import Choice
from nlu.understanding import ASPECTS, Understanding


def aspect_choices(p: Procedure) -> tuple[Choice, ...]:
    shown = ("requirements", "cost", "location", "duration")
    choices = [Choice(texts.t(f"info.aspect.{a}"), f"aspect:{a}") for a in shown]
    if p.request_enabled:
        choices.insert(0, Choice(texts.t("info.open_request"), f"open:{p.id}"))
    return tuple(choices)


async def answer(turn: Turn, procedure_id: str, aspects: Sequence[str] = ()) -> None:
    """The procedure's summary, or every aspect asked, in the order asked, in one reply."""
    procedure = turn.procedure(procedure_id)
    if procedure is None:
        turn.say(texts.t("info.not_found"), menu_choices())
        return
    turn.conversation.last_procedure_id = procedure.id
    asked = [a for a in dict.fromkeys(aspects) if a in ASPECTS]
    if asked:
        text = "\n\n".join(answers.aspect(procedure, a) for a in asked)
    else:
        text = answers.summary(procedure)
    turn.say(text, aspect_choices(procedure))  # the answer keeps its own buttons
    if random.random() < turn.settings.evaluation.usefulness_rate:
        await _ask_usefulness(turn, procedure, asked[0] if len(asked) == 1 else None)


async def _ask_usefulness(turn: Turn, procedure: Procedure, aspect: str | None) -> None:
    feedback = await ask_usefulness(
        turn.session, turn.identity, turn.conversation, procedure, aspect
    )
    choices = (
        Choice(texts.t("usefulness.yes"), f"useful:yes:{feedback.id}"),
        Choice(texts.t("usefulness.no"), f"useful:no:{feedback.id}"),
    )
    turn.say(texts.t("usefulness.ask"), choices)


async def useful(turn: Turn, value: str) -> None:
    """The citizen answered `useful:yes|no:<feedback id>`; only the first answer counts."""
    _, answer, raw_id = [*value.split(":", 2), "", ""][:3]
    # ASCII digits only ("²".isdigit() is true and int("²") fails), and a row id PostgreSQL holds
    is_id = raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 10
    if answer not in ("yes", "no") or not is_id or int(raw_id) > MAX_ROW_ID:
        turn.say(texts.t("fallback"), menu_choices())
        return
    recorded = await record_usefulness(
        turn.session, int(raw_id), turn.conversation.id, answer == "yes"
    )
    if not recorded:
        turn.say(texts.t("usefulness.already"))
    elif answer == "yes":
        turn.say(texts.t("usefulness.thanks_yes"))
    else:
        turn.say(texts.t("usefulness.thanks_no"), menu_choices())


async def ask(turn: Turn, understanding: Understanding) -> None:
    """A question about a procedure: answer it, ask which one, or say it is not there."""
    aspects = understanding.aspects
    if understanding.procedure_id and understanding.confirm:
        await _confirm(turn, understanding.procedure_id, aspects)
        return
    if understanding.procedure_id:
        close = [
            c
            for c in understanding.candidates
            if understanding.confidence - c.score <= turn.settings.nlu.ambiguity_margin
        ]
        if len(close) > 1:
            await offer(turn, [c.procedure_id for c in close], aspects)
            return
        await answer(turn, understanding.procedure_id, aspects)
        return
    if understanding.candidates:
        await offer(turn, [c.procedure_id for c in understanding.candidates[:4]], aspects)
        return
    turn.not_understood(texts.t("info.not_found"))


async def _confirm(turn: Turn, procedure_id: str, aspects: Sequence[str]) -> None:
    """Plausible but not certain: ask "¿Te refieres a …?" rather than answer wrongly."""
    procedure = turn.procedure(procedure_id)
    if procedure is None:
        turn.not_understood(texts.t("info.not_found"))
        return
    turn.understood = False
    choices = (
        Choice(texts.t("info.confirm_yes"), _pick_value(procedure.id, aspects)),
        Choice(texts.t("info.confirm_no"), "menu:not_it"),
    )
    turn.say(texts.t("info.confirm", name=procedure.name), choices)


def not_it(turn: Turn) -> None:
    """The citizen said the procedure offered is not it: perhaps the catalogue lacks it, or
    another agency handles it. Say so, with the town hall's contact, and offer a person."""
    turn.understood = False
    turn.say(
        texts.t(
            "info.not_it",
            municipality=turn.municipality_name,
            town_hall=answers.town_hall(turn.municipality),
        ).strip(),
        (
            Choice(texts.t("menu.person"), "menu:person"),
            Choice(texts.t("menu.ask"), "menu:ask"),
        ),
    )


def _pick_value(procedure_id: str, aspects: Sequence[str]) -> str:
    return ":".join(["proc", procedure_id, *aspects])


async def offer(turn: Turn, procedure_ids: list[str], aspects: Sequence[str]) -> None:
    choices = []
    for pid in procedure_ids[:5]:
        procedure = turn.procedure(pid)
        if procedure is not None:
            choices.append(Choice(procedure.name, _pick_value(pid, aspects)))
    turn.say(texts.t("info.which"), tuple(choices))


async def picked(turn: Turn, value: str) -> None:
    """The citizen picked `proc:<id>[:<aspect>...]` or `aspect:<aspect>`."""
    kind, _, rest = value.partition(":")
    if kind == "proc":
        pid, *aspects = rest.split(":")
        await answer(turn, pid, aspects)
    elif turn.conversation.last_procedure_id:
        await answer(turn, turn.conversation.last_procedure_id, [rest])
    else:
        turn.say(texts.t("info.ask_which"))
