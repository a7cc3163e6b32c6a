"""One engine pass: pushed completions, looks and polls, audio uploads, admission and submit,
downloads, reconciliation, retention, and the plan of the next looks.

The parts share one ``EngineContext`` as equals; ``Engine`` only composes them. Uploads and
downloads run in the background: a pass starts them and waits at most ``download_wait`` seconds,
so one job's slow transfer never holds up the others. Every job is handled in its own guarded
step: one bad job is logged with its id and rescheduled with backoff, never the end of the loop.
Every state change is one checked transition written with a conditional update.

Several workers may run passes on one store at once: each touches only jobs it claimed (their
lease, ``core.engine.leases``), draws on the account's shared limits, and only the one holding
the ``leader`` role sweeps the task list and purges old media. Each pass first takes over
creates a dead worker left half done (``core.engine.recovery.take_over``).
"""

from __future__ import annotations

from datetime import datetime

from core.domain.jobs import JobStatus
from core.engine.admission import Admission
from core.engine.config import PassReport
from core.engine.context import EngineContext
from core.engine.downloads import Downloader
from core.engine.push import Pushes
from core.engine.reconcile import Reconciler
from core.engine.recovery import take_over
from core.engine.retention import Retention
from core.engine.sweeps import WATCHED, Sweeper
from core.engine.tracking import Tracker
from core.engine.uploads import Uploader
from core.estimates import Durations

_S = JobStatus
_WATCHED = WATCHED


class Engine:
    def __init__(self, ctx: EngineContext, durations: Durations, *, push: bool = False) -> None:
        """``push``: completion events come in (``pushes.offer``); polling backs off while
        they do."""
        self.ctx = ctx
        self.durations = durations
        self.pushes = Pushes(ctx, enabled=push)
        self.sweeper = Sweeper(ctx, durations, pushed=lambda: self.pushes.healthy)
        self.tracker = Tracker(ctx, durations, self.sweeper, self.pushes)
        self.admission = Admission(ctx, durations, self.tracker, self.sweeper)
        self.uploader = Uploader(ctx)
        self.downloader = Downloader(ctx)
        self.reconciler = Reconciler(ctx)
        self.retention = Retention(ctx)

    async def poll_once(self, now: datetime) -> PassReport:
        """One pass over everything due at ``now``."""
        ctx = self.ctx
        ctx.begin_pass()
        store, config = ctx.store, ctx.config
        await take_over(ctx, now)
        # the leader alone looks by task lists and plans them (several workers would only
        # repeat each other's queries); the others look at the tasks they claim one by one
        self.sweeper.leading = leading = await ctx.leases.leads(now)
        pushed = await self.pushes.apply(now)
        swept = await self.sweeper.sweep(await store.jobs_with_status(_WATCHED), now)
        polled = 0
        # no more than one budget's worth: what this pass cannot poll, another worker may
        polls = min(config.batch, config.query_limit)
        for job in await ctx.leases.claim_due(now, _WATCHED, limit=polls):
            if not await ctx.take_query(now):
                break  # the rest stay due; the shared query budget refills by the next pass
            polled += 1
            await ctx.guarded(job, now, self.tracker.poll)
        uploads = [
            ctx.start("upload", j, now, self.uploader.upload)
            for j in await self.uploader.due(now)
            if not ctx.background.running("upload", j.id)
        ]
        submitted = await self.admission.admit(now)
        downloads = [
            ctx.start("download", j, now, self.downloader.download)
            for j in await self.downloader.due(now)
            if not ctx.background.running("download", j.id)
        ]
        await ctx.background.wait([*uploads, *downloads], config.download_wait)
        reconciled = await self.reconciler.run(now)
        purged = await self.retention.purge(now) if leading else 0
        # after the pass's answers were learned from: where the next looks go
        await self.sweeper.plan(now)
        wakeups = ctx.wakeups()
        for when in (self.sweeper.next_sweep(), self.pushes.next_judgement()):
            if when is not None:
                wakeups.append(when)
        scheduled = await store.next_due(
            [*_WATCHED, _S.SUCCEEDED, _S.SUBMIT_UNKNOWN], owner=ctx.leases.owner
        )
        if scheduled is not None:
            wakeups.append(scheduled)
        return PassReport(
            submitted=submitted,
            polled=polled,
            swept=swept,
            pushed=pushed,
            downloaded=len(downloads),
            uploaded=len(uploads),
            reconciled=reconciled,
            purged=purged,
            errors=ctx.errors,
            next_wakeup=min(wakeups) if wakeups else None,
        )

    async def drain(self, *, cancel: bool = False) -> None:
        """Wait for (or cancel) the background work still running; a canceled step stays due."""
        await self.ctx.background.drain(cancel=cancel)
