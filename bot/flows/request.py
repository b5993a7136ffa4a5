"""Opening a request or report: which procedure, the details it needs, CURP, confirmation."""

import re
from collections.abc import Sequence
from typing import Any

from bot import cues
from bot.flows import privacy
from bot.turn import Turn, menu_choices, yes_no
from casework.citizens.linking import ask_code, looks_like_code
from casework.citizens.linking import confirm as confirm_link
from casework.citizens.models import Citizen
from casework.citizens.service import attach_curp, check_curp, citizen_by_curp, mask_curp
from casework.requests.service import NewRequest, open_request
from catalog import answers
from catalog.models import Procedure
from foundation import texts
from foundation.calendar import format_local
from foundation.messages import Choice
from nlu.entities import find_curp
from nlu.normalize import normalize
from nlu.procedures import STOPWORDS
from nlu.understanding import Candidate, Understanding

FIELDS = ("description", "location", "photo")
MIN_DESCRIPTION, MAX_DESCRIPTION = 10, 2000
MIN_ADDRESS = 8
CLEAR_SCORE, CLEAR_MARGIN = 0.4, 0.25  # a report type this likely, this far ahead, is taken
LINK_CODE = re.compile(r"(?<![0-9])[0-9]{3} ?[0-9]{3}(?![0-9])")


Draft = dict[str, Any]


def _draft(turn: Turn) -> dict[str, Any]:
    return dict(turn.conversation.slots.get("request") or {})


def _save(turn: Turn, state: str, draft: dict[str, Any]) -> None:
    turn.go(state, request=draft)


async def start(turn: Turn, procedure_id: str | None, said: Draft | None = None) -> None:
    """Begin: a procedure that takes no requests is explained, then consent comes before any
    personal data, then which procedure, then each field it asks for. What the citizen
    already `said` (a description, an address) is kept through consent and not asked again."""
    procedure = turn.procedure(procedure_id)
    if procedure is not None and not procedure.request_enabled:
        turn.reset()
        how = answers.aspect(procedure, "online")
        turn.say(texts.t("request.not_enabled", name=procedure.name, how=how), menu_choices())
        return
    draft = {**_draft(turn), **(said or {})}
    if procedure is not None:
        draft["procedure"] = procedure.id
    if not privacy.has_consent(turn):
        turn.go("consent", request=draft)
        privacy.ask_consent(turn, f"request:{procedure.id if procedure else ''}")
        return
    if procedure is None:
        await ask_which(turn, draft)
        return
    turn.conversation.last_procedure_id = procedure.id
    await _next(turn, draft)


async def ask_which(turn: Turn, draft: Draft, likely: Sequence[str] = ()) -> None:
    """Which report or request: the catalogue's, the `likely` ones first."""
    procedures = list(turn.report_types().values())
    rank = {pid: i for i, pid in enumerate(likely)}
    procedures.sort(key=lambda p: rank.get(p.id, len(rank)))
    choices = tuple(Choice(p.name, f"open:{p.id}") for p in procedures)
    draft.pop("procedure", None)
    turn.go("request_which", request=draft)
    key = "request.which_likely" if likely else "request.which"
    turn.say(texts.t(key), choices)


async def report(turn: Turn, understanding: Understanding) -> None:
    """The citizen wants to report something: the type they describe or name, or, when they
    only said "quiero hacer un reporte", the list of types."""
    if _content(turn):
        await picked_type(turn, understanding)
    else:
        await start(turn, None)


async def picked_type(turn: Turn, understanding: Understanding, text: str | None = None) -> None:
    """A message that may name the report type ("se fundió la lámpara de mi calle"): the type
    when it is clear, with what was said kept as the description (and the address); the
    likely types as choices when unsure. `text`: the part of the message that describes (all
    of it by default)."""
    takes = turn.report_types()
    ranked = [c for c in understanding.candidates if c.procedure_id in takes]
    likely = [c.procedure_id for c in ranked]
    said = described(turn, takes.get(likely[0]) if likely else None, text)
    sure = (
        understanding.procedure_id in takes
        and understanding.intent in ("open_request", "ask_procedure")
        and (not understanding.confirm or _stands_out(ranked))
    )
    if sure:
        await start(turn, understanding.procedure_id, said)
    else:
        await ask_which(turn, {**_draft(turn), **said}, likely[:4])


