"""A worker process for tests/test_inbox_workers.py (`python -m tests.inbox_worker URL NAME
LEASE [STUCK_AFTER]`): drains the inbox's "prueba" updates as `ventanilla worker` drains the
real ones, with a handler that does what the dialogue engine does with a message, in one
transaction: note the try (`prueba_intentos`), take effect once per update whoever tries it
again (`prueba_efectos`, keyed by the update as the engine's transcript is by provider id), and
note any update whose chat's previous one had not taken effect yet (`prueba_desorden`).

With STUCK_AFTER, every update after that many gets stuck in its handler, so the worker holds
its chats until it is killed. SIGTERM stops it as it stops `ventanilla worker`.
"""

import asyncio
import signal
import sys
from typing import Any

from sqlalchemy import text

from casework.inbox.drain import Drainer
from foundation.db import Database

TRY = "INSERT INTO prueba_intentos (chat, k, worker) VALUES (:chat, :k, :worker)"
EFFECT = (
    "INSERT INTO prueba_efectos (chat, k, worker) VALUES (:chat, :k, :worker)"
    " ON CONFLICT DO NOTHING"
)
PREVIOUS = "SELECT count(*) FROM prueba_efectos WHERE chat = :chat AND k = :k - 1"
DISORDER = "INSERT INTO prueba_desorden (chat, k, worker) VALUES (:chat, :k, :worker)"


async def main(url: str, name: str, lease: float, stuck_after: int | None) -> None:
    db = Database(url)
    tried = 0

    async def handler(payload: dict[str, Any]) -> None:
        nonlocal tried
        if stuck_after is not None and tried >= stuck_after:
            await asyncio.Event().wait()
        values = {"chat": payload["chat"], "k": payload["k"], "worker": name}
        async with db.transaction() as session:
            await session.execute(text(TRY), values)
            if payload["k"] > 0 and not await session.scalar(text(PREVIOUS), values):
                await session.execute(text(DISORDER), values)
            await session.execute(text(EFFECT), values)
        tried += 1

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await Drainer(db, {"prueba": handler}, name, lease=lease).run(stop)
    finally:
        await db.dispose()


if __name__ == "__main__":
    url, name, lease, *rest = sys.argv[1:]
    asyncio.run(main(url, name, float(lease), int(rest[0]) if rest else None))
