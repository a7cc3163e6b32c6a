"""How long a task takes: a log-normal belief per (model, resolution, duration), learned.

The prior is ``Model.typical_seconds`` scaled by duration and resolution tier; finished tasks
fold their observed time into an EWMA of log-seconds (``learn``). Pure: the cache over the
store's statistics lives in ``core.estimates``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.domain.catalog import Model

#: relative generation time per resolution tier (pixels grow ~2.25× per tier; time less so)
_TIER = {"480P": 0.55, "720P": 0.75, "1080P": 1.0}
#: spread of the prior, and the floor of a learned one (log-seconds)
PRIOR_LOG_SIGMA = 0.35
MIN_LOG_SIGMA = 0.08
#: EWMA weight floor: after 1/alpha samples the statistics follow a moving window
EWMA_ALPHA = 0.1


@dataclass(frozen=True, slots=True)
class DurationKey:
    model: str
    resolution: str
    duration: int


@dataclass(frozen=True, slots=True)
class DurationStats:
    """Learned generation time of one key: EWMA mean and variance of log(seconds)."""

    samples: int
    log_mean: float
    log_var: float


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
