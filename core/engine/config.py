"""The engine's knobs and what one pass reports."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from core.polling import Pacing


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Knobs of the engine. Defaults follow the reference (§8.3, §10)."""

    #: per-model overrides of ``Model.concurrency`` / ``Model.submit_rps``
    concurrency: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    submit_rps: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    #: task query/list/cancel budget shared by everything: at most ``query_limit`` calls in any
    #: ``rate_window`` seconds (DashScope allows 20 per second per account)
    query_limit: int = 15
    rate_window: float = 1.1
    #: when to look at running tasks (``core.polling.Pacing``): the mean completion→detection
    #: lag aimed at for a lone task and, per task, for several watched by one list query; the
    #: bounds of one interval; a list look never waits longer than ``poll_stretch`` × its oldest
    #: task's elapsed time (a wrong prior must not cost seconds)
    poll_lag: float = 1.75
    poll_list_lag: float = 1.0
    poll_floor: float = 1.0
    poll_ceiling: float = 60.0
    poll_stretch: float = 0.25
    #: use the task-list endpoint to watch all of a model's tasks with one query
    sweep: bool = True
    #: per-task safety check while a list watches it (seconds between checks past the belief's
    #: 98th percentile: a list that keeps showing a task running must not hide it for ever)
    safety_poll_seconds: float = 30.0
    #: while completion push is healthy (``core.engine.push``), polling is only the safety net:
    #: looks aim at this mean lag (a lost event is caught about this late) within this ceiling
    push_lag: float = 30.0
    push_ceiling: float = 120.0
    #: a task found finished by polling whose event has not come this long after its end
    #: counts as a missed event: polling returns to normal until events arrive again
    push_grace: float = 60.0
    #: minimum seconds between progress edits of one job
    progress_interval: float = 10.0
    #: DashScope keeps tasks and result URLs 24 h
    task_ttl: float = 86400.0
    result_ttl: float = 86400.0
    #: the longest a create request can take (bounds the reconciliation window after a crash)
    submit_timeout: float = 60.0
    #: clock skew tolerated when matching a lost create to a listed task
    reconcile_skew: float = 3.0
    #: seconds after a task's creation within which the task list may not show it yet; a list
    #: queried later that shows no candidate proves a lost create was never made
    list_settle: float = 10.0
    reconcile_delay: float = 5.0
    reconcile_attempts: int = 3
    submit_max_attempts: int = 12
    delivery_max_attempts: int = 10
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    max_video_bytes: int = 512 * 1024 * 1024
    parallel_downloads: int = 2
    #: how long a pass waits for the downloads and audio uploads it started; slower ones finish
    #: in the background so polls, submits and the delivery loop (and its heartbeat) keep running
    download_wait: float = 5.0
    #: audio uploads to DashScope's temporary storage: files live 48 h (reference §11); one
    #: that expires within ``upload_margin`` seconds is uploaded again before the create
    parallel_uploads: int = 2
    upload_ttl: float = 172800.0
    upload_margin: float = 3600.0
    #: how long a delivery pass waits for the re-encodes it started (the rest go on behind it)
    fit_wait: float = 5.0
    media_retention_days: float = 7.0
    retention_every: float = 3600.0
    batch: int = 200
    #: how far back submissions count as turns already taken in the fair queue
    fairness_window: float = 3600.0
    #: a job whose platform has no delivery port in this process waits this long between looks
    #: (a port registered but not ready yet, e.g. Discord still connecting, is simply skipped)
    unrouted_retry: float = 60.0

    def pacing(self, *, pushed: bool = False) -> Pacing:
        """How hard to look: normally, or sparsely while completion push is healthy."""
        if pushed:
            return Pacing(
                lag=self.push_lag,
                list_lag=self.push_lag,
                floor=self.poll_floor,
                ceiling=self.push_ceiling,
                stretch=math.inf,
            )
        return Pacing(
            lag=self.poll_lag,
            list_lag=self.poll_list_lag,
            floor=self.poll_floor,
            ceiling=self.poll_ceiling,
            stretch=self.poll_stretch,
        )


@dataclass(frozen=True, slots=True)
class PassReport:
    """What one ``poll_once`` pass did."""

    submitted: int = 0
    polled: int = 0
    swept: int = 0
    #: completion events taken in (each made its task's job due at once)
    pushed: int = 0
    downloaded: int = 0
    uploaded: int = 0
    reconciled: int = 0
    purged: int = 0
    errors: int = 0
    #: the earliest time the engine has scheduled work for (None: nothing scheduled)
    next_wakeup: datetime | None = None
