"""Rate limiting (1 s sliding windows on the injected clock) and fault injection."""

from __future__ import annotations

import logging
import random
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from emulator._config import FAULT_KINDS, FaultConfig

log = logging.getLogger(__name__)


class RateLimiter:
    """At most ``limit`` accepted events per key in any 1-second window."""

    def __init__(self) -> None:
        self._events: dict[str, deque[float]] = {}

    def allow(self, key: str, limit: int, now: float) -> bool:
        window = self._events.setdefault(key, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= limit:
            return False
        window.append(now)
        return True


@dataclass
class _Injection:
    remaining: int
    options: dict[str, Any] = field(default_factory=dict)


class FaultInjector:
    """Probabilistic faults from ``FaultConfig`` plus one-shot "next N" injections from tests.

    ``inject`` may be called from another thread (``run_in_thread``), hence the lock.
    """

    def __init__(self, config: FaultConfig, rng: random.Random) -> None:
        self._config = config
        self._rng = rng
        self._lock = threading.Lock()
        self._queued: dict[str, deque[_Injection]] = {}

    def inject(self, kind: str, count: int = 1, **options: Any) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._queued.setdefault(kind, deque()).append(_Injection(count, dict(options)))

    def clear(self) -> None:
        with self._lock:
            self._queued.clear()

    def pending(self, kind: str) -> int:
        with self._lock:
            return sum(item.remaining for item in self._queued.get(kind, ()))

    def fire(self, kind: str) -> dict[str, Any] | None:
        """The fault's options if it fires for this request (``{}`` when random), else None."""
        with self._lock:
            queue = self._queued.get(kind)
            if queue:
                head = queue[0]
                head.remaining -= 1
                if head.remaining == 0:
                    queue.popleft()
                log.info("injected fault %s fired", kind)
                return head.options
        probability = self._config.probability(kind)
        if probability > 0 and self._rng.random() < probability:
            log.info("random fault %s fired", kind)
            return {}
        return None
