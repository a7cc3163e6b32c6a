"""Per-job I/O that outlives the pass that started it: downloads, audio uploads, re-encodes.

A pass starts such work here and waits for it only briefly, so one job's slow transfer or
encode never holds up the other jobs' polls, submits and deliveries (nor the loop's
heartbeat). The registry keeps a strong reference to every task (an unreferenced task can be
garbage-collected mid-flight) and at most one task per (kind, job).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from typing import Any

log = logging.getLogger(__name__)


class Background:
    def __init__(self) -> None:
        self._tasks: dict[tuple[str, int], asyncio.Task[None]] = {}

    def running(self, kind: str, job_id: int) -> bool:
        return (kind, job_id) in self._tasks

    def count(self, kind: str) -> int:
        return sum(1 for k, _ in self._tasks if k == kind)

    def busy_jobs(self) -> set[int]:
        """Jobs with background work in flight (their partial files are in use)."""
        return {job_id for _, job_id in self._tasks}

    def start(self, kind: str, job_id: int, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``work`` for ``job_id`` in the background; the caller checked ``running``."""
        key = (kind, job_id)
        if key in self._tasks:
            work.close()
            raise RuntimeError(f"{kind} of job {job_id} is already running")
        task = asyncio.create_task(work, name=f"{kind}-{job_id}")
        self._tasks[key] = task
        task.add_done_callback(lambda t: self._done(key, t))
        return task

    def _done(self, key: tuple[str, int], task: asyncio.Task[None]) -> None:
        self._tasks.pop(key, None)
        if not task.cancelled() and task.exception() is not None:
            # the steps catch their own errors; anything here is a bug worth a traceback
            log.error("%s of job %d crashed", *key, exc_info=task.exception())

    @staticmethod
    async def wait(tasks: Iterable[asyncio.Task[None]], seconds: float) -> None:
        """Give ``tasks`` up to ``seconds``; the slower ones go on in the background."""
        pending = list(tasks)
        if pending and seconds > 0:
            await asyncio.wait(pending, timeout=seconds)

    async def drain(self, *, cancel: bool = False) -> None:
        """Wait for (or cancel) everything still running; a canceled step stays due."""
        tasks = list(self._tasks.values())
        if cancel:
            for task in tasks:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
