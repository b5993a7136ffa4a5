"""Background jobs that repeat: the survey reminders, the retention periods."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def repeat(
    job: Callable[[], Awaitable[object]], interval: float, stop: asyncio.Event, what: str
) -> None:
    """Run `job` every `interval` seconds until `stop` is set (the app's lifespan). A round
    that fails is logged; the next one tries again."""
    while not stop.is_set():
        try:
            await job()
        except Exception:
            log.exception("%s failed", what)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
