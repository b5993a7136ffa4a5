"""The assertions of a step, checked against what is observable after the citizen's message:
the conversation's state and slots, the bot's replies of that turn, the requests opened in
the case and whether a person holds the chat."""

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from bot.rehearsal.script import Assertion, RequestExpected
from casework.requests.models import Request
from foundation import texts

FOLIO = re.compile(r"\b[A-Z0-9]{2,8}-\d{4}-\d{6}\b")


@dataclass(frozen=True)
class Reply:
    text: str
    choices: tuple[dict[str, str], ...]  # {label, value}


@dataclass(frozen=True)
class Observed:
    """The chat after one turn."""

    state: str
    slots: dict[str, Any]
    replies: tuple[Reply, ...]  # the bot's replies of this turn
    opened: tuple[Request, ...]  # requests opened in this case (setup excluded), oldest first
    handoff_open: bool

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.replies)


def fold(text: str) -> str:
    """Lower case without accents: what `text_contains`, `choice` and `contains` compare."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def slot(slots: dict[str, Any], name: str) -> Any:
    """The value at the dotted path `name` (request.location.address), None when unset."""
    node: Any = slots
    for part in name.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def check(assertion: Assertion, seen: Observed) -> str | None:
    """None when the assertion holds; otherwise what was found, in Spanish."""
    expected = assertion.expected
    match assertion.kind:
        case "state":
            return None if seen.state == expected else _t("state", found=seen.state)
        case "slot_was_set":
            return _slot_set(seen, expected.name, expected)
        case "slot_was_not_set":
            found = slot(seen.slots, expected.name)
            return None if found is None else _t("slot_set", found=_shown(found))
        case "bot_uttered":
            if expected.choice is not None:
                wanted = fold(expected.choice)
                labels = (c["label"] for reply in seen.replies for c in reply.choices)
                return None if any(wanted in fold(label) for label in labels) else _t("no_choice")
            return None if _says(seen, expected) else _t("not_uttered")
        case "bot_did_not_utter":
            return _t("uttered") if _says(seen, expected) else None
        case "requests_opened":
            found = len(seen.opened)
            return None if found == expected else _t("requests_opened", found=found)
        case "request_opened":
            if not seen.opened:
                return _t("no_request")
            return _request(seen.opened[-1], expected)
        case "folio_given":
            given = FOLIO.search(seen.text) is not None
            if given == expected:
                return None
            return _t("folio_given" if expected else "no_folio_expected")
        case "handoff_opened":
            if seen.handoff_open == expected:
                return None
            return _t("handoff_opened" if expected else "no_handoff_expected")
    raise AssertionError(assertion.kind)  # the file's model allows no other key


def _t(key: str, **values: object) -> str:
    return texts.t(f"rehearsal.checks.{key}", **values)


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _slot_set(seen: Observed, name: str, expected: Any) -> str | None:
    found = slot(seen.slots, name)
    if found is None:
        return _t("slot_unset")
    if expected.contains is not None:
        holds = fold(expected.contains) in fold(str(found))
    else:
        holds = found == expected.value or str(found) == str(expected.value)
    return None if holds else _t("slot_value", found=_shown(found))


def _says(seen: Observed, expected: Any) -> bool:
    if expected.text_contains is not None:
        return fold(expected.text_contains) in fold(seen.text)
    return re.search(expected.text_matches, seen.text) is not None


def _request(request: Request, expected: RequestExpected) -> str | None:
    """The first field of the newest request that differs from what is expected."""
    location = request.location or {}
    fields: list[tuple[str, bool, Any]] = []
    if expected.procedure is not None:
        fields.append(
            ("procedure", request.procedure_id == expected.procedure, request.procedure_id)
        )
    if expected.description_contains is not None:
        holds = fold(expected.description_contains) in fold(request.description)
        fields.append(("description_contains", holds, request.description))
    if expected.address_contains is not None:
        address = str(location.get("address") or "")
        fields.append(
            ("address_contains", fold(expected.address_contains) in fold(address), address)
        )
    if expected.has_photo is not None:
        has_photo = bool(request.photo)
        fields.append(("has_photo", has_photo == expected.has_photo, has_photo))
    if expected.has_coordinates is not None:
        has = location.get("latitude") is not None and location.get("longitude") is not None
        fields.append(("has_coordinates", has == expected.has_coordinates, has))
    for name, holds, found in fields:
        if not holds:
            return _t("request_field", field=name, found=_shown(found))
    return None
