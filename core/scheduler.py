"""When to submit, poll and retry: rate buckets, learned durations, backoff and the fair queue.

Pure functions and small clock-driven objects; no I/O. The service asks these and persists the
answers (``next_at``) so a restart changes nothing.

Polling model. Generation time of a task is modelled as log-normal around a median learned per
(model, resolution, duration) (prior: ``Model.typical_seconds`` scaled by duration and tier). The
engine spends queries where the completion hazard is high: the interval to the next check is
``c / sqrt(hazard)`` (the optimum of "queries + λ·detection lag"), clamped between a dense floor
and a sparse ceiling. Far from the expected finish it looks rarely; near it, densely.
"""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.catalog import Model
from core.store import DurationStats, JobRecord

#: relative generation time per resolution tier (pixels grow ~2.25× per tier; time less so)
_TIER = {"480P": 0.55, "720P": 0.75, "1080P": 1.0}
#: spread of the prior, and the floor of a learned one (log-seconds)
PRIOR_LOG_SIGMA = 0.35
MIN_LOG_SIGMA = 0.08
#: EWMA weight floor: after 1/alpha samples the statistics follow a moving window
EWMA_ALPHA = 0.1
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


def prior_median(model: Model, resolution: str, duration: int) -> float:
    """Typical seconds scaled from the model's default settings to these ones."""
    tier = _TIER.get(resolution, 1.0) / _TIER.get(model.default_resolution, 1.0)
    length = 0.4 + 0.6 * duration / max(model.default_duration, 1)
    return max(5.0, model.typical_seconds * tier * length)


@dataclass(frozen=True, slots=True)
class Expectation:
    """Log-normal belief about a task's generation time."""

    median: float
    log_sigma: float

    @property
    def mean(self) -> float:
        return self.median * math.exp(self.log_sigma**2 / 2)

    def hazard(self, elapsed: float) -> float:
        """Completion rate (1/s) at ``elapsed`` seconds, given it has not completed yet."""
        if elapsed <= 0:
            return 0.0
        z = (math.log(elapsed) - math.log(self.median)) / self.log_sigma
        pdf = math.exp(-z * z / 2) / (math.sqrt(2 * math.pi) * self.log_sigma * elapsed)
        survival = 0.5 * math.erfc(z / math.sqrt(2))
        if survival < 1e-12:
            # deep in the tail the log-normal hazard tends to z/(σ·t)
            return z / (self.log_sigma * elapsed)
        return pdf / survival

    def quantile(self, p: float) -> float:
        # inverse normal CDF by bisection on erfc: precise enough for scheduling
        lo, hi = -10.0, 10.0
        for _ in range(60):
            mid = (lo + hi) / 2
            if 0.5 * math.erfc(-mid / math.sqrt(2)) < p:
                lo = mid
            else:
                hi = mid
        return self.median * math.exp(self.log_sigma * (lo + hi) / 2)


def expectation(
    model: Model, resolution: str, duration: int, stats: DurationStats | None
) -> Expectation:
    prior = prior_median(model, resolution, duration)
    if stats is None or stats.samples == 0:
        return Expectation(prior, PRIOR_LOG_SIGMA)
    # blend the prior in while samples are few (one pseudo-sample of prior weight)
    w = stats.samples / (stats.samples + 1)
    log_median = w * stats.log_mean + (1 - w) * math.log(prior)
    var = w * stats.log_var + (1 - w) * PRIOR_LOG_SIGMA**2
    return Expectation(math.exp(log_median), max(MIN_LOG_SIGMA, math.sqrt(var)))


def learn(stats: DurationStats | None, seconds: float) -> DurationStats:
    """Fold one observed generation time into the EWMA of log-seconds."""
    x = math.log(max(seconds, 0.5))
    if stats is None or stats.samples == 0:
        return DurationStats(samples=1, log_mean=x, log_var=PRIOR_LOG_SIGMA**2)
    n = stats.samples + 1
    alpha = max(1.0 / n, EWMA_ALPHA)
    delta = x - stats.log_mean
    mean = stats.log_mean + alpha * delta
    var = (1 - alpha) * (stats.log_var + alpha * delta * delta)
    return DurationStats(samples=n, log_mean=mean, log_var=var)


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


def _guild(job: JobRecord) -> str:
    # DMs count as a guild of their own per user
    return f"{job.chat.platform}:{job.chat.guild or 'dm:' + job.chat.user}"


def _user(job: JobRecord) -> str:
    return f"{job.chat.platform}:{job.chat.user}"


def fair_order(jobs: Iterable[JobRecord], served: Iterable[JobRecord] = ()) -> list[JobRecord]:
    """Round-robin across guilds, and across users within a guild; FIFO per user.

    Stateless, so a restart changes nothing: ``served`` (recently submitted jobs) count as turns
    already taken. The next turn goes to the guild with the fewest turns (ties: the oldest
    waiting job), inside it to the user with the fewest turns, and that user's oldest job.
    """
    turns: Counter[str] = Counter()
    for job in served:
        turns[_guild(job)] += 1
        turns[_user(job)] += 1
    waiting: dict[str, dict[str, list[JobRecord]]] = {}
    for job in sorted(jobs, key=lambda j: j.id):
        waiting.setdefault(_guild(job), {}).setdefault(_user(job), []).append(job)
    order: list[JobRecord] = []
    while waiting:
        guild = min(waiting, key=lambda g: (turns[g], min(q[0].id for q in waiting[g].values())))
        users = waiting[guild]
        user = min(users, key=lambda u: (turns[u], users[u][0].id))
        order.append(users[user].pop(0))
        turns[guild] += 1
        turns[user] += 1
        if not users[user]:
            del users[user]
        if not users:
            del waiting[guild]
    return order


def combined_hazard(items: Sequence[tuple[Expectation, float]]) -> float:
    """Sum of hazards of independent tasks: rate at which *some* of them completes."""
    return sum(exp.hazard(elapsed) for exp, elapsed in items)


def seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()
