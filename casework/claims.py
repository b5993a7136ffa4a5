"""Work shared by several workers: items claimed from a table with a lease, kept under way.

The outbox deliverer (casework/outbox/delivery.py) and the inbox drainer
(casework/inbox/drain.py) both claim their work with `SELECT ... FOR UPDATE SKIP LOCKED` and a
lease (a worker that dies loses its claims when the lease lapses), one chat at a time so that
a chat's order is kept. `pump` is the loop they share: keep up to `slots` claimed items being
worked on, claim again as soon as one slot frees or new work is announced, and look again
after `idle` seconds otherwise.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


async def first_set(*events: asyncio.Event) -> None:
    """Wait until one of `events` is set."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


async def pump(
    claim: Callable[[int], Awaitable[Sequence[T]]],
    work: Callable[[T], Coroutine[Any, Any, None]],
    slots: int,
    stop: asyncio.Event,
    *,
    idle: float,
    what: str,
    woken: asyncio.Event | None = None,
    finish: bool = False,
) -> None:
    """Until `stop` is set, keep up to `slots` items that `claim(free)` returned being worked
    on by `work`, each in its own task. `woken` (new work arrived) makes it claim at once.

    When `stop` is set, with `finish` the items under way are awaited (their `work` is expected
    to see `stop` and end soon, handing back what it did not do); without it they are cut short
    like a crash, and their leases lapse. Cancelling the pump always cuts them short."""
    running: set[asyncio.Task[None]] = set()
    freed = asyncio.Event()
    woken = woken or asyncio.Event()

    def done(task: asyncio.Task[None]) -> None:
        running.discard(task)
        freed.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: an item failed", what, exc_info=task.exception())

    stopped = False
    try:
        while not stop.is_set():
            freed.clear()
            woken.clear()
            free = slots - len(running)
            claimed: Sequence[T] = []
            if free:
                try:
                    claimed = await claim(free)
                except Exception:
                    log.exception("%s: claiming failed; retrying", what)
            for item in claimed:
                task = asyncio.create_task(work(item))
                running.add(task)
                task.add_done_callback(done)
            if claimed and len(claimed) == free:
                continue  # maybe more are due: claim again as soon as a slot frees
            with contextlib.suppress(TimeoutError):  # `stop` is seen at once
                await asyncio.wait_for(first_set(freed, woken, stop), idle)
        stopped = True
    finally:
        if not (finish and stopped):
            for task in list(running):
                task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
