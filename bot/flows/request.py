"""Opening a request or report: which procedure, the details it needs, CURP, confirmation."""

from typing import Any

from bot.flows import privacy
from bot.turn import Turn, menu_choices, yes_no
from casework import texts
from casework.calendar import format_local
from casework.citizens.linking import ask_code, looks_like_code
from casework.citizens.linking import confirm as confirm_link
from casework.citizens.models import Citizen
from casework.citizens.service import attach_curp, check_curp, mask_curp
from casework.messages import Choice
from casework.requests.service import NewRequest, open_request
from catalog import answers
from catalog.models import Procedure
from catalog.service import get_procedure, request_procedures

FIELDS = ("description", "location", "photo")
MIN_DESCRIPTION, MAX_DESCRIPTION = 10, 2000
MIN_ADDRESS = 8


def _draft(turn: Turn) -> dict[str, Any]:
    return dict(turn.conversation.slots.get("request") or {})


def _save(turn: Turn, state: str, draft: dict[str, Any]) -> None:
    turn.go(state, request=draft)


async def start(turn: Turn, procedure_id: str | None) -> None:
    """Begin: a procedure that takes no requests is explained, then consent comes before any
    personal data, then which procedure, then each field it asks for."""
    procedure = await get_procedure(turn.session, procedure_id) if procedure_id else None
    if procedure is not None and not procedure.request_enabled:
        turn.reset()
        how = answers.aspect(procedure, "online")
        turn.say(texts.t("request.not_enabled", name=procedure.name, how=how), menu_choices())
        return
    if not privacy.has_consent(turn):
        privacy.ask_consent(turn, f"request:{procedure.id if procedure else ''}")
        return
    if procedure is None:
        await ask_which(turn)
        return
    turn.conversation.last_procedure_id = procedure.id
    await _next(turn, {"procedure": procedure.id})


async def ask_which(turn: Turn) -> None:
    procedures = await request_procedures(turn.session)
    choices = tuple(Choice(p.name, f"open:{p.id}") for p in procedures)
    turn.go("request_which", request={})
    turn.say(texts.t("request.which"), choices)


async def which(turn: Turn) -> None:
    """State `request_which`: a pick from the list, or words naming the procedure."""
    if turn.value and turn.value.startswith("open:"):
        await start(turn, turn.value.removeprefix("open:"))
        return
    procedures = await request_procedures(turn.session)
    takes_requests = {p.id for p in procedures}
    for candidate in (await turn.understand()).candidates:
        if candidate.procedure_id in takes_requests:
            await start(turn, candidate.procedure_id)
            return
    choices = tuple(Choice(p.name, f"open:{p.id}") for p in procedures)
    turn.say(texts.t("request.which"), choices)


async def _procedure(turn: Turn, draft: dict[str, Any]) -> Procedure:
    procedure = await get_procedure(turn.session, draft["procedure"])
    assert procedure is not None
    return procedure


async def _next(turn: Turn, draft: dict[str, Any]) -> None:
    """Ask for the first missing field, then the CURP, then confirmation."""
    procedure = await _procedure(turn, draft)
    for name in FIELDS:
        if name in procedure.request_fields and name not in draft:
            _save(turn, f"request_{name}", draft)
            _ask_field(turn, name, procedure)
            return
    if turn.identity.citizen_id is None and "curp" not in draft:
        _save(turn, "request_curp", draft)
        turn.say(texts.t("request.ask_curp"))
        return
    _save(turn, "request_confirm", draft)
    await _confirm_prompt(turn, draft, procedure)


def _ask_field(turn: Turn, name: str, procedure: Procedure) -> None:
    if name == "description":
        turn.say(texts.t("request.ask_description", name=procedure.name))
    elif name == "location":
        turn.say(texts.t("request.ask_location"))
    else:
        turn.say(texts.t("request.ask_photo"), (Choice(texts.t("request.skip"), "skip"),))


async def description(turn: Turn) -> None:
    draft = _draft(turn)
    if len(turn.text) < MIN_DESCRIPTION:
        turn.say(texts.t("request.description_short", min=MIN_DESCRIPTION))
    elif len(turn.text) > MAX_DESCRIPTION:
        turn.say(texts.t("request.description_long", max=MAX_DESCRIPTION))
    else:
        draft["description"] = turn.text
        await _next(turn, draft)


