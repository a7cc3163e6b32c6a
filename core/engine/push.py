"""Completion push: a task-finish event makes its job due at once; polling backs off meanwhile.

A front door (the bot's HTTP endpoint) hands events in with :meth:`Pushes.offer`: synchronous,
in memory, never touching the store or the network, so the endpoint answers at once and never
waits on the engine. It then wakes the worker; the pass starts with :meth:`Pushes.apply`, which
makes the job of each new event due now, so the same pass sends its one ``GET /tasks/{id}``.
Duplicates and replays (the same event id) and further events for a task already announced are
dropped in ``offer``; events for tasks no job owns (another application on the account) and for
jobs that moved on (seen finished by polling already) are dropped in ``apply``.

Health. While push is healthy, polling is only the safety net (``EngineConfig.pacing(pushed=
True)``: sparse looks, a lost event is caught about ``push_lag`` late). It is presumed healthy
once configured; a task that polling finds finished with no event ``push_grace`` seconds after
its end is a *miss*. One miss is a lost event (EventBridge over HTTP promises no delivery,
§14.5); ``MISSES`` in a row mean events stopped: polling returns to normal until an event for
one of our tasks arrives again. EventBridge may be late, so a task found finished shortly
before its event is not a miss.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from datetime import datetime, timedelta

from core.domain.jobs import JobStatus
from core.domain.records import Change, JobRecord, transition
from core.domain.tasks import TaskEvent
from core.engine.context import EngineContext

log = logging.getLogger(__name__)

_WATCHED = (JobStatus.PENDING, JobStatus.RUNNING)
#: events (and task ids) remembered for de-duplication; EventBridge retries within a day
REMEMBER = 20_000
#: events waiting for a pass at most; beyond, the oldest are dropped (polling still finds them)
INBOX = 10_000
#: misses in a row (no event between them) that mean events stopped coming
MISSES = 2


class _Recent:
    """A bounded set that forgets its oldest members first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def add(self, key: str) -> None:
        self._items[key] = None
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


class Pushes:
    def __init__(self, ctx: EngineContext, *, enabled: bool = False) -> None:
        """``enabled``: an endpoint takes events in (otherwise polling is all there is)."""
        self.ctx = ctx
        self.enabled = enabled
        self._inbox: deque[TaskEvent] = deque(maxlen=INBOX)
        self._events = _Recent(REMEMBER)
        self._announced = _Recent(REMEMBER)
        #: task id → end time: found finished by polling, no event yet
        self._awaiting: dict[str, datetime] = {}
        #: tasks found finished by polling whose event never came, in a row since the last event
        self.missed = 0
        #: counters for logs and metrics: events taken in, dropped as repeats, made a job due
        self.received = 0
        self.repeated = 0
        self.applied = 0

    @property
    def healthy(self) -> bool:
        """Events arrive: polling may back off to sparse checks."""
        return self.enabled and self.missed < MISSES

    # ------------------------------------------------------------------ the front door's side
    def offer(self, event: TaskEvent) -> bool:
        """Take ``event`` in; False when it repeats one already taken (nothing to do).

        Synchronous and cheap: the caller answers the HTTP request right after, then wakes
        the worker.
        """
        if event.event_id in self._events or event.task_id in self._announced:
            self.repeated += 1
            return False
        self._events.add(event.event_id)
        self._announced.add(event.task_id)
        self.received += 1
        self._inbox.append(event)
        return True

    # ------------------------------------------------------------------ the engine's side
    async def apply(self, now: datetime) -> int:
        """Make the job of every event taken in since the last pass due now; count them."""
        self._judge(now)
        made_due = 0
        while self._inbox:
            event = self._inbox.popleft()
            job = await self.ctx.store.job_for_task(event.task_id)
            if job is None:
                log.debug("event for task %s: not one of ours; ignored", event.task_id)
                continue
            if self.missed >= MISSES:
                log.info("completion events arrive again: polling backs off")
            self.missed = 0
            self._awaiting.pop(event.task_id, None)
            if job.status not in _WATCHED:
                continue  # polling saw it end first (or it was canceled): nothing to ask
            if job.next_at is not None and job.next_at <= now:
                continue  # due already
            saved = await self.ctx.save(job, _due(now))
            if saved is not None:
                made_due += 1
                log.debug("job %d: task %s finished (pushed)", job.id, event.task_id)
        self.applied += made_due
        return made_due

    def ended(self, task_id: str, end: datetime, now: datetime) -> None:
        """Polling found ``task_id`` finished (at ``end``): was it announced?"""
        if self.enabled and task_id not in self._announced:
            self._awaiting[task_id] = min(end, now)

    def _judge(self, now: datetime) -> None:
        grace = timedelta(seconds=self.ctx.config.push_grace)
        for task_id, end in list(self._awaiting.items()):
            if task_id in self._announced:
                del self._awaiting[task_id]
            elif now - end > grace:
                del self._awaiting[task_id]
                self.missed += 1
                if self.missed == MISSES:
                    log.warning(
                        "no completion event for the last %d tasks (task %s ended %.0f s ago): "
                        "polling returns to normal until events arrive again",
                        MISSES,
                        task_id,
                        (now - end).total_seconds(),
                    )

    def next_judgement(self) -> datetime | None:
        """When a task awaiting its event would count as a miss (a wakeup for the worker)."""
        if not self._awaiting:
            return None
        return min(self._awaiting.values()) + timedelta(seconds=self.ctx.config.push_grace)


def _due(now: datetime) -> Change:
    def change(job: JobRecord) -> JobRecord | None:
        if job.status not in _WATCHED:
            return None
        return transition(job, job.status, now, next_at=now)

    return change
