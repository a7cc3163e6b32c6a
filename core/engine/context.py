"""What every part of the engine shares, handed to each as an equal: no part holds another.

Admission, tracking, sweeps, uploads, downloads, reconciliation and retention all receive one
``EngineContext``: the store and provider, the clock and knobs, the checked save (which also
collects the pass's wakeups), the query window shared by every task query, the per-model submit
windows and pauses, the backoff, the per-job guard (at most one external call per job in flight)
and the registry of background work.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

from core.domain.catalog import Model, Region, find_model
from core.domain.errors import ProviderError
from core.domain.records import Change, JobRecord, transition
from core.engine.background import Background
from core.engine.config import EngineConfig
from core.engine.scheduler import RateWindow, backoff
from core.log_context import about
from core.ports import Clock, JobStore, VideoProvider
from core.rows import update

log = logging.getLogger(__name__)

Step = Callable[[JobRecord, datetime], Awaitable[None]]


class EngineContext:
    def __init__(
        self,
        *,
        provider: VideoProvider,
        store: JobStore,
        clock: Clock,
        config: EngineConfig,
        media_dir: Path,
        region: Region,
        rng: random.Random | None = None,
    ) -> None:
        self.provider = provider
        self.store = store
        self.clock = clock
        self.config = config
        self.media_dir = media_dir
        self.region = region
        self.rng = rng or random.Random()  # noqa: S311 - jitter only
        #: the task query/list/cancel budget every part of the engine draws from
        self.queries = RateWindow(config.query_limit, config.rate_window)
        #: downloads, uploads and re-encodes still running after their pass returned
        self.background = Background()
        self._submit_windows: dict[str, RateWindow] = {}
        self._paused_until: dict[str, datetime] = {}
        self._in_flight: set[int] = set()
        self._wakeups: list[datetime] = []
        self.errors = 0

    # ------------------------------------------------------------------ one pass
    def begin_pass(self) -> None:
        self._wakeups = []
        self.errors = 0

    def wake(self, when: datetime) -> None:
        """Something is scheduled at ``when``: the pass reports its earliest wakeup."""
        self._wakeups.append(when)

    def wakeups(self) -> list[datetime]:
        return list(self._wakeups)

    # ------------------------------------------------------------------ budgets
    def backoff(self, attempt: int) -> timedelta:
        cfg = self.config
        return timedelta(
            seconds=backoff(attempt, base=cfg.backoff_base, cap=cfg.backoff_cap, rng=self.rng)
        )

    def take_query(self, now: datetime) -> bool:
        return self.queries.take(now.timestamp())

    def slots(self, model: Model) -> int:
        return int(self.config.concurrency.get(model.id, model.concurrency))

    def slots_of(self, model_id: str) -> int:
        model = find_model(model_id)
        return self.slots(model) if model else 0

    def submit_window(self, model: Model) -> RateWindow:
        window = self._submit_windows.get(model.id)
        if window is None:
            rps = int(self.config.submit_rps.get(model.id, model.submit_rps))
            window = self._submit_windows[model.id] = RateWindow(rps, self.config.rate_window)
        return window

    def pause(self, model_id: str, until: datetime) -> None:
        """The whole model is throttled (a 429): hold every queued job of it until ``until``."""
        self._paused_until[model_id] = until

    def paused_until(self, model_id: str, now: datetime) -> datetime | None:
        until = self._paused_until.get(model_id)
        return until if until is not None and until > now else None

    # ------------------------------------------------------------------ writing
    async def save(
        self, job: JobRecord, change: Change, *, durable: bool = False
    ) -> JobRecord | None:
        """Write ``change(job)``, re-applied on a fresh copy if another writer got there first
        (see ``core.rows.update``); the row as written, or None when the job moved on."""
        saved = await update(self.store, job, change, durable=durable)
        if saved is not None and saved.next_at is not None:
            self._wakeups.append(saved.next_at)
        return saved

    async def retry_later(self, job: JobRecord, now: datetime, exc: BaseException) -> None:
        """Log a failure of one job's step and reschedule it with backoff."""
        self.errors += 1
        attempts = job.attempts + 1
        log.warning(
            "job %d (%s): step failed (attempt %d): %r", job.id, job.status.value, attempts, exc
        )
        delay = self.backoff(attempts)
        if isinstance(exc, ProviderError) and exc.retry_after:
            delay = max(delay, timedelta(seconds=exc.retry_after))
        await self.save(
            job,
            lambda j: transition(j, j.status, now, attempts=j.attempts + 1, next_at=now + delay),
        )

    async def guarded(self, job: JobRecord, now: datetime, step: Step) -> None:
        """Run one job's step: at most one in flight per job; an unexpected error is logged
        with the job id and the job retried with backoff, never the end of the pass."""
        if job.id in self._in_flight:
            return
        self._in_flight.add(job.id)
        try:
            with about(job):
                await step(job, now)
        except Exception as exc:
            log.exception("job %d: unexpected error in %s", job.id, getattr(step, "__name__", step))
            try:
                await self.retry_later(job, now, exc)
            except Exception:
                log.exception("job %d: could not reschedule", job.id)
        finally:
            self._in_flight.discard(job.id)

    def start(self, kind: str, job: JobRecord, now: datetime, step: Step) -> asyncio.Task[None]:
        """Run ``step`` for ``job`` in the background (guarded); the caller checked ``running``."""
        return self.background.start(kind, job.id, self.guarded(job, now, step))
