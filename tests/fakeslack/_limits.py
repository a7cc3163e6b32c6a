"""Per-method rate limits (reference §9) and injected faults, both on the fake's clock.

Tiers are per method and app (Tier 1 = 1+/min … Tier 4 = 100+/min, the documented minimums);
chat.postMessage is "about one message per second per channel, short bursts tolerated", modelled
as 10 messages in any 10 s window per channel. ``conversations.history``/``replies`` drop to
1 request/min for commercially distributed non-Marketplace apps (2025 change).
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass

TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}

#: ``rate_limits`` of each method in docs.slack.dev/methods/*.json ("t5" = Special)
METHOD_TIERS: dict[str, int | str] = {
    "auth.test": "special",
    "apps.connections.open": 3,
    "views.open": 4,
    "views.update": 4,
    "views.push": 4,
    "chat.postMessage": "special",
    "chat.update": 3,
    "chat.delete": 3,
    "chat.postEphemeral": 4,
    "chat.getPermalink": "special",
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.info": 3,
    "conversations.join": 3,
    "conversations.open": 3,
    "users.info": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "files.info": 4,
}


@dataclass(frozen=True)
class Limit:
    """At most ``count`` calls in any ``window`` seconds, per method (and per channel if asked)."""

    count: int
    window: float = 60.0
    per_channel: bool = False


def default_limit(method: str, *, commercial: bool) -> Limit | None:
    if commercial and method in ("conversations.history", "conversations.replies"):
        return Limit(1)
    tier = METHOD_TIERS.get(method)
    if tier == "special":
        if method == "chat.postMessage":
            return Limit(10, 10.0, per_channel=True)
        return Limit(TIER_PER_MINUTE[4])  # auth.test, chat.getPermalink: generous
    if isinstance(tier, int):
        return Limit(TIER_PER_MINUTE[tier])
    return Limit(TIER_PER_MINUTE[3])


class RateLimiter:
    """Sliding windows of call times; ``check`` answers the Retry-After seconds or ``None``."""

    def __init__(self) -> None:
        self.enabled = True
        self.commercial = False
        self.overrides: dict[str, Limit | None] = {}
        self._calls: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def limit_for(self, method: str) -> Limit | None:
        if method in self.overrides:
            return self.overrides[method]
        return default_limit(method, commercial=self.commercial)

    def check(self, method: str, channel: str | None, now: float) -> int | None:
        limit = self.limit_for(method)
        if not self.enabled or limit is None:
            return None
        key = (method, (channel or "") if limit.per_channel else "")
        calls = self._calls[key]
        while calls and calls[0] <= now - limit.window:
            calls.popleft()
        if len(calls) >= limit.count:
            # whole seconds, at least 1: slack_sdk does int(Retry-After) (reference §9)
            return max(1, math.ceil(calls[0] + limit.window - now))
        calls.append(now)
        return None

    def reset(self) -> None:
        self._calls.clear()


@dataclass
class Fault:
    """Answer the next ``count`` calls of ``method`` with ``error`` (429 + Retry-After if
    ``ratelimited``), or with an HTTP ``status`` and a non-JSON body when ``status >= 500``."""

    method: str
    error: str
    count: int = 1
    status: int = 200
    retry_after: int = 1
    extra: dict[str, object] | None = None
