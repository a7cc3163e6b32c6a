"""Pure scheduling pieces of the engine: rate windows and backoff.

Small clock-driven objects and functions; no I/O. The engine asks these and persists the answers
(``next_at``) so a restart changes nothing. When to look at running tasks is ``core.polling``.
"""

from __future__ import annotations

import random
from collections import deque
from datetime import datetime

_RNG = random.Random()  # noqa: S311 - backoff jitter, not security


class RateWindow:
    """At most ``limit`` events in any ``window`` seconds, on an injected time axis.

    The same rule DashScope's limiter applies (N per rolling second); a window a little longer
    than the server's absorbs network jitter, so the server never sees a burst over its limit.
    ``take`` never waits: callers leave the work due for the next pass.
    """

    def __init__(self, limit: int, window: float = 1.1) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self._events: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self._events and self._events[0] <= now - self.window:
            self._events.popleft()

    def take(self, now: float) -> bool:
        self._trim(now)
        if len(self._events) >= self.limit:
            return False
        self._events.append(now)
        return True

    def next_free(self, now: float) -> float:
        """The earliest time ``take`` can succeed."""
        self._trim(now)
        if len(self._events) < self.limit:
            return now
        return self._events[0] + self.window


def backoff(
    attempt: int, *, base: float = 2.0, cap: float = 300.0, rng: random.Random | None = None
) -> float:
    """Exponential backoff with ±20 % jitter; attempt 1 → ~base seconds."""
    delay = min(cap, base * 2.0 ** max(0, attempt - 1))
    jitter: float = (rng or _RNG).uniform(0.8, 1.2)
    return min(cap, delay * jitter)


def seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()