async def location(turn: Turn) -> None:
    draft = _draft(turn)
    if turn.inbound.location is not None:
        loc = turn.inbound.location
        draft["location"] = {
            "latitude": loc.latitude,
            "longitude": loc.longitude,
            "address": loc.address,
        }
    elif len(turn.text) >= MIN_ADDRESS:
        draft["location"] = {"address": turn.text[:500]}
    else:
        turn.say(texts.t("request.location_short"))
        return
    await _next(turn, draft)


async def photo(turn: Turn) -> None:
    draft = _draft(turn)
    if turn.inbound.media:
        draft["photo"] = turn.inbound.media
    elif turn.value == "skip" or turn.words in ("omitir", "no", "no tengo"):
        draft["photo"] = None
    else:
        turn.say(texts.t("request.photo_expected"), (Choice(texts.t("request.skip"), "skip"),))
        return
    await _next(turn, draft)


async def curp(turn: Turn) -> None:
    draft = _draft(turn)
    result = check_curp(turn.text)
    if result.problem is not None:
        turn.say(texts.t(f"curp.{result.problem}", length=len(result.curp)))
        return
    draft["curp"] = result.curp
    # The same sentence and the same next step whether the CURP is new, known or linked to
    # another chat (which may have been sent a code): nothing tells the two apart.
    per_hour = turn.settings.link_codes_per_hour
    turn.say(await ask_code(turn.session, turn.identity, result.curp, per_hour))
    _save(turn, "request_link", draft)
    await _confirm_prompt(turn, draft, await _procedure(turn, draft))


async def link(turn: Turn) -> None:
    """State `request_link`: the confirmation right after the CURP, which also takes the code
    sent to another chat linked to that CURP, if one was."""
    draft = _draft(turn)
    code = turn.words.replace(" ", "")
    if not looks_like_code(code):
        await confirm(turn)
        return
    linked = await confirm_link(turn.session, turn.identity, draft["curp"], code)
    turn.say(texts.t("link.done" if linked else "link.wrong"))
    _save(turn, "request_confirm" if linked else "request_link", draft)
    await _confirm_prompt(turn, draft, await _procedure(turn, draft))


async def _confirm_prompt(turn: Turn, draft: dict[str, Any], procedure: Procedure) -> None:
    details = []
    if draft.get("description"):
        details.append(texts.t("request.confirm_description", value=draft["description"]))
    if draft.get("location"):
        loc = draft["location"]
        value = loc.get("address") or f"{loc['latitude']:.5f}, {loc['longitude']:.5f}"
        details.append(texts.t("request.confirm_location", value=value))
    if draft.get("photo"):
        details.append(texts.t("request.confirm_photo"))
    shown_curp = draft.get("curp")
    if shown_curp is None and turn.identity.citizen_id is not None:
        citizen = await turn.session.get(Citizen, turn.identity.citizen_id)
        shown_curp = citizen.curp if citizen else None
    turn.say(
        texts.t(
            "request.confirm",
            name=procedure.name,
            details="\n".join(details),
            curp=mask_curp(shown_curp) if shown_curp else "—",
        ),
        yes_no("request.confirm_yes", "request.confirm_no"),
    )


async def confirm(turn: Turn) -> None:
    draft = _draft(turn)
    if turn.is_no():
        turn.reset()
        turn.say(texts.t("request.cancelled"), menu_choices())
        return
    if not turn.is_yes():
        turn.say(
            texts.t("request.confirm_again"), yes_no("request.confirm_yes", "request.confirm_no")
        )
        return
    procedure = await _procedure(turn, draft)
    citizen_id = turn.identity.citizen_id
    if citizen_id is None:
        citizen = await attach_curp(
            turn.session, turn.identity, draft["curp"], turn.conversation.consent_at
        )
        citizen_id = citizen.id
    request = await open_request(
        turn.session,
        NewRequest(
            procedure=procedure,
            identity=turn.identity,
            citizen_id=citizen_id,
            description=draft.get("description", ""),
            location=draft.get("location"),
            photo=draft.get("photo"),
        ),
        turn.settings.folio_prefix,
    )
    turn.reset()
    if request.due_at:
        text = texts.t(
            "request.opened", folio=request.folio, due=format_local(request.due_at, with_time=False)
        )
    else:
        text = texts.t("request.opened_no_due", folio=request.folio)
    turn.say(text, menu_choices())


STEPS = {
    "request_which": which,
    "request_description": description,
    "request_location": location,
    "request_photo": photo,
    "request_curp": curp,
    "request_link": link,
    "request_confirm": confirm,
}
