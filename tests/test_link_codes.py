"""Link codes are no oracle and no flood: typing a CURP says nothing about whether it is known,
and the chat already linked to it gets one live code per asking chat and a few per hour."""

import re

from sqlalchemy import func, select

from bot.engine import Engine
from casework.citizens.linking import RATE_WINDOW, ask_code, confirm
from casework.citizens.models import ChannelIdentity, Citizen, LinkCode
from casework.citizens.service import identity_for, mask_curp
from casework.outbox.models import OutboxMessage
from foundation import texts
from foundation.db import Database
from foundation.messages import Inbound
from tests.support import folio_in, valid_curp

KNOWN = valid_curp("LOMP800101MJCPRR0")
UNKNOWN = valid_curp("GARC900215HDFRRL0")
PER_HOUR = 3
OWNER = ("telegram", "700100")
FOLIO = re.compile(r"\b[A-Z0-9]{2,8}-\d{4}-\d{6}\b")
CODE = re.compile(r"(?<![-\d])\d{6}(?![-\d])")  # six digits, not the end of a folio

Replies = list[tuple[str, tuple[str, ...]]]  # each reply's text and its buttons' values


class Chat:
    """One chat, straight through the engine."""

    def __init__(self, engine: Engine, channel: str, address: str) -> None:
        self.engine, self.channel, self.address, self.n = engine, channel, address, 0

    async def say(self, text: str) -> Replies:
        self.n += 1
        unique = f"{self.address}-{self.n}"
        inbound = Inbound(self.channel, self.address, text=text, external_id=unique)
        replies = await self.engine.handle(inbound)
        return [(r.text, tuple(c["value"] for c in r.choices)) for r in replies]

    async def open_report_up_to_the_curp(self) -> None:
        await self.say("la lampara de mi calle no prende")
        await self.say("Sí, acepto")
        await self.say("Lleva una semana apagada, la calle queda muy oscura.")
        await self.say("Calle Allende 12, colonia La Loma")


def neutral(replies: Replies, curp: str) -> Replies:
    """The replies with what differs by design (the masked CURP, the folio) blanked out."""
    return [
        (FOLIO.sub("<folio>", text.replace(mask_curp(curp), "<curp>")), values)
        for text, values in replies
    ]


async def sent_to(db: Database, channel: str, address: str) -> list[str]:
    async with db.transaction() as session:
        identity = await identity_for(session, channel, address)
        found = await session.scalars(
            select(OutboxMessage.text)
            .where(OutboxMessage.identity_id == identity.id)
            .order_by(OutboxMessage.id)
        )
        return list(found)


async def codes_sent(db: Database) -> list[str]:
    """The codes in the messages the owner's chat got."""
    return CODE.findall("\n".join(await sent_to(db, *OWNER)))


async def test_a_known_curp_and_an_unknown_one_get_the_same_replies_at_every_step(
    engine: Engine, loaded_db: Database
) -> None:
    owner = Chat(engine, *OWNER)
    await owner.open_report_up_to_the_curp()
    await owner.say(KNOWN)
    folio_in(" ".join(text for text, _ in await owner.say("Sí, registrar")))
    owner_got = len(await sent_to(loaded_db, *OWNER))
    asker = Chat(engine, "whatsapp", "5215500000001")  # types the owner's CURP
    stranger = Chat(engine, "whatsapp", "5215500000002")  # types a CURP nobody has
    await asker.open_report_up_to_the_curp()
    await stranger.open_report_up_to_the_curp()

    asked = await asker.say(KNOWN)
    assert neutral(asked, KNOWN) == neutral(await stranger.say(UNKNOWN), UNKNOWN)
    assert asked[0][0] == texts.t("link.asked")
    assert texts.label("channel", "telegram") not in " ".join(text for text, _ in asked)
    [code] = await codes_sent(loaded_db)  # only the owner's chat got a code
    wrong = "000000" if code != "000000" else "111111"
    assert neutral(await asker.say(wrong), KNOWN) == neutral(await stranger.say(wrong), UNKNOWN)
    assert neutral(await asker.say("Sí, registrar"), KNOWN) == neutral(
        await stranger.say("Sí, registrar"), UNKNOWN
    )
    assert len(await sent_to(loaded_db, *OWNER)) == owner_got + 1  # the one code


async def owner_of(db: Database, curp: str) -> ChannelIdentity:
    async with db.transaction() as session:
        owner = await identity_for(session, *OWNER)
        citizen = Citizen(curp=curp)
        session.add(citizen)
        await session.flush()
        owner.citizen_id = citizen.id
        return owner


async def ask(db: Database, address: str, curp: str = KNOWN) -> str:
    """A chat on WhatsApp types `curp` (one message, one transaction)."""
    async with db.transaction() as session:
        asker = await identity_for(session, "whatsapp", address)
        return await ask_code(session, asker, curp, PER_HOUR)


async def typed(db: Database, address: str, code: str, curp: str = KNOWN) -> bool:
    async with db.transaction() as session:
        asker = await identity_for(session, "whatsapp", address)
        return await confirm(session, asker, curp, code)


async def count_codes(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(LinkCode)) or 0)


async def test_a_curp_nobody_holds_sends_nothing_and_gets_the_same_sentence(
    db: Database,
) -> None:
    await owner_of(db, KNOWN)
    assert await ask(db, "5215500000001", UNKNOWN) == await ask(db, "5215500000002", KNOWN)
    assert await count_codes(db) == 1 and len(await codes_sent(db)) == 1


async def test_typing_the_curp_twenty_times_sends_one_code_that_still_links(db: Database) -> None:
    await owner_of(db, KNOWN)
    for _ in range(20):
        await ask(db, "5215500000001")
    [code] = await codes_sent(db)
    assert await count_codes(db) == 1
    assert await typed(db, "5215500000001", code)
    async with db.transaction() as session:
        asker = await identity_for(session, "whatsapp", "5215500000001")
        owner = await identity_for(session, *OWNER)
        assert asker.citizen_id == owner.citizen_id is not None
    assert not await typed(db, "5215500000001", code)  # used: once only


async def test_a_code_used_up_by_wrong_tries_is_replaced_on_the_next_ask(db: Database) -> None:
    await owner_of(db, KNOWN)
    await ask(db, "5215500000001")
    [code] = await codes_sent(db)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert not await typed(db, "5215500000001", wrong)
    assert not await typed(db, "5215500000001", code)  # five tries and the code is gone
    await ask(db, "5215500000001")
    first, second = await codes_sent(db)
    assert first == code and await typed(db, "5215500000001", second)


async def test_twenty_chats_asking_reach_the_owner_a_few_times_an_hour(db: Database) -> None:
    await owner_of(db, KNOWN)
    for n in range(20):
        await ask(db, f"52155000001{n:02d}")
    assert len(await sent_to(db, *OWNER)) == PER_HOUR
    assert all("ignora este mensaje" in text for text in await sent_to(db, *OWNER))
    async with db.transaction() as session:  # an hour goes by
        for link in await session.scalars(select(LinkCode)):
            link.expires_at -= RATE_WINDOW
    await ask(db, "5215500000199")
    await ask(db, "5215500000199")
    assert len(await sent_to(db, *OWNER)) == PER_HOUR + 1


async def test_the_owner_is_told_which_kind_of_chat_asked_and_the_asker_nothing(
    db: Database,
) -> None:
    await owner_of(db, KNOWN)
    answer = await ask(db, "5215500000001")
    [message] = await sent_to(db, *OWNER)
    assert texts.label("channel", "whatsapp") in message
    assert texts.label("channel", "telegram") not in answer