def _stands_out(ranked: Sequence[Candidate]) -> bool:
    """Whether the likeliest report type is far ahead of every other report type. The
    understander may doubt a match against the whole catalogue ("¿te refieres a…?") that is
    clear among the few report types; the type is shown again at the confirmation, where the
    citizen can still correct it."""
    if not ranked or ranked[0].score < CLEAR_SCORE:
        return False
    return len(ranked) == 1 or ranked[0].score - ranked[1].score >= CLEAR_MARGIN


def described(turn: Turn, procedure: Procedure | None, text: str | None = None) -> Draft:
    """What a first message (or `text`, a part of it) already tells: a description when it
    says more than the procedure's name, and an address when it gives a street and a number."""
    said: Draft = {}
    text = turn.text if text is None else text
    named = set()
    if procedure is not None:
        named = set(normalize(" ".join([procedure.name, *procedure.synonyms])).split())
    content = [w for w in _content_of(normalize(text)) if w not in named]
    if content and MIN_DESCRIPTION <= len(text) <= MAX_DESCRIPTION:
        said["description"] = text
    if address := cues.find_address(text):
        said["location"] = {"address": address[:500]}
    return said


MIN_CONTENT_AFTER_YES = 3  # "sí, la lámpara de la esquina no prende": words that describe


async def after_consent(turn: Turn, procedure_id: str | None) -> None:
    """Consent given: go on with the request, keeping what the same message said after the
    yes ("sí acepto, es en la calle Hidalgo 20", "sí, se cayó un árbol en la esquina")."""
    rest = cues.after_answer(turn.text)
    address = cues.find_address(rest) if rest else None
    besides = rest.replace(address, " ") if address else rest  # what is not the address
    words = [w for w in _content_of(normalize(besides)) if not cues.has("consenting", w)]
    if len(words) < MIN_CONTENT_AFTER_YES and address is None:
        await start(turn, procedure_id)
        return
    if procedure_id is None:  # "quiero hacer un reporte" → "sí, se tapó el drenaje"
        await picked_type(turn, await turn.understand(), text=rest)
        return
    procedure = turn.procedure(procedure_id)
    draft = _draft(turn)
    said = {k: v for k, v in described(turn, procedure, rest).items() if k not in draft}
    if len(words) < MIN_CONTENT_AFTER_YES:
        said.pop("description", None)  # "sí acepto, es en Hidalgo 20": only the address
    await start(turn, procedure_id, said)


async def which(turn: Turn) -> bool:
    """State `request_which`: a pick from the list, or words naming or describing it."""
    if turn.value and turn.value.startswith("open:"):
        await start(turn, turn.value.removeprefix("open:"))
        return True
    understanding = await turn.understand()
    takes = turn.report_types()
    if not any(c.procedure_id in takes for c in understanding.candidates):
        return False
    await picked_type(turn, understanding)
    return True


async def change_type(turn: Turn, understanding: Understanding) -> bool:
    """A correction of the type ("perdón, no es bache, es fuga de agua"): the new type,
    keeping what applies to it. False when the message names no other type."""
    draft = _draft(turn)
    takes = turn.report_types()
    # a type the understander would itself offer, not one a stray word brushed against
    floor = turn.settings.nlu.candidate_threshold
    other = next(
        (
            c.procedure_id
            for c in understanding.candidates
            if c.procedure_id in takes
            and c.procedure_id != draft.get("procedure")
            and c.score >= floor
        ),
        None,
    )
    if other is None or understanding.intent not in ("open_request", "ask_procedure"):
        return False
    procedure = takes[other]
    kept = {k: v for k, v in draft.items() if k in procedure.request_fields or k == "curp"}
    if "description" not in kept and "description" in procedure.request_fields:
        kept.update(described(turn, procedure))
    turn.conversation.last_procedure_id = procedure.id
    turn.say(texts.t("request.type_changed", name=procedure.name))
    await _next(turn, {**kept, "procedure": procedure.id})
    return True


