"""How is my request going: by folio, or the list of the citizen's own requests."""

from bot.turn import Turn, menu_choices
from casework.requests.service import describe, find_visible, visible_requests
from foundation import texts


async def by_folio(turn: Turn, folio: str) -> None:
    request = await find_visible(turn.session, turn.identity, folio)
    if request is None:
        turn.say(texts.t("status.not_found", folio=folio.upper()), menu_choices())
        return
    turn.say(describe(request), menu_choices())


async def mine(turn: Turn) -> None:
    requests = await visible_requests(turn.session, turn.identity)
    if not requests:
        turn.say(texts.t("status.none"), menu_choices())
        return
    items = "\n".join(describe(r) for r in requests)
    turn.say(f"{texts.t('status.list')}\n{items}", menu_choices())
