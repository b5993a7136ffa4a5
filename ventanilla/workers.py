"""The background jobs, apart from the web app: the inbox drainer (the bot's turns for
Telegram and WhatsApp), the outbox deliverer, Telegram's long polling, and the periodic jobs
(survey reminders, retention periods).

`ventanilla worker` runs them alone, as many processes as wanted (each with its `--name`);
`ventanilla serve` runs them in its own process beside the web app (backoffice/app.py), sharing
its dialogue engine and its inbox, unless it is started `--web-only`. No FastAPI app is built
here.
"""

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from threadpoolctl import threadpool_limits

from bot.channels.plugin import ChannelPlugin, Started, WorkerContext
from bot.channels.registry import CHANNELS
from bot.engine import Engine
from casework.inbox.drain import Drainer
from casework.inbox.service import Inbox
from casework.indicators import rollups
from casework.outbox.delivery import Deliverer, Sender
from casework.privacy import retention
from casework.ratings import reminders
from foundation.db import Database
from foundation.settings import Settings

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 10.0  # how long the jobs under way may take to end once told to stop


class Workers:
    """The background jobs of one process. `engine` and `inbox` are the web app's when both
    run in one process (a catalogue edit is then seen by the bot at once, and a webhook wakes
    the drainer at once); otherwise the workers make their own. Each of `channels` (the
    registry's) that is switched on brings its inbox handler, its sender and its tasks;
    `telegram_polling` asks the channels that can to fetch their updates."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        name: str | None = None,
        engine: Engine | None = None,
        inbox: Inbox | None = None,
        handle_inbox: bool = True,
        deliver: bool = True,
        periodic: bool = True,
        telegram_polling: bool = False,
        channels: Sequence[ChannelPlugin] = CHANNELS,
    ) -> None:
        # As in backoffice/app.py: one BLAS thread (idle OpenBLAS threads spin, taking the
        # CPU the turns and the database need), and the rollups' settled days.
        threadpool_limits(1)
        rollups.configure(settings.evaluation.survey_days, settings.evaluation.session_gap_minutes)
        self.settings = settings
        self.db = db
        self.engine = engine or Engine(db, settings)
        self.inbox = inbox or Inbox(db)
        self.handle_inbox, self.periodic = handle_inbox, periodic
        context = WorkerContext(settings, db, self.engine, self.inbox, polling=telegram_polling)
        started: dict[str, Started] = {}
        for channel in channels:
            running = channel.start(context) if channel.start is not None else None
            if running is not None:
                started[channel.name] = running
        handlers = {name: s.handler for name, s in started.items() if s.handler is not None}
        senders: list[Sender] = [s.sender for s in started.values() if s.sender is not None]
        self.tasks = [task for s in started.values() for task in s.tasks]
        self.closers: list[Callable[[], Awaitable[None]]] = [
            s.close for s in started.values() if s.close is not None
        ]
        self.drainer = Drainer(db, handlers, name, arrived=self.inbox.arrived)
        self.deliverer = (
            Deliverer(db, senders, in_flight=settings.outbox_in_flight)
            if senders and deliver
            else None
        )

    @property
    def name(self) -> str:
        return self.drainer.name

    async def run(self, stop: asyncio.Event) -> None:
        """Run the jobs until `stop` is set; then let the turns under way end (the chats held
        are handed back) and stop."""
        if self.handle_inbox:
            await self.engine.warm_up()
            gc.freeze()  # see backoffice/app.py: what lives as long as the process
        jobs: list[Callable[[], Coroutine[Any, Any, None]]] = []
        if self.handle_inbox:
            jobs.append(lambda: self.drainer.run(stop))
        if self.deliverer is not None:
            deliverer = self.deliverer
            jobs.append(lambda: deliverer.run(stop))
        if self.periodic:
            jobs.append(lambda: reminders.run(self.db, self.settings.evaluation, stop))
            jobs.append(lambda: retention.run(self.db, self.settings.retention, stop))
        tasks = [asyncio.create_task(job()) for job in jobs]
        # The channels' own (Telegram's long polling): ended at once when told to stop.
        cut_tasks = [asyncio.create_task(task(stop)) for task in self.tasks]
        try:
            await stop.wait()
            for task in cut_tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
        finally:
            for task in tasks + cut_tasks:
                task.cancel()
            for result in await asyncio.gather(*tasks, *cut_tasks, return_exceptions=True):
                if isinstance(result, Exception):
                    log.error("a background job failed", exc_info=result)
            await self.close()

    async def close(self) -> None:
        """Let go of what the channels hold open (the Telegram client's connections)."""
        for close in self.closers:
            await close()


async def run(
    settings: Settings,
    db: Database,
    stop: asyncio.Event,
    *,
    name: str | None = None,
) -> None:
    """`ventanilla worker`: every background job, in this process, until `stop` is set."""
    await Workers(settings, db, name=name).run(stop)