def gives_address(turn: Turn) -> bool:
    """Whether a message announces an address ("la dirección es…", "calle Morelos 45")."""
    return cues.has("address", turn.words) or cues.find_address(turn.text) is not None


def change_address(turn: Turn) -> bool:
    """A correction of the address already given ("perdón, la dirección es Morelos 45")."""
    draft = _draft(turn)
    numbered = any(c.isascii() and c.isdigit() for c in turn.text)
    if "location" not in draft or not numbered or find_curp(turn.text):
        return False
    if found := cues.find_address(turn.text):  # "me equivoqué, la dirección es Hidalgo 68"
        address = found
    elif cues.has("place", turn.words):  # a new address: "perdón, es Morelos 45"
        address = turn.text
    else:  # a number alone ("es el 1540"): the address given, with the correction beside it
        before = draft["location"].get("address") or ""
        address = texts.t("request.address_corrected", address=before, correction=turn.text)
    draft["location"] = {**draft["location"], "address": address[:500]}
    _save(turn, turn.conversation.state, draft)
    turn.say(texts.t("request.address_changed"))
    return True


def add_to_description(turn: Turn) -> bool:
    """What the citizen forgot to say ("se me olvidó decir que son dos lámparas"), added to
    the description already given."""
    draft = _draft(turn)
    if not draft.get("description") or not cues.has("addition", turn.words):
        return False
    if gives_address(turn):  # "pon que es en Hidalgo 5": the place, not the description
        return False
    draft["description"] = f"{draft['description']}\n{turn.text}"[:MAX_DESCRIPTION]
    _save(turn, turn.conversation.state, draft)
    turn.say(texts.t("request.description_added"))
    return True


async def subject(turn: Turn) -> str:
    """What is under way, for "¿Seguimos con …?"."""
    pid = _draft(turn).get("procedure")
    procedure = turn.procedure(pid)
    if procedure is None:
        return texts.t("request.subject_any")
    return texts.t("request.subject", name=procedure.name)


async def _procedure(turn: Turn, draft: dict[str, Any]) -> Procedure:
    procedure = turn.procedure(draft["procedure"])
    assert procedure is not None
    return procedure


async def _next(turn: Turn, draft: dict[str, Any]) -> None:
    """Ask for the first missing field, then the CURP, then confirmation."""
    procedure = await _procedure(turn, draft)
    for name in FIELDS:
        missing = name not in draft and name not in draft.get("skipped", ())
        if name in procedure.request_fields and missing:
            _save(turn, f"request_{name}", draft)
            await ask(turn)
            return
    if turn.identity.citizen_id is None and "curp" not in draft:
        _save(turn, "request_curp", draft)
        await ask(turn)
        return
    _save(turn, "request_confirm", draft)
    await ask(turn)


async def ask(turn: Turn) -> None:
    """Ask the question of the step the request is at (again, after a digression or help)."""
    draft, state = _draft(turn), turn.conversation.state
    skip = (Choice(texts.t("request.skip"), "skip"),)
    if state == "request_which":
        await ask_which(turn, draft)
    elif state == "request_description":
        procedure = await _procedure(turn, draft)
        turn.say(texts.t("request.ask_description", name=procedure.name))
    elif state == "request_location":
        turn.say(texts.t("request.ask_location"))
    elif state == "request_photo":
        turn.say(texts.t("request.ask_photo"), skip)
    elif state == "request_curp":
        turn.say(texts.t("request.ask_curp"))
    else:
        await _confirm_prompt(turn, draft, await _procedure(turn, draft))


async def description(turn: Turn) -> bool:
    draft = _draft(turn)
    if len(turn.text) < MIN_DESCRIPTION:
        turn.say(texts.t("request.description_short", min=MIN_DESCRIPTION))
    elif len(turn.text) > MAX_DESCRIPTION:
        turn.say(texts.t("request.description_long", max=MAX_DESCRIPTION))
    else:
        draft["description"] = turn.text
        await _next(turn, draft)
    return True


