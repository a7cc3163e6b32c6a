"""New-work notifications: workers LISTEN on a connection of their own.

Every insert into ``jobs`` notifies channel ``animate_jobs`` when its transaction commits (the
trigger of migration 0008), whichever process inserted it: a front-end's submit wakes every idle
worker at once instead of at its next tick. A LISTEN belongs to one session, so it cannot share
the pool (a pooled connection goes back to other work); this module opens one connection per
listening process and keeps it: on a lost connection it reconnects with backoff and wakes once,
since notifications sent meanwhile are lost with the session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
from psycopg import AsyncConnection

log = logging.getLogger(__name__)

CHANNEL = "animate_jobs"


async def listen(
    url: str,
    wake: Callable[[], None],
    *,
    listening: Callable[[], None] | None = None,
    retry: float = 1.0,
    max_retry: float = 30.0,
) -> None:
    """Call ``wake()`` on every notification until canceled; ``listening()`` each time the
    LISTEN is in place (tests wait for it)."""
    delay = retry
    first = True
    while True:
        try:
            # keepalives notice a server that vanished without closing the socket (TCP only)
            async with await AsyncConnection.connect(
                url, autocommit=True, keepalives=1, keepalives_idle=30, keepalives_interval=10
            ) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                delay = retry
                if not first:
                    wake()  # whatever was notified while we were away is lost: look now
                first = False
                if listening is not None:
                    listening()
                async for _ in conn.notifies():
                    wake()
        except psycopg.Error as exc:
            log.warning("new-work listener lost its connection (%s); again in %.0f s", exc, delay)
        await asyncio.sleep(delay)
        delay = min(max_retry, delay * 2)
