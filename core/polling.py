"""When to look at running tasks: a belief about generation time and the checks it pays for.

Pure: no I/O, no clock, no engine state. The tracker asks, persists the answers and does the
looking.

Why this shape. Polling one task costs one query per check and loses, on average, half the gap
that straddles the finish. With finish density ``f``, survival ``S`` and hazard ``h = f/S``,
checks placed with density ``n(t)`` cost ``∫ n·S`` queries (polling stops once the task is seen
finished) and ``∫ f/(2n)`` seconds of lag; the best trade-off is ``n ∝ √h``, and then
``queries × mean lag ≥ (∫ √(f·S) dt)² / 2``. So consecutive checks are placed where
``∫ √h`` between them reaches a constant (:func:`look_delay`): the integral *looks ahead*, so a
check taken while the hazard is still rising does not jump over the window where the task ends.
With N tasks of one model watched by one list query, the same rule runs on the summed hazard.

The belief (:class:`Belief`, persisted; :func:`forecast`, derived) is hedged: before samples it is
broad, one completion pulls it most of the way at once, the spread converges within a few
samples, a wide component keeps a little weight for a slow or fast day, and an observation far
outside the belief makes it forget its history quickly.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

#: spread (log-seconds) assumed within one (model, resolution, duration) before samples: the
#: emulator and the held-out runs show σ ≈ 0.25; a little wider costs little and covers more
PRIOR_SIGMA = 0.3
#: pseudo-samples behind PRIOR_SIGMA: two, so the first real samples dominate the spread at once
PRIOR_SIGMA_WEIGHT = 2.0
#: uncertainty (log-seconds) of the catalog's median for this key: the catalog is wrong by 3–5×
#: on a cold start, a slow or a fast day (ln 4 ≈ 1.4 is two of these)
PRIOR_MEDIAN_SIGMA = 0.7
#: width (log-seconds) of the hedge component: covers a 5× miss within ~1.6 σ
HEDGE_SIGMA = 1.0
#: pseudo-samples behind the hedge's weight: weight = HEDGE_WEIGHT / (HEDGE_WEIGHT + samples)
HEDGE_WEIGHT = 0.1
#: the hedge never drops below this weight: a slow day must not turn into a check every second
HEDGE_FLOOR = 0.005
#: the belief follows roughly the last WINDOW samples (exponential forgetting beyond that)
WINDOW = 20
#: an observation this many predictive σ off the median is a change of regime, not noise
SURPRISE = 3.5
#: after a surprise the history counts as this many samples, so the belief re-learns quickly
SURPRISE_KEEP = 2
#: narrowest spread a forecast uses: passes are a second apart, so on a minute-long task a
#: spread below ~2 % buys nothing, and a service that answers in exactly the same time every
#: time (variance 0) must not make the look-ahead integrate in microscopic steps
MIN_SIGMA = 0.05


@dataclass(frozen=True, slots=True)
class Belief:
    """What has been learned about one key: the (windowed) count, mean and variance of
    log(seconds). Same three numbers as ``core.domain.durations.DurationStats``, so it
    persists as-is."""

    samples: int
    log_mean: float
    log_var: float


def observe(belief: Belief | None, seconds: float, prior_median: float) -> Belief:
    """Fold one observed generation time into ``belief`` (None: nothing learned yet)."""
    x = math.log(max(seconds, 0.5))
    if belief is None or belief.samples <= 0:
        return Belief(1, x, 0.0)
    n, mean, var = belief.samples, belief.log_mean, belief.log_var
    if abs(x - mean) > SURPRISE * forecast(prior_median, belief).sigma:
        n = min(n, SURPRISE_KEEP)
    n += 1
    # Welford's update with weight 1/n, capped at 1/WINDOW: exact for the first WINDOW samples,
    # then an exponential moving window that follows a drifting service
    alpha = max(1.0 / n, 1.0 / WINDOW)
    delta = x - mean
    mean += alpha * delta
    var = (1 - alpha) * (var + alpha * delta * delta)
    return Belief(n, mean, var)


@dataclass(frozen=True, slots=True)
class Forecast:
    """Predictive distribution of one task's generation time: two log-normals sharing a median,
    the belief proper (``sigma``) and a wide hedge of weight ``hedge``."""

    median: float
    sigma: float
    hedge: float = 0.0
    hedge_sigma: float = HEDGE_SIGMA

    def __post_init__(self) -> None:
        if not (self.median > 0 and self.sigma > 0 and self.hedge_sigma > 0):
            raise ValueError(f"a forecast needs a positive median and spreads, not {self!r}")
        if not 0.0 <= self.hedge <= 1.0:
            raise ValueError(f"the hedge weight must lie in [0, 1], not {self.hedge}")

    def _parts(self) -> tuple[tuple[float, float], ...]:
        return ((1.0 - self.hedge, self.sigma), (self.hedge, self.hedge_sigma))

    def survival(self, t: float) -> float:
        if t <= 0:
            return 1.0
        lt = math.log(t / self.median)
        return sum(w * 0.5 * math.erfc(lt / (s * _SQRT2)) for w, s in self._parts() if w > 0)

    def density(self, t: float) -> float:
        if t <= 0:
            return 0.0
        lt = math.log(t / self.median)
        return sum(
            w * math.exp(-0.5 * (lt / s) ** 2) / (s * t * _SQRT2PI)
            for w, s in self._parts()
            if w > 0
        )

    def hazard(self, t: float) -> float:
        """Completion rate (1/s) at ``t`` seconds, given not completed yet."""
        if t <= 0:
            return 0.0
        surv = self.survival(t)
        if surv > 1e-300:
            return self.density(t) / surv
        # beyond double precision the widest part dominates; its hazard tends to z/(σ·t)
        s = max(self.sigma, self.hedge_sigma) if self.hedge > 0 else self.sigma
        return math.log(t / self.median) / (s * s * t)

    def effort(self) -> float:
        """``∫ √(f·S) dt`` (√s): a fresh task's ``queries × mean lag`` is at least half its square.

        Scale-free in the median (``√median`` times the same integral at median 1), so it is
        computed once per shape; midpoint rule on log-time over ±8 of the widest spread.
        """
        return math.sqrt(self.median) * _effort(self.sigma, self.hedge, self.hedge_sigma)

    def quantile(self, p: float) -> float:
        """Seconds by which a fraction ``p`` of tasks has finished (bisection on survival)."""
        if not 0.0 < p < 1.0:
            raise ValueError(f"a quantile needs 0 < p < 1, not {p}")
        lo, hi = self.median * 1e-4, self.median * 1e4
        for _ in range(80):
            mid = math.sqrt(lo * hi)
            if 1.0 - self.survival(mid) < p:
                lo = mid
            else:
                hi = mid
        return math.sqrt(lo * hi)


_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


@functools.lru_cache(maxsize=512)
def _effort(sigma: float, hedge: float, hedge_sigma: float) -> float:
    shape = Forecast(1.0, sigma, hedge, hedge_sigma)
    width = 8.0 * (max(sigma, hedge_sigma) if hedge > 0 else sigma)
    steps = 400
    du = 2 * width / steps
    total = 0.0
    for i in range(steps):
        t = math.exp(-width + (i + 0.5) * du)
        total += math.sqrt(shape.density(t) * shape.survival(t)) * t * du
    return total


def forecast(prior_median: float, belief: Belief | None) -> Forecast:
    """The predictive distribution for the next task of a key, from the catalog and samples.

    Normal model on log-seconds with a plug-in spread: the spread pools PRIOR_SIGMA (weight
    PRIOR_SIGMA_WEIGHT) with the samples' variance; the median is the precision-weighted mix of
    the catalog's (uncertainty PRIOR_MEDIAN_SIGMA) and the samples' mean; the predictive spread
    adds the remaining uncertainty of the median to the spread.
    """
    # past WINDOW samples the moving window holds no more information than WINDOW samples
    n = min(WINDOW, max(0, belief.samples)) if belief is not None else 0
    mu0 = math.log(max(prior_median, 1.0))
    if belief is None or n == 0:
        spread2 = PRIOR_SIGMA**2
        mu, tau2 = mu0, PRIOR_MEDIAN_SIGMA**2
    else:
        spread2 = (PRIOR_SIGMA_WEIGHT * PRIOR_SIGMA**2 + n * belief.log_var) / (
            PRIOR_SIGMA_WEIGHT + n
        )
        precision = 1.0 / PRIOR_MEDIAN_SIGMA**2 + n / spread2
        tau2 = 1.0 / precision
        mu = tau2 * (mu0 / PRIOR_MEDIAN_SIGMA**2 + n * belief.log_mean / spread2)
    hedge = max(HEDGE_FLOOR, HEDGE_WEIGHT / (HEDGE_WEIGHT + n))
    return Forecast(math.exp(mu), max(MIN_SIGMA, math.sqrt(spread2 + tau2)), hedge)


@dataclass(frozen=True, slots=True)
class Pacing:
    """How hard to look.

    ``lag``: the mean completion→detection lag aimed at for a lone task (s). Checks with density
    ``√(λ·h/2)`` are ``K = √(2/λ)`` of ``∫√h`` apart and lose ``K·I/2`` seconds on average, with
    ``I = Forecast.effort()``; so ``K = 2·lag/I``: an uncertain or long forecast gets denser
    checks, a short one sparser, and the lag stays near ``lag`` whatever the task's length
    (the SDK's query count grows with the length, so a fixed K would overspend on short tasks
    and lag on long ones). ``floor``/``ceiling``: bounds on one interval (s). ``stretch``: a
    list sweep's interval never exceeds this multiple of its oldest task's elapsed time.
    """

    lag: float = 1.75
    floor: float = 1.0
    ceiling: float = 60.0
    stretch: float = 0.25
    #: the per-task lag aimed at while a list query watches several tasks (see ``spacing``)
    list_lag: float = 1.0

    def spacing(self, fc: Forecast, tasks: int = 1) -> float:
        """∫√(summed hazard) between two looks at ``tasks`` tasks like ``fc``.

        With N tasks the summed hazard is ~N times one task's, so looks are √N times denser
        for the same spacing; spacing √N times wider keeps each task's lag at the target and
        the looks per task N times fewer.
        """
        lag = self.lag if tasks <= 1 else self.list_lag
        return 2.0 * lag * math.sqrt(max(1, tasks)) / max(fc.effort(), 1e-9)


def look_delay(tasks: Sequence[tuple[Forecast, float]], pacing: Pacing) -> float:
    """Seconds from now until the next look at ``tasks`` ((forecast, elapsed seconds) pairs).

    The look lands where ``∫ √(Σ hazard)`` from now reaches the pacing's spacing: one task, or
    all tasks of a model watched by one list query (their completion rates add up; the most
    demanding forecast sets the spacing).
    """
    if not tasks:
        return pacing.ceiling
    spacing = min(pacing.spacing(f, len(tasks)) for f, _ in tasks)
    oldest = max(max(0.0, e) for _, e in tasks)
    limit = pacing.ceiling
    if math.isfinite(pacing.stretch) and len(tasks) > 1:
        limit = min(limit, max(pacing.floor, pacing.stretch * oldest))
    # step: a fraction of the narrowest spread in log-time, so √H is near-linear within a step
    rel = 0.1 * min(f.sigma for f, _ in tasks)

    def root(u: float) -> float:
        return math.sqrt(sum(f.hazard(max(0.0, e) + u) for f, e in tasks))

    u, acc, prev = 0.0, 0.0, root(0.0)
    while u < limit:
        step = min(limit - u, max(0.05, rel * (oldest + u)))
        cur = root(u + step)
        gain = 0.5 * (prev + cur) * step
        if acc + gain >= spacing:
            # invert the trapezoid inside the step (√H linear across it)
            need = spacing - acc
            slope = (cur - prev) / step
            if abs(slope) < 1e-12:
                x = need / max(prev, 1e-12)
            else:
                x = (-prev + math.sqrt(max(0.0, prev * prev + 2 * slope * need))) / slope
            return max(pacing.floor, min(limit, u + x))
        acc += gain
        u += step
        prev = cur
    return max(pacing.floor, limit)


def first_delay(fc: Forecast, pacing: Pacing) -> float:
    """Seconds after the create answer until a lone task's first look."""
    return look_delay([(fc, 0.0)], pacing)


def next_delay(fc: Forecast, elapsed: float, pacing: Pacing) -> float:
    """Seconds until a lone task's next look, ``elapsed`` seconds after its create answer."""
    return look_delay([(fc, elapsed)], pacing)


def use_list(running: int) -> bool:
    """Watch a model's tasks with one list query (then one detail query per finished task)
    only when two or more run: for a lone task the detail query is the look itself."""
    return running >= 2


def safety_delay(fc: Forecast, elapsed: float, every: float) -> float:
    """Seconds until a listed task's own check: past the belief's 98th percentile, then every
    ``every`` seconds (guards against a list that keeps showing it running)."""
    start = fc.quantile(0.98) + 5.0
    return start - elapsed if elapsed < start else every