async def location(turn: Turn) -> bool:
    draft = _draft(turn)
    if turn.inbound.location is not None:
        loc = turn.inbound.location
        draft["location"] = {
            "latitude": loc.latitude,
            "longitude": loc.longitude,
            "address": loc.address,
        }
    elif len(turn.text) >= MIN_ADDRESS and _places(turn.text):
        draft["location"] = {"address": turn.text[:500]}
    else:
        turn.say(texts.t("request.location_short"))
        return True
    await _next(turn, draft)
    return True


async def photo(turn: Turn) -> bool:
    if not turn.inbound.media:
        return False
    draft = _draft(turn)
    draft["photo"] = turn.inbound.media
    await _next(turn, draft)
    return True


async def skip_photo(turn: Turn) -> None:
    draft = _draft(turn)
    draft["skipped"] = [*draft.get("skipped", ()), "photo"]
    await _next(turn, draft)


async def take_curp(turn: Turn) -> bool:
    """A CURP anywhere in the message, in any case, with spaces or dashes; a word that looks
    like a mistyped one is explained. False when the message holds nothing like a CURP."""
    found = find_curp(turn.text)
    if found is None:
        shaped = [w for w in turn.text.replace("-", "").split() if _curp_shaped(w)]
        if not shaped:
            return False
        found = max(shaped, key=len)
    await curp(turn, found)
    return True


def _content(turn: Turn) -> list[str]:
    """The words of a message that say something beyond "quiero hacer un reporte"."""
    return _content_of(turn.words)


def _content_of(words: str) -> list[str]:
    return [
        w
        for w in words.split()
        if w not in STOPWORDS and not cues.has("report", w) and not cues.has("asking", w)
    ]


def _places(text: str) -> bool:
    """Whether a text can be a place: a number, or a word such as "calle", "esquina",
    "enfrente", "colonia"."""
    return any(c.isascii() and c.isdigit() for c in text) or cues.has("place", normalize(text))


def _curp_shaped(word: str) -> bool:
    letters = sum(c.isalpha() for c in word)
    digits = sum(c.isascii() and c.isdigit() for c in word)
    return 8 <= len(word) <= 24 and letters >= 4 and digits >= 2


async def take_confirm(turn: Turn) -> bool:
    """States `request_confirm` and `request_link`: yes, no, or a link code. Words about the
    code ("no me llegó ningún código") are no answer to registering the request."""
    code = LINK_CODE.search(turn.text)
    if code is not None and looks_like_code(code.group(0).replace(" ", "")):
        await link(turn, code.group(0).replace(" ", ""))
        return True
    about_code = cues.has("link_code", turn.words) and cues.plain_answer(turn.text) is None
    if turn.conversation.state == "request_link" and about_code:
        return False
    if turn.yes_or_no() is None:
        return False
    await confirm(turn)
    return True


async def curp(turn: Turn, text: str) -> None:
    draft = _draft(turn)
    result = check_curp(text)
    if result.problem is not None:
        turn.say(texts.t(f"curp.{result.problem}", length=len(result.curp)))
        return
    draft["curp"] = result.curp
    # The same sentence and the same next step whether the CURP is new, known or linked to
    # another chat (which may have been sent a code): nothing tells the two apart.
    per_hour = turn.settings.limits.link_codes_per_hour
    turn.say(await ask_code(turn.session, turn.identity, result.curp, per_hour))
    # `request_link` names, for staff and tests, that a code may be on its way; it is the
    # confirmation step all the same (bot/steps.py), so the citizen sees no difference.
    known = await citizen_by_curp(turn.session, result.curp) is not None
    _save(turn, "request_link" if known else "request_confirm", draft)
    await _confirm_prompt(turn, draft, await _procedure(turn, draft))


async def link(turn: Turn, code: str) -> None:
    """The code sent to another chat linked to the CURP typed, if one was."""
    draft = _draft(turn)
    linked = await confirm_link(turn.session, turn.identity, draft.get("curp", ""), code)
    turn.say(texts.t("link.done" if linked else "link.wrong"))
    _save(turn, "request_confirm" if linked else turn.conversation.state, draft)
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
