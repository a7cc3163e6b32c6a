"""What every part of the engine shares, handed to each as an equal: no part holds another.

Admission, tracking, sweeps, uploads, downloads, reconciliation and retention all receive one
``EngineContext``: the store and provider, the clock and knobs, the checked save (which also
collects the pass's wakeups), the account's limits (the query window shared by every task query,
the per-model submit windows and pauses: in memory for one process, in the database for several,
see ``core.ports.AccountLimits``), the backoff, this worker's leases (which job it may advance,
across processes) with the per-job guard (at most one step per job in flight within it) and the
registry of background work.

``exclusive``: this process is the only one on its store (SQLite, under the instance lock), so a
job it finds half done at startup was left by a dead process for sure.
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
from core.engine.leases import Leases
from core.engine.limits import LocalLimits
from core.engine.scheduler import backoff
from core.log_context import about
from core.ports import AccountLimits, Clock, JobStore, VideoProvider
from core.rows import update

log = logging.getLogger(__name__)

Step = Callable[[JobRecord, datetime], Awaitable[None]]
#: limiter keys of the per-model submit windows and pauses
_SUBMIT = "submit:"


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
        limits: AccountLimits | None = None,
        owner: str | None = None,
        lease_seconds: float = 20.0,
        exclusive: bool = True,
    ) -> None:
        self.provider = provider
        self.store = store
        self.clock = clock
        self.config = config
        self.media_dir = media_dir
        self.region = region
        self.rng = rng or random.Random()  # noqa: S311 - jitter only
        #: the account's query budget, submit windows and pauses, shared with every process
        #: that calls DashScope for the account
        self.limits: AccountLimits = limits or LocalLimits()
        #: downloads, uploads and re-encodes still running after their pass returned
        self.background = Background()
        #: which jobs this worker may advance (claims, renewal, release)
        self.leases = Leases(
            store, clock, owner=owner, seconds=lease_seconds, busy=self.background.busy_jobs
        )
        self.exclusive = exclusive
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

    async def take_query(self, now: datetime) -> bool:
        """One task query/list/cancel from the account's budget (DashScope allows 20 per
        second for the whole account); False: none left this window, leave the work due."""
        taken = await self.limits.take(
            "queries", now, limit=self.config.query_limit, window=self.config.rate_window
        )
        return taken is None

    def slots(self, model: Model) -> int:
        return int(self.config.concurrency.get(model.id, model.concurrency))

    def slots_of(self, model_id: str) -> int:
        model = find_model(model_id)
        return self.slots(model) if model else 0

    async def take_submit(self, model: Model, now: datetime) -> datetime | None:
        """One create from ``model``'s submit window: None when taken, else when one frees."""
        rps = int(self.config.submit_rps.get(model.id, model.submit_rps))
        return await self.limits.take(
            _SUBMIT + model.id, now, limit=rps, window=self.config.rate_window
        )

    async def pause(self, model_id: str, until: datetime) -> None:
        """The whole model is throttled (a 429): every worker holds its queued jobs until
        ``until``."""
        await self.limits.pause(_SUBMIT + model_id, until)

    async def pauses(self, now: datetime) -> dict[str, datetime]:
        """Model id → the end of its pause, for every model paused beyond ``now``."""
        held = await self.limits.pauses(now)
        return {key.removeprefix(_SUBMIT): u for key, u in held.items() if key.startswith(_SUBMIT)}

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
