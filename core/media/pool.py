"""Run CPU-bound media work off the event loop, a few jobs at a time.

Threads rather than processes: Pillow and FFmpeg (through PyAV) release the GIL while they decode,
resize and encode, the inputs are large byte strings that would otherwise be pickled across a
process boundary, and a thread starts instantly. The worker count is the concurrency cap: with two
cores, two re-encodes at once already use the machine, and further calls wait their turn.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class MediaPool:
    """A bounded thread pool for :mod:`core.media` calls; ``await pool.run(fn, *args)``."""

    def __init__(self, max_workers: int = 2) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix="media")
        self._lock = threading.Lock()
        self._active = 0
        self._peak = 0
        self._closed = False

    @property
    def active(self) -> int:
        """Calls running right now (not counting those waiting for a worker)."""
        return self._active

    @property
    def peak(self) -> int:
        """Most calls that ever ran at once: never more than ``max_workers``."""
        return self._peak

    def _call(self, fn: Callable[[], T]) -> T:
        with self._lock:
            self._active += 1
            self._peak = max(self._peak, self._active)
        try:
            return fn()
        finally:
            with self._lock:
                self._active -= 1

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` in a worker thread and return its result or raise its error.

        Cancelling the awaiting task does not stop a call that has already started (C code
        cannot be interrupted); its result is dropped.
        """
        if self._closed:
            raise RuntimeError("MediaPool is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, self._call, functools.partial(fn, *args, **kwargs)
        )

    async def aclose(self) -> None:
        """Stop accepting work and wait for running calls to finish (without blocking the loop)."""
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)

    async def __aenter__(self) -> MediaPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
