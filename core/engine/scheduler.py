"""Pure scheduling pieces of the engine: rate windows, check intervals, backoff.

Small clock-driven objects and functions; no I/O. The engine asks these and persists the answers
(``next_at``) so a restart changes nothing.

Polling model. Generation time of a task is modelled as log-normal (``core.domain.durations``).
The engine spends queries where the completion hazard is high: the interval to the next check is
``c / sqrt(hazard)`` (the optimum of "queries + λ·detection lag"), clamped between a dense floor
and a sparse ceiling. Far from the expected finish it looks rarely; near it, densely.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Sequence
from datetime import datetime

from core.domain.durations import Expectation

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


def check_interval(hazard: float, *, coefficient: float, floor: float, ceiling: float) -> float:
    """Seconds until the next look, given the combined completion hazard of what it covers."""
    if hazard <= 0:
        return ceiling
    return min(ceiling, max(floor, coefficient / math.sqrt(hazard)))


def backoff(
    attempt: int, *, base: float = 2.0, cap: float = 300.0, rng: random.Random | None = None
) -> float:
    """Exponential backoff with ±20 % jitter; attempt 1 → ~base seconds."""
    delay = min(cap, base * 2.0 ** max(0, attempt - 1))
    jitter: float = (rng or _RNG).uniform(0.8, 1.2)
    return min(cap, delay * jitter)


def combined_hazard(items: Sequence[tuple[Expectation, float]]) -> float:
    """Sum of hazards of independent tasks: rate at which *some* of them completes."""
    return sum(exp.hazard(elapsed) for exp, elapsed in items)


def seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()
