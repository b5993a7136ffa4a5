"""Terminal chat: each input line is one citizen message; replies are printed.

Works interactively and with piped standard input. Choices are shown as numbered options;
typing the number picks one (the engine maps numbers to the choices it offered).
"""

from typing import TextIO

from bot.channels.choices import numbered
from bot.channels.terminal import CHANNEL
from bot.engine import Engine
from casework.citizens.service import identity_for
from casework.outbox.models import OutboxMessage
from casework.outbox.service import pull
from foundation.db import Database
from foundation.messages import Inbound


def render(item: OutboxMessage) -> str:
    prefix = "Asesor: " if item.sender == "agent" else "Bot: "
    lines = [prefix + item.text.replace("\n", "\n     ")]
    lines += [f"  {line}" for line in numbered(item.choices)]
    return "\n".join(lines)


async def _deliver(db: Database, address: str, out: TextIO) -> None:
    async with db.transaction() as session:
        identity = await identity_for(session, CHANNEL, address)
        items = await pull(session, identity.id)
    for item in items:
        print(render(item), file=out, flush=True)


async def run(engine: Engine, address: str, lines: TextIO, out: TextIO, prompt: bool) -> None:
    """Read messages until end of input, printing every reply (and anything staff sent)."""
    await _deliver(engine.db, address, out)
    while True:
        if prompt:
            print("Tú: ", end="", file=out, flush=True)
        line = lines.readline()
        if not line:
            break
        await engine.handle(Inbound(channel=CHANNEL, address=address, text=line.rstrip("\r\n")))
        await _deliver(engine.db, address, out)
