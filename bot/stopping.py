"""A graceful stop (SIGTERM): no new work, the work in flight finishes, within a bound.

The worker takes no further tick; the tick in progress (its database writes, a create on the
wire, a post to the chat) and the background downloads and re-encodes get up to
``STOP_GRACE_SECONDS`` together to finish. Only then do the front-ends disconnect (a post in
flight needs the chat client's session) and the builder close the sessions and the database.
What the grace cuts short is crash-safe anyway (a job is recorded before any external call; a
restart finds where it stopped), so the bound only turns a hang into a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from core.engine.worker import Worker

log = logging.getLogger(__name__)


async def finish_in_flight(
    worker: Worker,
    running: asyncio.Task[None],
    drain: Callable[[], Awaitable[None]],
    grace: float,
) -> bool:
    """Stop ``worker`` and wait for its tick (``running``), then for the background work
    (``drain``: the engine's downloads and re-encodes), ``grace`` seconds at most in all; True
    when everything finished in time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    worker.stop()
    finished = True
    try:
        async with asyncio.timeout(grace):
            await asyncio.shield(running)
    except TimeoutError:
        finished = False
        log.warning("stop: the worker's pass did not finish within %g s; cut short", grace)
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    try:
        async with asyncio.timeout(max(0.0, deadline - loop.time())):
            await drain()
    except TimeoutError:
        # the timeout cancelled what was left (a canceled download stays due for the next start)
        finished = False
        log.warning("stop: background work did not finish within %g s; resumes next start", grace)
    return finished
